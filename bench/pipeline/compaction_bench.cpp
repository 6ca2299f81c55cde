// One compaction cycle's time by phase and bytes moved (issue 4, "Benchmark"), against the AWS
// endpoint named by the environment (bench/pipeline/compaction_bench.sh starts a loopback moto).
// A plain main, not Google Benchmark: for each collection size a base version is built once (one
// cycle over deltas of 1,000 records), then for each delta count D that many deltas of
// `rows` x 384 float32 records (fresh ids: pure inserts) are written + sent, and one cycle
// (draining the queue itself) apply them: as many cycles as the FIFO groups need (each drains what
// is not locked by its own in-flight messages: docs/design/message-groups.md); phases and bytes are
// summed over those cycles (column `cycles`); `reps` repetitions, medians printed as CSV.
// Every cycle reuses the compactor's local base (the warm case), so download bytes are 0.
// usage: bench_pipeline_compaction_bench SIZES DELTAS [REPS=3] [ROWS=100] [GROUPS=16]
//        e.g. 10000 1,10,100 3 100 16
// env: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION; COMPACT_LOG=0 runs
// the compactor with CompactorOptions::compact_log off (every version keeps the whole SQLite log).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/codec/delta.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/queue.h"

namespace cp = chromapact;
namespace pl = chromapact::pipeline;

namespace {

constexpr uint32_t kDim = 384;
constexpr const char* kBucket = "cp-cyclebench";
constexpr const char* kTable = "cp-cyclebench-kv";

std::vector<int64_t> ParseList(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}

template <typename T>
T Median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what, const cp::Status& s) {
  std::fprintf(stderr, "compaction_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

class Producer {
 public:
  Producer(pl::ObjectStore* objects, pl::Queue* queue, pl::ShardId shard, int groups)
      : objects_(objects), queue_(queue), shard_(std::move(shard)), groups_(groups) {}

  // Writes (create-only PUT) and sends one upsert delta of `rows` fresh ids; returns its bytes.
  uint64_t Produce(size_t rows) {
    cp::codec::Delta d;
    d.meta.op = cp::codec::DeltaOp::kUpsert;
    d.meta.collection = shard_.collection;
    d.meta.shard = static_cast<uint32_t>(shard_.shard);
    auto id = ulids_.Next();
    if (!id.ok()) Die("ulid", id.status());
    d.meta.delta_id = *id;
    d.meta.created_at_ms = cp::pipeline::SystemClock::Default()->NowMs();
    d.meta.dimension = kDim;
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    d.records.embeddings.reserve(rows * kDim);
    for (size_t i = 0; i < rows; ++i) {
      const std::string rid = "r" + std::to_string(next_id_++);
      d.records.ids.push_back(rid);
      for (uint32_t k = 0; k < kDim; ++k) d.records.embeddings.push_back(dist(rng_));
      d.records.documents.push_back("doc " + rid);
      d.records.metadatas.push_back({{"n", next_id_}});
    }
    auto bytes = cp::codec::EncodeDelta(d);
    if (!bytes.ok()) Die("encode delta", bytes.status());
    const std::string key = pl::DeltaKey(shard_, d.meta.delta_id);
    pl::PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    auto put = objects_->Put(key, *bytes, create_only);
    if (!put.ok()) Die("put delta", put.status());
    pl::DeltaMessage m{key, shard_, d.meta.delta_id, rows};
    auto dedup = ulids_.Next();
    auto sent = queue_->Send({pl::EncodeDeltaMessage(m), pl::MessageGroupFor(shard_, d.meta.delta_id, groups_), *dedup});
    if (!sent.ok()) Die("send", sent.status());
    return bytes->size();
  }

 private:
  pl::ObjectStore* objects_;
  pl::Queue* queue_;
  pl::ShardId shard_;
  int groups_;
  cp::codec::UlidGenerator ulids_;
  std::mt19937 rng_{42};
  uint64_t next_id_ = 0;
};

// The cycles one batch of `deltas` messages took (a cycle drains what the FIFO groups let it:
// docs/design/message-groups.md), phases and bytes summed over them.
struct Cycles {
  int cycles = 0;
  pl::CycleResult sum;
};

Cycles RunUntilApplied(pl::Compactor* compactor, const pl::ShardId& shard, int64_t deltas) {
  Cycles out;
  int64_t applied = 0;
  while (applied < deltas) {
    pl::CycleResult r = compactor->RunCycle(shard, {});
    if (!r.status.ok()) Die("cycle", r.status);
    if (r.applied_message_ids.empty()) {
      std::fprintf(stderr, "compaction_bench: a cycle applied nothing with %lld of %lld messages left\n",
                   static_cast<long long>(deltas - applied), static_cast<long long>(deltas));
      std::exit(1);
    }
    applied += static_cast<int64_t>(r.applied_message_ids.size());
    ++out.cycles;
    pl::CyclePhases& p = out.sum.phases;
    p.lease_ms += r.phases.lease_ms;
    p.drain_ms += r.phases.drain_ms;
    p.pointer_ms += r.phases.pointer_ms;
    p.base_ms += r.phases.base_ms;
    p.merge_ms += r.phases.merge_ms;
    p.persist_ms += r.phases.persist_ms;
    p.upload_ms += r.phases.upload_ms;
    p.commit_ms += r.phases.commit_ms;
    p.delete_ms += r.phases.delete_ms;
    p.release_ms += r.phases.release_ms;
    p.total_ms += r.phases.total_ms;
    p.open_ms += r.phases.open_ms;
    p.fetch_ms += r.phases.fetch_ms;
    p.decode_ms += r.phases.decode_ms;
    p.apply_ms += r.phases.apply_ms;
    out.sum.bytes_deltas += r.bytes_deltas;
    out.sum.bytes_downloaded += r.bytes_downloaded;
    out.sum.bytes_uploaded += r.bytes_uploaded;
  }
  return out;
}

std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "?";
  char buf[64] = {0};
  if (!std::fgets(buf, sizeof(buf), f)) buf[0] = 0;
  std::fclose(f);
  std::string s(buf);
  auto sp = s.find(' ');
  return sp == std::string::npos ? s : s.substr(0, sp);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SIZES DELTAS [REPS=3] [ROWS=100] [GROUPS=16]\n", argv[0]);
    return 2;
  }
  const auto sizes = ParseList(argv[1]);
  const auto delta_counts = ParseList(argv[2]);
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  const size_t rows = argc > 4 ? std::stoul(argv[4]) : 100;
  const int groups = argc > 5 ? std::atoi(argv[5]) : pl::kDefaultMessageGroups;

  auto s3_cfg = cp::aws::ClientConfigFromEnvironment("s3");
  auto sqs_cfg = cp::aws::ClientConfigFromEnvironment("sqs");
  auto ddb_cfg = cp::aws::ClientConfigFromEnvironment("dynamodb");
  if (!s3_cfg.ok()) Die("config", s3_cfg.status());
  if (!sqs_cfg.ok()) Die("config", sqs_cfg.status());
  if (!ddb_cfg.ok()) Die("config", ddb_cfg.status());
  {
    cp::aws::S3Client s3(*s3_cfg);
    cp::Status st = s3.CreateBucket(kBucket);
    if (!st.ok() && st.code() != cp::StatusCode::kAlreadyExists) Die("create bucket", st);
    cp::aws::DynamoDbClient ddb(*ddb_cfg);
    cp::aws::CreateTableRequest req;
    req.table = kTable;
    req.partition_key = pl::kPartitionKey;
    auto t = ddb.CreateTable(req);
    if (!t.ok() && t.status().code() != cp::StatusCode::kAlreadyExists) Die("create table", t.status());
  }
  auto objects = pl::NewS3ObjectStore(std::make_unique<cp::aws::S3Client>(*s3_cfg), kBucket);
  auto kv = pl::NewDynamoKvStore(std::make_unique<cp::aws::DynamoDbClient>(*ddb_cfg), kTable);
  cp::aws::SqsClient sqs(*sqs_cfg);
  const std::string work_root = (std::filesystem::temp_directory_path() / "chromapact-cyclebench").string();

  std::printf(
      "collection_size,deltas,rows_per_delta,reps,groups,cycles,total_ms,lease_ms,drain_ms,pointer_ms,base_ms,merge_ms,open_ms,fetch_ms,decode_ms,apply_ms,persist_ms,"
      "upload_ms,commit_ms,delete_ms,release_ms,produce_ms,bytes_deltas,bytes_downloaded,bytes_uploaded,"
      "messages_per_s\n");
  std::fflush(stdout);
  for (int64_t size : sizes) {
    const std::string coll = "bench" + std::to_string(size);
    const pl::ShardId shard{coll, 0};
    auto url = sqs.CreateQueue(coll + ".fifo", {{"FifoQueue", "true"}});
    if (!url.ok()) Die("create queue", url.status());
    auto queue = pl::NewSqsQueue(&sqs, *url);
    pl::CompactorOptions o;
    o.work_dir = work_root + "/" + coll;
    std::filesystem::remove_all(o.work_dir);
    std::filesystem::create_directories(o.work_dir);
    o.writer_id = "cyclebench";
    o.lease.ttl_ms = 600000;
    o.max_messages = 100000;
    o.drain_budget_ms = 3600 * 1000;
    o.visibility_seconds = 900;
    o.collection.dimension = kDim;
    const char* compact_log = std::getenv("COMPACT_LOG");  // "0": keep the whole log (before issue 4 fix)
    o.compact_log = !(compact_log && std::string(compact_log) == "0");
    pl::Compactor compactor(kv.get(), objects.get(), queue.get(), pl::SystemClock::Default(), o);
    Producer producer(objects.get(), queue.get(), shard, groups);

    // Base: deltas of up to 1,000 records, cycles until all are applied.
    int64_t base_deltas = 0;
    for (int64_t done = 0; done < size; done += 1000, ++base_deltas)
      producer.Produce(static_cast<size_t>(std::min<int64_t>(1000, size - done)));
    Cycles base = RunUntilApplied(&compactor, shard, base_deltas);
    std::fprintf(stderr, "base %lld records: %d cycles, %lld ms (%llu bytes uploaded)\n",
                 static_cast<long long>(size), base.cycles, static_cast<long long>(base.sum.phases.total_ms),
                 static_cast<unsigned long long>(base.sum.bytes_uploaded));

    for (int64_t d : delta_counts) {
      std::vector<Cycles> runs;
      std::vector<int64_t> produce_ms;
      for (int rep = 0; rep < reps; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < d; ++i) producer.Produce(rows);
        produce_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - t0)
                                 .count());
        Cycles r = RunUntilApplied(&compactor, shard, d);
        std::fprintf(stderr, "size %lld deltas %lld rep %d: %d cycles, %lld ms (load %s)\n", static_cast<long long>(size),
                     static_cast<long long>(d), rep + 1, r.cycles, static_cast<long long>(r.sum.phases.total_ms),
                     LoadAverage().c_str());
        runs.push_back(std::move(r));
      }
      auto med = [&](auto f) {
        std::vector<decltype(f(runs[0].sum))> v;
        for (const auto& r : runs) v.push_back(f(r.sum));
        return Median(v);
      };
      std::vector<int> cycles;
      for (const auto& r : runs) cycles.push_back(r.cycles);
      const int64_t total = med([](const pl::CycleResult& r) { return r.phases.total_ms; });
      std::printf(
          "%lld,%lld,%zu,%d,%d,%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%llu,%llu,%llu,%.2f\n",
          static_cast<long long>(size), static_cast<long long>(d), rows, reps, groups, Median(cycles),
          static_cast<long long>(total),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.lease_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.drain_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.pointer_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.base_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.merge_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.open_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.fetch_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.decode_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.apply_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.persist_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.upload_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.commit_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.delete_ms; })),
          static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.release_ms; })),
          static_cast<long long>(Median(produce_ms)),
          static_cast<unsigned long long>(med([](const pl::CycleResult& r) { return r.bytes_deltas; })),
          static_cast<unsigned long long>(med([](const pl::CycleResult& r) { return r.bytes_downloaded; })),
          static_cast<unsigned long long>(med([](const pl::CycleResult& r) { return r.bytes_uploaded; })),
          total > 0 ? 1000.0 * static_cast<double>(d) / static_cast<double>(total) : 0.0);
      std::fflush(stdout);
    }
  }
  return 0;
}
