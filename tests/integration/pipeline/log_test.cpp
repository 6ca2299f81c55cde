// The log's sequence numbers against moto_server's DynamoDB (signature checking on): NextSequence
// from several threads (one KvStore each, as Lambda sandboxes have) hands out distinct, gap-free
// numbers, increasing per caller; concurrent producers get positions in that order, and a compactor
// applying the log reaches the model built from their acknowledgements (log order = acknowledged
// order, whatever the interleaving).
#include "chromapact/pipeline/log.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class LogTest : public PipelineMotoTest {};

TEST_F(LogTest, NextSequenceFromSeveralThreadsIsDistinctAndGapFree) {
  const ShardId shard{"seq-threads", 2};
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto kv = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(Config()), kTable);
      for (int i = 0; i < kEach; ++i) {
        auto seq = NextSequence(kv.get(), shard);
        if (!seq.ok()) {
          errors[t] = seq.status().ToString();
          return;
        }
        got[t].push_back(*seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(errors[t].empty()) << errors[t];
    for (size_t i = 1; i < got[t].size(); ++i) EXPECT_LT(got[t][i - 1], got[t][i]) << "thread " << t;
    for (uint64_t s : got[t]) EXPECT_TRUE(all.insert(s).second) << s << " handed out twice";
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(kThreads * kEach));  // with the size: no gap
  Seams seams = NewSeams("");
  EXPECT_EQ(*LastSequence(seams.kv.get(), shard), static_cast<uint64_t>(kThreads * kEach));
  // Another shard's counter is its own.
  EXPECT_EQ(*LastSequence(seams.kv.get(), {"seq-threads", 1}), 0u);
  EXPECT_EQ(*NextSequence(seams.kv.get(), {"seq-threads", 1}), 1u);
}

TEST_F(LogTest, ConcurrentProducersAreAppliedInTheOrderTheyWereAcknowledged) {
  const ShardId shard{"concurrent", 0};
  const std::string queue_url = CreateFifoQueue("concurrent");
  constexpr int kThreads = 3;
  constexpr int kEach = 6;
  Model model;
  std::vector<std::vector<uint64_t>> positions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Seams seams = NewSeams(queue_url);
      for (int i = 0; i < kEach; ++i) {
        // Every thread writes the same ids: which write wins depends only on the log order.
        const int seed = t * 100 + i;
        const Op op = i % 4 == 3 ? Op{DeltaOp::kDelete, {"shared-1"}}
                                 : Op{DeltaOp::kUpsert, {"shared-1", "shared-2", "t" + std::to_string(t)}, seed};
        positions[t].push_back(fixture::Produce(&seams, shard, op, &model));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    for (size_t i = 1; i < positions[t].size(); ++i) EXPECT_LT(positions[t][i - 1], positions[t][i]);
    for (uint64_t p : positions[t]) all.insert(p);
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(kThreads * kEach));

  Seams seams = NewSeams(queue_url);
  ManualClock clock(SystemClock::Default()->NowMs());
  Compactor compactor(seams.kv.get(), seams.objects.get(), seams.queue.get(), &clock, Options("concurrent", 60000));
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(r.voided, 0u);
  ExpectSnapshotEquals(&seams, &clock, shard, model.Live());
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
