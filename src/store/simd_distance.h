// Distance kernels for the HNSW index, chosen at run time for the CPU the process runs on (Lambda's
// x86_64 hosts have AVX2 + FMA, some AVX-512; an image built for baseline x86-64 must still use
// them). Signature of hnswlib's DISTFUNC: (a, b, &dim) with a and b `dim` float32 each, dim a size_t.
// Internal to the store.
#pragma once

#include <cstddef>

namespace chromapact::store::internal {

using DistanceFn = float (*)(const void* a, const void* b, const void* dim);

enum class SimdLevel { kBaseline, kAvx2Fma, kAvx512 };

// The best level this CPU supports, capped by CHROMAPACT_SIMD ("baseline", "avx2" or "avx512";
// unset: no cap; other values are ignored) so benchmarks can compare kernels side by side.
// Decided once per process.
SimdLevel ActiveSimdLevel();
// Every level this CPU can run (kBaseline first), for tests.
bool CpuSupports(SimdLevel level);
const char* SimdLevelName(SimdLevel level);

// Squared L2 distance (hnswlib's L2Space); 1 - dot product (InnerProductSpace; cosine stores
// normalised vectors). Summation order differs from hnswlib's kernels: results agree to float
// rounding, not bit for bit.
DistanceFn L2SquaredFn(SimdLevel level);
DistanceFn InnerProductDistanceFn(SimdLevel level);

}  // namespace chromapact::store::internal
