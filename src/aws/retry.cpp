#include "chromapact/aws/retry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <set>
#include <thread>

namespace chromapact::aws {
namespace {

double DefaultRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

void DefaultSleep(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

RetryPolicy::RetryPolicy(RetryOptions options, RandomFn random, SleepFn sleep)
    : options_(options),
      random_(random ? std::move(random) : RandomFn(DefaultRandom)),
      sleep_(sleep ? std::move(sleep) : SleepFn(DefaultSleep)) {}

bool RetryPolicy::IsThrottlingCode(const std::string& code) {
  // botocore retryhandler / the SDKs' standard retry mode throttling list, plus S3's SlowDown.
  static const std::set<std::string> kThrottle = {
      "Throttling",          "ThrottlingException",        "ThrottledException",
      "RequestThrottled",    "RequestThrottledException",  "ProvisionedThroughputExceededException",
      "RequestLimitExceeded", "TooManyRequestsException",  "SlowDown",
      "BandwidthLimitExceeded", "TransactionInProgressException", "PriorRequestNotComplete",
      "EC2ThrottledException", "RequestThrottledException", "LimitExceededException",
      "KMS.ThrottlingException", "OverLimit"};
  return kThrottle.count(code) > 0;
}

bool RetryPolicy::IsRetryableHttp(int http_status, const std::string& code) {
  // Transient codes of the standard retry mode, whatever the HTTP status they come with.
  static const std::set<std::string> kTransient = {"RequestTimeout", "RequestTimeoutException", "InternalError",
                                                   "InternalFailure", "ServiceUnavailable", "InternalServerError",
                                                   "IDPCommunicationError"};
  if (http_status >= 500 || http_status == 429) return true;
  return IsThrottlingCode(code) || kTransient.count(code) > 0;
}

bool RetryPolicy::IsRetryable(const Status& s) {
  if (s.ok()) return false;
  if (s.aws().has_value() && s.aws()->http_status > 0) return IsRetryableHttp(s.aws()->http_status, s.aws()->error_code);
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kThrottled ||
         s.code() == StatusCode::kTimeout;
}

bool RetryPolicy::ShouldRetry(const Status& outcome, int attempts_made, bool idempotent) const {
  return idempotent && attempts_made < max_attempts() && IsRetryable(outcome);
}

int64_t RetryPolicy::BackoffMs(int retry) const {
  const int64_t base = std::max<int64_t>(0, options_.base_delay_ms);
  const int64_t cap = std::max<int64_t>(0, options_.cap_delay_ms);
  const int shift = std::clamp(retry - 1, 0, 40);
  int64_t ceiling = cap;
  if (base > 0 && base <= (cap >> shift)) ceiling = base << shift;  // base * 2^shift without overflow
  if (base == 0) ceiling = 0;
  double r = random_();
  if (!(r >= 0.0)) r = 0.0;  // also catches NaN
  if (r >= 1.0) r = std::nextafter(1.0, 0.0);
  int64_t wait = static_cast<int64_t>(std::floor(r * static_cast<double>(ceiling + 1)));
  return std::clamp<int64_t>(wait, 0, ceiling);
}

int64_t RetryPolicy::Backoff(int retry) const {
  int64_t ms = BackoffMs(retry);
  sleep_(ms);
  return ms;
}

Status RetryPolicy::Run(bool idempotent, const std::function<Status(int attempt)>& attempt) const {
  Status last;
  int n = 1;
  for (;; ++n) {
    if (n > 1) Backoff(n - 1);
    last = attempt(n);
    if (last.ok() || !ShouldRetry(last, n, idempotent)) break;
  }
  if (!last.ok() && n > 1) return last.WithContext("after " + std::to_string(n) + " attempts");
  return last;
}

}  // namespace chromapact::aws
