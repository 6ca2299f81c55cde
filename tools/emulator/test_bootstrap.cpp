// chromapact-test-bootstrap: a custom-runtime bootstrap for tests and benchmarks of the runtime loop
// and the emulator. Each event chooses a behaviour: {"action": ...}
//   echo                       returns the event unchanged
//   context, "env": [names]    returns the Context, _X_AMZN_TRACE_ID and the named variables
//   error, "type", "message"   returns a function error
//   throw, "message"           throws std::runtime_error; throw_int throws an int
//   sleep, "ms"                sleeps, then returns {"slept_ms", "started_ms", "ended_ms", "pid"}
//                              (Unix epoch ms around the sleep: tests check invocations never overlap)
//   exit, "code"               ends the process at once with that exit code
//   huge, "bytes"              returns a JSON string exactly `bytes` bytes long
// An SQS event ({"Records":[...]}, no "action") is answered as a compactor would with partial batch
// responses: each record's body {"result":"ok"|"fail"|"error"} -> "fail" records are listed in
// batchItemFailures, any "error" makes the whole invocation a function error; a body with "answer"
// makes that JSON value the whole response instead (to test odd partial batch responses). With
// CP_TEST_SQS_LOG=file each record is appended to that file as one JSON line first.
// Start-up, from the environment: CP_TEST_INIT_LOG=file appends "<pid>\n" (counts cold starts);
// CP_TEST_INIT_FAIL=1 reports an init error and exits 1; CP_TEST_INIT_EXIT=n exits with n
// without reporting; CP_TEST_INIT_SLEEP_MS=n sleeps before the loop; CP_TEST_MAX_RESPONSE_BYTES=n
// replaces the loop's 6 MiB response limit (to reach the emulator's own 413).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "chromapact/runtime/logging.h"
#include "chromapact/runtime/run_handler.h"

namespace rt = chromapact::runtime;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

rt::HandlerResult HandleSqs(const nlohmann::json& event) {
  const std::string log = Env("CP_TEST_SQS_LOG");
  nlohmann::json failures = nlohmann::json::array();
  bool error = false;
  const nlohmann::json* answer = nullptr;
  nlohmann::json answer_value;
  for (const auto& record : event["Records"]) {
    if (!log.empty()) std::ofstream(log, std::ios::app) << record.dump() << "\n";
    const nlohmann::json body = nlohmann::json::parse(record.value("body", ""), nullptr, false);
    const std::string result = body.is_object() ? body.value("result", "ok") : "ok";
    if (result == "fail") failures.push_back({{"itemIdentifier", record.value("messageId", "")}});
    if (result == "error") error = true;
    if (body.is_object() && body.contains("answer")) {
      answer_value = body["answer"];
      answer = &answer_value;
    }
  }
  if (error) return rt::HandlerResult::Failure("Function.BatchError", "a record asked for a function error");
  if (answer != nullptr) return rt::HandlerResult::Success(answer->dump());
  return rt::HandlerResult::Success(nlohmann::json({{"batchItemFailures", failures}}).dump());
}

rt::HandlerResult Handle(const std::string& event, const rt::Context& ctx) {
  const nlohmann::json j = nlohmann::json::parse(event, nullptr, false);
  if (!j.is_object()) return rt::HandlerResult::Failure("InvalidArgument", "event: not a JSON object");
  if (j.contains("Records") && !j.contains("action")) return HandleSqs(j);
  const std::string action = j.value("action", "");
  if (action == "echo") return rt::HandlerResult::Success(event);
  if (action == "context") {
    nlohmann::json out = {{"request_id", ctx.request_id},
                          {"deadline_ms", ctx.deadline_ms},
                          {"function_arn", ctx.function_arn},
                          {"trace_id", ctx.trace_id},
                          {"env_trace_id", Env("_X_AMZN_TRACE_ID")},
                          {"client_context", ctx.client_context},
                          {"remaining_ms", ctx.RemainingTimeMs()},
                          {"pid", static_cast<int>(getpid())}};
    nlohmann::json env = nlohmann::json::object();
    for (const auto& name : j.value("env", std::vector<std::string>{})) {
      const char* v = std::getenv(name.c_str());
      env[name] = v != nullptr ? nlohmann::json(v) : nlohmann::json(nullptr);
    }
    out["env"] = env;
    return rt::HandlerResult::Success(out.dump());
  }
  if (action == "error") {
    return rt::HandlerResult::Failure(j.value("type", "TestError"), j.value("message", ""), {"frame one", "frame two"});
  }
  if (action == "throw") throw std::runtime_error(j.value("message", "thrown"));
  if (action == "throw_int") throw 42;
  if (action == "sleep") {
    const int ms = j.value("ms", 0);
    const int64_t started = rt::NowUnixMs();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return rt::HandlerResult::Success(nlohmann::json({{"slept_ms", ms},
                                                      {"started_ms", started},
                                                      {"ended_ms", rt::NowUnixMs()},
                                                      {"pid", static_cast<int>(getpid())}})
                                          .dump());
  }
  if (action == "exit") std::_Exit(j.value("code", 1));
  if (action == "huge") {
    const size_t bytes = j.value("bytes", size_t{2});
    std::string s(bytes < 2 ? 2 : bytes, 'x');
    s.front() = '"';
    s.back() = '"';
    return rt::HandlerResult::Success(std::move(s));
  }
  return rt::HandlerResult::Failure("InvalidArgument", "event.action: unknown \"" + action + "\"");
}

}  // namespace

int main() {
  rt::InitLogging();
  if (const std::string log = Env("CP_TEST_INIT_LOG"); !log.empty()) {
    std::ofstream(log, std::ios::app) << getpid() << "\n";
  }
  if (const std::string ms = Env("CP_TEST_INIT_SLEEP_MS"); !ms.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(ms.c_str())));
  }
  if (const std::string code = Env("CP_TEST_INIT_EXIT"); !code.empty()) return std::atoi(code.c_str());
  if (Env("CP_TEST_INIT_FAIL") == "1") {
    (void)rt::ReportInitError({"TestInitFailure", "init failed on purpose (CP_TEST_INIT_FAIL=1)", {}});
    return 1;
  }
  rt::RunOptions options;
  if (const std::string max = Env("CP_TEST_MAX_RESPONSE_BYTES"); !max.empty()) {
    options.max_response_bytes = std::strtoull(max.c_str(), nullptr, 10);
  }
  const chromapact::Status st = rt::RunHandler(Handle, options);
  if (!st.ok()) rt::LogError("runtime loop ended", {{"status", st.ToString()}});
  return st.ok() ? 0 : 1;
}
