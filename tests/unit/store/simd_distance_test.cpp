// The run-time chosen distance kernels (src/store/simd_distance.h): every kernel this CPU can run,
// at every dimension from 1 to 130 (all tail lengths of 4-, 8-, 16- and 32-wide loops) and at 384
// and 1536, equals a double-precision sum to float rounding, for squared L2 and 1 - dot; and the
// HNSW index searches with them (its exact-search answers are checked in the store's tests).
#include "store/simd_distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace chromapact::store::internal {
namespace {

void ExpectKernelsMatch(SimdLevel level) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<size_t> dims;
  for (size_t d = 1; d <= 130; ++d) dims.push_back(d);
  dims.push_back(384);
  dims.push_back(1536);
  for (size_t dim : dims) {
    // Unaligned starts (offset 1) as hnswlib's data blocks may be.
    std::vector<float> buf_a(dim + 1), buf_b(dim + 1);
    for (auto& v : buf_a) v = u(rng);
    for (auto& v : buf_b) v = u(rng);
    const float* a = buf_a.data() + 1;
    const float* b = buf_b.data() + 1;
    double l2 = 0, dot = 0, scale = 0;
    for (size_t i = 0; i < dim; ++i) {
      l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
      dot += double(a[i]) * b[i];
      scale += std::fabs(double(a[i]) * b[i]);
    }
    const float got_l2 = L2SquaredFn(level)(a, b, &dim);
    const float got_ip = InnerProductDistanceFn(level)(a, b, &dim);
    EXPECT_NEAR(got_l2, l2, 1e-5 * l2 + 1e-6) << SimdLevelName(level) << " dim " << dim;
    EXPECT_NEAR(got_ip, 1.0 - dot, 1e-5 * (scale + 1.0)) << SimdLevelName(level) << " dim " << dim;
  }
}

TEST(SimdDistanceTest, EveryKernelThisCpuRunsMatchesADoubleSum) {
  int ran = 0;
  for (SimdLevel level : {SimdLevel::kBaseline, SimdLevel::kAvx2Fma, SimdLevel::kAvx512}) {
    if (!CpuSupports(level)) {
      std::printf("skipping %s: not supported by this CPU\n", SimdLevelName(level));
      continue;
    }
    ExpectKernelsMatch(level);
    ++ran;
  }
  EXPECT_GE(ran, 1);
}

TEST(SimdDistanceTest, TheActiveLevelIsOneTheCpuSupports) {
  EXPECT_TRUE(CpuSupports(ActiveSimdLevel())) << SimdLevelName(ActiveSimdLevel());
  EXPECT_NE(L2SquaredFn(ActiveSimdLevel()), nullptr);
}

}  // namespace
}  // namespace chromapact::store::internal
