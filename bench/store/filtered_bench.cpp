// Filtered k-NN through the Store facade (store.h) against the unfiltered query, on a clustered set,
// with recall against exact search. bench/store/filtered_bench.sh runs it and writes the table.
//
//   build-storebench/bench/bench_store_filtered_bench build --dir DIR [--n 100000] [--space l2|cosine|ip]
//   build-storebench/bench/bench_store_filtered_bench run   --dir DIR [--n 100000] [--queries 200] [--only CASE]
//   build-storebench/bench/bench_store_filtered_bench sweep --dir DIR [--n 100000] [--queries 100]
//
// Data (bench_data.h's splitmix64 stream, so every build sees the same set): n x 384 float32 in 100
// Gaussian clusters (centres uniform in [-1, 1)^384, sigma 0.12 per coordinate), ids "c<i>", metadata
// {"bucket": b} with b = splitmix64(seed 11, i) % 100, independent of the cluster. Queries: a random
// centre plus the same Gaussian noise (seed 13).
// `build` creates DIR/persist (Chroma defaults: l2 unless --space (give `run` the same), M 16, ef_construction 100, ef_search 100; batches
// of 1000 with embeddings and metadata) and persists it; it does nothing when DIR/persist exists.
// `run` opens DIR/persist read-only, runs 20 warm-up queries, then per case `--queries` queries
// (n_results 10, include distances), one Store::Query each, and prints one CSV row per case:
//   case,filter,matches,queries,p50_us,p99_us,recall10,load1
// cases: none (unfiltered); repeat_P = {"bucket": {"$lt": P}} for every query (P% of the records);
// fresh_P = {"bucket": {"$in": [P distinct random buckets]}}, a different filter for each query (same
// selectivity, nothing learnt from the previous query can be reused). recall10 = hits of the top-10
// in the exact top-10 among the matching records (brute force with Distance(), all n vectors).
// `sweep` forces each filtered path in turn (internal::SetBruteForceThresholdForTesting: brute force
// for every match count, or HNSW for every match count) over repeat_P for P in 1..60 and prints
//   path,percent,matches,p50_us,recall10,load1
// which is how store.h's kBruteForceThreshold was chosen. load1 = /proc/loadavg at the row's end.
// One thread.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench/store/bench_data.h"
#include "chromapact/store/store.h"
#if __has_include("store/filter_search.h")
#include "store/filter_search.h"  // SetBruteForceThresholdForTesting (absent before the filtered path)
#define CHROMAPACT_HAS_FILTER_SEARCH 1
#endif

namespace {

using chromapact::bench::SplitMix64;
using chromapact::store::Space;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr size_t kDim = 384;
constexpr size_t kK = 10;
constexpr size_t kClusters = 100;
constexpr float kSigma = 0.12f;
constexpr uint64_t kSeed = 7, kBucketSeed = 11, kQuerySeed = 13;
const char* const kCollection = "filtered";

struct Args {
  std::string mode, dir;
  size_t n = 100000;
  size_t queries = 200;
  std::string only;  // run: just this case (and none)
  Space space = Space::kL2;
};

double Load1() {
  std::ifstream f("/proc/loadavg");
  double v = 0;
  f >> v;
  return v;
}

[[noreturn]] void Die(const std::string& what, const chromapact::Status& s) {
  std::fprintf(stderr, "filtered_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// Uniform in (0, 1) from stream value k.
double Unit(uint64_t seed, uint64_t k) { return (static_cast<double>(SplitMix64(seed, k) >> 11) + 0.5) / 9007199254740992.0; }

// Standard normal (Box-Muller) from stream values 2k, 2k+1.
float Normal(uint64_t seed, uint64_t k) {
  const double u1 = Unit(seed, 2 * k), u2 = Unit(seed, 2 * k + 1);
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

std::vector<float> Centres() {
  std::vector<float> c(kClusters * kDim);
  for (size_t k = 0; k < c.size(); ++k) c[k] = static_cast<float>(SplitMix64(kSeed, k) >> 40) / 8388608.0f - 1.0f;
  return c;
}

// n x kDim points: point i in cluster i % kClusters.
std::vector<float> Points(size_t n, const std::vector<float>& centres, uint64_t seed, bool random_cluster) {
  std::vector<float> p(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = random_cluster ? SplitMix64(seed + 1000, i) % kClusters : i % kClusters;
    for (size_t d = 0; d < kDim; ++d) p[i * kDim + d] = centres[c * kDim + d] + kSigma * Normal(seed, i * kDim + d);
  }
  return p;
}

int Bucket(size_t i) { return static_cast<int>(SplitMix64(kBucketSeed, i) % 100); }

std::string Id(size_t i) { return "c" + std::to_string(i); }

void Build(const Args& a) {
  namespace fs = std::filesystem;
  const std::string dir = a.dir + "/persist";
  if (fs::exists(dir)) {
    std::fprintf(stderr, "filtered_bench: %s exists, not rebuilt\n", dir.c_str());
    return;
  }
  const std::vector<float> data = Points(a.n, Centres(), kSeed + 1, false);
  auto opened = chromapact::store::Store::Open(dir);
  if (!opened.ok()) Die("open " + dir, opened.status());
  auto store = std::move(opened).value();
  chromapact::store::CollectionOptions options;
  options.dimension = kDim;
  options.hnsw.space = a.space;
  if (auto c = store->CreateCollection(kCollection, options); !c.ok()) Die("create", c.status());
  const auto t0 = Clock::now();
  for (size_t start = 0; start < a.n; start += 1000) {
    const size_t end = std::min(a.n, start + 1000);
    chromapact::store::RecordBatch b;
    for (size_t i = start; i < end; ++i) {
      b.ids.push_back(Id(i));
      b.metadatas.push_back(json{{"bucket", Bucket(i)}});
    }
    b.embeddings.assign(data.begin() + static_cast<std::ptrdiff_t>(start * kDim),
                        data.begin() + static_cast<std::ptrdiff_t>(end * kDim));
    if (auto s = store->Add(kCollection, b); !s.ok()) Die("add", s);
  }
  if (auto s = store->Persist(); !s.ok()) Die("persist", s);
  std::fprintf(stderr, "filtered_bench: built %zu x %zu in %.1f s\n", a.n, kDim,
               std::chrono::duration<double>(Clock::now() - t0).count());
}

struct Case {
  std::string name;
  std::vector<json> filters;               // per query (null = unfiltered)
  std::vector<std::set<std::string>> truth;  // per query: exact top-k among the matching records
  size_t matches = 0;                      // matching records of the first query's filter
};

// Per query: distances to all n points once, then the exact top-k of every case's filter.
void FillTruth(Space space, const std::vector<float>& data, const std::vector<float>& queries, size_t n,
               const std::vector<std::vector<bool>>& allowed_per_case, std::vector<Case>* cases, size_t qi) {
  std::vector<std::pair<float, size_t>> d(n);
  for (size_t i = 0; i < n; ++i) {
    d[i] = {chromapact::store::Distance(space, &queries[qi * kDim], &data[i * kDim], kDim), i};
  }
  std::sort(d.begin(), d.end());
  for (size_t c = 0; c < cases->size(); ++c) {
    std::set<std::string> top;
    for (size_t j = 0; j < n && top.size() < kK; ++j) {
      if (allowed_per_case[c][static_cast<size_t>(Bucket(d[j].second))]) top.insert(Id(d[j].second));
    }
    (*cases)[c].truth[qi] = std::move(top);
  }
}

std::unique_ptr<chromapact::store::Store> OpenReadOnly(const Args& a) {
  chromapact::store::OpenOptions o;
  o.read_only = true;
  o.immutable = true;
  auto opened = chromapact::store::Store::Open(a.dir + "/persist", o);
  if (!opened.ok()) Die("open " + a.dir + "/persist (run `build` first)", opened.status());
  return std::move(opened).value();
}

struct Timing {
  double p50_us = 0, p99_us = 0, recall = 0;
};

Timing RunCase(chromapact::store::Store* store, const std::vector<float>& queries, const Case& c) {
  std::vector<double> lat;
  size_t hits = 0, total = 0;
  for (size_t q = 0; q < c.filters.size(); ++q) {
    chromapact::store::QueryRequest req;
    req.query_embeddings.assign(queries.begin() + static_cast<std::ptrdiff_t>(q * kDim),
                                queries.begin() + static_cast<std::ptrdiff_t>((q + 1) * kDim));
    req.n_results = kK;
    req.where = c.filters[q];
    req.include = chromapact::store::kIncludeDistances;
    const auto t0 = Clock::now();
    auto res = store->Query(kCollection, req);
    const auto t1 = Clock::now();
    if (!res.ok()) Die("query " + c.name, res.status());
    lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    for (const auto& id : res->ids[0]) hits += c.truth[q].count(id);
    total += c.truth[q].size();
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };
  return {pct(0.5), pct(0.99), total ? static_cast<double>(hits) / static_cast<double>(total) : 1.0};
}

std::vector<Case> MakeCases(const Args& a, bool sweep, std::vector<std::vector<std::vector<bool>>>* allowed) {
  std::vector<Case> cases;
  std::vector<int> percents = sweep ? std::vector<int>{1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 60} : std::vector<int>{1, 10, 50};
  auto add = [&](const std::string& name, auto filter_of) {
    Case c;
    c.name = name;
    c.truth.resize(a.queries);
    std::vector<std::vector<bool>> al(a.queries, std::vector<bool>(100, false));
    for (size_t q = 0; q < a.queries; ++q) c.filters.push_back(filter_of(q, &al[q]));
    for (size_t i = 0; i < a.n; ++i) c.matches += al[0][static_cast<size_t>(Bucket(i))];
    cases.push_back(std::move(c));
    allowed->push_back(std::move(al));
  };
  if (!sweep) {
    add("none", [](size_t, std::vector<bool>* al) {
      al->assign(100, true);
      return json(nullptr);
    });
  }
  for (int p : percents) {
    add("repeat_" + std::to_string(p), [p](size_t, std::vector<bool>* al) {
      for (int b = 0; b < p; ++b) (*al)[static_cast<size_t>(b)] = true;
      return json{{"bucket", {{"$lt", p}}}};
    });
    if (sweep) continue;
    add("fresh_" + std::to_string(p), [p](size_t q, std::vector<bool>* al) {
      std::vector<int> order(100);
      for (int b = 0; b < 100; ++b) order[static_cast<size_t>(b)] = b;
      for (size_t i = 99; i > 0; --i) std::swap(order[i], order[SplitMix64(kQuerySeed + 7 + q, i) % (i + 1)]);
      json in = json::array();
      for (int j = 0; j < p; ++j) {
        in.push_back(order[static_cast<size_t>(j)]);
        (*al)[static_cast<size_t>(order[static_cast<size_t>(j)])] = true;
      }
      return json{{"bucket", {{"$in", in}}}};
    });
  }
  return cases;
}

void Run(const Args& a, bool sweep) {
  const std::vector<float> centres = Centres();
  const std::vector<float> data = Points(a.n, centres, kSeed + 1, false);
  const std::vector<float> queries = Points(a.queries, centres, kQuerySeed, true);
  std::vector<std::vector<std::vector<bool>>> allowed;  // case -> query -> bucket
  std::vector<Case> cases = MakeCases(a, sweep, &allowed);
  for (size_t q = 0; q < a.queries; ++q) {
    std::vector<std::vector<bool>> per_case;
    for (const auto& al : allowed) per_case.push_back(al[q]);
    FillTruth(a.space, data, queries, a.n, per_case, &cases, q);
  }
  auto store = OpenReadOnly(a);
  Case warm = cases.front();
  warm.filters.resize(std::min<size_t>(20, a.queries));
  RunCase(store.get(), queries, warm);
  if (!sweep) {
    std::printf("case,filter,matches,queries,p50_us,p99_us,recall10,load1\n");
    for (const Case& c : cases) {
      if (!a.only.empty() && c.name != a.only && c.name != "none") continue;
      const Timing t = RunCase(store.get(), queries, c);
      std::printf("%s,%s,%zu,%zu,%.1f,%.1f,%.4f,%.2f\n", c.name.c_str(),
                  c.name == "none" ? "none" : c.name.rfind("repeat", 0) == 0 ? "$lt" : "$in", c.matches,
                  c.filters.size(), t.p50_us, t.p99_us, t.recall, Load1());
      std::fflush(stdout);
    }
    return;
  }
#ifndef CHROMAPACT_HAS_FILTER_SEARCH
  std::fprintf(stderr, "filtered_bench: sweep needs store/filter_search.h\n");
  std::exit(2);
#else
  std::printf("path,percent,matches,p50_us,recall10,load1\n");
  for (const Case& c : cases) {
    for (const char* path : {"brute", "hnsw"}) {
      chromapact::store::internal::SetBruteForceThresholdForTesting(std::string(path) == "brute" ? SIZE_MAX : 0);
      const Timing t = RunCase(store.get(), queries, c);
      std::printf("%s,%s,%zu,%.1f,%.4f,%.2f\n", path, c.name.substr(7).c_str(), c.matches, t.p50_us, t.recall, Load1());
      std::fflush(stdout);
    }
  }
  chromapact::store::internal::SetBruteForceThresholdForTesting(std::nullopt);
#endif
}

bool ParseArgs(int argc, char** argv, Args* a) {
  if (argc < 2) return false;
  a->mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") a->dir = v;
    else if (k == "--n") a->n = std::strtoul(v.c_str(), nullptr, 10);
    else if (k == "--queries") a->queries = std::strtoul(v.c_str(), nullptr, 10);
    else if (k == "--only") a->only = v;
    else if (k == "--space") {
      auto sp = chromapact::store::ParseSpace(v);
      if (!sp.ok()) return false;
      a->space = *sp;
    }
    else return false;
  }
  return argc % 2 == 0 && !a->dir.empty() && a->n > 0 && a->queries > 0 &&
         (a->mode == "build" || a->mode == "run" || a->mode == "sweep");
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    std::fprintf(stderr, "usage: %s build|run|sweep --dir DIR [--n N] [--queries Q]\n", argv[0]);
    return 2;
  }
  if (a.mode == "build") Build(a);
  else Run(a, a.mode == "sweep");
  return 0;
}
