// Configuration helpers shared by the bootstraps (header-only; lambdas/<name>/main.cpp include it):
// environment variables, each documented in docs/reference/environment.md.
#pragma once

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/json_nesting.h"
#include "chromapact/runtime/handler_result.h"
#include "chromapact/status.h"
#include "json_error_path.h"

namespace chromapact::lambdas {

// $name, or `dflt` when unset or empty.
inline std::string EnvOr(const char* name, const std::string& dflt) {
  const char* v = std::getenv(name);
  return (v == nullptr || *v == '\0') ? dflt : std::string(v);
}

// $name, required. Errors: kInvalidArgument naming the variable.
inline Result<std::string> EnvRequired(const char* name) {
  std::string v = EnvOr(name, "");
  if (v.empty()) return InvalidArgument(std::string(name) + ": not set");
  return v;
}

// $name as an integer in [min, max], `dflt` when unset. Errors: kInvalidArgument naming the variable.
inline Result<int64_t> EnvInt(const char* name, int64_t dflt, int64_t min, int64_t max) {
  std::string v = EnvOr(name, "");
  if (v.empty()) return dflt;
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || end == v.c_str() || *end != '\0' || n < min || n > max) {
    return InvalidArgument(std::string(name) + ": expected an integer in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "], got '" + v + "'");
  }
  return static_cast<int64_t>(n);
}

// The event text as a JSON value. Errors: kInvalidArgument "<path>: not JSON text (<parser's
// reason>)" where <path> is the field being read (json_error_path.h), e.g. "embeddings[0][3]: not
// JSON text (...); NaN and Infinity are not JSON numbers (RFC 8259 §6)" for Python's json.dumps of a
// NaN; "event" when the error is at the top level; "event: nested deeper than 100 levels" for a
// value past pipeline::kMaxRequestNesting (pipeline/json_nesting.h).
inline Result<nlohmann::json> ParseEvent(const std::string& event) {
  try {
    nlohmann::json parsed = nlohmann::json::parse(event);
    // Before anything copies it: a copy recurses once per level (pipeline/json_nesting.h).
    if (Status deep = pipeline::CheckNesting(parsed, "event"); !deep.ok()) return deep;
    return parsed;
  } catch (const nlohmann::json::parse_error& e) {
    const size_t at = e.byte > 0 ? e.byte - 1 : 0;  // e.byte: 1-based index of the last byte read
    std::string reason = e.what();
    if (const size_t colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
    std::string message = JsonPathAt(event, at) + ": not JSON text (" + reason + ")";
    size_t token = at;  // start of the offending literal
    while (token > 0 && std::isalpha(static_cast<unsigned char>(event[token - 1]))) --token;
    const std::string_view rest = std::string_view(event).substr(std::min(token, event.size()));
    if (rest.rfind("NaN", 0) == 0 || rest.rfind("Infinity", 0) == 0 || rest.rfind("inf", 0) == 0 ||
        rest.rfind("nan", 0) == 0) {
      message += "; NaN and Infinity are not JSON numbers (RFC 8259 section 6)";
    }
    return InvalidArgument(message);
  }
}

// A typed error result whose type is the Status code's name (e.g. "InvalidArgument").
inline runtime::HandlerResult Fail(const Status& st) { return runtime::HandlerResult::FromStatus(st); }

}  // namespace chromapact::lambdas
