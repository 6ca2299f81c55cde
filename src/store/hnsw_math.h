// Small helpers shared by the HNSW segment code that must not pull in hnswlib (see hnsw_unit.cpp).
#pragma once

#include <cstddef>

namespace chromapact::store {

// Chroma's initial capacity and growth rule (rust/index/src/hnsw.rs: max(100, ...), next power of two).
constexpr size_t kMinHnswCapacity = 100;
size_t GrowCapacity(size_t needed);

// Fork's cosine normalisation: out = x * (1.0f / (sqrtf(sum x^2) + 1e-30f)). Returns the L2 norm.
float NormalizeInto(const float* in, size_t dim, float* out);

}  // namespace chromapact::store
