// Randomized compaction under contention and faults: several producer threads write deltas
// (upserts and deletes over a small id space, so they overlap) while two compactor threads run cycles
// concurrently on one shard, each through fault-injecting seams: random aborts at random named
// cycle steps (step_hook), random injected crashes / 5xx / throttling at random seam calls
// (FaultInjector, before or after the call), lease theft (a compactor that finds the lease held
// advances the ManualClock past its TTL, as a stalled holder would be overtaken), and redeliveries
// (abandoned receipts made visible at once). At the end clean cycles run until the queue is empty,
// and the published snapshot must equal the model of every acknowledged write (last writer by delta
// ULID per id). Reproduce with CHROMAPACT_SEED=<seed> [CHROMAPACT_RUNS=<n>]; each run prints its seed.
// moto_server with signature checking on.
#include <atomic>
#include <set>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "chromapact/pipeline/fault_injection.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int64_t kTtl = 60000;
constexpr int kProducers = 3;
constexpr int kDeltasPerProducer = 8;
constexpr int kIdSpace = 8;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

const std::vector<const char*> kHookSteps = {kCompactStepDrained,   kCompactStepMerged,    kCompactStepMidUpload,
                                             kCompactStepUploaded,  kCompactStepCommitted, kCompactStepMidDelete,
                                             kCompactStepBeforeRelease};
// Seam calls to fail. sqs.receive is failed only before the call: a lost receive answer would
// hide messages for their whole visibility timeout with no receipt to give back.
const std::vector<const char*> kSeamSteps = {kStepKvGet,  kStepKvPut,      kStepKvUpdate,      kStepS3Put,
                                             kStepS3Get,  kStepS3Head,     kStepS3List,        kStepSqsDelete,
                                             kStepSqsChangeVisibility, kStepSqsReceive};

struct Stats {
  std::atomic<int> cycles{0}, ok{0}, committed{0}, lease_busy{0}, aborted{0}, other{0};
};

class RandomizedCompactionTest : public PipelineMotoTest {
 protected:
  void RunOnce(uint64_t seed, int run);
};

void RandomizedCompactionTest::RunOnce(uint64_t seed, int run) {
  const std::string tag = "rnd-" + std::to_string(seed % 1000000) + "-" + std::to_string(run);
  const ShardId shard{tag, 0};
  const std::string url = CreateFifoQueue(tag);
  ManualClock clock(1764000000000);
  Model model;
  std::mutex ulid_mu;
  codec::UlidGenerator ulids;
  std::atomic<int> producers_left{kProducers};
  Stats stats;

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      Seams seams = NewSeams(url);
      std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(p));
      for (int i = 0; i < kDeltasPerProducer; ++i) {
        Op op;
        op.op = rng() % 4 == 0 ? codec::DeltaOp::kDelete : codec::DeltaOp::kUpsert;
        op.seed = static_cast<int>(rng() % 1000);
        std::set<std::string> ids;
        const int n = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < n; ++k) ids.insert("id" + std::to_string(rng() % kIdSpace));
        op.ids.assign(ids.begin(), ids.end());
        std::string delta_id;
        {
          std::lock_guard<std::mutex> lock(ulid_mu);
          delta_id = *ulids.Next();
        }
        Produce(&seams, shard, op, delta_id, &model);
      }
      producers_left.fetch_sub(1);
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      Seams seams = NewSeams(url);
      FaultInjector faults;
      auto kv = NewFaultyKvStore(seams.kv.get(), &faults);
      auto objects = NewFaultyObjectStore(seams.objects.get(), &faults);
      auto queue = NewFaultyQueue(seams.queue.get(), &faults);
      std::mt19937_64 rng(seed * 131 + 7 + static_cast<uint64_t>(c));
      std::string abort_at;
      CompactorOptions opts = Options(tag + "-c" + std::to_string(c), kTtl);
      opts.max_messages = 6;  // several cycles per run
      opts.step_hook = [&](std::string_view step) -> Status {
        return step == abort_at ? Aborted("random abort at " + std::string(step)) : Status::Ok();
      };
      Compactor compactor(kv.get(), objects.get(), queue.get(), &clock, opts);
      int after_producers = 0;
      for (int cycle = 0; cycle < 40 && after_producers < 5; ++cycle) {
        if (producers_left.load() == 0) ++after_producers;
        faults.Clear();
        abort_at = rng() % 4 == 0 ? kHookSteps[rng() % kHookSteps.size()] : "";
        if (rng() % 3 == 0) {
          FaultRule rule;
          rule.step = kSeamSteps[rng() % kSeamSteps.size()];
          rule.when = rule.step == kStepSqsReceive || rng() % 2 ? FaultWhen::kBefore : FaultWhen::kAfter;
          rule.nth = 1 + static_cast<int>(rng() % 4);
          rule.times = 1 + static_cast<int>(rng() % 2);
          switch (rng() % 3) {
            case 0: rule.status = Unavailable("injected 503 at " + rule.step); break;
            case 1: rule.status = Status(StatusCode::kThrottled, "injected throttling at " + rule.step); break;
            default: break;  // kAborted crash
          }
          faults.Add(rule);
        }
        CycleResult r = compactor.RunCycle(shard, {});
        stats.cycles++;
        if (r.status.ok()) {
          stats.ok++;
          if (r.new_version > 0) stats.committed++;
        } else if (r.status.code() == StatusCode::kPreconditionFailed) {
          stats.lease_busy++;
          if (rng() % 2 == 0) clock.Advance(kTtl + 1);  // the holder stalled: its lease expires
        } else if (r.status.code() == StatusCode::kAborted) {
          stats.aborted++;
        } else {
          stats.other++;
        }
        // Redelivery: what the cycle abandoned is visible again at once (through the clean seam).
        if (!r.in_flight_receipts.empty()) (void)seams.queue->ChangeVisibility(r.in_flight_receipts, 0);
      }
    });
  }
  for (auto& t : threads) t.join();

  // Clean cycles until the queue is empty (visible and in flight).
  Seams main = NewSeams(url);
  clock.Advance(kTtl + 1);
  Compactor last(main.kv.get(), main.objects.get(), main.queue.get(), &clock, Options(tag + "-last", kTtl));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool empty = false;
  int final_cycles = 0;
  while (!empty && std::chrono::steady_clock::now() < deadline) {
    CycleResult r = last.RunCycle(shard, {});
    ++final_cycles;
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_TRUE(r.failures.empty()) << r.failures.front().status.ToString();
    auto attrs = main.sqs->GetQueueAttributes(
        url, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"});
    ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
    empty = (*attrs)["ApproximateNumberOfMessages"] == "0" && (*attrs)["ApproximateNumberOfMessagesNotVisible"] == "0";
  }
  std::printf("[randomized] seed=%llu run=%d cycles=%d ok=%d committed=%d lease_busy=%d aborted=%d other=%d "
              "final_cycles=%d\n",
              static_cast<unsigned long long>(seed), run, stats.cycles.load(), stats.ok.load(),
              stats.committed.load(), stats.lease_busy.load(), stats.aborted.load(), stats.other.load(),
              final_cycles);
  ASSERT_TRUE(empty) << "queue not empty after clean cycles; seed=" << seed;
  ExpectSnapshotEquals(&main, &clock, shard, model.Live());
}

TEST_F(RandomizedCompactionTest, ConcurrentProducersAndFaultyCompactorsConvergeToTheModel) {
  const uint64_t base_seed = EnvOr("CHROMAPACT_SEED", std::random_device{}());
  const int runs = static_cast<int>(EnvOr("CHROMAPACT_RUNS", 3));
  std::printf("[randomized] CHROMAPACT_SEED=%llu CHROMAPACT_RUNS=%d\n", static_cast<unsigned long long>(base_seed),
              runs);
  for (int run = 0; run < runs; ++run) {
    const uint64_t seed = base_seed + static_cast<uint64_t>(run);
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CHROMAPACT_SEED=" + std::to_string(base_seed) + ")");
    RunOnce(seed, run);
    if (HasFatalFailure() || HasFailure()) break;
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
