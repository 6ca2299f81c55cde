// RunHandler / ReportInitError over real HTTP against an in-process Runtime API (fake_runtime_api.h):
// the exact requests the loop sends (paths, headers, bodies), the Context it builds from /next's
// headers, error reporting, the response size limit and the retries of GET /next.
#include "chromapact/runtime/run_handler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "chromapact/runtime/logging.h"
#include "fake_runtime_api.h"

namespace chromapact::runtime {
namespace {

using chromapact::testing::FakeRuntimeApi;
using chromapact::testing::ScriptedNext;
using nlohmann::json;

constexpr char kBase[] = "/2018-06-01/runtime/invocation/";

RunOptions Options(const FakeRuntimeApi& api, int max_invocations) {
  RunOptions o;
  o.runtime_api = api.address();
  o.max_invocations = max_invocations;
  o.next_backoff_base_ms = 1;  // keep retries quick; the policy's shape is what is tested
  o.next_backoff_cap_ms = 5;
  return o;
}

class RunHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.ok()) << "could not start the in-process Runtime API";
    SetLogLevel(LogLevel::kError);  // keep the test output readable
  }
  FakeRuntimeApi api_;
};

TEST_F(RunHandlerTest, PostsTheHandlersResultToResponse) {
  api_.QueueInvocation("req-1", R"({"n":1})");
  api_.QueueInvocation("req-2", R"({"n":2})");
  std::vector<std::string> events;
  const Status st = RunHandler(
      [&](const std::string& event, const Context&) {
        events.push_back(event);
        const int n = json::parse(event)["n"].get<int>();
        return HandlerResult::Success(json({{"doubled", 2 * n}}).dump(), n == 2 ? "text/plain" : "");
      },
      Options(api_, 2));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(events, (std::vector<std::string>{R"({"n":1})", R"({"n":2})"}));

  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].path, std::string(kBase) + "req-1/response");
  EXPECT_EQ(posts[0].body, R"({"doubled":2})");
  EXPECT_EQ(posts[0].Header("Content-Type"), "application/json");  // empty content type -> JSON
  EXPECT_EQ(posts[1].path, std::string(kBase) + "req-2/response");
  EXPECT_EQ(posts[1].body, R"({"doubled":4})");
  EXPECT_EQ(posts[1].Header("Content-Type"), "text/plain");
  EXPECT_EQ(posts[0].Header("Expect"), "");  // no 100-continue round trip
  // Exactly two GET /next: the loop stops after max_invocations without asking for a third.
  const auto gets = api_.Requests("GET");
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0].path, std::string(kBase) + "next");
}

TEST_F(RunHandlerTest, ContextComesFromNextHeadersAndTraceIdIsExported) {
  const int64_t deadline = FakeRuntimeApi::NowMs() + 42000;
  ScriptedNext n;
  n.body = "{}";
  n.headers = {{"Lambda-Runtime-Aws-Request-Id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"},
               {"Lambda-Runtime-Deadline-Ms", std::to_string(deadline)},
               {"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:query"},
               {"Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"},
               {"Lambda-Runtime-Client-Context", R"({"client":{"app_title":"t"}})"},
               {"Lambda-Runtime-Cognito-Identity", R"({"cognitoIdentityId":"c"})"},
               {"Lambda-Runtime-Aws-Tenant-Id", "tenant-7"}};
  api_.QueueNext(n);
  api_.QueueInvocation("no-trace", "{}");  // a second invocation without a trace header

  std::vector<Context> seen;
  std::vector<std::string> env_trace;
  std::vector<int64_t> remaining;
  const Status st = RunHandler(
      [&](const std::string&, const Context& ctx) {
        seen.push_back(ctx);
        const char* t = std::getenv("_X_AMZN_TRACE_ID");
        env_trace.push_back(t != nullptr ? t : "<unset>");
        remaining.push_back(ctx.RemainingTimeMs());
        return HandlerResult::Success("null");
      },
      Options(api_, 2));
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
  EXPECT_EQ(seen[0].deadline_ms, deadline);
  EXPECT_EQ(seen[0].function_arn, "arn:aws:lambda:eu-west-1:123456789012:function:query");
  EXPECT_EQ(seen[0].trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
  EXPECT_EQ(seen[0].client_context, R"({"client":{"app_title":"t"}})");
  EXPECT_EQ(seen[0].cognito_identity, R"({"cognitoIdentityId":"c"})");
  EXPECT_EQ(seen[0].tenant_id, "tenant-7");
  EXPECT_EQ(env_trace[0], seen[0].trace_id);
  EXPECT_GT(remaining[0], 30000);
  EXPECT_LE(remaining[0], 42000);
  // The second /next had no trace header: the context's trace id is empty and the variable is gone.
  EXPECT_EQ(seen[1].request_id, "no-trace");
  EXPECT_EQ(seen[1].trace_id, "");
  EXPECT_EQ(env_trace[1], "<unset>");
  EXPECT_EQ(seen[1].function_arn, "");
}

TEST_F(RunHandlerTest, ContextDeadlineParsing) {
  Context c;
  EXPECT_EQ(c.RemainingTimeMs(1000), INT64_MAX);  // unknown deadline
  c.deadline_ms = 5000;
  EXPECT_EQ(c.RemainingTimeMs(1000), 4000);
  EXPECT_EQ(c.RemainingTimeMs(6000), -1000);
  // A non-numeric deadline header gives 0 (unknown), not garbage.
  api_.QueueInvocation("r", "{}", {});
  ScriptedNext bad;
  bad.body = "{}";
  bad.headers = {{"Lambda-Runtime-Aws-Request-Id", "bad-deadline"}, {"Lambda-Runtime-Deadline-Ms", "12x"}};
  api_.QueueNext(bad);
  std::vector<int64_t> deadlines;
  ASSERT_TRUE(RunHandler(
                  [&](const std::string&, const Context& ctx) {
                    deadlines.push_back(ctx.deadline_ms);
                    return HandlerResult::Success("{}");
                  },
                  Options(api_, 2))
                  .ok());
  ASSERT_EQ(deadlines.size(), 2u);
  EXPECT_GT(deadlines[0], FakeRuntimeApi::NowMs());
  EXPECT_EQ(deadlines[1], 0);
}

TEST_F(RunHandlerTest, NextHasNoShortTimeout) {
  // The Runtime API doc: "Do not set a timeout on the GET request". A /next the server holds for a
  // while (a frozen or idle sandbox) must still deliver its event.
  ScriptedNext slow;
  slow.body = R"({"slow":true})";
  slow.headers = {{"Lambda-Runtime-Aws-Request-Id", "slow-1"}};
  slow.delay_ms = 1500;
  api_.QueueNext(slow);
  std::string got;
  const Status st = RunHandler(
      [&](const std::string& event, const Context&) {
        got = event;
        return HandlerResult::Success("{}");
      },
      Options(api_, 1));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(got, R"({"slow":true})");
  EXPECT_EQ(api_.Requests("GET").size(), 1u);  // answered on the first request, no retry
}

TEST_F(RunHandlerTest, HandlerErrorPostsErrorShapeAndHeader) {
  api_.QueueInvocation("e-1", "{}");
  api_.QueueInvocation("e-2", "{}");
  api_.QueueInvocation("e-3", "{}");
  int calls = 0;
  const Status st = RunHandler(
      [&](const std::string&, const Context&) {
        ++calls;
        if (calls == 1) return HandlerResult::Failure("Function.BadEvent", "event.ids: empty", {"at a", "at b"});
        if (calls == 2) return HandlerResult::FromStatus(InvalidArgument("embeddings[3]: not finite"));
        return HandlerResult::Failure("not a valid name!", "odd type");
      },
      Options(api_, 3));
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 3u);

  EXPECT_EQ(posts[0].path, std::string(kBase) + "e-1/error");
  EXPECT_EQ(posts[0].Header("Lambda-Runtime-Function-Error-Type"), "Function.BadEvent");
  EXPECT_EQ(posts[0].Header("Content-Type"), "application/json");
  const json b0 = json::parse(posts[0].body);
  EXPECT_EQ(b0, json({{"errorMessage", "event.ids: empty"},
                      {"errorType", "Function.BadEvent"},
                      {"stackTrace", {"at a", "at b"}}}));

  EXPECT_EQ(posts[1].path, std::string(kBase) + "e-2/error");
  EXPECT_EQ(posts[1].Header("Lambda-Runtime-Function-Error-Type"), "Function.InvalidArgument");
  const json b1 = json::parse(posts[1].body);
  EXPECT_EQ(b1["errorType"], "InvalidArgument");
  EXPECT_EQ(b1["errorMessage"], "embeddings[3]: not finite");
  EXPECT_TRUE(b1["stackTrace"].is_array());  // always an array, even when empty

  // A type Lambda would not accept in the header becomes Function.Unknown there; the body keeps it.
  EXPECT_EQ(posts[2].Header("Lambda-Runtime-Function-Error-Type"), "Function.Unknown");
  EXPECT_EQ(json::parse(posts[2].body)["errorType"], "not a valid name!");
}

TEST_F(RunHandlerTest, EscapedExceptionsBecomeUnhandledExceptionErrors) {
  api_.QueueInvocation("t-1", "{}");
  api_.QueueInvocation("t-2", "{}");
  api_.QueueInvocation("t-3", R"({"after":"throw"})");
  int calls = 0;
  std::string third_event;
  const Status st = RunHandler(
      [&](const std::string& event, const Context&) -> HandlerResult {
        ++calls;
        if (calls == 1) throw std::out_of_range("index 9 of 3");
        if (calls == 2) throw 7;
        third_event = event;
        return HandlerResult::Success("{}");
      },
      Options(api_, 3));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(third_event, R"({"after":"throw"})");  // the loop survived both throws
  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].path, std::string(kBase) + "t-1/error");
  EXPECT_EQ(posts[0].Header("Lambda-Runtime-Function-Error-Type"), "Runtime.UnhandledException");
  const json b0 = json::parse(posts[0].body);
  EXPECT_EQ(b0["errorType"], "Runtime.UnhandledException");
  EXPECT_NE(b0["errorMessage"].get<std::string>().find("std::out_of_range: index 9 of 3"), std::string::npos)
      << b0.dump();
  const json b1 = json::parse(posts[1].body);
  EXPECT_EQ(b1["errorType"], "Runtime.UnhandledException");
  EXPECT_NE(b1["errorMessage"].get<std::string>().find("int"), std::string::npos) << b1.dump();
  EXPECT_EQ(posts[2].path, std::string(kBase) + "t-3/response");
}

TEST_F(RunHandlerTest, OversizeResponseBecomesResponseSizeTooLargeError) {
  api_.QueueInvocation("fits", "{}");
  api_.QueueInvocation("too-big", "{}");
  int calls = 0;
  const Status st = RunHandler(
      [&](const std::string&, const Context&) {
        ++calls;
        // The default limit: exactly 6 MiB is sent, one byte more is not.
        return HandlerResult::Success(std::string(kMaxResponseBytes + (calls == 1 ? 0 : 1), 'a'), "text/plain");
      },
      Options(api_, 2));
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].path, std::string(kBase) + "fits/response");
  EXPECT_EQ(posts[0].body.size(), kMaxResponseBytes);
  EXPECT_EQ(posts[1].path, std::string(kBase) + "too-big/error");
  EXPECT_EQ(posts[1].Header("Lambda-Runtime-Function-Error-Type"), "Function.ResponseSizeTooLarge");
  const json b = json::parse(posts[1].body);
  EXPECT_EQ(b["errorType"], "Function.ResponseSizeTooLarge");
  EXPECT_NE(b["errorMessage"].get<std::string>().find(std::to_string(kMaxResponseBytes + 1)), std::string::npos);
  EXPECT_EQ(kMaxResponseBytes, 6u * 1024 * 1024);
}

TEST_F(RunHandlerTest, ResponseLimitIsAnOption) {
  api_.QueueInvocation("small-limit", "{}");
  RunOptions o = Options(api_, 1);
  o.max_response_bytes = 10;
  ASSERT_TRUE(RunHandler([](const std::string&, const Context&) { return HandlerResult::Success("12345678901"); }, o)
                  .ok());
  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].path, std::string(kBase) + "small-limit/error");
}

TEST_F(RunHandlerTest, TransientNextFailuresAreRetried) {
  ScriptedNext fail;
  fail.status = 500;
  fail.body = R"({"errorType":"ServiceException"})";
  api_.QueueNext(fail);
  api_.QueueNext(fail);
  ScriptedNext no_id;  // a 200 without a request id is not an invocation: retried too
  no_id.body = "{}";
  api_.QueueNext(no_id);
  api_.QueueInvocation("after-retries", R"({"ok":1})");
  std::vector<std::string> ids;
  const Status st = RunHandler(
      [&](const std::string&, const Context& ctx) {
        ids.push_back(ctx.request_id);
        return HandlerResult::Success("{}");
      },
      Options(api_, 1));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ids, std::vector<std::string>{"after-retries"});
  EXPECT_EQ(api_.Requests("GET").size(), 4u);
  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].path, std::string(kBase) + "after-retries/response");
}

TEST_F(RunHandlerTest, GivesUpAfterMaxAttemptsOfFailingNext) {
  ScriptedNext fail;
  fail.status = 503;
  for (int i = 0; i < 10; ++i) api_.QueueNext(fail);
  RunOptions o = Options(api_, 0);
  o.next_max_attempts = 3;
  int calls = 0;
  const Status st = RunHandler(
      [&](const std::string&, const Context&) {
        ++calls;
        return HandlerResult::Success("{}");
      },
      o);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("3 times"), std::string::npos) << st.message();
  EXPECT_EQ(api_.Requests("GET").size(), 3u);
  EXPECT_EQ(calls, 0);
}

TEST_F(RunHandlerTest, SuccessResetsTheFailureCount) {
  ScriptedNext fail;
  fail.status = 500;
  // 2 failures, an invocation, 2 failures, an invocation: with 3 attempts allowed this must pass.
  api_.QueueNext(fail);
  api_.QueueNext(fail);
  api_.QueueInvocation("a", "{}");
  api_.QueueNext(fail);
  api_.QueueNext(fail);
  api_.QueueInvocation("b", "{}");
  RunOptions o = Options(api_, 2);
  o.next_max_attempts = 3;
  const Status st = RunHandler([](const std::string&, const Context&) { return HandlerResult::Success("{}"); }, o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(api_.Requests("POST").size(), 2u);
}

TEST_F(RunHandlerTest, ConnectionRefusedIsRetriedThenUnavailable) {
  int port = 0;
  {
    FakeRuntimeApi gone;  // a port that was just free and is closed again
    port = gone.port();
  }
  RunOptions o;
  o.runtime_api = "127.0.0.1:" + std::to_string(port);
  o.next_max_attempts = 2;
  o.next_backoff_base_ms = 1;
  o.next_backoff_cap_ms = 2;
  const Status st = RunHandler([](const std::string&, const Context&) { return HandlerResult::Success("{}"); }, o);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
}

TEST_F(RunHandlerTest, ClientErrorOnNextIsFatalAtOnce) {
  ScriptedNext forbidden;
  forbidden.status = 403;
  forbidden.body = R"({"errorType":"InvalidStateTransition"})";
  api_.QueueNext(forbidden);
  const Status st = RunHandler([](const std::string&, const Context&) { return HandlerResult::Success("{}"); },
                               Options(api_, 0));
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_NE(st.message().find("403"), std::string::npos);
  EXPECT_EQ(api_.Requests("GET").size(), 1u);
}

TEST_F(RunHandlerTest, FailedPostIsLoggedAndTheLoopGoesOn) {
  api_.QueueInvocation("p-1", "{}");
  api_.QueueInvocation("p-2", "{}");
  api_.QueuePostStatus(500);  // the first /response is refused
  int calls = 0;
  const Status st = RunHandler(
      [&](const std::string&, const Context&) {
        ++calls;
        return HandlerResult::Success("{}");
      },
      Options(api_, 2));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(api_.Requests("POST").size(), 2u);
}

TEST_F(RunHandlerTest, StopFlagEndsTheLoopBeforeTheNextGet) {
  api_.QueueInvocation("s-1", "{}");
  api_.QueueInvocation("s-2", "{}");
  std::atomic<bool> stop{false};
  RunOptions o = Options(api_, 0);
  o.stop = &stop;
  const Status st = RunHandler(
      [&](const std::string&, const Context&) {
        stop = true;
        return HandlerResult::Success("{}");
      },
      o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(api_.Requests("GET").size(), 1u);
  EXPECT_EQ(api_.Requests("POST").size(), 1u);
}

TEST_F(RunHandlerTest, ReadsRuntimeApiFromTheEnvironment) {
  api_.QueueInvocation("env-1", "{}");
  setenv("AWS_LAMBDA_RUNTIME_API", api_.address().c_str(), 1);
  RunOptions o = Options(api_, 1);
  o.runtime_api.clear();
  const Status st = RunHandler([](const std::string&, const Context&) { return HandlerResult::Success("{}"); }, o);
  unsetenv("AWS_LAMBDA_RUNTIME_API");
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(api_.Requests("POST").size(), 1u);

  const Status none = RunHandler([](const std::string&, const Context&) { return HandlerResult::Success("{}"); }, o);
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.message().find("AWS_LAMBDA_RUNTIME_API"), std::string::npos);
}

TEST_F(RunHandlerTest, ReportInitErrorPostsInitError) {
  RunOptions o = Options(api_, 0);
  const Status st = ReportInitError({"Runtime.ConfigError", "CHROMAPACT_BUCKET is not set", {"main"}}, o);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto posts = api_.Requests("POST");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].path, "/2018-06-01/runtime/init/error");
  EXPECT_EQ(posts[0].Header("Lambda-Runtime-Function-Error-Type"), "Runtime.ConfigError");
  EXPECT_EQ(json::parse(posts[0].body), json({{"errorMessage", "CHROMAPACT_BUCKET is not set"},
                                              {"errorType", "Runtime.ConfigError"},
                                              {"stackTrace", {"main"}}}));
  EXPECT_TRUE(api_.Requests("GET").empty());

  api_.QueuePostStatus(500);
  EXPECT_EQ(ReportInitError({"X", "y", {}}, o).code(), StatusCode::kUnavailable);
  api_.QueuePostStatus(403);
  EXPECT_EQ(ReportInitError({"X", "y", {}}, o).code(), StatusCode::kUnavailable);
  RunOptions nowhere;
  unsetenv("AWS_LAMBDA_RUNTIME_API");
  EXPECT_EQ(ReportInitError({"X", "y", {}}, nowhere).code(), StatusCode::kInvalidArgument);
}

TEST_F(RunHandlerTest, LogLinesDuringAnInvocationCarryItsRequestId) {
  api_.QueueInvocation("log-req", "{}");
  SetLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStdout();
  const Status st = RunHandler(
      [](const std::string&, const Context&) {
        LogInfo("inside the handler", {{"k", 1}});
        return HandlerResult::Failure("Function.Oops", "bad");
      },
      Options(api_, 1));
  LogInfo("after the loop");
  const std::string out = ::testing::internal::GetCapturedStdout();
  SetLogLevel(LogLevel::kError);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<json> lines;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos);
    const std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty()) lines.push_back(json::parse(line));
    pos = nl == std::string::npos ? out.size() : nl + 1;
  }
  bool saw_inside = false, saw_failed = false, saw_after = false;
  for (const auto& l : lines) {
    if (l["message"] == "inside the handler") {
      saw_inside = true;
      EXPECT_EQ(l["request_id"], "log-req");
      EXPECT_EQ(l["k"], 1);
    } else if (l["message"] == "invocation failed") {
      saw_failed = true;
      EXPECT_EQ(l["level"], "error");
      EXPECT_EQ(l["request_id"], "log-req");
      EXPECT_EQ(l["error_type"], "Function.Oops");
    } else if (l["message"] == "after the loop") {
      saw_after = true;
      EXPECT_FALSE(l.contains("request_id")) << l.dump();
    }
  }
  EXPECT_TRUE(saw_inside && saw_failed && saw_after) << out;
}

}  // namespace
}  // namespace chromapact::runtime
