// Store facade insert throughput and query latency/recall, to compare with bare python3-hnswlib and
// real Chroma 1.5.9 (bench/store/store_vs_baselines.sh runs all three and writes the table).
//
//   scripts/fetch-dataset
//   build-storebench/bench/bench_store_store_bench [--set fiori|synthetic|all] [--n 20000] [--reps 3]
//                                                  [--batch 1000]
//
// Prints CSV on stdout, one row per (set, impl, repetition):
//   set,n,dim,impl,rep,insert_vps,add_s,persist_s,p50_us,p99_us,recall10,load1
// impl "store": Store::Open on a fresh temp dir, CreateCollection (Chroma defaults: l2, M=16,
// ef_construction=100, ef_search=100), Add in batches of --batch records (ids + embeddings), timed
// from the first Add to the last (insert_vps = n / add_s); then Persist() timed apart (persist_s).
// Queries: one Store::Query per query vector, n_results=10, include distances (ids always); p50/p99 of
// per-call wall time; recall@10 against exact brute force (Distance(kL2), all n vectors).
// impl "segment": the same vectors into a bare HnswSegment (Reserve(n) + Upsert), the timing split
// that shows how much of "store" is the HNSW build versus the SQLite log/metadata writes.
// Data and queries are those of bench/store/hnsw_bench.cpp (bench_data.h; fiori queries are midpoints
// of two rows, synthetic ones the seed+1 stream). load1 is /proc/loadavg's 1-minute value at the end
// of the row. One thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench/store/bench_data.h"
#include "chromapact/store/hnsw_segment.h"
#include "chromapact/store/store.h"

namespace {

using chromapact::bench::VectorSet;
using chromapact::store::HnswParams;
using chromapact::store::HnswSegment;
using chromapact::store::Space;
using Clock = std::chrono::steady_clock;

constexpr size_t kK = 10;
constexpr uint64_t kSeed = 7;

struct Args {
  std::string set = "all";
  size_t n = 20000;
  size_t reps = 3;
  size_t batch = 1000;
};

struct Row {
  double insert_vps = 0, add_s = 0, persist_s = 0, p50_us = 0, p99_us = 0, recall10 = 0;
};

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Load1() {
  std::ifstream f("/proc/loadavg");
  double v = 0;
  f >> v;
  return v;
}

[[noreturn]] void Die(const std::string& what, const chromapact::Status& s) {
  std::fprintf(stderr, "store_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

VectorSet Queries(const VectorSet& base, bool fiori) {
  if (!fiori) return chromapact::bench::Synthetic(200, base.dim, kSeed + 1);
  VectorSet q;
  q.n = 100;
  q.dim = base.dim;
  q.data.resize(q.n * q.dim);
  for (size_t i = 0; i < q.n; ++i) {
    const float* a = base.row((7 * i) % base.n);
    const float* b = base.row((13 * i + 5) % base.n);
    for (size_t d = 0; d < q.dim; ++d) q.data[i * q.dim + d] = (a[d] + b[d]) * 0.5f;
  }
  return q;
}

std::vector<std::set<std::string>> ExactTopK(const VectorSet& base, const VectorSet& queries) {
  std::vector<std::set<std::string>> truth(queries.n);
  std::vector<std::pair<float, size_t>> d(base.n);
  for (size_t q = 0; q < queries.n; ++q) {
    for (size_t i = 0; i < base.n; ++i) {
      d[i] = {chromapact::store::Distance(Space::kL2, queries.row(q), base.row(i), base.dim), i};
    }
    std::partial_sort(d.begin(), d.begin() + kK, d.end());
    for (size_t j = 0; j < kK; ++j) truth[q].insert(base.ids[d[j].second]);
  }
  return truth;
}

// Fills p50/p99/recall from per-query latencies and hit counts.
void Summarise(std::vector<double> lat_us, size_t hits, size_t total, Row* row) {
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) { return lat_us[std::min(lat_us.size() - 1, static_cast<size_t>(p * lat_us.size()))]; };
  row->p50_us = pct(0.50);
  row->p99_us = pct(0.99);
  row->recall10 = static_cast<double>(hits) / static_cast<double>(total);
}

Row RunStore(const VectorSet& set, const VectorSet& queries, const std::vector<std::set<std::string>>& truth,
             size_t batch) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "store_bench.XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("store_bench: mkdtemp");
    std::exit(1);
  }
  const std::string dir = tmpl + "/persist";
  Row row;
  {
    auto opened = chromapact::store::Store::Open(dir);
    if (!opened.ok()) Die("open " + dir, opened.status());
    std::unique_ptr<chromapact::store::Store> store = std::move(opened).value();
    chromapact::store::CollectionOptions options;  // Chroma defaults: l2, M 16, ef_c 100, ef_s 100
    options.dimension = set.dim;
    auto created = store->CreateCollection("bench", options);
    if (!created.ok()) Die("create collection", created.status());

    // Batches are built before the clock starts: the copy into RecordBatch is the caller's cost.
    std::vector<chromapact::store::RecordBatch> batches;
    for (size_t start = 0; start < set.n; start += batch) {
      const size_t end = std::min(set.n, start + batch);
      chromapact::store::RecordBatch b;
      b.ids.assign(set.ids.begin() + static_cast<std::ptrdiff_t>(start), set.ids.begin() + static_cast<std::ptrdiff_t>(end));
      b.embeddings.assign(set.row(start), set.row(start) + (end - start) * set.dim);
      batches.push_back(std::move(b));
    }
    const auto t0 = Clock::now();
    for (const auto& b : batches) {
      if (auto s = store->Add("bench", b); !s.ok()) Die("add", s);
    }
    const auto t1 = Clock::now();
    if (auto s = store->Persist(); !s.ok()) Die("persist", s);
    const auto t2 = Clock::now();
    row.add_s = Seconds(t0, t1);
    row.persist_s = Seconds(t1, t2);
    row.insert_vps = static_cast<double>(set.n) / row.add_s;

    std::vector<double> lat_us;
    size_t hits = 0;
    for (size_t q = 0; q < queries.n; ++q) {
      chromapact::store::QueryRequest req;
      req.query_embeddings.assign(queries.row(q), queries.row(q) + queries.dim);
      req.n_results = kK;
      req.include = chromapact::store::kIncludeDistances;
      const auto a = Clock::now();
      auto res = store->Query("bench", req);
      const auto b = Clock::now();
      if (!res.ok()) Die("query", res.status());
      lat_us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
      for (const auto& id : res.value().ids[0]) hits += truth[q].count(id);
    }
    Summarise(std::move(lat_us), hits, kK * queries.n, &row);
  }
  std::error_code ec;
  fs::remove_all(tmpl, ec);
  return row;
}

Row RunSegment(const VectorSet& set, const VectorSet& queries, const std::vector<std::set<std::string>>& truth) {
  HnswParams p;  // Chroma defaults, as CollectionOptions
  auto created = HnswSegment::Create(set.dim, p);
  if (!created.ok()) Die("segment create", created.status());
  std::unique_ptr<HnswSegment> seg = std::move(created).value();
  Row row;
  const auto t0 = Clock::now();
  if (auto s = seg->Reserve(set.n); !s.ok()) Die("reserve", s);
  for (size_t i = 0; i < set.n; ++i) {
    if (auto s = seg->Upsert(set.ids[i], set.row(i)); !s.ok()) Die("upsert", s);
  }
  const auto t1 = Clock::now();
  row.add_s = Seconds(t0, t1);
  row.insert_vps = static_cast<double>(set.n) / row.add_s;
  std::vector<double> lat_us;
  size_t hits = 0;
  for (size_t q = 0; q < queries.n; ++q) {
    const auto a = Clock::now();
    auto res = seg->Search(queries.row(q), kK, nullptr);
    const auto b = Clock::now();
    lat_us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    for (const auto& r : res) hits += truth[q].count(r.id);
  }
  Summarise(std::move(lat_us), hits, kK * queries.n, &row);
  return row;
}

void Print(const char* set_name, const VectorSet& set, const char* impl, size_t rep, const Row& r) {
  std::printf("%s,%zu,%zu,%s,%zu,%.1f,%.4f,%.4f,%.1f,%.1f,%.4f,%.2f\n", set_name, set.n, set.dim, impl, rep,
              r.insert_vps, r.add_s, r.persist_s, r.p50_us, r.p99_us, r.recall10, Load1());
  std::fflush(stdout);
}

void RunSet(const char* name, const VectorSet& set, bool fiori, const Args& args) {
  const VectorSet queries = Queries(set, fiori);
  const auto truth = ExactTopK(set, queries);
  for (size_t rep = 0; rep < args.reps; ++rep) {
    Print(name, set, "store", rep, RunStore(set, queries, truth, args.batch));
    Print(name, set, "segment", rep, RunSegment(set, queries, truth));
  }
}

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--set") {
      args->set = v;
    } else if (k == "--n") {
      args->n = std::strtoul(v.c_str(), nullptr, 10);
    } else if (k == "--reps") {
      args->reps = std::strtoul(v.c_str(), nullptr, 10);
    } else if (k == "--batch") {
      args->batch = std::strtoul(v.c_str(), nullptr, 10);
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && args->n > 0 && args->reps > 0 && args->batch > 0 &&
         (args->set == "all" || args->set == "fiori" || args->set == "synthetic");
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr, "usage: %s [--set fiori|synthetic|all] [--n N] [--reps R] [--batch B]\n", argv[0]);
    return 2;
  }
  std::printf("set,n,dim,impl,rep,insert_vps,add_s,persist_s,p50_us,p99_us,recall10,load1\n");
  if (args.set != "synthetic") {
    const auto fiori = chromapact::bench::LoadFiori();
    if (!fiori) {
      std::fprintf(stderr, "store_bench: fiori dataset missing (run scripts/fetch-dataset); skipped\n");
    } else {
      RunSet("fiori", *fiori, true, args);
    }
  }
  if (args.set != "fiori") RunSet("synthetic", chromapact::bench::Synthetic(args.n, 384, kSeed), false, args);
  return 0;
}
