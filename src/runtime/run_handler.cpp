#include "chromapact/runtime/run_handler.h"

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <random>
#include <thread>
#include <typeinfo>

#include "chromapact/runtime/logging.h"
#include "runtime_api_client.h"

namespace chromapact::runtime {
namespace {

std::string RuntimeApiAddress(const RunOptions& options) {
  if (!options.runtime_api.empty()) return options.runtime_api;
  const char* v = std::getenv("AWS_LAMBDA_RUNTIME_API");
  return v != nullptr ? v : "";
}

std::string Demangle(const char* name) {
  int rc = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &rc);
  std::string s = (rc == 0 && out != nullptr) ? out : name;
  std::free(out);
  return s;
}

// Calls the handler; nothing escapes (an exception becomes Runtime.UnhandledException).
HandlerResult CallHandler(const Handler& handler, const std::string& event, const Context& context) {
  try {
    return handler(event, context);
  } catch (const std::exception& e) {
    return HandlerResult::Failure("Runtime.UnhandledException", Demangle(typeid(e).name()) + ": " + e.what(),
                                  {"exception escaped the handler: " + Demangle(typeid(e).name())});
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    const std::string name = t != nullptr ? Demangle(t->name()) : "unknown";
    return HandlerResult::Failure("Runtime.UnhandledException", "exception of type " + name + " escaped the handler",
                                  {"exception escaped the handler: " + name});
  }
}

void ExportTraceId(const std::string& trace_id) {
  if (trace_id.empty()) {
    unsetenv("_X_AMZN_TRACE_ID");
  } else {
    setenv("_X_AMZN_TRACE_ID", trace_id.c_str(), 1);
  }
}

// One invocation: handler, size check, post. Post failures are logged, not fatal (see header).
void Invoke(const Handler& handler, const internal::NextInvocation& next, internal::RuntimeApiClient& client,
            const RunOptions& options) {
  const Context& ctx = next.context;
  SetLogRequestId(ctx.request_id);
  ExportTraceId(ctx.trace_id);
  LogDebug("invocation start", {{"deadline_ms", ctx.deadline_ms}, {"event_bytes", next.event.size()}});

  HandlerResult result = CallHandler(handler, next.event, ctx);
  if (result.ok() && result.payload().size() > options.max_response_bytes) {
    result = HandlerResult::Failure(
        "Function.ResponseSizeTooLarge",
        "Response payload size (" + std::to_string(result.payload().size()) +
            " bytes) exceeded maximum allowed payload size (" + std::to_string(options.max_response_bytes) +
            " bytes).");
  }

  Status posted;
  if (result.ok()) {
    posted = client.PostResponse(ctx.request_id, result.payload(), result.content_type());
    LogDebug("invocation done", {{"response_bytes", result.payload().size()}});
  } else {
    LogError("invocation failed", {{"error_type", result.error().type}, {"error_message", result.error().message}});
    posted = client.PostError(ctx.request_id, result.error());
  }
  if (!posted.ok()) LogError("could not post the invocation result", {{"status", posted.ToString()}});
  SetLogRequestId("");
}

}  // namespace

Status RunHandler(const Handler& handler, const RunOptions& options) {
  const std::string address = RuntimeApiAddress(options);
  if (address.empty()) return InvalidArgument("AWS_LAMBDA_RUNTIME_API is not set (and no runtime_api option)");
  CP_ASSIGN_OR_RETURN(auto client, internal::RuntimeApiClient::Create(address));

  std::mt19937_64 rng(std::random_device{}());
  int answered = 0;
  int failures = 0;
  const int max_attempts = options.next_max_attempts < 1 ? 1 : options.next_max_attempts;
  while (true) {
    if (options.max_invocations > 0 && answered >= options.max_invocations) return Status::Ok();
    if (options.stop != nullptr && options.stop->load()) return Status::Ok();

    auto next = client->Next();
    if (!next.ok()) {
      const Status& st = next.status();
      if (!st.retryable()) {
        LogError("runtime api: giving up", {{"status", st.ToString()}});
        return st;
      }
      ++failures;
      if (failures >= max_attempts) {
        LogError("runtime api: GET /next kept failing", {{"attempts", failures}, {"status", st.ToString()}});
        return Unavailable("GET /next failed " + std::to_string(failures) + " times in a row; last: " + st.message());
      }
      // Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
      const int shift = failures - 1 < 30 ? failures - 1 : 30;
      int64_t cap = options.next_backoff_base_ms << shift;
      if (cap > options.next_backoff_cap_ms || cap < 0) cap = options.next_backoff_cap_ms;
      const int64_t wait_ms =
          cap > 0 ? std::uniform_int_distribution<int64_t>(0, cap)(rng) : 0;
      LogWarn("runtime api: GET /next failed, retrying",
              {{"attempt", failures}, {"wait_ms", wait_ms}, {"status", st.ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      continue;
    }
    failures = 0;
    Invoke(handler, *next, *client, options);
    ++answered;
  }
}

Status ReportInitError(const FunctionError& error, const RunOptions& options) {
  const std::string address = RuntimeApiAddress(options);
  LogError("init failed", {{"error_type", error.type}, {"error_message", error.message}});
  if (address.empty()) return InvalidArgument("AWS_LAMBDA_RUNTIME_API is not set (and no runtime_api option)");
  CP_ASSIGN_OR_RETURN(auto client, internal::RuntimeApiClient::Create(address));
  Status st = client->PostInitError(error);
  if (!st.ok()) {
    LogError("could not post /init/error", {{"status", st.ToString()}});
    return Unavailable(st.message());
  }
  return Status::Ok();
}

}  // namespace chromapact::runtime
