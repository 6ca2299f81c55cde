#include "chromapact/pipeline/clock.h"

#include <chrono>

namespace chromapact::pipeline {

int64_t SystemClock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock* SystemClock::Default() {
  static const SystemClock clock;
  return &clock;
}

}  // namespace chromapact::pipeline
