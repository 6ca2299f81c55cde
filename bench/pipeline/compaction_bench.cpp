// One compaction cycle's time by phase and bytes moved (issue 4, "Benchmark"), against the AWS
// endpoint named by the environment (bench/pipeline/compaction_bench.sh starts a loopback moto).
// A plain main, not Google Benchmark: for each collection size a base version is built once (one
// cycle over deltas of 1,000 records), then for each delta count D that many deltas of
// `rows` x 384 float32 records (fresh ids: pure inserts) are written + sent, and one cycle
// (draining the queue itself) applies them; `reps` repetitions, medians printed as CSV.
// Every cycle reuses the compactor's local base (the warm case), so download bytes are 0.
// usage: bench_pipeline_compaction_bench SIZES DELTAS [REPS=3] [ROWS=100]   e.g. 10000 1,10,100 3 100
// env: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SIZES DELTAS [REPS=3] [ROWS=100]\n", argv[0]);
    return 2;
  }
  const auto sizes = ParseList(argv[1]);
  const auto delta_counts = ParseList(argv[2]);
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  const size_t rows = argc > 4 ? std::stoul(argv[4]) : 100;

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
      "collection_size,deltas,rows_per_delta,reps,total_ms,lease_ms,drain_ms,pointer_ms,base_ms,merge_ms,persist_ms,"
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
    pl::Compactor compactor(kv.get(), objects.get(), queue.get(), pl::SystemClock::Default(), o);
    Producer producer(objects.get(), queue.get(), shard, pl::kDefaultMessageGroups);

    // Base: deltas of up to 1,000 records, one cycle.
    for (int64_t done = 0; done < size; done += 1000)
      producer.Produce(static_cast<size_t>(std::min<int64_t>(1000, size - done)));
    pl::CycleResult base = compactor.RunCycle(shard, {});
    if (!base.status.ok()) Die("base cycle", base.status);
    std::fprintf(stderr, "base %lld records: version %lld in %lld ms (%llu bytes uploaded)\n",
                 static_cast<long long>(size), static_cast<long long>(base.new_version),
                 static_cast<long long>(base.phases.total_ms),
                 static_cast<unsigned long long>(base.bytes_uploaded));

    for (int64_t d : delta_counts) {
      std::vector<pl::CycleResult> runs;
      std::vector<int64_t> produce_ms;
      for (int rep = 0; rep < reps; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < d; ++i) producer.Produce(rows);
        produce_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - t0)
                                 .count());
        pl::CycleResult r = compactor.RunCycle(shard, {});
        if (!r.status.ok()) Die("cycle", r.status);
        if (static_cast<int64_t>(r.applied_message_ids.size()) != d) {
          std::fprintf(stderr, "compaction_bench: cycle applied %zu of %lld messages\n", r.applied_message_ids.size(),
                       static_cast<long long>(d));
          return 1;
        }
        std::fprintf(stderr, "size %lld deltas %lld rep %d: %lld ms\n", static_cast<long long>(size),
                     static_cast<long long>(d), rep + 1, static_cast<long long>(r.phases.total_ms));
        runs.push_back(std::move(r));
      }
      auto med = [&](auto f) {
        std::vector<decltype(f(runs[0]))> v;
        for (const auto& r : runs) v.push_back(f(r));
        return Median(v);
      };
      const int64_t total = med([](const pl::CycleResult& r) { return r.phases.total_ms; });
      std::printf("%lld,%lld,%zu,%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%llu,%llu,%llu,%.2f\n",
                  static_cast<long long>(size), static_cast<long long>(d), rows, reps, static_cast<long long>(total),
                  static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.lease_ms; })),
                  static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.drain_ms; })),
                  static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.pointer_ms; })),
                  static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.base_ms; })),
                  static_cast<long long>(med([](const pl::CycleResult& r) { return r.phases.merge_ms; })),
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
