#include "chromapact/status.h"

#include <gtest/gtest.h>

namespace chromapact {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("x: must be even, got " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  CP_ASSIGN_OR_RETURN(int h, Half(x));
  CP_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, OkAndErrorsRenderAndCarryAwsDetails) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "OK");
  Status s(StatusCode::kPreconditionFailed, "pointer moved", AwsErrorInfo{"PreconditionFailed", 412, "R1"});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "PreconditionFailed: pointer moved [aws=PreconditionFailed http=412 request_id=R1]");
  EXPECT_EQ(s.WithContext("commit").message(), "commit: pointer moved");
  EXPECT_FALSE(s.retryable());
  EXPECT_TRUE(Status(StatusCode::kThrottled, "slow down").retryable());
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "x: must be even, got 3");
  Result<int> from_ok = Status();
  EXPECT_EQ(from_ok.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace chromapact
