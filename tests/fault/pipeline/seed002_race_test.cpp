// Regression test for the old Python design's central bug ("Race Condition (Lost Updates)"):
// compactor A applies deltas set 1 and uploads its snapshot, then stalls; its lease expires;
// compactor B takes the lease, applies sets 1 and 2 and commits; A wakes and tries to commit. The
// old blind pointer write lost set 2 there. Now A's pointer CAS must fail, and A must either rebuild
// on B's base or fail with its triggers coming back; after a final cycle the published snapshot
// holds BOTH sets, each write applied once, in log order (every record checked against the Chroma
// model). A runs in its own thread, paused at kCompactStepUploaded by a step_hook gated on promises
// (no sleeps); leases expire on a ManualClock. moto_server with signature checking on.
#include <future>
#include <thread>

#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int64_t kTtl = 60000;

class Seed002RaceTest : public PipelineMotoTest, public ::testing::WithParamInterface<int> {};

TEST_P(Seed002RaceTest, StalledCompactorCannotOverwriteANewerCommit) {
  const int attempts = GetParam();
  const ShardId shard{"seed002-" + std::to_string(attempts), 0};
  const std::string url = CreateFifoQueue("seed002-" + std::to_string(attempts));
  ManualClock clock(1764000000000);
  Seams main = NewSeams(url);
  Seams seams_a = NewSeams(url);
  Seams seams_b = NewSeams(url);
  Model model;

  // v1 exists, so A and B both build on a base.
  Produce(&main, shard, {codec::DeltaOp::kUpsert, {"a", "b", "c"}, 1}, &model);
  {
    Compactor first(main.kv.get(), main.objects.get(), main.queue.get(), &clock, Options("s2-first", kTtl));
    ASSERT_TRUE(first.RunCycle(shard, {}).status.ok());
  }
  // Set 1: A's.
  Produce(&main, shard, {codec::DeltaOp::kUpsert, {"b", "d"}, 2}, &model);
  Produce(&main, shard, {codec::DeltaOp::kDelete, {"a"}}, &model);

  std::promise<void> a_uploaded, a_resume;
  std::future<void> a_uploaded_f = a_uploaded.get_future();
  std::shared_future<void> a_resume_f = a_resume.get_future().share();
  bool paused_once = false;
  CompactorOptions opts_a = Options("s2-a" + std::to_string(attempts), kTtl);
  opts_a.max_commit_attempts = attempts;
  opts_a.step_hook = [&](std::string_view step) -> Status {
    if (step == kCompactStepUploaded && !paused_once) {
      paused_once = true;
      a_uploaded.set_value();
      a_resume_f.wait();
    }
    return Status::Ok();
  };
  // The triggers so far (v1's and set 1's) reach A as an SQS event; this thread keeps their receipts.
  std::vector<QueueMessage> set1;
  for (int i = 0; i < 5 && set1.size() < 3; ++i) {
    auto got = main.queue->Receive(10, 0, 120);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    set1.insert(set1.end(), got->begin(), got->end());
  }
  ASSERT_EQ(set1.size(), 3u);
  CycleResult result_a;
  std::thread thread_a([&] {
    Compactor a(seams_a.kv.get(), seams_a.objects.get(), seams_a.queue.get(), &clock, opts_a);
    result_a = a.RunCycle(shard, set1);
  });
  a_uploaded_f.wait();

  // A stalls past its lease; set 2 arrives and B (the schedule) commits sets 1 and 2 from the log.
  clock.Advance(kTtl + 1);
  Produce(&main, shard, {codec::DeltaOp::kUpsert, {"d", "e"}, 3}, &model);
  Produce(&main, shard, {codec::DeltaOp::kDelete, {"c"}}, &model);
  CycleResult result_b;
  {
    Compactor b(seams_b.kv.get(), seams_b.objects.get(), seams_b.queue.get(), &clock,
                Options("s2-b" + std::to_string(attempts), kTtl));
    result_b = b.RunCycle(shard, {});
  }
  ASSERT_TRUE(result_b.status.ok()) << result_b.status.ToString();
  EXPECT_EQ(result_b.new_version, 2);
  EXPECT_EQ(result_b.applied, 4u) << "B applies set 1 and set 2 from the log";
  EXPECT_EQ(result_b.log_position, 5u);

  a_resume.set_value();
  thread_a.join();
  // A may not overwrite B's v2: it either stops at its lease check or loses its CAS (base v1).
  PointerTable pointers(main.kv.get(), &clock);
  auto ptr = pointers.Read(shard);
  ASSERT_TRUE(ptr.ok() && ptr->has_value());
  if (result_a.status.ok()) {
    EXPECT_GE(result_a.commit_attempts, 2) << "A's commit on the stale base v1 must not win";
    EXPECT_EQ(result_a.new_version, 3) << "A rebuilt on B's v2";
    EXPECT_EQ((*ptr)->version, 3);
  } else {
    EXPECT_EQ((*ptr)->version, 2) << "A failed, so B's v2 is still current: " << result_a.status.ToString();
    EXPECT_TRUE(result_a.deleted_message_ids.empty());
    EXPECT_EQ(result_a.failures.size(), set1.size()) << "every trigger of a failed cycle comes back";
  }
  if (attempts == 1) {
    EXPECT_FALSE(result_a.status.ok()) << "one attempt: a lost CAS cannot commit";
  }

  // The remaining triggers (A's, if A failed, and set 2's) reach a final cycle: it applies nothing
  // new (the log is applied up to 5) and deletes them all.
  clock.Advance(kTtl + 1);
  std::vector<std::string> receipts;
  for (const auto& m : set1) receipts.push_back(m.receipt_handle);
  (void)main.queue->ChangeVisibility(receipts, 0);  // as if their visibility timed out
  std::vector<QueueMessage> rest = ReceiveAll(main.queue.get());
  Compactor last(main.kv.get(), main.objects.get(), main.queue.get(), &clock, Options("s2-last", kTtl));
  CycleResult r = last.RunCycle(shard, rest);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.applied, 0u) << "nothing is applied twice";
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.deleted_message_ids.size(), rest.size());
  codec::Manifest m;
  ExpectSnapshotEquals(&main, &clock, shard, model.Live(), &m);
  EXPECT_EQ(m.log_position, 5u) << "v1's delta, set 1 and set 2";
  auto left = main.queue->Receive(10, 0, 0);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "messages left on the queue";
}

// 3 attempts: A rebuilds on B's base. 1 attempt: A fails and its triggers come back.
INSTANTIATE_TEST_SUITE_P(CommitAttempts, Seed002RaceTest, ::testing::Values(3, 1));

}  // namespace
}  // namespace chromapact::pipeline::fixture
