// Delta codec throughput: EncodeDelta / DecodeDelta / chunked DeltaReader / gzip-JSON import for
// n x 384 upserts (n = 100, 1000) with a ~40-byte document and a 4-key metadata per record.
// Embeddings are uniform random floats (seed 7), which barely compress — like real embeddings.
// Throughput is counted in raw payload bytes (ids + 4*dim floats + documents + metadata JSON).
// zlevel -2 = kDeltaFastCompression (Huffman only, the default), -1 = zlib default (6), 0..9 = levels.
//
//   cmake -S . -B build-codec -G Ninja -DCHROMAPACT_BENCH=ON
//   cmake --build build-codec --target bench_codec_delta -j2
//   build-codec/bench/bench_codec_delta --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <random>
#include <string>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/delta_reader.h"

namespace {

using namespace chromapact::codec;  // NOLINT: a bench file, not a header

constexpr uint32_t kDim = 384;

Delta Make(size_t n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Delta d;
  d.meta.op = DeltaOp::kUpsert;
  d.meta.collection = "bench";
  d.meta.dimension = kDim;
  d.meta.delta_id = "01JDZQ8K3M4N5P6Q7R8S9T0VWX";
  d.meta.producer_id = "bench";
  for (size_t i = 0; i < n; ++i) {
    d.records.ids.push_back("doc-" + std::to_string(i) + "-chunk-" + std::to_string(i % 17));
    for (uint32_t j = 0; j < kDim; ++j) d.records.embeddings.push_back(u(rng));
    d.records.documents.emplace_back("The quick brown fox jumps over dog " + std::to_string(i));
    d.records.metadatas.push_back({{"source", "s3://bucket/receipts/" + std::to_string(i % 50)},
                                   {"page", static_cast<int>(i % 9)},
                                   {"score", 0.5 + static_cast<double>(i) / 1e4},
                                   {"ok", i % 3 == 0}});
  }
  return d;
}

size_t RawBytes(const Delta& d) {
  size_t b = d.records.embeddings.size() * 4;
  for (size_t i = 0; i < d.records.ids.size(); ++i) {
    b += d.records.ids[i].size() + d.records.documents[i]->size() + d.records.metadatas[i].dump().size();
  }
  return b;
}

void BM_Encode(benchmark::State& state) {
  Delta d = Make(static_cast<size_t>(state.range(0)));
  int level = static_cast<int>(state.range(1));
  size_t out = 0;
  for (auto _ : state) {
    auto bytes = EncodeDelta(d, {}, level);
    if (!bytes.ok()) state.SkipWithError(bytes.status().ToString().c_str());
    out = bytes->size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * RawBytes(d)));
  state.counters["ratio"] = static_cast<double>(out) / static_cast<double>(RawBytes(d));
}

void BM_Decode(benchmark::State& state) {
  Delta d = Make(static_cast<size_t>(state.range(0)));
  std::string bytes = *EncodeDelta(d, {}, static_cast<int>(state.range(1)));
  for (auto _ : state) {
    auto back = DecodeDelta(bytes);
    if (!back.ok()) state.SkipWithError(back.status().ToString().c_str());
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * RawBytes(d)));
}

void BM_StreamChunks256(benchmark::State& state) {
  Delta d = Make(static_cast<size_t>(state.range(0)));
  std::string bytes = *EncodeDelta(d);  // default: kDeltaFastCompression
  for (auto _ : state) {
    auto reader = DeltaReader::Open(MakeMemorySource(bytes));
    DeltaRecords chunk;
    size_t total = 0;
    while (true) {
      auto n = (*reader)->Next(256, &chunk);
      if (!n.ok()) state.SkipWithError(n.status().ToString().c_str());
      if (!n.ok() || *n == 0) break;
      total += *n;
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * RawBytes(d)));
}

std::string PythonJsonGz(const Delta& d) {
  nlohmann::json j;
  j["ids"] = d.records.ids;
  j["embeddings"] = nlohmann::json::array();
  for (size_t i = 0; i < d.records.ids.size(); ++i) {
    j["embeddings"].push_back(
        std::vector<float>(d.records.embeddings.begin() + static_cast<long>(i * kDim),
                           d.records.embeddings.begin() + static_cast<long>((i + 1) * kDim)));
  }
  j["documents"] = nlohmann::json::array();
  for (const auto& doc : d.records.documents) j["documents"].push_back(*doc);
  j["metadatas"] = d.records.metadatas;
  std::string text = j.dump();
  uLongf len = compressBound(text.size()) + 32;
  std::string out(len, '\0');
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(text.data());
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void BM_DecodePythonJsonGz(benchmark::State& state) {
  Delta d = Make(static_cast<size_t>(state.range(0)));
  std::string gz = PythonJsonGz(d);
  for (auto _ : state) {
    auto back = DecodeJsonGzDelta(gz, d.meta);
    if (!back.ok()) state.SkipWithError(back.status().ToString().c_str());
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * RawBytes(d)));
  state.counters["gz_bytes"] = static_cast<double>(gz.size());
}

BENCHMARK(BM_Encode)
    ->ArgNames({"n", "zlevel"})
    ->Args({100, -2})
    ->Args({1000, -2})
    ->Args({1000, 1})
    ->Args({1000, -1})
    ->Args({1000, 0})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)
    ->ArgNames({"n", "zlevel"})
    ->Args({100, -2})
    ->Args({1000, -2})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StreamChunks256)->ArgName("n")->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodePythonJsonGz)->ArgName("n")->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
