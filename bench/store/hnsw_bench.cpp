// HnswSegment insert throughput and query latency/recall, to compare with bare python3-hnswlib
// (bench/store/hnsw_baseline.py runs the same data, parameters and queries).
//
//   scripts/fetch-dataset
//   build-hnsw/bench/bench_store_hnsw --benchmark_out=/tmp/hnsw_cpp.json --benchmark_out_format=json
//   /usr/bin/python3 bench/store/hnsw_baseline.py --cpp-json /tmp/hnsw_cpp.json
//
// Data: fiori 778 x 384 (skipped with a message when not fetched) and a synthetic uniform set of
// CHROMAPACT_BENCH_N (default 20000) x 384, seed 7. Space l2 (Chroma's default), M=16,
// ef_construction=100, ef_search=100, k=10, one thread. Each benchmark runs 5 repetitions; Google
// Benchmark reports their median.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench/store/bench_data.h"
#include "chromapact/store/hnsw_segment.h"

namespace {

using chromapact::bench::VectorSet;
using chromapact::store::HnswParams;
using chromapact::store::HnswSegment;
using chromapact::store::Space;

constexpr size_t kK = 10;
constexpr uint64_t kSeed = 7;

size_t SyntheticN() {
  const char* n = std::getenv("CHROMAPACT_BENCH_N");
  return n ? static_cast<size_t>(std::atol(n)) : 20000;
}

const VectorSet* Fiori() {
  static const std::optional<VectorSet> set = chromapact::bench::LoadFiori();
  return set ? &*set : nullptr;
}

const VectorSet* SyntheticSet() {
  static const VectorSet set = chromapact::bench::Synthetic(SyntheticN(), 384, kSeed);
  return &set;
}

// Queries: fiori q_i = (row(7i mod n) + row((13i+5) mod n)) * 0.5, i < 100; synthetic: 200 vectors of
// the stream with seed + 1.
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

HnswParams Params() {
  HnswParams p;
  p.space = Space::kL2;
  p.M = 16;
  p.ef_construction = 100;
  p.ef_search = 100;
  return p;
}

std::unique_ptr<HnswSegment> BuildIndex(const VectorSet& set) {
  auto seg = std::move(HnswSegment::Create(set.dim, Params())).value();
  if (!seg->Reserve(set.n).ok()) std::abort();
  for (size_t i = 0; i < set.n; ++i) {
    if (!seg->Upsert(set.ids[i], set.row(i)).ok()) std::abort();
  }
  return seg;
}

void Insert(benchmark::State& state, const VectorSet* set) {
  if (set == nullptr) {
    state.SkipWithError("fiori dataset missing: run scripts/fetch-dataset");
    return;
  }
  for (auto _ : state) {
    auto seg = BuildIndex(*set);
    benchmark::DoNotOptimize(seg.get());
    state.PauseTiming();
    seg.reset();  // freeing is not part of insert
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * set->n));
  state.counters["vectors"] = static_cast<double>(set->n);
}

void Query(benchmark::State& state, const VectorSet* set, bool fiori) {
  if (set == nullptr) {
    state.SkipWithError("fiori dataset missing: run scripts/fetch-dataset");
    return;
  }
  static std::map<const VectorSet*, std::unique_ptr<HnswSegment>> built;
  auto& seg = built[set];
  if (!seg) seg = BuildIndex(*set);
  const VectorSet queries = Queries(*set, fiori);

  // Exact top-k by brute force.
  std::vector<std::set<std::string>> truth(queries.n);
  for (size_t q = 0; q < queries.n; ++q) {
    std::vector<std::pair<float, size_t>> d(set->n);
    for (size_t i = 0; i < set->n; ++i) d[i] = {chromapact::store::Distance(Space::kL2, queries.row(q), set->row(i), set->dim), i};
    std::partial_sort(d.begin(), d.begin() + kK, d.end());
    for (size_t j = 0; j < kK; ++j) truth[q].insert(set->ids[d[j].second]);
  }

  std::vector<double> lat_us;
  size_t hits = 0, total = 0;
  for (auto _ : state) {
    lat_us.clear();
    hits = total = 0;
    for (size_t q = 0; q < queries.n; ++q) {
      const auto t0 = std::chrono::steady_clock::now();
      auto res = seg->Search(queries.row(q), kK, nullptr);
      const auto t1 = std::chrono::steady_clock::now();
      lat_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      for (const auto& r : res) hits += truth[q].count(r.id);
      total += kK;
    }
  }
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) { return lat_us[std::min(lat_us.size() - 1, static_cast<size_t>(p * lat_us.size()))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["recall10"] = static_cast<double>(hits) / static_cast<double>(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * queries.n));
}

void BM_InsertFiori(benchmark::State& state) { Insert(state, Fiori()); }
void BM_InsertSynthetic(benchmark::State& state) { Insert(state, SyntheticSet()); }
void BM_QueryFiori(benchmark::State& state) { Query(state, Fiori(), true); }
void BM_QuerySynthetic(benchmark::State& state) { Query(state, SyntheticSet(), false); }

BENCHMARK(BM_InsertFiori)->Iterations(1)->Repetitions(5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_InsertSynthetic)->Iterations(1)->Repetitions(5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QueryFiori)->Iterations(1)->Repetitions(5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QuerySynthetic)->Iterations(1)->Repetitions(5)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
