// The real chromapact-emulator with the real chromapact-test-bootstrap (or with the test itself
// playing the runtime), over real HTTP, against docs/aws-notes.md §8 "what a minimal local emulator must
// do": the invoke endpoint, one invocation at a time, X-Amz-Function-Error on errors, timeout ->
// kill + cold restart, crash -> restart, the response size limit, init errors, the Runtime API's
// state rules, START/END/REPORT lines, and 127.0.0.1 only.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "chromapact/crypto.h"
#include "emulator_process.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;

constexpr char kInvokePath[] = "/2015-03-31/functions/function/invocations";
constexpr size_t kRuntimeResponseLimit = 6 * 1024 * 1024 + 100;  // 6291556 (docs/aws-notes.md §7)

const std::regex& UuidRe() {
  static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return re;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  std::string Header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? "" : it->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

Reply Post(int port, const std::string& path, const std::string& body, httplib::Headers headers = {}) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  c.set_connection_timeout(5, 0);
  auto r = c.Post(path.c_str(), headers, body, "application/json");
  Reply out;
  if (!r) {
    out.status = -1;
    out.body = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.headers = r->headers;
  return out;
}

Reply Invoke(int port, const json& event, httplib::Headers headers = {}) {
  return Post(port, kInvokePath, event.dump(), std::move(headers));
}

int CountLines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
  return n;
}

// A fresh emulator around the test bootstrap for each test.
class EmulatorTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
    std::vector<std::string> all = {"--bootstrap", TestBootstrapPath()};
    all.insert(all.end(), args.begin(), args.end());
    env.emplace_back("CHROMAPACT_LOG_LEVEL", "error");
    emu_ = std::make_unique<EmulatorProcess>(all, env);
    ASSERT_TRUE(emu_->ok()) << emu_->error();
  }
  int port() const { return emu_->invoke_port(); }
  std::unique_ptr<EmulatorProcess> emu_;
};

TEST_F(EmulatorTest, InvokeReturnsTheHandlersResult) {
  Start({});
  const json event = {{"action", "echo"}, {"payload", {1, 2, 3}}, {"text", "h\u00e9llo"}};
  const Reply r = Invoke(port(), event);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), event);
  EXPECT_EQ(r.Header("X-Amz-Function-Error"), "");
  EXPECT_TRUE(std::regex_match(r.Header("X-Amzn-RequestId"), UuidRe())) << r.Header("X-Amzn-RequestId");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  // Any function name in the path reaches the one function, as Lambda's Invoke path would.
  EXPECT_EQ(Post(port(), "/2015-03-31/functions/other/invocations", event.dump()).Json(), event);
  EXPECT_EQ(Post(port(), "/2015-03-31/functions/function/nope", "{}").status, 404);
}

TEST_F(EmulatorTest, SandboxGetsContextAndEnvironment) {
  Start({"--function-name", "query", "--region", "eu-west-1", "--timeout", "7", "--memory-size", "512", "--handler",
         "query.handler", "--env", "CP_EXTRA=from-flag"},
        {{"CP_USER_VAR", "from-user-env"}, {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}});
  const std::string trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
  const std::string cc = R"({"custom":{"k":"v"}})";
  const int64_t before = NowMs();
  const Reply r = Invoke(port(),
                         {{"action", "context"},
                          {"env",
                           {"AWS_LAMBDA_RUNTIME_API", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME",
                            "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
                            "AWS_ACCESS_KEY_ID", "CP_USER_VAR", "CP_EXTRA"}}},
                         {{"X-Amzn-Trace-Id", trace}, {"X-Amz-Client-Context", Base64Encode(cc)}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["request_id"], r.Header("X-Amzn-RequestId"));
  EXPECT_TRUE(std::regex_match(j["request_id"].get<std::string>(), UuidRe()));
  EXPECT_EQ(j["function_arn"], "arn:aws:lambda:eu-west-1:123456789012:function:query");
  EXPECT_GE(j["deadline_ms"].get<int64_t>(), before + 7000 - 50);
  EXPECT_LE(j["deadline_ms"].get<int64_t>(), NowMs() + 7000 + 50);
  EXPECT_EQ(j["trace_id"], trace);
  EXPECT_EQ(j["env_trace_id"], trace);
  EXPECT_EQ(j["client_context"], cc);
  const json& env = j["env"];
  EXPECT_EQ(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:" + std::to_string(emu_->runtime_port()));
  EXPECT_EQ(env["_HANDLER"], "query.handler");
  EXPECT_EQ(env["LAMBDA_TASK_ROOT"], BuildDir() + "/tools/emulator");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_NAME"], "query");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");
  EXPECT_EQ(env["AWS_REGION"], "eu-west-1");
  EXPECT_EQ(env["AWS_ACCESS_KEY_ID"], "AKIDEXAMPLE");
  EXPECT_EQ(env["CP_USER_VAR"], "from-user-env");
  EXPECT_EQ(env["CP_EXTRA"], "from-flag");

  // Without a caller trace header the emulator makes an X-Ray one, new per invocation.
  const json a = Invoke(port(), {{"action", "context"}}).Json();
  const json b = Invoke(port(), {{"action", "context"}}).Json();
  const std::regex xray(R"(^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$)");
  EXPECT_TRUE(std::regex_match(a["trace_id"].get<std::string>(), xray)) << a.dump();
  EXPECT_NE(a["trace_id"], b["trace_id"]);
  EXPECT_NE(a["request_id"], b["request_id"]);
  EXPECT_EQ(a["pid"], b["pid"]);  // a warm sandbox serves both
}

TEST_F(EmulatorTest, OneInvocationAtATime) {
  Start({});
  constexpr int kN = 4;
  std::vector<std::future<Reply>> calls;
  for (int i = 0; i < kN; ++i) {
    calls.push_back(std::async(std::launch::async, [this] { return Invoke(port(), {{"action", "sleep"}, {"ms", 150}}); }));
  }
  std::vector<std::pair<int64_t, int64_t>> spans;
  std::vector<std::string> ids;
  for (auto& f : calls) {
    const Reply r = f.get();
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.Header("X-Amz-Function-Error"), "") << r.body;
    const json j = r.Json();
    spans.emplace_back(j["started_ms"].get<int64_t>(), j["ended_ms"].get<int64_t>());
    ids.push_back(r.Header("X-Amzn-RequestId"));
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_GE(spans[i].first, spans[i - 1].second) << "invocations " << i - 1 << " and " << i << " overlapped";
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
}

TEST_F(EmulatorTest, FunctionErrorsCarryXAmzFunctionError) {
  Start({});
  const Reply e = Invoke(port(), {{"action", "error"}, {"type", "Function.BadEvent"}, {"message", "ids: empty"}});
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(e.Json(), json({{"errorMessage", "ids: empty"},
                            {"errorType", "Function.BadEvent"},
                            {"stackTrace", {"frame one", "frame two"}}}));

  const Reply t = Invoke(port(), {{"action", "throw"}, {"message", "boom"}});
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(t.Json()["errorType"], "Runtime.UnhandledException");
  EXPECT_NE(t.Json()["errorMessage"].get<std::string>().find("boom"), std::string::npos);

  const Reply bad = Post(port(), kInvokePath, "not json");
  EXPECT_EQ(bad.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(bad.Json()["errorType"], "InvalidArgument");

  // The sandbox survives function errors.
  EXPECT_EQ(Invoke(port(), {{"action", "echo"}}).Header("X-Amz-Function-Error"), "");
}

TEST_F(EmulatorTest, DeadlineKillsAndRestartsTheRuntime) {
  const std::string init_log = MakeTempDir("emulator-init") + "/starts";
  Start({"--timeout", "0.5"}, {{"CP_TEST_INIT_LOG", init_log}});
  const json warm = Invoke(port(), {{"action", "context"}}).Json();
  const int first_pid = warm["pid"];

  const auto t0 = std::chrono::steady_clock::now();
  const Reply r = Invoke(port(), {{"action", "sleep"}, {"ms", 20000}});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(r.Json(), json({{"errorType", "Sandbox.Timeout"}, {"errorMessage", "Task timed out after 0.50 seconds"}}));
  EXPECT_LT(took, std::chrono::seconds(10));  // answered at the deadline, not after the sleep
  // The timed-out runtime is gone (SIGKILLed and reaped by the emulator).
  EXPECT_TRUE(WaitFor([&] { return kill(first_pid, 0) != 0; }, std::chrono::seconds(5)));

  const Reply next = Invoke(port(), {{"action", "context"}});
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.Header("X-Amz-Function-Error"), "");
  EXPECT_NE(next.Json()["pid"], first_pid);
  EXPECT_EQ(CountLines(init_log), 2);  // a cold init for the next invoke
  const std::string log = emu_->Log();
  EXPECT_NE(log.find("Status: timeout\tError Type: Sandbox.Timeout"), std::string::npos) << log;
}

TEST_F(EmulatorTest, CrashMidInvokeIsExitErrorAndTheNextInvokeWorks) {
  const std::string init_log = MakeTempDir("emulator-init") + "/starts";
  Start({}, {{"CP_TEST_INIT_LOG", init_log}});
  const Reply crash = Invoke(port(), {{"action", "exit"}, {"code", 3}});
  EXPECT_EQ(crash.status, 200);
  EXPECT_EQ(crash.Header("X-Amz-Function-Error"), "Unhandled");
  const json j = crash.Json();
  EXPECT_EQ(j["errorType"], "Runtime.ExitError");
  EXPECT_NE(j["errorMessage"].get<std::string>().find("exit status 3"), std::string::npos) << j.dump();
  EXPECT_NE(j["errorMessage"].get<std::string>().find(crash.Header("X-Amzn-RequestId")), std::string::npos);

  const Reply after = Invoke(port(), {{"action", "echo"}, {"n", 1}});
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.Header("X-Amz-Function-Error"), "");
  EXPECT_EQ(after.Json()["n"], 1);
  EXPECT_EQ(CountLines(init_log), 2);
}

TEST_F(EmulatorTest, ResponseSizeLimits) {
  // The bootstrap's own limit (6 MiB, runtime/run_handler.h) turns a larger result into an error.
  Start({});
  const Reply fits = Invoke(port(), {{"action", "huge"}, {"bytes", 6 * 1024 * 1024}});
  ASSERT_EQ(fits.status, 200);
  EXPECT_EQ(fits.Header("X-Amz-Function-Error"), "");
  EXPECT_EQ(fits.body.size(), 6u * 1024 * 1024);
  const Reply over = Invoke(port(), {{"action", "huge"}, {"bytes", 6 * 1024 * 1024 + 1}});
  EXPECT_EQ(over.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(over.Json()["errorType"], "Function.ResponseSizeTooLarge");
  // An invoke request over 6 MiB is refused before reaching the function.
  const Reply too_big_request = Post(port(), kInvokePath, "\"" + std::string(6 * 1024 * 1024, 'r') + "\"");
  EXPECT_EQ(too_big_request.status, 413);
  EXPECT_EQ(too_big_request.Header("X-Amzn-ErrorType"), "RequestTooLargeException");
}

TEST_F(EmulatorTest, RuntimeApiRefusesResponsesOver6291556Bytes) {
  // With the bootstrap's own check lifted, the emulator's Runtime API enforces 6 MiB + 100 B (413).
  Start({}, {{"CP_TEST_MAX_RESPONSE_BYTES", "100000000"}});
  const Reply at = Invoke(port(), {{"action", "huge"}, {"bytes", kRuntimeResponseLimit}});
  ASSERT_EQ(at.status, 200);
  EXPECT_EQ(at.Header("X-Amz-Function-Error"), "");
  EXPECT_EQ(at.body.size(), kRuntimeResponseLimit);
  const Reply over = Invoke(port(), {{"action", "huge"}, {"bytes", kRuntimeResponseLimit + 1}});
  EXPECT_EQ(over.status, 200);
  EXPECT_EQ(over.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(over.Json()["errorType"], "Function.ResponseSizeTooLarge");
  EXPECT_EQ(Invoke(port(), {{"action", "echo"}}).Header("X-Amz-Function-Error"), "");
}

TEST_F(EmulatorTest, InitErrorFailsTheInvokeAndReinitsOnTheNext) {
  const std::string init_log = MakeTempDir("emulator-init") + "/starts";
  Start({}, {{"CP_TEST_INIT_FAIL", "1"}, {"CP_TEST_INIT_LOG", init_log}});
  const Reply first = Invoke(port(), {{"action", "echo"}});
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(first.Json()["errorType"], "TestInitFailure") << first.body;
  EXPECT_NE(first.Json()["errorMessage"].get<std::string>().find("CP_TEST_INIT_FAIL"), std::string::npos);
  const int starts_after_first = CountLines(init_log);
  const Reply second = Invoke(port(), {{"action", "echo"}});
  EXPECT_EQ(second.Json()["errorType"], "TestInitFailure");
  EXPECT_GT(CountLines(init_log), starts_after_first);  // re-initialised, not a dead sandbox
}

TEST_F(EmulatorTest, RuntimeExitDuringInitIsExitError) {
  Start({}, {{"CP_TEST_INIT_EXIT", "4"}});
  const Reply r = Invoke(port(), {{"action", "echo"}});
  EXPECT_EQ(r.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(r.Json()["errorType"], "Runtime.ExitError");
  EXPECT_NE(r.Json()["errorMessage"].get<std::string>().find("exit status 4"), std::string::npos) << r.body;
}

TEST_F(EmulatorTest, StartEndReportLines) {
  Start({"--memory-size", "256"});
  const Reply r = Invoke(port(), {{"action", "echo"}});
  const std::string id = r.Header("X-Amzn-RequestId");
  ASSERT_FALSE(id.empty());
  std::string log;
  ASSERT_TRUE(WaitFor(
      [&] {
        log = emu_->Log();
        return log.find("REPORT RequestId: " + id) != std::string::npos;
      },
      std::chrono::seconds(5)))
      << log;
  const auto start = log.find("START RequestId: " + id + " Version: $LATEST\n");
  const auto end = log.find("END RequestId: " + id + "\n");
  const auto report = log.find("REPORT RequestId: " + id);
  ASSERT_NE(start, std::string::npos) << log;
  ASSERT_NE(end, std::string::npos) << log;
  EXPECT_LT(start, end);
  EXPECT_LT(end, report);
  const std::string line = log.substr(report, log.find('\n', report) - report);
  EXPECT_TRUE(std::regex_search(line, std::regex(R"(\tDuration: [0-9]+\.[0-9]{2} ms\tBilled Duration: [0-9]+ ms)"
                                                 R"(\tMemory Size: 256 MB\tMax Memory Used: [0-9]+ MB)")))
      << line;
  EXPECT_NE(line.find("Init Duration: "), std::string::npos) << line;  // the first invoke of a sandbox
}

// True when a TCP connection to ip:port is accepted.
bool Connects(const char* ip, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Local addresses of LISTEN sockets on `port` from /proc/net/tcp (hex, e.g. "0100007F") and tcp6.
std::vector<std::string> ListenAddresses(int port) {
  std::vector<std::string> out;
  char want[8];
  std::snprintf(want, sizeof want, "%04X", port);
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string slot, local, remote, state;
      ss >> slot >> local >> remote >> state;
      const auto colon = local.rfind(':');
      if (state == "0A" && local.substr(colon + 1) == want) out.push_back(local.substr(0, colon));
    }
  }
  return out;
}

TEST_F(EmulatorTest, ListensOn127001Only) {
  Start({});
  for (int p : {emu_->invoke_port(), emu_->runtime_port()}) {
    EXPECT_EQ(ListenAddresses(p), std::vector<std::string>{"0100007F"}) << "port " << p;
    EXPECT_TRUE(Connects("127.0.0.1", p));
    // Any other address of this host, even another loopback one, is not served.
    EXPECT_FALSE(Connects("127.0.0.2", p)) << "port " << p;
  }
}

// The test plays the runtime itself (the sandbox is a plain `sleep`), to check the Runtime API's
// answers directly.
class RuntimeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emu_ = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", "/usr/bin/sleep", "--timeout", "5", "--", "600"});
    ASSERT_TRUE(emu_->ok()) << emu_->error();
  }
  httplib::Result Next() {
    httplib::Client c("127.0.0.1", emu_->runtime_port());
    c.set_read_timeout(30, 0);
    return c.Get("/2018-06-01/runtime/invocation/next");
  }
  Reply RuntimePost(const std::string& path, const std::string& body, httplib::Headers h = {}) {
    return Post(emu_->runtime_port(), "/2018-06-01/runtime" + path, body, std::move(h));
  }
  std::unique_ptr<EmulatorProcess> emu_;
};

TEST_F(RuntimeApiTest, NextResponseAndStateRules) {
  const json event = {{"hello", "runtime"}};
  auto caller = std::async(std::launch::async, [&] { return Invoke(emu_->invoke_port(), event); });
  const int64_t before = NowMs();
  auto next = Next();  // blocks until the invoke arrives
  ASSERT_TRUE(next) << httplib::to_string(next.error());
  ASSERT_EQ(next->status, 200);
  EXPECT_EQ(json::parse(next->body), event);
  EXPECT_EQ(next->get_header_value("Content-Type"), "application/json");
  const std::string id = next->get_header_value("Lambda-Runtime-Aws-Request-Id");
  EXPECT_TRUE(std::regex_match(id, UuidRe())) << id;
  const int64_t deadline = std::stoll(next->get_header_value("Lambda-Runtime-Deadline-Ms"));
  EXPECT_GE(deadline, before + 5000 - 50);
  EXPECT_LE(deadline, NowMs() + 5000 + 50);
  EXPECT_EQ(next->get_header_value("Lambda-Runtime-Invoked-Function-Arn"),
            "arn:aws:lambda:us-east-1:123456789012:function:function");
  EXPECT_EQ(next->get_header_value("Lambda-Runtime-Trace-Id").rfind("Root=1-", 0), 0u);

  // /init/error after the first /next is a state error.
  EXPECT_EQ(RuntimePost("/init/error", "{}").status, 403);
  EXPECT_EQ(RuntimePost("/invocation/00000000-0000-4000-8000-000000000000/response", "{}").Json()["errorType"],
            "InvalidRequestID");
  EXPECT_EQ(RuntimePost("/invocation/00000000-0000-4000-8000-000000000000/response", "{}").status, 400);

  const Reply ok = RuntimePost("/invocation/" + id + "/response", R"({"answer":42})");
  EXPECT_EQ(ok.status, 202);
  EXPECT_EQ(ok.Json(), json({{"status", "OK"}}));
  const Reply got = caller.get();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, R"({"answer":42})");
  EXPECT_EQ(got.Header("X-Amzn-RequestId"), id);

  const Reply again = RuntimePost("/invocation/" + id + "/response", "{}");
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(again.Json()["errorType"], "InvalidStateTransition");
  EXPECT_EQ(RuntimePost("/invocation/" + id + "/error", "{}").status, 403);
}

TEST_F(RuntimeApiTest, ErrorPostBecomesTheCallersErrorBody) {
  // A non-JSON error body: the type comes from the (valid) header.
  auto caller = std::async(std::launch::async, [&] { return Invoke(emu_->invoke_port(), {{"x", 1}}); });
  auto next = Next();
  ASSERT_TRUE(next);
  const std::string id = next->get_header_value("Lambda-Runtime-Aws-Request-Id");
  EXPECT_EQ(RuntimePost("/invocation/" + id + "/error", "plain text failure",
                        {{"Lambda-Runtime-Function-Error-Type", "Function.PlainFailure"}})
                .status,
            202);
  const Reply got = caller.get();
  EXPECT_EQ(got.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(got.Json()["errorType"], "Function.PlainFailure");
  EXPECT_EQ(got.Json()["errorMessage"], "plain text failure");

  // An invalid header type becomes Function.Unknown when the body names none.
  auto caller2 = std::async(std::launch::async, [&] { return Invoke(emu_->invoke_port(), {{"x", 2}}); });
  auto next2 = Next();
  ASSERT_TRUE(next2);
  const std::string id2 = next2->get_header_value("Lambda-Runtime-Aws-Request-Id");
  EXPECT_NE(id2, id);
  RuntimePost("/invocation/" + id2 + "/error", R"({"errorMessage":"m"})",
              {{"Lambda-Runtime-Function-Error-Type", "lowercase.bad"}});
  EXPECT_EQ(caller2.get().Json()["errorType"], "Function.Unknown");
}

TEST_F(RuntimeApiTest, OversizeResponseIs413AndTheCallerGetsResponseSizeTooLarge) {
  auto caller = std::async(std::launch::async, [&] { return Invoke(emu_->invoke_port(), {{"big", true}}); });
  auto next = Next();
  ASSERT_TRUE(next);
  const std::string id = next->get_header_value("Lambda-Runtime-Aws-Request-Id");
  const Reply r = RuntimePost("/invocation/" + id + "/response", std::string(kRuntimeResponseLimit + 1, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Json()["errorType"], "RequestEntityTooLarge");
  const Reply got = caller.get();
  EXPECT_EQ(got.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(got.Json()["errorType"], "Function.ResponseSizeTooLarge");
}

TEST_F(RuntimeApiTest, UnansweredInvocationTimesOutAndKillsTheSandbox) {
  // A runtime that takes the event and never answers is killed at the deadline (5 s here would be
  // slow; this emulator uses its own short timeout).
  emu_ = std::make_unique<EmulatorProcess>(
      std::vector<std::string>{"--bootstrap", "/usr/bin/sleep", "--timeout", "0.3", "--", "600"});
  ASSERT_TRUE(emu_->ok()) << emu_->error();
  auto caller = std::async(std::launch::async, [&] { return Invoke(emu_->invoke_port(), {{"x", 1}}); });
  auto next = Next();
  ASSERT_TRUE(next);
  const Reply got = caller.get();
  EXPECT_EQ(got.Header("X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(got.Json()["errorMessage"], "Task timed out after 0.30 seconds");
  const std::string id = next->get_header_value("Lambda-Runtime-Aws-Request-Id");
  EXPECT_EQ(RuntimePost("/invocation/" + id + "/response", "{}").status, 403);  // too late
}

}  // namespace
}  // namespace chromapact::testing
