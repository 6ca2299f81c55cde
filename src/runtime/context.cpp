#include "chromapact/runtime/context.h"

#include <chrono>
#include <limits>

namespace chromapact::runtime {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t Context::RemainingTimeMs() const { return RemainingTimeMs(NowUnixMs()); }

int64_t Context::RemainingTimeMs(int64_t now_ms) const {
  if (deadline_ms == 0) return std::numeric_limits<int64_t>::max();
  return deadline_ms - now_ms;
}

}  // namespace chromapact::runtime
