#include "chromapact/runtime/logging.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace chromapact::runtime {
namespace {

std::mutex g_request_id_mu;
std::string g_request_id;  // guarded by g_request_id_mu
std::once_flag g_init_once;

// Fields of the Log() call in progress on this thread; the formatter runs synchronously inside it.
thread_local const nlohmann::json* tls_fields = nullptr;

const char* LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

bool IsReserved(const std::string& key) {
  return key == "timestamp" || key == "level" || key == "message" || key == "request_id";
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    nlohmann::ordered_json line;
    line["timestamp"] = FormatUtcMillis(ms);
    line["level"] = LevelName(msg.level);
    line["message"] = std::string(msg.payload.data(), msg.payload.size());
    std::string request_id = LogRequestId();
    if (!request_id.empty()) line["request_id"] = std::move(request_id);
    if (tls_fields != nullptr) {
      if (tls_fields->is_object()) {
        for (auto it = tls_fields->begin(); it != tls_fields->end(); ++it) {
          line[IsReserved(it.key()) ? "_" + it.key() : it.key()] = it.value();
        }
      } else if (!tls_fields->is_null()) {
        line["fields"] = *tls_fields;
      }
    }
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

LogLevel LevelFromEnv(bool* bad, std::string* raw) {
  const char* v = std::getenv("CHROMAPACT_LOG_LEVEL");
  *bad = false;
  if (v == nullptr || *v == '\0') return LogLevel::kInfo;
  auto parsed = ParseLogLevel(v);
  if (parsed.ok()) return *parsed;
  *bad = true;
  *raw = v;
  return LogLevel::kInfo;
}

void InstallLogger() {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  sink->set_formatter(MakeJsonFormatter());
  auto logger = std::make_shared<spdlog::logger>("chromapact", std::move(sink));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

void ApplyEnvLevel() {
  bool bad = false;
  std::string raw;
  const LogLevel level = LevelFromEnv(&bad, &raw);
  spdlog::default_logger_raw()->set_level(ToSpd(level));
  if (bad) {
    const nlohmann::json fields = {{"CHROMAPACT_LOG_LEVEL", raw}};
    tls_fields = &fields;
    spdlog::default_logger_raw()->log(spdlog::level::warn, "unknown CHROMAPACT_LOG_LEVEL, using info");
    tls_fields = nullptr;
  }
}

void EnsureLogger() {
  std::call_once(g_init_once, [] {
    InstallLogger();
    ApplyEnvLevel();
  });
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return InvalidArgument("CHROMAPACT_LOG_LEVEL: expected debug, info, warn or error, got \"" +
                         std::string(text) + "\"");
}

void InitLogging() {
  bool ran = false;
  std::call_once(g_init_once, [&] {
    InstallLogger();
    ApplyEnvLevel();
    ran = true;
  });
  if (!ran) ApplyEnvLevel();
}

void SetLogLevel(LogLevel level) {
  EnsureLogger();
  spdlog::default_logger_raw()->set_level(ToSpd(level));
}

std::unique_ptr<spdlog::formatter> MakeJsonFormatter() { return std::make_unique<JsonFormatter>(); }

void SetLogRequestId(std::string request_id) {
  std::lock_guard<std::mutex> lock(g_request_id_mu);
  g_request_id = std::move(request_id);
}

std::string LogRequestId() {
  std::lock_guard<std::mutex> lock(g_request_id_mu);
  return g_request_id;
}

void Log(LogLevel level, std::string_view message, const nlohmann::json& fields) {
  EnsureLogger();
  spdlog::logger* logger = spdlog::default_logger_raw();
  const auto spd = ToSpd(level);
  if (!logger->should_log(spd)) return;
  tls_fields = &fields;
  logger->log(spd, spdlog::string_view_t(message.data(), message.size()));
  tls_fields = nullptr;
}

std::string FormatUtcMillis(int64_t unix_ms) {
  int64_t secs = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

}  // namespace chromapact::runtime
