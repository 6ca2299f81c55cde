#include "chromapact/runtime/handler_result.h"

#include <nlohmann/json.hpp>

namespace chromapact::runtime {

HandlerResult HandlerResult::Success(std::string payload, std::string content_type) {
  HandlerResult r;
  r.ok_ = true;
  r.payload_ = std::move(payload);
  r.content_type_ = content_type.empty() ? "application/json" : std::move(content_type);
  return r;
}

HandlerResult HandlerResult::Failure(std::string type, std::string message, std::vector<std::string> stack_trace) {
  HandlerResult r;
  r.ok_ = false;
  r.error_.type = type.empty() ? "Function.Unknown" : std::move(type);
  r.error_.message = std::move(message);
  r.error_.stack_trace = std::move(stack_trace);
  return r;
}

HandlerResult HandlerResult::FromStatus(const Status& status) {
  if (status.ok()) return Failure("Internal", "handler reported an error with an OK status");
  return Failure(StatusCodeName(status.code()), status.message());
}

std::string HandlerResult::ErrorJson() const { return runtime::ErrorJson(error_); }

std::string ErrorJson(const FunctionError& error) {
  nlohmann::ordered_json j;
  j["errorMessage"] = error.message;
  j["errorType"] = error.type;
  j["stackTrace"] = error.stack_trace;
  // Handlers may echo arbitrary bytes into messages; never let invalid UTF-8 throw here.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAlpha(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }

// [A-Z][a-zA-Z]+
bool IsErrorName(const std::string& s, size_t from) {
  if (s.size() < from + 2 || !IsUpper(s[from])) return false;
  for (size_t i = from + 1; i < s.size(); ++i) {
    if (!IsAlpha(s[i])) return false;
  }
  return true;
}

}  // namespace

std::string ErrorTypeHeader(const std::string& type) {
  for (const char* prefix : {"Runtime.", "Function."}) {
    const std::string p(prefix);
    if (type.compare(0, p.size(), p) == 0) {
      return IsErrorName(type, p.size()) ? type : p + "Unknown";
    }
  }
  if (IsErrorName(type, 0)) return "Function." + type;
  return "Function.Unknown";
}

}  // namespace chromapact::runtime
