// HandlerResult, the /error body shape and the Lambda-Runtime-Function-Error-Type header rule
// ((Runtime|Function)\.[A-Z][a-zA-Z]+, docs/aws-notes.md §7).
#include "chromapact/runtime/handler_result.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace chromapact::runtime {
namespace {

using nlohmann::json;

TEST(HandlerResultTest, SuccessAndFailure) {
  const HandlerResult ok = HandlerResult::Success("[1]");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.payload(), "[1]");
  EXPECT_EQ(ok.content_type(), "application/json");
  EXPECT_EQ(HandlerResult::Success("x", "").content_type(), "application/json");

  const HandlerResult bad = HandlerResult::Failure("", "m");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().type, "Function.Unknown");
  EXPECT_EQ(json::parse(bad.ErrorJson()),
            json({{"errorMessage", "m"}, {"errorType", "Function.Unknown"}, {"stackTrace", json::array()}}));

  const HandlerResult st = HandlerResult::FromStatus(NotFound("collection \"c\": no such collection"));
  EXPECT_EQ(st.error().type, "NotFound");
  EXPECT_EQ(st.error().message, "collection \"c\": no such collection");
  EXPECT_EQ(HandlerResult::FromStatus(Status::Ok()).error().type, "Internal");
}

TEST(HandlerResultTest, ErrorJsonKeepsOrderAndSurvivesInvalidUtf8) {
  const std::string s = ErrorJson({"T", std::string("bad \xff"), {"a"}});
  EXPECT_EQ(s.find("\"errorMessage\""), 1u);  // {"errorMessage",...,"errorType",...,"stackTrace"}
  EXPECT_LT(s.find("\"errorType\""), s.find("\"stackTrace\""));
  const json j = json::parse(s);
  EXPECT_NE(j["errorMessage"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(ErrorTypeHeaderTest, FollowsLambdasPattern) {
  EXPECT_EQ(ErrorTypeHeader("Runtime.UnhandledException"), "Runtime.UnhandledException");
  EXPECT_EQ(ErrorTypeHeader("Function.ResponseSizeTooLarge"), "Function.ResponseSizeTooLarge");
  EXPECT_EQ(ErrorTypeHeader("InvalidArgument"), "Function.InvalidArgument");
  EXPECT_EQ(ErrorTypeHeader("Runtime.bad"), "Runtime.Unknown");
  EXPECT_EQ(ErrorTypeHeader("Runtime.Bad1"), "Runtime.Unknown");
  EXPECT_EQ(ErrorTypeHeader("Function.X"), "Function.Unknown");  // needs 2+ letters
  EXPECT_EQ(ErrorTypeHeader("invalid"), "Function.Unknown");
  EXPECT_EQ(ErrorTypeHeader("Has Space"), "Function.Unknown");
  EXPECT_EQ(ErrorTypeHeader(""), "Function.Unknown");
  EXPECT_EQ(ErrorTypeHeader("Other.Thing"), "Function.Unknown");
}

}  // namespace
}  // namespace chromapact::runtime
