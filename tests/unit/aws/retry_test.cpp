// RetryPolicy: what is retryable, the full-jitter schedule (with an injected random source) and the
// attempt loop (with an injected sleep, so nothing here waits).
#include "chromapact/aws/retry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace chromapact::aws {
namespace {

Status AwsError(StatusCode code, int http, const std::string& aws_code) {
  return Status(code, "op: HTTP " + std::to_string(http) + " " + aws_code, AwsErrorInfo{aws_code, http, "req"});
}

TEST(RetryPolicyTest, ClassifiesHttpAnswers) {
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(500, ""));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(503, "SlowDown"));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(502, ""));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(429, ""));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(400, "ThrottlingException"));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(400, "Throttling"));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(400, "ProvisionedThroughputExceededException"));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(503, "RequestLimitExceeded"));
  EXPECT_TRUE(RetryPolicy::IsRetryableHttp(400, "RequestTimeout"));  // S3: idle socket, retry
  EXPECT_FALSE(RetryPolicy::IsRetryableHttp(400, "ValidationException"));
  EXPECT_FALSE(RetryPolicy::IsRetryableHttp(403, "AccessDenied"));
  EXPECT_FALSE(RetryPolicy::IsRetryableHttp(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(RetryPolicy::IsRetryableHttp(404, "NoSuchKey"));
  EXPECT_FALSE(RetryPolicy::IsRetryableHttp(412, "PreconditionFailed"));
  EXPECT_FALSE(RetryPolicy::IsRetryableHttp(400, "ConditionalCheckFailedException"));
  EXPECT_TRUE(RetryPolicy::IsThrottlingCode("SlowDown"));
  EXPECT_FALSE(RetryPolicy::IsThrottlingCode("NoSuchKey"));
}

TEST(RetryPolicyTest, ClassifiesStatuses) {
  EXPECT_FALSE(RetryPolicy::IsRetryable(Status::Ok()));
  // Transport failures (no AWS answer).
  EXPECT_TRUE(RetryPolicy::IsRetryable(Unavailable("http GET: Couldn't connect to server")));
  EXPECT_TRUE(RetryPolicy::IsRetryable(Status(StatusCode::kTimeout, "http GET: Timeout was reached")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(IOError("http: cannot open body file")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(InvalidArgument("bad")));
  // AWS answers: judged by the HTTP status and code, not by how they were classified.
  EXPECT_TRUE(RetryPolicy::IsRetryable(AwsError(StatusCode::kUnavailable, 503, "ServiceUnavailable")));
  EXPECT_TRUE(RetryPolicy::IsRetryable(AwsError(StatusCode::kThrottled, 400, "ThrottlingException")));
  EXPECT_TRUE(RetryPolicy::IsRetryable(AwsError(StatusCode::kInvalidArgument, 400, "RequestTimeout")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(AwsError(StatusCode::kPreconditionFailed, 412, "PreconditionFailed")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(AwsError(StatusCode::kUnauthenticated, 403, "SignatureDoesNotMatch")));
}

TEST(RetryPolicyTest, ShouldRetryNeedsIdempotenceAndAttemptsLeft) {
  RetryPolicy p(RetryOptions{3, 10, 100});
  Status transient = Unavailable("down");
  EXPECT_TRUE(p.ShouldRetry(transient, 1, true));
  EXPECT_TRUE(p.ShouldRetry(transient, 2, true));
  EXPECT_FALSE(p.ShouldRetry(transient, 3, true));  // max_attempts reached
  EXPECT_FALSE(p.ShouldRetry(transient, 1, false));  // not idempotent
  EXPECT_FALSE(p.ShouldRetry(NotFound("x"), 1, true));
  EXPECT_FALSE(p.ShouldRetry(Status::Ok(), 1, true));
  EXPECT_EQ(RetryPolicy(RetryOptions{0, 10, 100}).max_attempts(), 1);
}

TEST(RetryPolicyTest, FullJitterCeilingGrowsExponentiallyUpToTheCap) {
  // random() just below 1 gives the ceiling itself; 0 gives 0; 0.5 about half.
  double r = 0.9999999;
  RetryPolicy p(RetryOptions{10, 100, 1000}, [&] { return r; });
  EXPECT_EQ(p.BackoffMs(1), 100);
  EXPECT_EQ(p.BackoffMs(2), 200);
  EXPECT_EQ(p.BackoffMs(3), 400);
  EXPECT_EQ(p.BackoffMs(4), 800);
  EXPECT_EQ(p.BackoffMs(5), 1000);  // capped
  EXPECT_EQ(p.BackoffMs(60), 1000);  // no overflow for huge retry numbers
  r = 0.0;
  EXPECT_EQ(p.BackoffMs(1), 0);
  EXPECT_EQ(p.BackoffMs(9), 0);
  r = 0.5;
  EXPECT_EQ(p.BackoffMs(1), 50);   // floor(0.5 * 101)
  EXPECT_EQ(p.BackoffMs(3), 200);  // floor(0.5 * 401)
  r = 1.5;  // a broken source is clamped into range
  EXPECT_EQ(p.BackoffMs(2), 200);
  r = -1;
  EXPECT_EQ(p.BackoffMs(2), 0);
}

TEST(RetryPolicyTest, DefaultRandomStaysWithinTheCeilingAndVaries) {
  RetryPolicy p(RetryOptions{10, 64, 64});
  std::vector<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    int64_t ms = p.BackoffMs(1);
    ASSERT_GE(ms, 0);
    ASSERT_LE(ms, 64);
    seen.push_back(ms);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_GT(seen.back() - seen.front(), 16) << "200 draws of [0,64] should spread";
}

TEST(RetryPolicyTest, RunRetriesTransientFailuresThenSucceeds) {
  std::vector<int64_t> slept;
  RetryPolicy p(RetryOptions{4, 100, 1000}, [] { return 0.9999999; }, [&](int64_t ms) { slept.push_back(ms); });
  std::vector<int> attempts;
  Status s = p.Run(true, [&](int n) {
    attempts.push_back(n);
    return n < 3 ? AwsError(StatusCode::kThrottled, 503, "SlowDown") : Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(slept, (std::vector<int64_t>{100, 200}));
}

TEST(RetryPolicyTest, RunGivesUpAfterMaxAttemptsWithTheLastError) {
  int calls = 0;
  std::vector<int64_t> slept;
  RetryPolicy p(RetryOptions{3, 10, 100}, [] { return 0.0; }, [&](int64_t ms) { slept.push_back(ms); });
  Status s = p.Run(true, [&](int n) { ++calls; return Unavailable("down #" + std::to_string(n)); });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(slept.size(), 2u);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "after 3 attempts: down #3");
}

TEST(RetryPolicyTest, RunDoesNotRetryPermanentErrorsOrNonIdempotentCalls) {
  int calls = 0;
  RetryPolicy p(RetryOptions{5, 10, 100}, nullptr, [](int64_t) { FAIL() << "must not sleep"; });
  Status s = p.Run(true, [&](int) { ++calls; return AwsError(StatusCode::kPreconditionFailed, 412, "PreconditionFailed"); });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message().find("attempts"), std::string::npos) << s.message();
  ASSERT_TRUE(s.aws().has_value());
  EXPECT_EQ(s.aws()->error_code, "PreconditionFailed");

  calls = 0;
  s = p.Run(false, [&](int) { ++calls; return Unavailable("down"); });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace chromapact::aws
