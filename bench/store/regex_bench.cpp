// $regex matching cost per document: std::regex_search over the translated pattern (how REGEXP
// matched before) vs ChromaRegexMatcher::Search (required-literal prefilter + one pass).
//
//   cmake -S . -B build-s3 -G Ninja -DCHROMAPACT_BENCH=ON && cmake --build build-s3 --target
//   bench_store_regex build-s3/bench/bench_store_regex
//
// Documents: N code points of 'a' (no newline), the case where an unanchored failing pattern makes
// std::regex_search restart at every offset. Patterns: "a[^\n]*needle" (fails; literal absent, so
// the prefilter decides), "a[^\n]*[0-9]" (fails; no literal to prefilter, only the one-pass
// search helps) and "^a" (matches at once: the price of the one-pass form on a hit).
//
// 2026-12-01, load ~12 on 2 cores, CPU time per document (std::regex_search -> matcher):
// "a[^\n]*needle" N=1000 127 ms -> 0.04 us, N=4000 1.7 s -> 0.12 us; "a[^\n]*[0-9]" N=1000 155 ms
// -> 0.59 ms, N=4000 2.6 s -> 2.1 ms, N=100000 -> 56 ms; "^a" 0.17-0.25 us -> 0.40-0.43 us.
#include <benchmark/benchmark.h>

#include <string>

#include "store/filter_regex_match.h"

namespace {

using chromapact::store::internal::ChromaRegexMatcher;
using chromapact::store::internal::CompileChromaRegex;

const char* const kPatterns[] = {"a[^\\n]*needle", "a[^\\n]*[0-9]", "^a"};

void BM_StdRegexSearch(benchmark::State& state) {
  const auto re = CompileChromaRegex(kPatterns[state.range(0)]).value();
  const std::wstring text(static_cast<size_t>(state.range(1)), L'a');
  for (auto _ : state) benchmark::DoNotOptimize(std::regex_search(text, re));
  state.SetLabel(kPatterns[state.range(0)]);
}

void BM_ChromaRegexMatcher(benchmark::State& state) {
  const auto m = ChromaRegexMatcher::Compile(kPatterns[state.range(0)]).value();
  const std::wstring text(static_cast<size_t>(state.range(1)), L'a');
  for (auto _ : state) benchmark::DoNotOptimize(m.Search(text).value());
  state.SetLabel(kPatterns[state.range(0)]);
}

BENCHMARK(BM_StdRegexSearch)->ArgsProduct({{0, 1, 2}, {1000, 4000}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ChromaRegexMatcher)
    ->ArgsProduct({{0, 1, 2}, {1000, 4000, 100000}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
