// JSON log lines on stdout, one object per line, for CloudWatch Logs:
//   {"timestamp":"2026-11-22T18:46:38.123Z","level":"info","message":"…","request_id":"…",<fields>}
// timestamp is UTC ISO-8601 with milliseconds; request_id is present while an invocation runs
// (RunHandler sets it); fields are the caller's key/values. The process-wide spdlog default logger
// is replaced by one with this format, so plain spdlog::info(...) calls elsewhere come out as JSON
// too (without fields).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>

#include "chromapact/status.h"

namespace chromapact::runtime {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn" (or "warning"), "error", case-insensitive, surrounding spaces ignored.
// Errors: kInvalidArgument naming CHROMAPACT_LOG_LEVEL and the value.
Result<LogLevel> ParseLogLevel(std::string_view text);

// Installs the JSON logger on stdout as spdlog's default logger, at the level from the environment
// variable CHROMAPACT_LOG_LEVEL (default info; an unparsable value gives info and one warning line
// saying so). Safe to call more than once (re-reads the level). Log() calls it on first use.
void InitLogging();

// Sets the minimum level of the default logger (after InitLogging).
void SetLogLevel(LogLevel level);

// A formatter that renders every spdlog message as the JSON line above (with '\n'), for any sink.
// Messages that are not valid UTF-8 are rendered with U+FFFD replacements, never dropped.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter();

// The request id stamped on each line; empty removes the key. Process-wide (Lambda runs one
// invocation at a time), thread-safe.
void SetLogRequestId(std::string request_id);
std::string LogRequestId();

// Logs `message` with `fields` (a JSON object; anything else is logged under the key "fields").
// A field named like a fixed key (timestamp, level, message, request_id) is written as "_<name>".
// Fields reach the line only through this call on the logging thread (spdlog's sync logger), which
// is what InitLogging installs.
void Log(LogLevel level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());
inline void LogDebug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) { Log(LogLevel::kDebug, m, f); }
inline void LogInfo(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) { Log(LogLevel::kInfo, m, f); }
inline void LogWarn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) { Log(LogLevel::kWarn, m, f); }
inline void LogError(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) { Log(LogLevel::kError, m, f); }

// "2026-11-22T18:46:38.123Z" for a Unix epoch time in milliseconds (UTC).
std::string FormatUtcMillis(int64_t unix_ms);

}  // namespace chromapact::runtime
