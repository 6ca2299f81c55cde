// The clock through which the pipeline reads "now": lease expiry and pointer commit times are epoch
// milliseconds UTC read from a Clock, so tests move time by hand instead of sleeping.
#pragma once

#include <atomic>
#include <cstdint>

namespace chromapact::pipeline {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC. Implementations must be safe to call from any thread.
  virtual int64_t NowMs() const = 0;
};

// std::chrono::system_clock. Lease expiry compares times written by different machines, so the
// lease TTL must be much larger than their clock skew (AWS hosts keep NTP time within ~1 ms).
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  // A process-wide instance (never destroyed).
  static const SystemClock* Default();
};

// A clock that only moves when told to; thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void Set(int64_t now_ms) { now_ms_.store(now_ms); }
  void Advance(int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace chromapact::pipeline
