// Compaction throughput, time by phase, and the cost next to bare hnswlib,
// against the AWS endpoint named by the environment (compaction_bench.sh starts a loopback moto).
// A plain main, not Google Benchmark. For each collection size N: a base is built (the real
// producer, pipeline::Produce, writes deltas of up to 1,000 records; cycles apply them). Then for
// each delta count D, REPS times: D upsert deltas of ROWS x 384 float32 records with fresh ids are
// appended to the shard's log through the producer (sequence number, create-only PUT, trigger),
// and cycles run (as the schedule does: no messages; at most MAX_DELTAS entries each, re-arming
// when work remains) until the current version's log_position covers them all. Printed, medians
// over REPS, as CSV on stdout (one line per N x D):
//   - messages (deltas) per minute and records per second sustained over the D deltas: D / the
//     cycles' summed wall time;
//   - the phase breakdown summed over those cycles (pipeline::CyclePhases);
//   - bare hnswlib, measured in the same run: the same vectors inserted one by one, single thread,
//     into an hnswlib::HierarchicalNSW<float> (L2Space, the collection's M / ef_construction, seed
//     0 as the store) that already holds the same N + earlier records, and ours / bare.
// Every cycle reuses the compactor's local base (the warm case), so download bytes are 0.
// usage: bench_pipeline_compaction_bench SIZES DELTAS [REPS=3] [ROWS=100] [MAX_DELTAS=1000]
//        e.g. 10000 1,10,100 3 100
// env: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION; COMPACT_LOG=0 runs
// the compactor with CompactorOptions::compact_log off (every version keeps the whole SQLite log).
#include <cpuid.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <mutex>
#include <queue>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

// Debian's hnswlib 0.6.2 defines non-inline functions and globals in its headers, and
// chromapact_store (linked here) already includes it once (src/store/hnsw_unit.cpp): a second
// plain include would not link ("multiple definition"). In a namespace of its own its symbols are
// distinct; every header it includes is included above, so nothing of the standard library or the
// intrinsics lands in that namespace.
namespace bare {
#include <hnswlib/hnswlib.h>
}  // namespace bare

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "chromapact/pipeline/kv_store_dynamo.h"

namespace cp = chromapact;
namespace pl = chromapact::pipeline;

namespace {

constexpr uint32_t kDim = 384;
constexpr const char* kBucket = "cp-cyclebench";
constexpr const char* kTable = "cp-cyclebench-kv";

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

// Appends upsert deltas of fresh ids through the real producer; keeps the vectors of each so that
// bare hnswlib can insert exactly the same ones.
class Writer {
 public:
  Writer(pl::KvStore* kv, pl::ObjectStore* objects, pl::Queue* queue, std::string collection)
      : kv_(kv), objects_(objects), queue_(queue), dims_(kv), collection_(std::move(collection)) {}

  // One delta of `rows` records; its vectors are appended to *vectors. Returns its log position.
  uint64_t Write(size_t rows, std::vector<float>* vectors) {
    pl::ProduceRequest req;
    req.collection = collection_;
    req.op = cp::codec::DeltaOp::kUpsert;
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    req.records.embeddings.reserve(rows * kDim);
    for (size_t i = 0; i < rows; ++i) {
      const std::string id = "r" + std::to_string(next_id_++);
      req.records.ids.push_back(id);
      for (uint32_t k = 0; k < kDim; ++k) req.records.embeddings.push_back(dist(rng_));
      req.records.documents.push_back("doc " + id);
      req.records.metadatas.push_back({{"n", next_id_}});
    }
    vectors->insert(vectors->end(), req.records.embeddings.begin(), req.records.embeddings.end());
    pl::ProducerOptions opts;
    opts.producer_id = "cyclebench";
    auto ack = pl::Produce(kv_, objects_, queue_, &dims_, req, opts);
    if (!ack.ok()) Die("produce", ack.status());
    return ack->log_positions.at(0).log_position;
  }

 private:
  pl::KvStore* kv_;
  pl::ObjectStore* objects_;
  pl::Queue* queue_;
  pl::DimensionRegistry dims_;
  std::string collection_;
  std::mt19937 rng_{42};
  uint64_t next_id_ = 0;
};

// The cycles that brought the current version to `target`, phases and bytes summed over them.
struct Cycles {
  int cycles = 0;
  int majors = 0;  // cycles that rewrote the HNSW files
  uint64_t applied = 0;
  pl::CycleResult sum;
};

void Add(pl::CyclePhases* s, const pl::CyclePhases& p) {
  for (int64_t pl::CyclePhases::*f :
       {&pl::CyclePhases::lease_ms, &pl::CyclePhases::list_ms, &pl::CyclePhases::pointer_ms,
        &pl::CyclePhases::base_ms, &pl::CyclePhases::merge_ms, &pl::CyclePhases::persist_ms,
        &pl::CyclePhases::upload_ms, &pl::CyclePhases::commit_ms, &pl::CyclePhases::delete_ms,
        &pl::CyclePhases::release_ms, &pl::CyclePhases::total_ms, &pl::CyclePhases::open_ms,
        &pl::CyclePhases::fetch_ms, &pl::CyclePhases::decode_ms, &pl::CyclePhases::apply_ms,
        &pl::CyclePhases::hole_wait_ms}) {
    s->*f += p.*f;
  }
}

Cycles RunUntil(pl::Compactor* compactor, const pl::ShardId& shard, uint64_t target) {
  Cycles out;
  uint64_t pos = 0;
  while (pos < target) {
    pl::CycleResult r = compactor->RunCycle(shard, {});
    if (!r.status.ok()) Die("cycle", r.status);
    if (!r.skipped.empty()) Die("cycle", cp::Internal("skipped " + r.skipped[0].reason));
    if (r.applied == 0) {
      std::fprintf(stderr, "compaction_bench: a cycle applied nothing at log position %llu of %llu\n",
                   static_cast<unsigned long long>(r.log_position), static_cast<unsigned long long>(target));
      std::exit(1);
    }
    pos = r.log_position;
    // One line per cycle (stderr), for per-cycle figures such as a minor cycle's beside a major one's.
    std::fprintf(stderr, "cycle: major %d total_ms %lld persist_ms %lld upload_ms %lld open_ms %lld bytes_uploaded %llu "
                 "bytes_snapshot %llu objects %llu records %llu\n",
                 r.major ? 1 : 0, static_cast<long long>(r.phases.total_ms), static_cast<long long>(r.phases.persist_ms),
                 static_cast<long long>(r.phases.upload_ms), static_cast<long long>(r.phases.open_ms),
                 static_cast<unsigned long long>(r.bytes_uploaded), static_cast<unsigned long long>(r.bytes_snapshot),
                 static_cast<unsigned long long>(r.objects_uploaded), static_cast<unsigned long long>(r.records));
    ++out.cycles;
    out.applied += r.applied;
    Add(&out.sum.phases, r.phases);
    out.sum.records += r.records;
    out.sum.bytes_deltas += r.bytes_deltas;
    out.sum.bytes_downloaded += r.bytes_downloaded;
    out.sum.bytes_uploaded += r.bytes_uploaded;
    out.sum.bytes_snapshot += r.bytes_snapshot;  // what whole uploads of every version would move
    out.sum.objects_uploaded += r.objects_uploaded;
    out.majors += r.major ? 1 : 0;
  }
  return out;
}

// hnswlib's own index, mirroring the collection's HNSW: same vectors, same order, same parameters.
class BareHnsw {
 public:
  BareHnsw(const cp::store::HnswParams& p, size_t capacity)
      : space_(kDim), index_(&space_, capacity, p.M, p.ef_construction, /*random_seed=*/0) {}
  // Inserts `vectors` (n x kDim); returns the wall time, ms.
  double Insert(const std::vector<float>& vectors) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t off = 0; off < vectors.size(); off += kDim)
      index_.addPoint(vectors.data() + off, next_label_++);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

 private:
  bare::hnswlib::L2Space space_;
  bare::hnswlib::HierarchicalNSW<float> index_;
  size_t next_label_ = 0;
};

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string one;
  f >> one;
  return one.empty() ? "?" : one;
}

struct Rep {
  Cycles cycles;
  int64_t produce_ms = 0;
  double bare_ms = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SIZES DELTAS [REPS=3] [ROWS=100] [MAX_DELTAS=1000]\n", argv[0]);
    return 2;
  }
  const auto sizes = ParseList(argv[1]);
  const auto delta_counts = ParseList(argv[2]);
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const size_t rows = argc > 4 ? std::stoul(argv[4]) : 100;
  const size_t max_deltas = argc > 5 ? std::stoul(argv[5]) : 1000;

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
      "collection_size,deltas,rows_per_delta,reps,max_deltas,cycles,total_ms,lease_ms,list_ms,pointer_ms,"
      "base_ms,"
      "merge_ms,open_ms,fetch_ms,decode_ms,apply_ms,hole_wait_ms,persist_ms,upload_ms,commit_ms,delete_ms,"
      "release_ms,produce_ms,bytes_deltas,bytes_downloaded,bytes_uploaded,messages_per_min,records_per_s,"
      "bare_hnsw_ms,ratio_total,ratio_apply,chunk_bytes,major_tail_records,majors,bytes_snapshot,"
      "objects_uploaded,upload_fraction\n");
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
    o.max_deltas = max_deltas;
    o.collection.dimension = kDim;
    const char* compact_log = std::getenv("COMPACT_LOG");  // "0": keep the whole log (the earlier behaviour)
    o.compact_log = !(compact_log && std::string(compact_log) == "0");
    // CHUNK_BYTES (0: whole files) and MAJOR_TAIL_RECORDS (0: every cycle rewrites the HNSW files);
    // both 0 is the whole-snapshot cycle of the code before base + tail versions.
    if (const char* v = std::getenv("CHUNK_BYTES")) o.chunk_bytes = std::stoull(v);
    if (const char* v = std::getenv("MAJOR_TAIL_RECORDS")) o.major_tail_records = std::stoull(v);
    pl::Compactor compactor(kv.get(), objects.get(), queue.get(), pl::SystemClock::Default(), o);
    // The base is built in as few cycles as possible whatever MAX_DELTAS says (one cycle per
    // message would upload the growing snapshot 100 times at 100k).
    pl::CompactorOptions base_o = o;
    base_o.max_deltas = std::max<size_t>(o.max_deltas, 1000);
    pl::Compactor base_compactor(kv.get(), objects.get(), queue.get(), pl::SystemClock::Default(), base_o);
    Writer writer(kv.get(), objects.get(), queue.get(), coll);
    int64_t measured = 0;
    for (int64_t d : delta_counts) measured += d * reps * static_cast<int64_t>(rows);
    measured += static_cast<int64_t>(rows);  // the warm-up delta
    BareHnsw bare_index(o.collection.hnsw, static_cast<size_t>(size + measured));

    // Base: deltas of up to 1,000 records; bare hnswlib gets the same vectors (not timed).
    uint64_t last = 0;
    for (int64_t done = 0; done < size; done += 1000) {
      std::vector<float> v;
      last = writer.Write(static_cast<size_t>(std::min<int64_t>(1000, size - done)), &v);
      bare_index.Insert(v);
    }
    const Cycles base = RunUntil(&base_compactor, shard, last);
    {  // Warm-up, not measured: the measured compactor fetches the base once and caches it locally.
      std::vector<float> v;
      last = writer.Write(rows, &v);
      bare_index.Insert(v);
      (void)RunUntil(&compactor, shard, last);
    }
    std::fprintf(stderr, "base %lld records: %d cycles, %lld ms (%llu bytes uploaded)\n",
                 static_cast<long long>(size), base.cycles, static_cast<long long>(base.sum.phases.total_ms),
                 static_cast<unsigned long long>(base.sum.bytes_uploaded));

    for (int64_t d : delta_counts) {
      std::vector<Rep> runs;
      for (int rep = 0; rep < reps; ++rep) {
        Rep r;
        std::vector<float> vectors;
        const int64_t t0 = SteadyMs();
        for (int64_t i = 0; i < d; ++i) last = writer.Write(rows, &vectors);
        r.produce_ms = SteadyMs() - t0;
        r.cycles = RunUntil(&compactor, shard, last);
        r.bare_ms = bare_index.Insert(vectors);
        std::fprintf(stderr,
                     "size %lld deltas %lld rep %d: %d cycles, %lld ms; bare hnswlib %.0f ms (load %s)\n",
                     static_cast<long long>(size), static_cast<long long>(d), rep + 1, r.cycles.cycles,
                     static_cast<long long>(r.cycles.sum.phases.total_ms), r.bare_ms, LoadAverage().c_str());
        runs.push_back(std::move(r));
      }
      auto med = [&](auto f) {
        std::vector<decltype(f(runs[0]))> v;
        for (const auto& r : runs) v.push_back(f(r));
        return Median(v);
      };
      auto phase = [&](int64_t pl::CyclePhases::*field) {
        return static_cast<long long>(med([&](const Rep& r) { return r.cycles.sum.phases.*field; }));
      };
      const int64_t total = med([](const Rep& r) { return r.cycles.sum.phases.total_ms; });
      const double bare_ms = med([](const Rep& r) { return r.bare_ms; });
      const long long apply = phase(&pl::CyclePhases::apply_ms);
      const double secs = static_cast<double>(total) / 1000.0;
      // Bytes uploaded as a fraction of what whole-snapshot cycles would have uploaded.
      const unsigned long long uploaded = med([](const Rep& r) { return r.cycles.sum.bytes_uploaded; });
      const unsigned long long snapshot_bytes = med([](const Rep& r) { return r.cycles.sum.bytes_snapshot; });
      std::printf(
          "%lld,%lld,%zu,%d,%zu,%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%"
          "lld,%lld,"
          "%lld,%llu,%llu,%llu,%.1f,%.1f,%.1f,%.2f,%.2f,%llu,%llu,%d,%llu,%llu,%.4f\n",
          static_cast<long long>(size), static_cast<long long>(d), rows, reps, max_deltas,
          med([](const Rep& r) { return r.cycles.cycles; }), static_cast<long long>(total),
          phase(&pl::CyclePhases::lease_ms), phase(&pl::CyclePhases::list_ms),
          phase(&pl::CyclePhases::pointer_ms), phase(&pl::CyclePhases::base_ms),
          phase(&pl::CyclePhases::merge_ms), phase(&pl::CyclePhases::open_ms),
          phase(&pl::CyclePhases::fetch_ms), phase(&pl::CyclePhases::decode_ms), apply,
          phase(&pl::CyclePhases::hole_wait_ms), phase(&pl::CyclePhases::persist_ms),
          phase(&pl::CyclePhases::upload_ms), phase(&pl::CyclePhases::commit_ms),
          phase(&pl::CyclePhases::delete_ms), phase(&pl::CyclePhases::release_ms),
          static_cast<long long>(med([](const Rep& r) { return r.produce_ms; })),
          static_cast<unsigned long long>(med([](const Rep& r) { return r.cycles.sum.bytes_deltas; })),
          static_cast<unsigned long long>(med([](const Rep& r) { return r.cycles.sum.bytes_downloaded; })),
          static_cast<unsigned long long>(med([](const Rep& r) { return r.cycles.sum.bytes_uploaded; })),
          secs > 0 ? 60.0 * static_cast<double>(d) / secs : 0.0,
          secs > 0 ? static_cast<double>(d) * static_cast<double>(rows) / secs : 0.0, bare_ms,
          bare_ms > 0 ? static_cast<double>(total) / bare_ms : 0.0,
          bare_ms > 0 ? static_cast<double>(apply) / bare_ms : 0.0,
          static_cast<unsigned long long>(o.chunk_bytes), static_cast<unsigned long long>(o.major_tail_records),
          med([](const Rep& r) { return r.cycles.majors; }), snapshot_bytes,
          static_cast<unsigned long long>(med([](const Rep& r) { return r.cycles.sum.objects_uploaded; })),
          snapshot_bytes > 0 ? static_cast<double>(uploaded) / static_cast<double>(snapshot_bytes) : 0.0);
      std::fflush(stdout);
      std::fprintf(
          stderr,
          "N=%lld D=%lld: %.1f messages/min, %.0f records/s sustained; ours %lld ms (apply %lld ms) vs "
          "bare hnswlib %.0f ms: ratio %.2f (apply %.2f)\n",
          static_cast<long long>(size), static_cast<long long>(d),
          secs > 0 ? 60.0 * static_cast<double>(d) / secs : 0.0,
          secs > 0 ? static_cast<double>(d) * static_cast<double>(rows) / secs : 0.0,
          static_cast<long long>(total), apply, bare_ms,
          bare_ms > 0 ? static_cast<double>(total) / bare_ms : 0.0,
          bare_ms > 0 ? static_cast<double>(apply) / bare_ms : 0.0);
    }
  }
  return 0;
}
