// Space names and Chroma's distance definitions (docs/chroma-format.md §4 "Distances").
#include <cmath>

#include "chromapact/store/hnsw_segment.h"
#include "store/hnsw_math.h"

namespace chromapact::store {

const char* SpaceName(Space space) {
  switch (space) {
    case Space::kL2:
      return "l2";
    case Space::kCosine:
      return "cosine";
    case Space::kIp:
      return "ip";
  }
  return "l2";
}

Result<Space> ParseSpace(const std::string& name) {
  if (name == "l2") return Space::kL2;
  if (name == "cosine") return Space::kCosine;
  if (name == "ip") return Space::kIp;
  return InvalidArgument("space: unknown value '" + name + "' (expected l2, cosine or ip)");
}

float NormalizeInto(const float* in, size_t dim, float* out) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) sum += in[i] * in[i];
  const float norm = std::sqrt(sum);
  const float inv = 1.0f / (norm + 1e-30f);
  for (size_t i = 0; i < dim; ++i) out[i] = in[i] * inv;
  return norm;
}

float Distance(Space space, const float* a, const float* b, size_t dim) {
  switch (space) {
    case Space::kL2: {
      float sum = 0.0f;
      for (size_t i = 0; i < dim; ++i) {
        const float d = a[i] - b[i];
        sum += d * d;
      }
      return sum;
    }
    case Space::kIp: {
      float dot = 0.0f;
      for (size_t i = 0; i < dim; ++i) dot += a[i] * b[i];
      return 1.0f - dot;
    }
    case Space::kCosine: {
      float na = 0.0f, nb = 0.0f;
      for (size_t i = 0; i < dim; ++i) {
        na += a[i] * a[i];
        nb += b[i] * b[i];
      }
      const float ia = 1.0f / (std::sqrt(na) + 1e-30f);
      const float ib = 1.0f / (std::sqrt(nb) + 1e-30f);
      float dot = 0.0f;
      for (size_t i = 0; i < dim; ++i) dot += (a[i] * ia) * (b[i] * ib);
      return 1.0f - dot;
    }
  }
  return 0.0f;
}

size_t GrowCapacity(size_t needed) {
  size_t cap = 1;
  while (cap < needed) cap <<= 1;
  return cap < kMinHnswCapacity ? kMinHnswCapacity : cap;
}

}  // namespace chromapact::store
