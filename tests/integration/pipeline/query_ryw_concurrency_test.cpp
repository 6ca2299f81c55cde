// Read-your-writes while everything moves at once, against moto_server with signature checking on:
// two producer threads write, a compactor thread commits versions all along, and each producer
// reads every write back through its own query service by naming the acknowledgement's log
// positions (min_log_positions). The expected answer is the model of the acknowledged writes in
// log order, never what the compactor produced. A query service left alone while many versions
// pass catches up to the same answer.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "support/pipeline_fixture.h"
#include "support/query_records.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int kShards = 2;
constexpr int kWritesPerProducer = 12;

// One thread's view: its own AWS clients, pointer cache and query service.
struct Reader {
  Reader(Seams s, const Clock* clock, const std::string& coll)
      : seams(std::move(s)), pointers(seams.kv.get(), clock), cache(&pointers, clock, 0) {
    QueryServiceOptions o;
    o.cache_dir = testing::MakeTempDir("qryw-cache");
    o.shards = kShards;
    o.default_collection = coll;
    o.tail_ttl_ms = 1000;  // a long TTL: only min_log_positions makes it list before it is due
    o.min_position_wait_ms = 10000;
    service = std::make_unique<QueryService>(seams.objects.get(), &cache, o);
  }
  Seams seams;
  PointerTable pointers;
  PointerCache cache;
  std::unique_ptr<QueryService> service;
};

class QueryRywConcurrencyTest : public PipelineMotoTest {};

TEST_F(QueryRywConcurrencyTest, EveryWriteIsReadBackWhileProducersAndACompactorRun) {
  const std::string coll = "qryw";
  const std::string queue_url = CreateFifoQueue("qryw");
  ManualClock clock(1'700'000'000'000);
  Model model;  // every acknowledged write of both producers (thread-safe)
  Seams main_seams = NewSeams(queue_url);
  ASSERT_TRUE(Write(main_seams.kv.get(), main_seams.objects.get(), main_seams.queue.get(), coll,
                    Op(codec::DeltaOp::kUpsert, {"base-0", "base-1", "base-2", "base-3"}, 1), &model, kShards)
                  .ok());
  // Opened now, asked again only at the end: many versions pass it by.
  Reader sleeper(NewSeams(queue_url), &clock, coll);
  auto first = GetRecords(sleeper.service.get(), nlohmann::json::object());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, model.Live());

  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::thread compactor([&] {
    Seams s = NewSeams(queue_url);
    while (!stop) {
      for (int shard = 0; shard < kShards && !stop; ++shard) {
        Compactor c(s.kv.get(), s.objects.get(), s.queue.get(), &clock, Options("qryw", 60000));
        CycleResult r = c.RunCycle({coll, shard}, {});
        if (r.status.ok() && r.new_version > 0) ++commits;
      }
    }
  });

  std::vector<std::string> failures[2];
  auto producer = [&](int p) {
    Reader me(NewSeams(queue_url), &clock, coll);
    Model mine;  // this producer's writes only: nobody else touches its ids
    const std::string prefix = "p" + std::to_string(p) + "-";
    for (int i = 0; i < kWritesPerProducer; ++i) {
      std::vector<std::string> ids = {prefix + std::to_string(i % 5), prefix + std::to_string((i * 3 + 1) % 5)};
      if (ids[0] == ids[1]) ids.pop_back();
      Op op(i % 4 == 3 ? codec::DeltaOp::kDelete : codec::DeltaOp::kUpsert, ids, 10 * p + i);
      auto ack = Write(me.seams.kv.get(), me.seams.objects.get(), me.seams.queue.get(), coll, op, &model, kShards);
      if (!ack.ok()) {
        failures[p].push_back("write " + std::to_string(i) + ": " + ack.status().ToString());
        continue;
      }
      mine.Acknowledged(op, *ack, kShards);
      nlohmann::json positions = nlohmann::json::array();
      for (const LogPosition& lp : ack->log_positions) {
        positions.push_back({{"shard", lp.shard}, {"log_position", lp.log_position}});
      }
      auto got = GetRecords(me.service.get(), {{"ids", ids}, {"min_log_positions", positions}});
      if (!got.ok()) {
        failures[p].push_back("read-your-write " + std::to_string(i) + ": " + got.status().ToString());
        continue;
      }
      std::map<std::string, ModelRecord> want;
      const auto live = mine.Live();
      for (const auto& id : ids) {
        if (auto it = live.find(id); it != live.end()) want[id] = it->second;
      }
      if (*got != want) failures[p].push_back("read-your-write " + std::to_string(i) + ": a stale or wrong answer");
    }
  };
  std::thread p0(producer, 0), p1(producer, 1);
  p0.join();
  p1.join();
  stop = true;
  compactor.join();
  EXPECT_TRUE(failures[0].empty()) << ::testing::PrintToString(failures[0]);
  EXPECT_TRUE(failures[1].empty()) << ::testing::PrintToString(failures[1]);
  EXPECT_GT(commits.load(), 0) << "the compactor never committed while the producers wrote";

  // The sleeper catches up: what it answers now is every acknowledged write.
  auto last = GetRecords(sleeper.service.get(), nlohmann::json::object());
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, model.Live());
  EXPECT_GE(sleeper.service->last_stats().versions_max, 2);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
