// Trigger handling (delta_message.h, compactor.h "Triggers", compactor_event.h) against moto_server
// with signature checking on; replaces the 16-message-group tests (one group per shard now, since
// the log, not the queue, orders the deltas). Covers: a redelivered trigger, a ULID-era trigger and a
// trigger for an applied entry are deleted without a new version; bodies that are no trigger of the
// cycle's shard are failures; a held lease hands the triggers off to one re-armed trigger (or, when
// the holder lets go while we wait, the cycle runs); and the compactor function's event path
// (ParseSqsRecords -> GroupByShard -> cycles -> FifoBatchItemFailures) over two shards, one of them
// with a skipped entry.
#include <gtest/gtest.h>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/compactor_event.h"
#include "chromapact/pipeline/delta_message.h"
#include "support/faults/fault_injection.h"
#include "chromapact/pipeline/lease.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class TriggersTest : public CompactorTestBase {};

std::set<std::string> Ids(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }
std::set<std::string> Ids(const std::vector<QueueMessage>& v) {
  std::set<std::string> out;
  for (const auto& m : v) out.insert(m.message_id);
  return out;
}

TEST_F(TriggersTest, RedeliveredAndUlidEraTriggersAreDeletedWithoutANewVersion) {
  const ShardId shard{"redeliver", 0};
  auto queue = NewQueue("redeliver");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"x", "y"}, 1}, &model);
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"x"}, 2}, &model);
  Write(queue.get(), shard, {DeltaOp::kDelete, {"y"}}, &model);
  auto first = ReceiveAll(queue.get());
  ASSERT_EQ(first.size(), 3u);
  // The schedule (no triggers) compacts first; then the triggers arrive, and their delete is lost.
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("redeliver"));
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.log_position, 3u);
  FaultInjector faults;
  faults.Add({kStepSqsDelete, "", FaultWhen::kBefore, 1, -1, Status(StatusCode::kUnavailable, "injected 503")});
  auto no_delete = NewFaultyQueue(queue.get(), &faults);
  Compactor lossy(kv(), objects(), no_delete.get(), &clock_, Opts("redeliver-lossy"));
  r = lossy.RunCycle(shard, first);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 0);
  EXPECT_TRUE(r.deleted_message_ids.empty());
  // Covered triggers are no failures even when their delete failed (the event source deletes them).
  EXPECT_TRUE(r.failures.empty());

  // Delivered again, with a trigger from before the log (no log_position) and a new entry's trigger.
  std::vector<std::string> receipts;
  for (const auto& m : first) receipts.push_back(m.receipt_handle);
  ASSERT_TRUE(queue->ChangeVisibility(receipts, 0).ok());
  QueueSend ulid_era{R"({"delta_key":"deltas/redeliver/0/01JDQZ2XK8M5V0000000000000.cpd","collection":"redeliver",)"
                     R"("shard":0,"delta_id":"01JDQZ2XK8M5V0000000000000","count":2})",
                     MessageGroupFor(shard), "ulid-era-1"};
  ASSERT_TRUE(queue->Send(ulid_era).ok());
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"z"}, 3}, &model);
  auto batch = ReceiveAll(queue.get());
  ASSERT_EQ(batch.size(), 5u);
  int redelivered = 0;
  for (const auto& m : batch) redelivered += m.receive_count == 2 ? 1 : 0;
  EXPECT_EQ(redelivered, 3);
  r = compactor.RunCycle(shard, batch);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 2);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.log_position, 4u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_FALSE(r.rearmed);
  EXPECT_EQ(Ids(r.deleted_message_ids), Ids(batch));
  ExpectSnapshot(shard, model);
  EXPECT_TRUE(ReceiveAll(queue.get()).empty());
}

TEST_F(TriggersTest, BodiesThatAreNoTriggerOfThisShardAreFailures) {
  const ShardId shard{"foreign", 0};
  auto queue = NewQueue("foreign");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"a"}, 1}, &model);
  ASSERT_TRUE(SendTrigger(queue.get(), {"foreign", 1}, 1).ok());      // another shard
  ASSERT_TRUE(SendTrigger(queue.get(), {"other-coll", 0}, 1).ok());   // another collection
  ASSERT_TRUE(queue->Send({"not a trigger", MessageGroupFor(shard), "garbage-1"}).ok());
  ASSERT_TRUE(queue->Send({R"({"collection":"foreign"})", MessageGroupFor(shard), "garbage-2"}).ok());
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 5u);
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("foreign"));
  CycleResult r = compactor.RunCycle(shard, triggers);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 1u);
  ASSERT_EQ(r.failures.size(), 4u);
  for (const auto& f : r.failures) {
    EXPECT_EQ(f.status.code(), StatusCode::kInvalidArgument) << f.status.ToString();
    EXPECT_NE(f.message_id, triggers[0].message_id);
  }
  EXPECT_EQ(r.deleted_message_ids, std::vector<std::string>{triggers[0].message_id});
  ExpectSnapshot(shard, model);
}

TEST_F(TriggersTest, AHeldLeaseHandsTheTriggersOffToOneRearmedTrigger) {
  const ShardId shard{"handoff", 0};
  auto queue = NewQueue("handoff");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
  Write(queue.get(), shard, {DeltaOp::kDelete, {"a"}}, &model);
  ASSERT_TRUE(queue->Send({"not a trigger", MessageGroupFor(shard), "garbage-1"}).ok());
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 3u);

  LeaseTable leases(kv(), &clock_, LeaseOptions{kTtl});
  auto other = leases.Acquire(shard, "another-compactor");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("handoff"));
  int waits = 0;
  LeaseWait no_wait{0, 1, 1};
  CycleResult r = RunCycleWaitingForLease(&compactor, shard, triggers, 0, no_wait,
                                          [&](int, const Status&) { ++waits; });
  EXPECT_EQ(r.status.code(), StatusCode::kPreconditionFailed) << r.status.ToString();
  EXPECT_EQ(r.fence, 0);
  EXPECT_EQ(waits, 0);
  // Only the garbage body is a failure; both triggers were deleted in favour of one re-armed trigger
  // (so that waiting for a lease never counts a receive towards the DLQ).
  EXPECT_EQ(r.BatchItemFailures(), std::vector<std::string>{triggers[2].message_id});
  EXPECT_FALSE(ReadPointer(shard).has_value()) << "a cycle ran under another's lease";
  ASSERT_TRUE(queue->ChangeVisibility({triggers[2].receipt_handle}, 0).ok());
  auto after = ReceiveAll(queue.get());
  ASSERT_EQ(after.size(), 2u);  // the garbage (back) and the re-armed trigger
  const QueueMessage& rearm = after[0].body == "not a trigger" ? after[1] : after[0];
  auto body = ParseDeltaMessage(rearm.body);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->shard, shard);
  EXPECT_EQ(body->log_position, 2u);  // the highest position the handed-off triggers named

  // A re-arm that cannot be sent hands nothing off: every trigger stays a failure.
  FaultInjector faults;
  faults.CrashAt(kStepSqsSend, "");
  auto faulty_queue = NewFaultyQueue(queue.get(), &faults);
  Compactor cut_off(kv(), objects(), faulty_queue.get(), &clock_, Opts("handoff-cut"));
  auto kept = cut_off.HandOff(shard, {rearm}, Status(StatusCode::kPreconditionFailed, "held"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].message_id, rearm.message_id);
  EXPECT_EQ(kept[0].status.code(), StatusCode::kPreconditionFailed);

  // The holder lets go while we wait (told through on_wait, so no timing is involved): the cycle
  // runs, and the re-armed trigger is deleted as covered.
  LeaseWait patient{60000, 1, 1};
  r = RunCycleWaitingForLease(&compactor, shard, {rearm}, 0, patient, [&](int attempt, const Status& st) {
    ++waits;
    EXPECT_EQ(attempt, 1);
    EXPECT_EQ(st.code(), StatusCode::kPreconditionFailed);
    EXPECT_TRUE(leases.Release(*other).ok());
  });
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(waits, 1);
  EXPECT_EQ(r.log_position, 2u);
  EXPECT_EQ(r.deleted_message_ids, std::vector<std::string>{rearm.message_id});
  ExpectSnapshot(shard, model);
}

// As lambdas/compactor does with an SQS event: two shards in one batch; shard 0 has a skipped
// entry, so its trigger is a failure and, by FIFO's rule, so is every later message of its group
// in the batch; shard 1's group is unaffected.
TEST_F(TriggersTest, TheEventPathReportsFifoBatchItemFailures) {
  const std::string coll = "eventpath";
  constexpr int kShards = 2;
  const ShardId s0{coll, 0}, s1{coll, 1};
  auto queue = NewQueue("eventpath");
  Model model;
  // The n-th id (of "id0", "id1", ...) that lands in `shard`.
  auto id_in = [](int shard, int n) {
    for (int k = 0;; ++k) {
      std::string id = "id" + std::to_string(k);
      if (ShardForId(id, kShards) == shard && n-- == 0) return id;
    }
  };
  auto write = [&](const std::string& id, int seed) {
    auto ack = fixture::Write(kv(), objects(), queue.get(), coll, {DeltaOp::kUpsert, {id}, seed}, &model, kShards);
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  };
  write(id_in(0, 0), 1);
  write(id_in(1, 0), 1);
  ASSERT_EQ(*NextSequence(kv(), s0), 2u);
  ASSERT_TRUE(PutEntry(s0, 2, "not a delta").ok());
  ASSERT_TRUE(SendTrigger(queue.get(), s0, 2).ok());
  write(id_in(0, 1), 3);
  write(id_in(1, 1), 3);
  auto received = ReceiveAll(queue.get());
  ASSERT_EQ(received.size(), 5u);

  // The event Lambda's event source mapping would deliver.
  nlohmann::json records = nlohmann::json::array();
  for (const auto& m : received) {
    records.push_back({{"messageId", m.message_id},
                       {"receiptHandle", m.receipt_handle},
                       {"body", m.body},
                       {"attributes",
                        {{"MessageGroupId", m.group_id},
                         {"ApproximateReceiveCount", std::to_string(m.receive_count)},
                         {"SentTimestamp", std::to_string(m.sent_at_ms)}}}});
  }
  auto batch = ParseSqsRecords(records);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  std::vector<MessageFailure> bad;
  auto groups = GroupByShard(*batch, &bad);
  EXPECT_TRUE(bad.empty());
  ASSERT_EQ(groups.size(), 2u);
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("eventpath"));
  std::set<std::string> failed;
  std::string skipped_trigger, after_skipped;
  for (const ShardBatch& sb : groups) {
    CycleResult r = RunCycleWaitingForLease(&compactor, sb.shard, sb.messages, 0, LeaseWait{});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    for (const auto& id : r.BatchItemFailures()) failed.insert(id);
    if (sb.shard == s0) {
      EXPECT_EQ(r.log_position, 3u);
      ASSERT_EQ(r.skipped.size(), 1u);
      EXPECT_EQ(r.skipped[0].log_position, 2u);
      ASSERT_EQ(sb.messages.size(), 3u);
      skipped_trigger = sb.messages[1].message_id;
      after_skipped = sb.messages[2].message_id;
      EXPECT_EQ(r.BatchItemFailures(), std::vector<std::string>{skipped_trigger});
    } else {
      EXPECT_EQ(r.log_position, 2u);
      EXPECT_TRUE(r.failures.empty());
    }
  }
  EXPECT_EQ(FifoBatchItemFailures(*batch, failed), (std::vector<std::string>{skipped_trigger, after_skipped}));
  const auto live = model.Live();
  for (const ShardId& shard : {s0, s1}) {
    std::map<std::string, ModelRecord> mine;
    for (const auto& [id, rec] : live) {
      if (ShardForId(id, kShards) == shard.shard) mine[id] = rec;
    }
    EXPECT_EQ(mine.size(), 2u);
    fixture::ExpectSnapshotEquals(objects(), kv(), &clock_, shard, mine);
  }
}

// A trigger naming a position beyond every entry (hand-made, or stale after the counter moved on)
// names nothing to wait for: the complete listing that followed its receipt ends below it. It is
// deleted, not re-armed (re-arming it would bring it back every cycle, forever).
TEST_F(TriggersTest, ATriggerBeyondTheLogIsDeletedNotRearmedForever) {
  const ShardId shard{"beyond", 0};
  auto queue = NewQueue("beyond");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"a"}, 1}, &model);
  ASSERT_TRUE(SendTrigger(queue.get(), shard, 9).ok());
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 2u);
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("beyond"));
  CycleResult r = compactor.RunCycle(shard, triggers);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 1u);
  EXPECT_FALSE(r.rearmed);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(Ids(r.deleted_message_ids), Ids(triggers));
  auto left = queue->Receive(10, 0, 0);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "a re-armed trigger was sent: " << (left->empty() ? "" : left->front().body);
  ExpectSnapshot(shard, model);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
