// Randomized writes under contention, kills and faults, checked against Chroma's semantics applied
// in acknowledged order (fixture::Model, written from Chroma's documented behaviour, not from the
// compactor). Per run:
//   - kProducers threads write random ops of every kind (support/op_generator.h) into a 2-shard
//     collection through the real producer, some of them "dying" between taking a sequence number
//     and their PUT (the number is taken, nothing is written: a hole) or failing the PUT (not
//     acknowledged, nothing written);
//   - two compactor threads play Lambda's SQS event source (receive a batch, group by shard, run a
//     cycle per shard, delete what is not a batch item failure), one also plays the schedule; their
//     cycles are killed at named steps (step_hook), their S3 reads and lists fail at random (5xx),
//     and a killed compactor's triggers are made visible again at once (its visibility timeout);
//   - a write over both shards that fails after one shard's delta was appended is not
//     acknowledged, yet that delta applies: the model takes what the producer reports appended;
//   - holes are closed by void markers after the hole timeout; void PUTs race in-flight producers.
// After the producers stop, clean cycles run until every shard's committed log_position equals its
// last sequence number and the queue is empty; then every shard's snapshot must equal the model,
// acknowledgements must be linearizable (a write acknowledged before another started has a smaller
// log position), and the faults must actually have fired. Reproduce with CHROMAPACT_SEED=<seed>
// [CHROMAPACT_RUNS=<n>]; each run prints its seed. moto_server with signature checking on.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "chromapact/pipeline/compactor_event.h"
#include "support/op_generator.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int kShards = 2;
constexpr int kProducers = 3;
constexpr int kOpsPerProducer = 40;
constexpr int kIdSpace = 14;
constexpr int64_t kTtlMs = 1500;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A fault we cannot cause on moto at will: an S3 call answering 503, with probability `p` per call
// whose key starts with `prefix` (kind: 'g' get/head, 'l' list, 'p' put). Thread-safe counter.
class FlakyObjectStore final : public ObjectStore {
 public:
  FlakyObjectStore(ObjectStore* base, uint64_t seed, double p_get, double p_list, double p_put)
      : base_(base), rng_(seed), p_get_(p_get), p_list_(p_list), p_put_(p_put) {}
  Result<ObjectMeta> Put(const std::string& k, const std::string& b, const PutObjectOptions& o) override {
    if (Roll(p_put_)) return Injected("put", k);
    return base_->Put(k, b, o);
  }
  Result<ObjectMeta> PutFile(const std::string& k, const std::string& p, const PutObjectOptions& o) override {
    return base_->PutFile(k, p, o);
  }
  Result<std::string> Get(const std::string& k, ObjectMeta* m) override {
    if (k.rfind("deltas/", 0) == 0 && Roll(p_get_)) return Injected("get", k);
    return base_->Get(k, m);
  }
  Result<ObjectMeta> GetToFile(const std::string& k, const std::string& p) override { return base_->GetToFile(k, p); }
  Result<ObjectMeta> Head(const std::string& k) override { return base_->Head(k); }
  Result<std::vector<ObjectMeta>> List(const std::string& p) override { return base_->List(p); }
  Result<std::vector<ObjectMeta>> ListAfter(const std::string& p, const std::string& s, size_t n) override {
    if (Roll(p_list_)) return Injected("list", p);
    return base_->ListAfter(p, s, n);
  }
  Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>& k) override { return base_->Delete(k); }
  int injected() const { return injected_.load(); }

 private:
  bool Roll(double p) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
  }
  Status Injected(const char* what, const std::string& key) {
    ++injected_;
    return Unavailable(std::string("injected 503 on ") + what + " " + key);
  }
  ObjectStore* base_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  double p_get_, p_list_, p_put_;
  std::atomic<int> injected_{0};
};

// A producer process that dies right after DynamoDB handed it a sequence number (the answer
// arrives, the process is gone before its PUT): with probability `p` per sequence UpdateItem.
class DyingSequenceKv final : public KvStore {
 public:
  DyingSequenceKv(KvStore* base, uint64_t seed, double p) : base_(base), rng_(seed), p_(p) {}
  Result<std::optional<aws::Item>> Get(const aws::Item& key) override { return base_->Get(key); }
  Status Put(const KvPut& r, std::optional<aws::Item>* c) override { return base_->Put(r, c); }
  Result<aws::Item> Update(const KvUpdate& r, std::optional<aws::Item>* c) override {
    auto out = base_->Update(r, c);
    if (out.ok() && KvKeyString(r.key).rfind("SEQ#", 0) == 0 &&
        std::uniform_real_distribution<double>(0, 1)(rng_) < p_) {
      ++died_;
      return Aborted("injected: producer died after taking a sequence number");
    }
    return out;
  }
  Status Delete(const KvDelete& r, std::optional<aws::Item>* c) override { return base_->Delete(r, c); }
  int died() const { return died_; }

 private:
  KvStore* base_;
  std::mt19937_64 rng_;
  double p_;
  int died_ = 0;
};

struct Ack {
  Op op;
  ProduceResult result;
  int64_t start_ns, end_ns;
};

struct Counters {
  std::atomic<int> cycles{0}, committed{0}, killed{0}, lease_busy{0}, failed{0}, rearmed{0}, voided{0};
  std::mutex mu;
  std::set<std::string> killed_steps;
};

const std::vector<const char*> kKillSteps = {kCompactStepListed,   kCompactStepMerged,    kCompactStepMidUpload,
                                             kCompactStepUploaded, kCompactStepCommitted, kCompactStepRearmed,
                                             kCompactStepBeforeRelease};

class RandomizedCompactionTest : public PipelineMotoTest {
 protected:
  void RunOnce(uint64_t seed, int run);
};

void RandomizedCompactionTest::RunOnce(uint64_t seed, int run) {
  const std::string coll = "rnd-" + std::to_string(seed % 1000000) + "-" + std::to_string(run);
  const std::string url = CreateFifoQueue(coll);
  const Clock* clock = SystemClock::Default();  // leases (TTL 1.5 s) and hole ages in real time
  Model model;
  std::mutex acks_mu;
  std::vector<Ack> acks;
  std::atomic<int> producers_left{kProducers}, seeds{1}, not_acked{0}, dead_after_seq{0};
  Counters counters;
  // What the run must have exercised (asserted at the end). On a loaded machine fewer cycles run
  // per write, so producers keep writing (up to 3x kOpsPerProducer ops) until it has happened.
  auto exercised = [&counters] {
    std::lock_guard<std::mutex> lock(counters.mu);
    return counters.committed.load() >= 2 && counters.killed_steps.size() >= 2 && counters.rearmed.load() > 0;
  };

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      Seams seams = NewSeams(url);
      DyingSequenceKv kv(seams.kv.get(), seed * 31 + static_cast<uint64_t>(p), 0.06);
      FlakyObjectStore objects(seams.objects.get(), seed * 37 + static_cast<uint64_t>(p), 0, 0, 0.04);
      std::mt19937_64 rng(seed * 131 + static_cast<uint64_t>(p));
      for (int i = 0; i < kOpsPerProducer || (i < 3 * kOpsPerProducer && !exercised()); ++i) {
        const Op op = RandomOp(rng, kIdSpace, seeds.fetch_add(1));
        const int64_t start = SteadyNs();
        auto ack = Write(&kv, &objects, seams.queue.get(), coll, op, &model, kShards);
        const int64_t end = SteadyNs();
        if (ack.ok()) {
          std::lock_guard<std::mutex> lock(acks_mu);
          acks.push_back({op, *ack, start, end});
        } else {
          ++not_acked;
        }
      }
      dead_after_seq += kv.died();
      --producers_left;
    });
  }

  auto compactor_thread = [&](int c) {
    Seams seams = NewSeams(url);
    FlakyObjectStore objects(seams.objects.get(), seed * 41 + static_cast<uint64_t>(c), 0.03, 0.03, 0);
    std::mt19937_64 rng(seed * 151 + static_cast<uint64_t>(c));
    int generation = 0;
    auto make = [&] {
      CompactorOptions o = Options("rnd-" + std::to_string(c) + "-" + std::to_string(generation++), kTtlMs);
      o.hole_timeout_ms = 300;
      o.max_deltas = 1 + rng() % 12;  // small budgets: cycles end with entries left, and re-arm
      o.step_hook = [&counters, &rng](std::string_view step) -> Status {
        if (rng() % 100 >= 12) return Status::Ok();
        ++counters.killed;
        std::lock_guard<std::mutex> lock(counters.mu);
        counters.killed_steps.insert(std::string(step));
        return Aborted("killed at " + std::string(step));
      };
      return std::make_unique<Compactor>(seams.kv.get(), &objects, seams.queue.get(), clock, o);
    };
    std::unique_ptr<Compactor> compactor = make();
    LeaseWait wait{200, 20, 100};
    auto settle = [&](const CycleResult& r, const std::vector<QueueMessage>& batch) {
      ++counters.cycles;
      counters.voided += static_cast<int>(r.voided);
      if (r.new_version > 0) ++counters.committed;
      if (r.rearmed) ++counters.rearmed;
      const bool killed = r.status.code() == StatusCode::kAborted && r.status.message().rfind("killed at", 0) == 0;
      const bool busy = r.status.code() == StatusCode::kPreconditionFailed && r.fence == 0;
      if (busy) ++counters.lease_busy;
      if (!r.status.ok() && !killed && !busy) ++counters.failed;
      if (killed) compactor = make();  // a new sandbox; the old one's lease expires by itself
      // The event source: a killed invocation's batch times out (visible again: here at once);
      // otherwise it deletes what is not a batch item failure and makes the failures visible.
      std::set<std::string> failed;
      for (const auto& id : r.BatchItemFailures()) failed.insert(id);
      std::vector<std::string> back, done;
      for (const auto& m : batch) (killed || failed.count(m.message_id) ? back : done).push_back(m.receipt_handle);
      if (!back.empty()) (void)seams.queue->ChangeVisibility(back, 0);
      if (!done.empty()) (void)seams.queue->DeleteBatch(done);
    };
    int idle = 0;
    while (producers_left.load() > 0) {
      auto batch = seams.queue->Receive(10, 1, 30);
      if (!batch.ok() || batch->empty()) {
        if (c == 0 && ++idle % 3 == 0) {  // the schedule
          for (int s = 0; s < kShards; ++s) settle(RunCycleWaitingForLease(compactor.get(), {coll, s}, {}, 0, wait), {});
        }
        continue;
      }
      for (const ShardBatch& sb : GroupByShard(*batch, nullptr)) {
        settle(RunCycleWaitingForLease(compactor.get(), sb.shard, sb.messages, 0, wait), sb.messages);
      }
    }
  };
  std::thread c0(compactor_thread, 0), c1(compactor_thread, 1);
  for (auto& t : producers) t.join();
  c0.join();
  c1.join();

  // Clean cycles until no log entry is left past a shard's position (the holes of dead producers
  // voided) and no trigger is left; each round first waits out the killed leases. A number taken
  // by a dead producer after the last entry stays a hole until a later write: nothing to apply.
  Seams main = NewSeams(url);
  CompactorOptions clean = Options("rnd-clean-" + std::to_string(run), kTtlMs);
  clean.hole_timeout_ms = 300;
  Compactor last(main.kv.get(), main.objects.get(), main.queue.get(), clock, clean);
  for (int s = 0; s < kShards; ++s) {
    const ShardId shard{coll, s};
    uint64_t pos = 0;
    bool drained = false;
    for (int round = 0; round < 40 && !drained; ++round) {
      CycleResult r = RunCycleWaitingForLease(&last, shard, {}, 0, LeaseWait{3 * kTtlMs, 50, 200});
      counters.voided += static_cast<int>(r.voided);
      if (!r.status.ok()) continue;
      pos = r.log_position;
      auto left = ListLog(main.objects.get(), shard, pos, 1);
      ASSERT_TRUE(left.ok()) << left.status().ToString();
      drained = left->empty();
    }
    EXPECT_TRUE(drained) << shard.ToString() << ": log entries left past position " << pos;
    auto taken = LastSequence(main.kv.get(), shard);
    ASSERT_TRUE(taken.ok()) << taken.status().ToString();
    EXPECT_LE(pos, *taken);
  }
  std::vector<QueueMessage> rest = ReceiveAll(main.queue.get(), 50, 30);
  for (const ShardBatch& sb : GroupByShard(rest, nullptr)) {
    CycleResult r = RunCycleWaitingForLease(&last, sb.shard, sb.messages, 0, LeaseWait{3 * kTtlMs, 50, 200});
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.applied, 0u) << "nothing left to apply";
    EXPECT_TRUE(r.failures.empty()) << "no trigger is a failure: nothing was corrupt";
  }

  // Every shard's snapshot equals Chroma's semantics applied in acknowledged order.
  const auto live = model.Live();
  for (int s = 0; s < kShards; ++s) {
    std::map<std::string, ModelRecord> part;
    for (const auto& [id, rec] : live)
      if (ShardForId(id, kShards) == s) part[id] = rec;
    SCOPED_TRACE("shard " + std::to_string(s));
    ExpectSnapshotEquals(&main, clock, {coll, s}, part);
  }
  // Linearizable acknowledgements: per shard, a write acknowledged before another one started
  // has the smaller log position.
  int pairs = 0;
  for (const Ack& a : acks) {
    for (const Ack& b : acks) {
      if (a.end_ns >= b.start_ns) continue;
      for (const LogPosition& pa : a.result.log_positions) {
        for (const LogPosition& pb : b.result.log_positions) {
          if (pa.shard != pb.shard) continue;
          ++pairs;
          EXPECT_LT(pa.log_position, pb.log_position) << "shard " << pa.shard;
        }
      }
    }
  }
  std::string steps;
  for (const auto& st : counters.killed_steps) steps += st + " ";
  std::printf("randomized run %d seed %llu: %zu acknowledged, %d not (%d died holding a number), %d cycles, "
              "%d commits, %d killed at {%s}, %d lease waits handed off, %d failed, %d re-armed, %d voided, "
              "%d ordered pairs\n",
              run, static_cast<unsigned long long>(seed), acks.size(), not_acked.load(), dead_after_seq.load(),
              counters.cycles.load(), counters.committed.load(), counters.killed.load(), steps.c_str(),
              counters.lease_busy.load(), counters.failed.load(), counters.rearmed.load(), counters.voided.load(),
              pairs);
  // The run exercised what it claims to.
  EXPECT_GT(acks.size(), static_cast<size_t>(kProducers * kOpsPerProducer / 2));
  EXPECT_GE(counters.committed.load(), 2);
  EXPECT_GT(counters.killed.load(), 0);
  EXPECT_GE(counters.killed_steps.size(), 2u);
  EXPECT_GT(dead_after_seq.load() + not_acked.load(), 0) << "producer faults fired";
  EXPECT_GT(counters.rearmed.load(), 0) << "budgets left work behind";
  EXPECT_GT(pairs, 0);
}

TEST_F(RandomizedCompactionTest, ProducersAndKilledCompactorsConvergeToChromaSemanticsInLogOrder) {
  const uint64_t seed = EnvOr("CHROMAPACT_SEED", static_cast<uint64_t>(std::random_device{}()));
  const int runs = static_cast<int>(EnvOr("CHROMAPACT_RUNS", 2));
  std::printf("CHROMAPACT_SEED=%llu CHROMAPACT_RUNS=%d\n", static_cast<unsigned long long>(seed), runs);
  for (int run = 0; run < runs; ++run) {
    SCOPED_TRACE("run " + std::to_string(run) + " seed " + std::to_string(seed + static_cast<uint64_t>(run)));
    RunOnce(seed + static_cast<uint64_t>(run), run);
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
