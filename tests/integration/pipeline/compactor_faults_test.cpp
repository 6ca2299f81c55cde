// Seam faults (fault_injection.h: 5xx / throttling answers, and answers lost after the call landed)
// on the producer's three calls and on the compactor's reads and writes, against moto_server with
// signature checking on. A producer that fails acknowledges nothing; what it left behind (a number
// taken: a hole; a delta written: an entry) is resolved by the compactor in log order. A cycle
// that fails leaves the pointer where it was and gives its triggers back. Afterwards clean cycles
// converge to the model.
#include <gtest/gtest.h>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "support/faults/fault_injection.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

const Status kServerError(StatusCode::kUnavailable, "injected 503 ServiceUnavailable");
const Status kThrottle(StatusCode::kThrottled, "injected SlowDown");

class CompactorFaultsTest : public CompactorTestBase {
 protected:
  // Produce through fault-injecting wrappers of this test's seams. The model records what was
  // acknowledged, or, on an error, the deltas the producer reports as appended (they will apply);
  // *appended_out (if set) receives that report.
  Result<ProduceResult> FaultyWrite(FaultInjector* faults, Queue* queue, const ShardId& shard, const Op& op,
                                    Model* model, ProduceResult* appended_out = nullptr) {
    auto kv = NewFaultyKvStore(this->kv(), faults);
    auto objects = NewFaultyObjectStore(this->objects(), faults);
    auto q = NewFaultyQueue(queue, faults);
    ProducerOptions opts;
    opts.producer_id = "faulty-producer";
    ProduceResult appended;
    auto ack = Produce(kv.get(), objects.get(), q.get(), nullptr, RequestFor(shard.collection, op), opts, &appended);
    model->Acknowledged(op, ack.ok() ? *ack : appended, 1);
    if (appended_out) *appended_out = appended;
    return ack;
  }

  std::set<uint64_t> Announced(Queue* queue) {
    std::set<uint64_t> out;
    for (const auto& m : ReceiveAll(queue)) {
      auto b = ParseDeltaMessage(m.body);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (b.ok()) out.insert(b->log_position);
      EXPECT_TRUE(queue->ChangeVisibility({m.receipt_handle}, 0).ok());  // leave it for the compactor
    }
    return out;
  }
};

struct ProducerFault {
  std::string name;
  FaultRule rule;
  bool number_taken;  // the sequence number was used up (a hole or an entry follows)
  bool entry_landed;  // the delta is in the log, though the write was not acknowledged
  bool reported;      // ... and the producer knows it (producer.h `appended`)
};

TEST_F(CompactorFaultsTest, ProducerFaultsAcknowledgeNothingAndTheLogResolvesWhatWasLeft) {
  const std::vector<ProducerFault> faults_table = {
      {"seq-5xx", {kStepKvUpdate, "SEQ#", FaultWhen::kBefore, 1, 1, kServerError}, false, false, false},
      {"seq-throttled", {kStepKvUpdate, "SEQ#", FaultWhen::kBefore, 1, 1, kThrottle}, false, false, false},
      {"seq-answer-lost", {kStepKvUpdate, "SEQ#", FaultWhen::kAfter, 1, 1, kServerError}, true, false, false},
      {"put-5xx", {kStepS3Put, "deltas/", FaultWhen::kBefore, 1, 1, kServerError}, true, false, false},
      {"put-throttled", {kStepS3Put, "deltas/", FaultWhen::kBefore, 1, 1, kThrottle}, true, false, false},
      // The PUT landed, its answer was lost: the producer cannot know the delta will apply.
      {"put-answer-lost", {kStepS3Put, "deltas/", FaultWhen::kAfter, 1, 1, kServerError}, true, true, false},
      {"send-5xx", {kStepSqsSend, "", FaultWhen::kBefore, 1, 1, kServerError}, true, true, true},
  };
  for (size_t i = 0; i < faults_table.size(); ++i) {
    const ProducerFault& f = faults_table[i];
    SCOPED_TRACE(f.name);
    const ShardId shard{"pfault-" + std::to_string(i), 0};
    auto queue = NewQueue("pfault-" + std::to_string(i));
    clock_.Set(RealNowMs());
    Model model;
    ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model), 1u);

    FaultInjector faults;
    faults.Add(f.rule);
    const Op failed_op{DeltaOp::kUpsert, {"a", "c"}, 2};
    ProduceResult appended;
    auto ack = FaultyWrite(&faults, queue.get(), shard, failed_op, &model, &appended);
    ASSERT_FALSE(ack.ok()) << "acknowledged despite the fault";
    EXPECT_EQ(ack.status().code(), f.rule.status->code()) << ack.status().ToString();
    EXPECT_EQ(appended.count, 0u);
    if (f.reported) {
      ASSERT_EQ(appended.log_positions.size(), 1u);
      EXPECT_EQ(appended.log_positions[0].log_position, 2u);
      EXPECT_EQ(appended.delta_keys, std::vector<std::string>{LogKey(shard, 2)});
    } else {
      EXPECT_TRUE(appended.log_positions.empty());
      EXPECT_TRUE(appended.delta_keys.empty());
    }
    EXPECT_EQ(model.writes(), f.reported ? 2u : 1u);
    auto last = LastSequence(kv(), shard);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_EQ(*last, f.number_taken ? 2u : 1u);
    auto entry = objects()->Head(LogKey(shard, 2));
    EXPECT_EQ(entry.ok(), f.entry_landed) << entry.status().ToString();
    EXPECT_EQ(Announced(queue.get()), (std::set<uint64_t>{1})) << "a trigger for an unacknowledged write";
    if (f.entry_landed && !f.reported) Landed(&model, failed_op, 2);

    // The client retries: a new write, after everything acknowledged before it.
    const uint64_t retry_pos = f.number_taken ? 3 : 2;
    ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "c"}, 3}, &model), retry_pos);
    Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("pfault-" + std::to_string(i)));
    if (f.number_taken && !f.entry_landed) {
      // A hole at 2: young, the cycle stops before it.
      CycleResult young = CycleWithTriggers(&compactor, queue.get(), shard, SteadyNowMs() + 200);
      ASSERT_TRUE(young.status.ok()) << young.status.ToString();
      EXPECT_EQ(young.log_position, 1u);
      EXPECT_TRUE(young.rearmed);
      clock_.Set(RealNowMs() + kHourMs);
    }
    CycleUntilDone(&compactor, queue.get(), shard);
    codec::Manifest m;
    ExpectSnapshot(shard, model, &m);
    EXPECT_EQ(m.log_position, retry_pos);
    if (f.number_taken && !f.entry_landed) {
      auto marker = objects()->Get(LogKey(shard, 2));
      ASSERT_TRUE(marker.ok()) << marker.status().ToString();
      EXPECT_TRUE(IsVoidMarker(*marker));
    }
    EXPECT_TRUE(ReceiveAll(queue.get()).empty());
  }
}

// Many writes while the sequence counter keeps answering 5xx / throttled for a while: every write
// either is acknowledged (and then applied at its position) or is not (and then absent).
TEST_F(CompactorFaultsTest, IntermittentFaultsOnEveryProducerCall) {
  const ShardId shard{"intermittent", 0};
  auto queue = NewQueue("intermittent");
  Model model;
  FaultInjector faults;
  faults.Add({kStepKvUpdate, "SEQ#", FaultWhen::kBefore, 2, 1, kThrottle});
  faults.Add({kStepKvUpdate, "SEQ#", FaultWhen::kAfter, 4, 1, kServerError});
  faults.Add({kStepS3Put, "deltas/", FaultWhen::kBefore, 5, 1, kServerError});
  int acked = 0;
  for (int w = 0; w < 8; ++w) {
    auto ack = FaultyWrite(&faults, queue.get(), shard,
                           {w % 3 == 2 ? DeltaOp::kDelete : DeltaOp::kUpsert, {"k" + std::to_string(w % 3), "z"}, w + 1},
                           &model);
    if (ack.ok()) ++acked;
  }
  EXPECT_EQ(acked, 5);
  EXPECT_EQ(static_cast<int>(model.writes()), acked);  // no failed write had appended anything
  clock_.Set(RealNowMs() + kHourMs);  // the two holes are old
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("intermittent"));
  CycleUntilDone(&compactor, queue.get(), shard);
  codec::Manifest m;
  ExpectSnapshot(shard, model, &m);
  EXPECT_EQ(m.log_position, 7u);  // 8 calls, one never took a number
  EXPECT_TRUE(m.skipped.empty());
}

struct CycleFault {
  std::string name;
  FaultRule rule;
};

TEST_F(CompactorFaultsTest, AFailedCycleLeavesThePointerAndGivesItsTriggersBack) {
  const std::vector<CycleFault> faults_table = {
      {"list-5xx", {kStepS3List, "deltas/", FaultWhen::kBefore, 1, 1, kServerError}},
      {"list-throttled", {kStepS3List, "deltas/", FaultWhen::kBefore, 1, 1, kThrottle}},
      {"delta-get-5xx", {kStepS3Get, "deltas/", FaultWhen::kBefore, 2, 1, kServerError}},
      {"chunk-put-throttled", {kStepS3Put, "chunks/", FaultWhen::kBefore, 1, 1, kThrottle}},
      {"manifest-put-throttled", {kStepS3Put, "snapshots/", FaultWhen::kBefore, 1, 1, kThrottle}},
      {"pointer-get-5xx", {kStepKvGet, "PTR#", FaultWhen::kBefore, 1, 1, kServerError}},
      {"pointer-cas-5xx", {kStepKvUpdate, "PTR#", FaultWhen::kBefore, 1, -1, kServerError}},
  };
  for (size_t i = 0; i < faults_table.size(); ++i) {
    const CycleFault& f = faults_table[i];
    SCOPED_TRACE(f.name);
    const ShardId shard{"cfault-" + std::to_string(i), 0};
    auto queue = NewQueue("cfault-" + std::to_string(i));
    Model model;
    Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
    {
      Compactor first(kv(), objects(), queue.get(), &clock_, Opts("cfault-pre" + std::to_string(i)));
      ASSERT_TRUE(CycleWithTriggers(&first, queue.get(), shard).status.ok());
    }
    const auto before = ReadPointer(shard);
    ASSERT_TRUE(before.has_value());
    Write(queue.get(), shard, {DeltaOp::kDelete, {"a"}}, &model);
    Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "c"}, 3}, &model);

    FaultInjector faults;
    faults.Add(f.rule);
    auto faulty_kv = NewFaultyKvStore(kv(), &faults);
    auto faulty_objects = NewFaultyObjectStore(objects(), &faults);
    Compactor victim(faulty_kv.get(), faulty_objects.get(), queue.get(), &clock_, Opts("cfault" + std::to_string(i)));
    auto triggers = ReceiveAll(queue.get());
    ASSERT_EQ(triggers.size(), 2u);
    CycleResult r = victim.RunCycle(shard, triggers);
    EXPECT_EQ(r.status.code(), f.rule.status->code()) << r.status.ToString();
    EXPECT_EQ(r.new_version, 0);
    EXPECT_TRUE(r.deleted_message_ids.empty());
    EXPECT_EQ(r.BatchItemFailures(), (std::vector<std::string>{triggers[0].message_id, triggers[1].message_id}));
    EXPECT_EQ(ReadPointer(shard), before) << "a failed cycle moved the pointer";

    // The lease was released on the way out: another compactor proceeds at once (same clock), with
    // the triggers back on the queue.
    std::vector<std::string> receipts = {triggers[0].receipt_handle, triggers[1].receipt_handle};
    ASSERT_TRUE(queue->ChangeVisibility(receipts, 0).ok());
    Compactor clean(kv(), objects(), queue.get(), &clock_, Opts("cfault-clean" + std::to_string(i)));
    CycleResult ok = CycleWithTriggers(&clean, queue.get(), shard);
    ASSERT_TRUE(ok.status.ok()) << ok.status.ToString();
    EXPECT_EQ(ok.log_position, 3u);
    EXPECT_EQ(ok.deleted_message_ids.size(), 2u);
    ExpectSnapshot(shard, model);
    EXPECT_TRUE(ReceiveAll(queue.get()).empty());
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
