// Skipped log entries reported to a dead-letter queue (CompactorOptions::dead_letters,
// CHROMAPACT_DLQ_URL) instead of through their triggers, against moto_server with signature
// checking on: one message per skipped entry naming it, every trigger deleted (so FIFO's
// partial-batch rule cannot drag healthy triggers along), and a report that is not lost when the
// first attempt to send it is (a failed send, or a crash between the commit and the send).
#include <gtest/gtest.h>

#include <algorithm>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "support/faults/fault_injection.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class DeadLettersTest : public CompactorTestBase {
 protected:
  // Entries 1 and 3 written by the producer, 2 undecodable (with its trigger): three triggers.
  void WriteWithABadEntry(Queue* queue, const ShardId& shard, Model* model) {
    ASSERT_EQ(Write(queue, shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, model), 1u);
    ASSERT_EQ(*NextSequence(kv(), shard), 2u);
    ASSERT_TRUE(PutEntry(shard, 2, "definitely not a delta").ok());
    ASSERT_TRUE(SendTrigger(queue, shard, 2).ok());
    ASSERT_EQ(Write(queue, shard, {DeltaOp::kUpsert, {"c"}, 3}, model), 3u);
  }

  // The reports on `dlq` (each received once, then deleted).
  std::vector<nlohmann::json> Reports(Queue* dlq) {
    std::vector<nlohmann::json> out;
    std::vector<std::string> receipts;
    for (const auto& m : ReceiveAll(dlq)) {
      out.push_back(nlohmann::json::parse(m.body, nullptr, false));
      receipts.push_back(m.receipt_handle);
    }
    if (!receipts.empty()) {
      EXPECT_TRUE(dlq->DeleteBatch(receipts).ok());
    }
    return out;
  }
};

TEST_F(DeadLettersTest, ASkippedEntryIsReportedOnceAndEveryTriggerDeleted) {
  const ShardId shard{"dlq-basic", 0};
  auto queue = NewQueue("dlq-basic");
  auto dlq = NewQueue("dlq-basic-dlq");
  Model model;
  WriteWithABadEntry(queue.get(), shard, &model);
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 3u);
  CompactorOptions opts = Opts("dlq-basic");
  opts.dead_letters = dlq.get();
  Compactor compactor(kv(), objects(), queue.get(), &clock_, opts);
  CycleResult r = compactor.RunCycle(shard, triggers);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 3u);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.dead_lettered, 1u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.deleted_message_ids.size(), 3u);
  ExpectSnapshot(shard, model);
  auto reports = Reports(dlq.get());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["collection"], shard.collection);
  EXPECT_EQ(reports[0]["shard"], 0);
  EXPECT_EQ(reports[0]["log_position"], 2);
  EXPECT_EQ(reports[0]["delta_key"], LogKey(shard, 2));
  EXPECT_EQ(reports[0]["reason"], r.skipped[0].reason);
  EXPECT_EQ(reports[0]["version"], r.new_version);
  EXPECT_TRUE(ReceiveAll(queue.get()).empty());

  // A later cycle (nothing new) reports nothing again.
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.dead_lettered, 0u);
  EXPECT_TRUE(Reports(dlq.get()).empty());
}

// The report's first attempt may be lost: its send fails, or the compactor dies right after the
// commit that skipped the entry (it failed when the report was sent after the commit). The entry is in manifest.skipped either way, but the
// operator only learns of it from the DLQ: the entry's trigger, delivered again, must either bring
// the report about or come back as a failure (the trigger path), not be deleted silently.
TEST_F(DeadLettersTest, ASkippedEntryIsNotLostWhenItsFirstReportIs) {
  struct Case {
    std::string name;
    bool send_fails;  // else: crash right after the commit
  };
  for (const Case& c : {Case{"send-fails", true}, Case{"crash-after-commit", false}}) {
    SCOPED_TRACE(c.name);
    const ShardId shard{"dlq-" + c.name, 0};
    auto queue = NewQueue("dlq-" + c.name);
    auto dlq = NewQueue("dlq-" + c.name + "-dlq");
    Model model;
    WriteWithABadEntry(queue.get(), shard, &model);
    auto triggers = ReceiveAll(queue.get());
    ASSERT_EQ(triggers.size(), 3u);
    const std::string bad_trigger = triggers[1].message_id;
    ASSERT_EQ(ParseDeltaMessage(triggers[1].body)->log_position, 2u);

    FaultInjector faults;
    faults.Add({kStepSqsSend, "", FaultWhen::kBefore, 1, -1, Status(StatusCode::kUnavailable, "injected 503")});
    auto failing_dlq = NewFaultyQueue(dlq.get(), &faults);
    CompactorOptions opts = Opts("dlq-" + c.name);
    opts.dead_letters = c.send_fails ? failing_dlq.get() : dlq.get();
    if (!c.send_fails) {
      opts.step_hook = [](std::string_view step) -> Status {
        return step == kCompactStepCommitted ? Aborted("crash after commit") : Status::Ok();
      };
    }
    CycleResult first;
    {
      Compactor victim(kv(), objects(), queue.get(), &clock_, opts);
      first = victim.RunCycle(shard, triggers);
    }
    ASSERT_EQ(first.skipped.size(), 1u);
    // The report goes out right before the commit, so a crash after the commit has sent it.
    EXPECT_EQ(first.dead_lettered, c.send_fails ? 0u : 1u);
    // Whatever the first cycle did not delete comes back (visibility timeout, made immediate).
    std::vector<std::string> back;
    for (const auto& t : triggers) {
      if (std::find(first.deleted_message_ids.begin(), first.deleted_message_ids.end(), t.message_id) ==
          first.deleted_message_ids.end()) {
        back.push_back(t.receipt_handle);
      }
    }
    // A failed trigger reaches the DLQ by redrive, but only from a cycle that returned: a crashed one
    // reports nothing.
    bool reported_by_trigger = false;
    if (first.status.ok()) {
      for (const auto& id : first.BatchItemFailures()) reported_by_trigger = reported_by_trigger || id == bad_trigger;
    }
    if (!back.empty()) {
      ASSERT_TRUE(queue->ChangeVisibility(back, 0).ok());
    }
    clock_.Advance(kTtl + 1);  // the crashed compactor's lease expires

    CompactorOptions clean = Opts("dlq-" + c.name + "-clean");
    clean.dead_letters = dlq.get();
    Compactor compactor(kv(), objects(), queue.get(), &clock_, clean);
    CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.log_position, 3u);
    for (const auto& id : r.BatchItemFailures()) reported_by_trigger = reported_by_trigger || id == bad_trigger;
    const auto reports = Reports(dlq.get());
    EXPECT_TRUE(reported_by_trigger || reports.size() == 1)
        << "skipped entry 2 was reported neither to the DLQ (" << reports.size()
        << " reports) nor as a failed trigger: its record is lost";
    ExpectSnapshot(shard, model);
  }
}

// A report that cannot be sent stops the cycle before its commit: committing would leave the skip
// known to the manifest alone once the entry's trigger is gone (re-armed past, or never received).
TEST_F(DeadLettersTest, AReportThatCannotBeSentStopsTheCommit) {
  const ShardId shard{"dlq-down", 0};
  auto queue = NewQueue("dlq-down");
  auto dlq = NewQueue("dlq-down-dlq");
  Model model;
  WriteWithABadEntry(queue.get(), shard, &model);
  FaultInjector faults;
  faults.Add({kStepSqsSend, "", FaultWhen::kBefore, 1, -1, Status(StatusCode::kUnavailable, "injected 503")});
  auto failing_dlq = NewFaultyQueue(dlq.get(), &faults);
  CompactorOptions opts = Opts("dlq-down");
  opts.dead_letters = failing_dlq.get();
  {
    Compactor compactor(kv(), objects(), queue.get(), &clock_, opts);
    CycleResult r = compactor.RunCycle(shard, {});  // the schedule: no trigger to fall back on
    EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.ToString();
    EXPECT_EQ(r.new_version, 0);
    EXPECT_FALSE(ReadPointer(shard).has_value());
  }
  CompactorOptions clean = Opts("dlq-down-clean");
  clean.dead_letters = dlq.get();
  Compactor compactor(kv(), objects(), queue.get(), &clock_, clean);
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 3u);
  EXPECT_EQ(r.dead_lettered, 1u);
  EXPECT_EQ(Reports(dlq.get()).size(), 1u);
  ExpectSnapshot(shard, model);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
