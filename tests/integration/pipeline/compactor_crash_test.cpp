// Crash-point test of the compaction cycle against moto_server (signature checking on): a compactor
// is stopped at every named step of its cycle (CompactorOptions::step_hook, as a crash would stop
// it: no release, no trigger settled) and at ambiguous seam calls (an answer lost after the call
// landed); then a fresh compactor, fed whatever triggers are on the queue, converges to the model
// with the queue empty, and nothing is applied twice (the model comparison would see a re-applied
// delete-then-add, and the manifest's position says how far the log was applied).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "chromapact/pipeline/compactor.h"
#include "support/faults/fault_injection.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class CompactorCrashTest : public CompactorTestBase {};

// One crash point: where to stop the first compactor.
struct CrashPoint {
  std::string name;
  std::string hook_step;  // a kCompactStep*, or "" for a seam fault
  std::string fault_step;
  std::string fault_key_prefix;
  FaultWhen when = FaultWhen::kBefore;
  bool cycle_fails = true;  // false: the cycle still ends OK (the fault only costs a delete)
};

TEST_F(CompactorCrashTest, CrashAtEveryStepThenAFreshCompactorConvergesToTheModel) {
  const std::vector<CrashPoint> points = {
      {"after-list", kCompactStepListed, "", "", FaultWhen::kBefore},
      {"after-merge", kCompactStepMerged, "", "", FaultWhen::kBefore},
      {"mid-upload", kCompactStepMidUpload, "", "", FaultWhen::kBefore},
      {"after-upload", kCompactStepUploaded, "", "", FaultWhen::kBefore},
      {"after-cas", kCompactStepCommitted, "", "", FaultWhen::kBefore},
      {"after-rearm", kCompactStepRearmed, "", "", FaultWhen::kBefore},
      {"before-release", kCompactStepBeforeRelease, "", "", FaultWhen::kBefore},
      // The CAS landed but its answer was lost and the re-read fails too: the compactor gives up.
      {"cas-answer-lost", "", kStepKvUpdate, "PTR#", FaultWhen::kAfter},
      {"upload-answer-lost", "", kStepS3Put, "snapshots/", FaultWhen::kAfter},
      // The re-arm trigger was sent but its answer was lost: the cycle cannot know it re-armed, so
      // the trigger past its position is a failure (comes back) instead of deleted.
      {"rearm-answer-lost", "", kStepSqsSend, "", FaultWhen::kAfter, false},
      {"delete-failed", "", kStepSqsDelete, "", FaultWhen::kBefore, false},
  };
  std::set<std::string> reached;
  for (size_t i = 0; i < points.size(); ++i) {
    const CrashPoint& p = points[i];
    SCOPED_TRACE(p.name);
    const ShardId shard{"crash-" + std::to_string(i), 0};
    auto queue = NewQueue("crash-" + std::to_string(i));
    Model model;
    // v1 (position 1) exists before the crash, so the crashed cycle has a base to CAS against.
    Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b", "c"}, 1}, &model);
    {
      Compactor first(kv(), objects(), queue.get(), &clock_, Opts("pre" + std::to_string(i)));
      CycleResult r = CycleWithTriggers(&first, queue.get(), shard);
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
      ASSERT_EQ(r.log_position, 1u);
    }
    Write(queue.get(), shard, {DeltaOp::kUpsert, {"b", "d"}, 2}, &model);
    Write(queue.get(), shard, {DeltaOp::kDelete, {"a"}}, &model);
    Write(queue.get(), shard, {DeltaOp::kAdd, {"a", "e", "c"}, 3}, &model);  // re-add a; c exists: kept

    FaultInjector faults;
    auto faulty_kv = NewFaultyKvStore(kv(), &faults);
    auto faulty_objects = NewFaultyObjectStore(objects(), &faults);
    auto faulty_queue = NewFaultyQueue(queue.get(), &faults);
    CompactorOptions opts = Opts("crash" + std::to_string(i));
    // A budget of two entries of the three: the cycle re-arms, so kCompactStepRearmed is reached.
    opts.max_deltas = 2;
    if (!p.hook_step.empty()) {
      opts.step_hook = [&](std::string_view step) -> Status {
        if (step != p.hook_step) return Status::Ok();
        reached.insert(p.name);
        return Aborted("crash at " + std::string(step));
      };
    } else if (p.fault_step == kStepKvUpdate) {
      // Lose the CAS answer, and the re-read after it (kv.get on the pointer, after the CAS).
      faults.CrashAt(p.fault_step, p.fault_key_prefix, p.when);
      faults.Add({kStepKvGet, "PTR#", FaultWhen::kBefore, 2, 1, std::nullopt});
    } else if (p.fault_step == kStepS3Put) {
      // Every snapshot upload lands but its answer is lost.
      faults.Add({kStepS3Put, "snapshots/" + shard.collection + "/", p.when, 1, -1, std::nullopt});
    } else {
      faults.CrashAt(p.fault_step, p.fault_key_prefix, p.when);
    }
    auto triggers = ReceiveAll(queue.get());
    ASSERT_EQ(triggers.size(), 3u);
    CycleResult crashed;
    {
      Compactor victim(faulty_kv.get(), faulty_objects.get(), faulty_queue.get(), &clock_, opts);
      crashed = victim.RunCycle(shard, triggers);
    }
    if (p.hook_step.empty()) {
      bool fired = false;
      for (const auto& s : faults.Steps()) fired = fired || s.failed;
      if (fired) reached.insert(p.name);
    }
    EXPECT_EQ(crashed.status.ok(), !p.cycle_fails) << crashed.status.ToString();
    // What the crashed compactor did not delete comes back once its visibility times out (made
    // visible now); its lease expires.
    std::vector<std::string> back;
    for (const auto& t : triggers) {
      if (std::find(crashed.deleted_message_ids.begin(), crashed.deleted_message_ids.end(), t.message_id) ==
          crashed.deleted_message_ids.end()) {
        back.push_back(t.receipt_handle);
      }
    }
    if (!back.empty()) {
      ASSERT_TRUE(queue->ChangeVisibility(back, 0).ok());
    }
    clock_.Advance(kTtl + 1);
    // Another write acknowledged after the crash.
    Write(queue.get(), shard, {DeltaOp::kUpsert, {"f", "d"}, 4}, &model);

    Compactor fresh(kv(), objects(), queue.get(), &clock_, Opts("fresh" + std::to_string(i)));
    CycleUntilDone(&fresh, queue.get(), shard);
    EXPECT_TRUE(ReceiveAll(queue.get()).empty()) << "triggers left on the queue";
    codec::Manifest final_manifest;
    ExpectSnapshot(shard, model, &final_manifest);
    EXPECT_EQ(final_manifest.log_position, 5u);
    EXPECT_TRUE(final_manifest.skipped.empty());
  }
  EXPECT_EQ(reached.size(), points.size()) << "a crash point was never reached";
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
