// The one retry policy of the AWS layer: how many attempts, which outcomes are worth another try,
// and how long to wait in between.
//
// Backoff is "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): before
// retry n (n = 1 for the second attempt) wait a uniformly random time in
// [0, min(cap_delay_ms, base_delay_ms * 2^(n-1))] ms. What is retryable follows the AWS SDKs'
// standard retry mode (AWS SDKs and Tools Reference Guide, "Retry behavior"): transient network
// errors and timeouts, HTTP 5xx, HTTP 429 and the throttling error codes; and only for requests that
// are idempotent (a second copy of the request cannot change the outcome).
//
// The random source and the sleep are injectable so tests can check the schedule without sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "chromapact/status.h"

namespace chromapact::aws {

struct RetryOptions {
  int max_attempts = 3;        // total attempts including the first; values < 1 count as 1
  int64_t base_delay_ms = 50;  // ceiling of the first backoff (ms)
  int64_t cap_delay_ms = 2000;  // no backoff ceiling exceeds this (ms)
};

class RetryPolicy {
 public:
  // Uniform random number in [0, 1). Called once per backoff.
  using RandomFn = std::function<double()>;
  // Blocks the calling thread for `ms` milliseconds (ms >= 0).
  using SleepFn = std::function<void(int64_t ms)>;

  // Null `random` / `sleep`: a thread-local std::mt19937_64 seeded from std::random_device, and
  // std::this_thread::sleep_for.
  explicit RetryPolicy(RetryOptions options = {}, RandomFn random = nullptr, SleepFn sleep = nullptr);

  const RetryOptions& options() const { return options_; }
  int max_attempts() const { return options_.max_attempts < 1 ? 1 : options_.max_attempts; }

  // True for an AWS error code that means "slow down" (Throttling, ThrottlingException, SlowDown,
  // ProvisionedThroughputExceededException, RequestLimitExceeded, TooManyRequestsException, ...).
  static bool IsThrottlingCode(const std::string& aws_error_code);

  // True when an HTTP answer may succeed if sent again: any 5xx, 429, a throttling code, or a
  // transient code (RequestTimeout, InternalError, ServiceUnavailable, ...) whatever its status.
  static bool IsRetryableHttp(int http_status, const std::string& aws_error_code);

  // True when the failed outcome `s` is transient: with AwsErrorInfo, IsRetryableHttp of its HTTP
  // status and code; without, the codes kUnavailable, kThrottled and kTimeout (network errors and
  // client-side timeouts from HttpClient). OK is never retryable.
  static bool IsRetryable(const Status& s);

  // Whether to try again after `attempts_made` (>= 1) attempts ended in `outcome`: not OK,
  // IsRetryable(outcome), `idempotent`, and attempts_made < max_attempts().
  bool ShouldRetry(const Status& outcome, int attempts_made, bool idempotent) const;

  // The full-jitter wait before retry number `retry` (1 = before the second attempt), in ms:
  // floor(random() * (ceiling + 1)) clamped to [0, ceiling], ceiling = min(cap, base * 2^(retry-1)).
  int64_t BackoffMs(int retry) const;

  // Sleeps BackoffMs(retry) through the injected sleep function; returns the time slept (ms).
  int64_t Backoff(int retry) const;

  // Runs `attempt(n)` for n = 1, 2, ... until it returns OK or ShouldRetry says stop, backing off
  // between attempts. Returns the last outcome; when it failed after more than one attempt, the
  // message gets the context "after N attempts". `attempt` must redo everything per attempt
  // (re-sign, rewind bodies).
  Status Run(bool idempotent, const std::function<Status(int attempt)>& attempt) const;

 private:
  RetryOptions options_;
  RandomFn random_;
  SleepFn sleep_;
};

}  // namespace chromapact::aws
