// The compactor reading the log (log.h) against moto_server with signature checking on: holes (a
// sequence number taken whose delta has not landed) are waited for while young and closed with a
// create-only void marker once old, and the race between that marker and the late delta is decided
// by whichever create-only PUT lands first, both ways round; entries that can never apply
// (undecodable, another dimension, another shard) are skipped and recorded without stalling the
// shard; and a cycle's budget (entries, bytes, records, deadline) leaves the rest to the next cycle
// without applying anything twice.
#include <gtest/gtest.h>

#include <functional>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class CompactorLogTest : public CompactorTestBase {};

// Lets a test decide when the first PUT under deltas/ (a producer's append) actually happens:
// `hook` receives the key and the real PUT, and returns what the producer will see.
class DeltaPutHook final : public ForwardingObjectStore {
 public:
  using Hook = std::function<Result<ObjectMeta>(const std::string& key, const std::function<Result<ObjectMeta>()>& put)>;
  using ForwardingObjectStore::ForwardingObjectStore;
  Result<ObjectMeta> Put(const std::string& k, const std::string& b, const PutObjectOptions& o) override {
    if (hook && k.rfind("deltas/", 0) == 0) {
      Hook h = std::move(hook);
      hook = nullptr;
      return h(k, [&] { return base_->Put(k, b, o); });
    }
    return base_->Put(k, b, o);
  }
  Hook hook;
};

TEST_F(CompactorLogTest, YoungHoleStopsTheCycleBeforeItOldHoleIsVoided) {
  const ShardId shard{"holes", 0};
  auto queue = NewQueue("holes");
  Model model;
  ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model), 1u);
  const Model prefix = model;
  // Two producers took 2 and 3 and never wrote (crashed, or still on their way).
  ASSERT_EQ(*NextSequence(kv(), shard), 2u);
  ASSERT_EQ(*NextSequence(kv(), shard), 3u);
  ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"c", "a"}, 4}, &model), 4u);

  // Young (the clock stands at the real time, entry 4 was just written): the cycle looks for 2
  // until its deadline, commits 1, and re-arms for the rest.
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("holes"));
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 2u);
  CycleResult r = compactor.RunCycle(shard, triggers, SteadyNowMs() + 300);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 1u);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.voided, 0u);
  EXPECT_EQ(r.new_version, 1);
  EXPECT_TRUE(r.rearmed);
  // Trigger 1 is covered; trigger 4 was handed to the re-armed trigger: both deleted.
  EXPECT_EQ(r.deleted_message_ids.size(), 2u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(objects()->Head(LogKey(shard, 2)).status().code(), StatusCode::kNotFound) << "voided while young";
  ExpectSnapshot(shard, prefix);
  auto rearm = ReceiveAll(queue.get());
  ASSERT_EQ(rearm.size(), 1u);
  auto body = ParseDeltaMessage(rearm[0].body);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->shard, shard);
  EXPECT_EQ(body->log_position, 4u);
  EXPECT_EQ(rearm[0].group_id, MessageGroupFor(shard));
  ASSERT_TRUE(queue->ChangeVisibility({rearm[0].receipt_handle}, 0).ok());

  // Old (an hour later): 2 and 3 get void markers, 4 is applied after them.
  clock_.Set(RealNowMs() + kHourMs);
  r = CycleWithTriggers(&compactor, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.voided, 2u);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.log_position, 4u);
  EXPECT_FALSE(r.rearmed);
  EXPECT_EQ(r.deleted_message_ids.size(), 1u);
  codec::Manifest m;
  ExpectSnapshot(shard, model, &m);
  EXPECT_EQ(m.log_position, 4u);
  EXPECT_TRUE(m.skipped.empty()) << "a void marker is no skipped delta";
  for (uint64_t seq : {2, 3}) {
    auto marker = objects()->Get(LogKey(shard, seq));
    ASSERT_TRUE(marker.ok()) << marker.status().ToString();
    EXPECT_TRUE(IsVoidMarker(*marker)) << *marker;
    // The late producer's create-only PUT now loses: that number is given up.
    PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    auto late = objects()->Put(LogKey(shard, seq), EncodeOp(shard, {DeltaOp::kUpsert, {"late"}, 9}), create_only);
    EXPECT_EQ(late.status().code(), StatusCode::kPreconditionFailed) << late.status().ToString();
  }
  // The markers are log entries like any other: a later cycle passes over them.
  Write(queue.get(), shard, {DeltaOp::kDelete, {"b"}}, &model);
  Compactor fresh(kv(), objects(), queue.get(), &clock_, Opts("holes-fresh"));
  r = CycleWithTriggers(&fresh, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 5u);
  EXPECT_EQ(r.voided, 0u);
  ExpectSnapshot(shard, model);
}

// A producer takes 2, stalls; another appends 3; the hole at 2 gets old and the compactor's void
// marker lands; then the stalled producer's PUT arrives: it loses, and the producer (the real one)
// does not acknowledge.
TEST_F(CompactorLogTest, VoidMarkerFirstThenTheLateProducerIsRefused) {
  const ShardId shard{"voidfirst", 0};
  auto queue = NewQueue("voidfirst");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("voidfirst"));
  CycleResult during;
  DeltaPutHook stalled(objects());
  stalled.hook = [&](const std::string& key, const std::function<Result<ObjectMeta>()>& put) {
    EXPECT_EQ(key, LogKey(shard, 2));
    Write(queue.get(), shard, {DeltaOp::kUpsert, {"c"}, 3}, &model);
    clock_.Set(RealNowMs() + kHourMs);
    during = compactor.RunCycle(shard, {});
    return put();
  };
  auto ack = fixture::Write(kv(), &stalled, queue.get(), shard.collection, {DeltaOp::kUpsert, {"a", "z"}, 2}, &model);
  ASSERT_FALSE(ack.ok()) << "acknowledged a write whose log position was voided";
  EXPECT_EQ(ack.status().code(), StatusCode::kPreconditionFailed) << ack.status().ToString();
  EXPECT_NE(ack.status().message().find("voided"), std::string::npos) << ack.status().ToString();
  ASSERT_TRUE(during.status.ok()) << during.status.ToString();
  EXPECT_EQ(during.voided, 1u);
  EXPECT_EQ(during.log_position, 3u);
  auto marker = objects()->Get(LogKey(shard, 2));
  ASSERT_TRUE(marker.ok());
  EXPECT_TRUE(IsVoidMarker(*marker));
  ExpectSnapshot(shard, model);  // without the refused write
  // No trigger announces the refused write: only 1 and 3 are on the queue.
  std::set<uint64_t> announced;
  for (const auto& t : ReceiveAll(queue.get())) announced.insert(ParseDeltaMessage(t.body)->log_position);
  EXPECT_EQ(announced, (std::set<uint64_t>{1, 3}));
}

// The other order: the hole is old, the compactor has listed the log (1, 3), and the stalled
// producer's PUT at 2 lands before the compactor's void marker: the marker loses, 2 is applied
// between 1 and 3, and the producer acknowledges.
TEST_F(CompactorLogTest, LateDeltaFirstThenTheVoidMarkerLosesAndTheDeltaIsApplied) {
  const ShardId shard{"deltafirst", 0};
  auto queue = NewQueue("deltafirst");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
  CycleResult during;
  bool landed_inside = false;
  DeltaPutHook stalled(objects());
  stalled.hook = [&](const std::string& key, const std::function<Result<ObjectMeta>()>& put) {
    EXPECT_EQ(key, LogKey(shard, 2));
    Write(queue.get(), shard, Cols({DeltaOp::kUpdate, {"a", "z"}, 3}, true, false, false), &model);
    clock_.Set(RealNowMs() + kHourMs);
    Result<ObjectMeta> landed = Internal("the PUT never ran");
    CompactorOptions opts = Opts("deltafirst");
    opts.step_hook = [&](std::string_view step) -> Status {
      if (step == kCompactStepListed && !landed_inside) {
        landed_inside = true;
        landed = put();
      }
      return Status::Ok();
    };
    Compactor compactor(kv(), objects(), queue.get(), &clock_, opts);
    during = compactor.RunCycle(shard, {});
    return landed;
  };
  // The write at 2 creates z, which the update at 3 then changes: order is visible.
  auto ack = fixture::Write(kv(), &stalled, queue.get(), shard.collection, {DeltaOp::kUpsert, {"z", "b"}, 2}, &model);
  ASSERT_TRUE(landed_inside);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->log_positions[0].log_position, 2u);
  ASSERT_TRUE(during.status.ok()) << during.status.ToString();
  EXPECT_EQ(during.voided, 0u);
  EXPECT_EQ(during.applied, 3u);
  EXPECT_EQ(during.log_position, 3u);
  auto entry = objects()->Get(LogKey(shard, 2));
  ASSERT_TRUE(entry.ok());
  EXPECT_FALSE(IsVoidMarker(*entry));
  ExpectSnapshot(shard, model);
}

TEST_F(CompactorLogTest, BadEntriesAreSkippedRecordedAndTheirTriggersFail) {
  const ShardId shard{"baddelta", 0};
  auto queue = NewQueue("baddelta");
  Model model;
  ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model), 1u);
  // 2: damaged after the header (one flipped payload byte).
  ASSERT_EQ(*NextSequence(kv(), shard), 2u);
  std::string corrupt = EncodeOp(shard, {DeltaOp::kUpsert, {"bad"}, 9});
  corrupt[corrupt.size() - 12] ^= 0x5a;
  ASSERT_TRUE(PutEntry(shard, 2, corrupt).ok());
  // 3: a valid delta of another dimension (a producer without the dimension check).
  ASSERT_EQ(*NextSequence(kv(), shard), 3u);
  codec::Delta wide;
  wide.meta = {DeltaOp::kUpsert, shard.collection, 0, kDim + 1, "", "01JDQZ2XK8M5V0000000000001", 1764000000000};
  wide.records.ids = {"wide"};
  wide.records.embeddings.assign(kDim + 1, 0.5f);
  auto wide_bytes = codec::EncodeDelta(wide);
  ASSERT_TRUE(wide_bytes.ok()) << wide_bytes.status().ToString();
  ASSERT_TRUE(PutEntry(shard, 3, *wide_bytes).ok());
  // 4: a valid delta of another shard at this shard's key.
  ASSERT_EQ(*NextSequence(kv(), shard), 4u);
  ASSERT_TRUE(PutEntry(shard, 4, EncodeOp({shard.collection, 1}, {DeltaOp::kUpsert, {"elsewhere"}, 9})).ok());
  for (uint64_t seq : {2, 3, 4}) ASSERT_TRUE(SendTrigger(queue.get(), shard, seq).ok());
  ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"c", "a"}, 5}, &model), 5u);
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 5u);
  std::map<uint64_t, std::string> id_of;
  for (const auto& t : triggers) id_of[ParseDeltaMessage(t.body)->log_position] = t.message_id;

  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("baddelta"));
  CycleResult r = compactor.RunCycle(shard, triggers);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 5u);
  EXPECT_EQ(r.applied, 2u);
  EXPECT_FALSE(r.rearmed);
  ASSERT_EQ(r.skipped.size(), 3u);
  EXPECT_EQ(r.skipped[0].log_position, 2u);
  EXPECT_EQ(r.skipped[1].log_position, 3u);
  EXPECT_NE(r.skipped[1].reason.find("dimension"), std::string::npos) << r.skipped[1].reason;
  EXPECT_EQ(r.skipped[2].log_position, 4u);
  EXPECT_NE(r.skipped[2].reason.find("baddelta#1"), std::string::npos) << r.skipped[2].reason;
  // The skipped entries' triggers are failures (to reach the DLQ as their record), the others
  // deleted.
  std::set<std::string> failed;
  for (const auto& id : r.BatchItemFailures()) failed.insert(id);
  EXPECT_EQ(failed, (std::set<std::string>{id_of[2], id_of[3], id_of[4]}));
  std::set<std::string> deleted(r.deleted_message_ids.begin(), r.deleted_message_ids.end());
  EXPECT_EQ(deleted, (std::set<std::string>{id_of[1], id_of[5]}));
  codec::Manifest m;
  ExpectSnapshot(shard, model, &m);
  ASSERT_EQ(m.skipped.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m.skipped[i].log_position, r.skipped[i].log_position);
    EXPECT_EQ(m.skipped[i].reason, r.skipped[i].reason);
    EXPECT_FALSE(m.skipped[i].reason.empty());
  }

  // Not stalled: the next write applies; the record of the skipped entries is kept; a skipped
  // entry's trigger delivered again fails again and changes nothing.
  Write(queue.get(), shard, {DeltaOp::kDelete, {"b"}}, &model);
  std::vector<std::string> again;
  for (const auto& t : triggers) {
    if (failed.count(t.message_id)) again.push_back(t.receipt_handle);
  }
  ASSERT_TRUE(queue->ChangeVisibility(again, 0).ok());
  triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 4u);
  r = compactor.RunCycle(shard, triggers);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.log_position, 6u);
  EXPECT_TRUE(r.skipped.empty()) << "entries skipped by an earlier version are not this cycle's";
  EXPECT_EQ(r.BatchItemFailures().size(), 3u);
  EXPECT_EQ(r.deleted_message_ids.size(), 1u);
  ExpectSnapshot(shard, model, &m);
  EXPECT_EQ(m.skipped.size(), 3u);
}

// Bytes that may apply later are not "bad": a delta of a newer format version (written by a
// producer already rolled forward) stops the cycle — nothing moves, nothing is skipped — and applies
// once the compactor reads that version (here: the entry is replaced, as a newer reader would see it).
TEST_F(CompactorLogTest, ADeltaOfAnotherFormatVersionStopsTheCycleInsteadOfBeingSkipped) {
  const ShardId shard{"newerformat", 0};
  auto queue = NewQueue("newerformat");
  Model model;
  ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a"}, 1}, &model), 1u);
  ASSERT_EQ(*NextSequence(kv(), shard), 2u);
  const Op later{DeltaOp::kUpsert, {"a", "b"}, 2};
  std::string newer = EncodeOp(shard, later);
  newer[4] = 2;  // format_version u16 little-endian at offset 4: 2
  ASSERT_TRUE(PutEntry(shard, 2, newer).ok());
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("newerformat"));
  CycleResult r = compactor.RunCycle(shard, {});
  EXPECT_EQ(r.status.code(), StatusCode::kNotSupported) << r.status.ToString();
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_FALSE(ReadPointer(shard).has_value()) << "nothing committed past an entry that may still apply";

  // A reader of that format sees a delta it can apply: the same bytes with this build's version.
  ASSERT_TRUE(objects()->Delete({LogKey(shard, 2)}).ok());
  ASSERT_TRUE(PutEntry(shard, 2, EncodeOp(shard, later)).ok());
  Landed(&model, later, 2);
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 2u);
  EXPECT_TRUE(r.skipped.empty());
  ExpectSnapshot(shard, model);
}

TEST_F(CompactorLogTest, BudgetLeavesTheRestForTheNextCycleAndAppliesNothingTwice) {
  // Re-applying an entry would be visible: e2's delete after e3's add removes x, e4's metadata
  // merge with a null key is not idempotent with e5's.
  const std::vector<Op> ops = {
      {DeltaOp::kUpsert, {"x", "y"}, 1},
      {DeltaOp::kDelete, {"x"}},
      {DeltaOp::kAdd, {"x"}, 3},
      Cols({DeltaOp::kUpdate, {"y"}, 4}, false, false, true, {"m1"}),
      Cols({DeltaOp::kUpsert, {"y"}, 5}, true, false, true, {"seed"}),
  };
  struct Budget {
    std::string name;
    std::function<void(CompactorOptions*)> set;
    bool past_deadline = false;
    std::vector<uint64_t> positions;  // after each cycle
  };
  const std::vector<Budget> budgets = {
      {"deltas", [](CompactorOptions* o) { o->max_deltas = 2; }, false, {2, 4, 5}},
      {"bytes", [](CompactorOptions* o) { o->max_delta_bytes = 1; }, false, {1, 2, 3, 4, 5}},
      {"records", [](CompactorOptions* o) { o->max_records = 1; }, false, {1, 2, 3, 4, 5}},
      // A deadline already passed: the first entry is still applied (progress), nothing more.
      {"deadline", [](CompactorOptions*) {}, true, {1, 2, 3, 4, 5}},
  };
  for (const Budget& b : budgets) {
    SCOPED_TRACE(b.name);
    const ShardId shard{"budget-" + b.name, 0};
    auto queue = NewQueue("budget-" + b.name);
    Model model;
    std::vector<Model> after;  // the model after each write
    for (const Op& op : ops) {
      Write(queue.get(), shard, op, &model);
      after.push_back(model);
    }
    CompactorOptions opts = Opts("budget-" + b.name);
    b.set(&opts);
    Compactor compactor(kv(), objects(), queue.get(), &clock_, opts);
    for (size_t i = 0; i < b.positions.size(); ++i) {
      const uint64_t want = b.positions[i];
      CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard, b.past_deadline ? 1 : 0);
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
      EXPECT_EQ(r.log_position, want) << "cycle " << i;
      EXPECT_EQ(r.applied, want - (i == 0 ? 0 : b.positions[i - 1])) << "cycle " << i;
      EXPECT_EQ(r.rearmed, want < ops.size()) << "cycle " << i;
      ExpectSnapshot(shard, after[want - 1]);
    }
    EXPECT_TRUE(ReceiveAll(queue.get()).empty()) << "a trigger left after the last cycle";
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
