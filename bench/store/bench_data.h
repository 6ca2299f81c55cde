// Benchmark data: the fiori docs embeddings (scripts/fetch-dataset) and a seeded synthetic set that
// bench/store/hnsw_baseline.py regenerates bit for bit (same splitmix64 stream).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace chromapact::bench {

struct VectorSet {
  size_t n = 0;
  size_t dim = 0;
  std::vector<float> data;        // n x dim, row-major
  std::vector<std::string> ids;   // n ids
  const float* row(size_t i) const { return &data[i * dim]; }
};

// The folder scripts/fetch-dataset prints: $CHROMAPACT_FIORI_DIR, else
// ${CHROMAPACT_CACHE:-$HOME/.cache/chromapact}/datasets/fiori-docs-embeddings-1.2.6.
inline std::string FioriDir() {
  if (const char* d = std::getenv("CHROMAPACT_FIORI_DIR"); d && *d) return d;
  std::string cache;
  if (const char* c = std::getenv("CHROMAPACT_CACHE"); c && *c) {
    cache = c;
  } else {
    const char* home = std::getenv("HOME");
    cache = std::string(home ? home : "") + "/.cache/chromapact";
  }
  return cache + "/datasets/fiori-docs-embeddings-1.2.6";
}

// data/embeddings/embeddings.bin: 778 x 384 float32 little-endian row-major, no header; row i belongs
// to line i of data/embeddings/records.jsonl ({"id": ..., "content": <document>, ...}).
// nullopt when the folder is missing or the sizes disagree.
inline std::optional<VectorSet> LoadFiori(const std::string& dir = FioriDir()) {
  constexpr size_t kDim = 384;
  std::ifstream bin(dir + "/data/embeddings/embeddings.bin", std::ios::binary);
  if (!bin) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
  if (bytes.size() % (kDim * 4) != 0) return std::nullopt;
  VectorSet set;
  set.dim = kDim;
  set.n = bytes.size() / (kDim * 4);
  set.data.resize(set.n * kDim);
  std::memcpy(set.data.data(), bytes.data(), bytes.size());
  std::ifstream jsonl(dir + "/data/embeddings/records.jsonl");
  std::string line;
  while (std::getline(jsonl, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j["id"].is_string()) return std::nullopt;
    set.ids.push_back(j["id"].get<std::string>());
  }
  if (set.ids.size() != set.n) return std::nullopt;
  return set;
}

// splitmix64 (Steele et al.), value k of the stream for `seed`.
inline uint64_t SplitMix64(uint64_t seed, uint64_t k) {
  uint64_t z = seed + (k + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// n x dim uniform values in [-1, 1): value k = (SplitMix64(seed, k) >> 40) / 2^23 - 1 (exact in float32).
inline VectorSet Synthetic(size_t n, size_t dim, uint64_t seed) {
  VectorSet set;
  set.n = n;
  set.dim = dim;
  set.data.resize(n * dim);
  for (size_t k = 0; k < n * dim; ++k) {
    set.data[k] = static_cast<float>(SplitMix64(seed, k) >> 40) / 8388608.0f - 1.0f;
  }
  for (size_t i = 0; i < n; ++i) set.ids.push_back("s" + std::to_string(i));
  return set;
}

}  // namespace chromapact::bench
