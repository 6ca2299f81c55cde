// Kernels of simd_distance.h: SSE2 (the x86-64 baseline), AVX2 + FMA and AVX-512F, each compiled
// with a target attribute so one binary built for baseline x86-64 carries all of them; other
// architectures get a portable loop the compiler may vectorise.
#include "store/simd_distance.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps and trip -Wuninitialized when inlined
// (GCC bug 105593, fixed in 13); the warning is about the header, not this file's values.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

namespace chromapact::store::internal {
namespace {

inline size_t Dim(const void* d) { return *static_cast<const size_t*>(d); }

float L2Portable(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float d0 = x[i] - y[i], d1 = x[i + 1] - y[i + 1], d2 = x[i + 2] - y[i + 2], d3 = x[i + 3] - y[i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < n; ++i) {
    const float t = x[i] - y[i];
    s0 += t * t;
  }
  return (s0 + s1) + (s2 + s3);
}

float IpPortable(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; ++i) s0 += x[i] * y[i];
  return 1.0f - ((s0 + s1) + (s2 + s3));
}

#if defined(__x86_64__)

inline float HorizontalSum(__m128 v) {
  __m128 shuf = _mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1));
  __m128 sums = _mm_add_ps(v, shuf);
  shuf = _mm_movehl_ps(shuf, sums);
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

float L2Sse2(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128 d0 = _mm_sub_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i));
    const __m128 d1 = _mm_sub_ps(_mm_loadu_ps(x + i + 4), _mm_loadu_ps(y + i + 4));
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(d0, d0));
    acc1 = _mm_add_ps(acc1, _mm_mul_ps(d1, d1));
  }
  for (; i + 4 <= n; i += 4) {
    const __m128 d0 = _mm_sub_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i));
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(d0, d0));
  }
  float sum = HorizontalSum(_mm_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    const float t = x[i] - y[i];
    sum += t * t;
  }
  return sum;
}

float IpSse2(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i)));
    acc1 = _mm_add_ps(acc1, _mm_mul_ps(_mm_loadu_ps(x + i + 4), _mm_loadu_ps(y + i + 4)));
  }
  for (; i + 4 <= n; i += 4) acc0 = _mm_add_ps(acc0, _mm_mul_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i)));
  float sum = HorizontalSum(_mm_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += x[i] * y[i];
  return 1.0f - sum;
}

__attribute__((target("avx2,fma"))) inline float HorizontalSum256(__m256 v) {
  return HorizontalSum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

__attribute__((target("avx2,fma"))) float L2Avx2(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
  }
  float sum = HorizontalSum256(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    const float t = x[i] - y[i];
    sum += t * t;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) float IpAvx2(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
  float sum = HorizontalSum256(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += x[i] * y[i];
  return 1.0f - sum;
}

// Sum of the 16 lanes (folding 128-bit lanes; GCC 12's _mm512_reduce_add_ps trips -Wuninitialized).
__attribute__((target("avx512f"))) inline float HorizontalSum512(__m512 v) {
  const __m512 halves = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  const __m512 quarters = _mm512_add_ps(halves, _mm512_shuffle_f32x4(halves, halves, _MM_SHUFFLE(2, 3, 0, 1)));
  return HorizontalSum(_mm512_castps512_ps128(quarters));
}

__attribute__((target("avx512f"))) float L2Avx512(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
  }
  if (i < n) {  // the last 1..15 floats, masked (never read past the vectors)
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
    acc1 = _mm512_fmadd_ps(d0, d0, acc1);
  }
  return HorizontalSum512(_mm512_add_ps(acc0, acc1));
}

__attribute__((target("avx512f"))) float IpAvx512(const void* a, const void* b, const void* d) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t n = Dim(d);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), acc1);
  }
  return 1.0f - HorizontalSum512(_mm512_add_ps(acc0, acc1));
}

#endif  // __x86_64__

SimdLevel Detect() {
  SimdLevel best = SimdLevel::kBaseline;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = SimdLevel::kAvx2Fma;
  if (__builtin_cpu_supports("avx512f")) best = SimdLevel::kAvx512;
#endif
  const char* cap = std::getenv("CHROMAPACT_SIMD");
  if (cap != nullptr) {
    SimdLevel limit = best;
    if (std::strcmp(cap, "baseline") == 0) limit = SimdLevel::kBaseline;
    if (std::strcmp(cap, "avx2") == 0) limit = SimdLevel::kAvx2Fma;
    if (std::strcmp(cap, "avx512") == 0) limit = SimdLevel::kAvx512;
    if (static_cast<int>(limit) < static_cast<int>(best)) best = limit;
  }
  return best;
}

}  // namespace

SimdLevel ActiveSimdLevel() {
  static const SimdLevel level = Detect();
  return level;
}

bool CpuSupports(SimdLevel level) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (level) {
    case SimdLevel::kBaseline:
      return true;
    case SimdLevel::kAvx2Fma:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SimdLevel::kAvx512:
      return __builtin_cpu_supports("avx512f");
  }
  return false;
#else
  return level == SimdLevel::kBaseline;
#endif
}

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kBaseline:
      return "baseline";
    case SimdLevel::kAvx2Fma:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512";
  }
  return "baseline";
}

DistanceFn L2SquaredFn(SimdLevel level) {
#if defined(__x86_64__)
  switch (level) {
    case SimdLevel::kAvx512:
      return L2Avx512;
    case SimdLevel::kAvx2Fma:
      return L2Avx2;
    case SimdLevel::kBaseline:
      return L2Sse2;
  }
#endif
  (void)level;
  return L2Portable;
}

DistanceFn InnerProductDistanceFn(SimdLevel level) {
#if defined(__x86_64__)
  switch (level) {
    case SimdLevel::kAvx512:
      return IpAvx512;
    case SimdLevel::kAvx2Fma:
      return IpAvx2;
    case SimdLevel::kBaseline:
      return IpSse2;
  }
#endif
  (void)level;
  return IpPortable;
}

}  // namespace chromapact::store::internal

#if defined(__x86_64__)
#pragma GCC diagnostic pop
#endif
