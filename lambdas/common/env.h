// Configuration helpers shared by the bootstraps (header-only; lambdas/<name>/main.cpp include it):
// environment variables of DESIGN.md §4, each documented in README ("Lambdas").
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/runtime/handler_result.h"
#include "chromapact/status.h"

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

// The event text as a JSON value. Errors: kInvalidArgument "event: not JSON (...)".
inline Result<nlohmann::json> ParseEvent(const std::string& event) {
  nlohmann::json j = nlohmann::json::parse(event, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("event: not JSON text");
  return j;
}

// A typed error result whose type is the Status code's name (e.g. "InvalidArgument").
inline runtime::HandlerResult Fail(const Status& st) { return runtime::HandlerResult::FromStatus(st); }

}  // namespace chromapact::lambdas
