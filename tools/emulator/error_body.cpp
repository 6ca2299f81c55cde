#include "error_body.h"

#include <nlohmann/json.hpp>

namespace chromapact::emulator {
namespace {

bool ValidName(const std::string& s, size_t from) {
  if (s.size() < from + 2 || s[from] < 'A' || s[from] > 'Z') return false;
  for (size_t i = from + 1; i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

}  // namespace

std::string ValidErrorTypeHeader(const std::string& header) {
  if (header.empty()) return "";
  if (header.rfind("Runtime.", 0) == 0) return ValidName(header, 8) ? header : "Runtime.Unknown";
  if (header.rfind("Function.", 0) == 0) return ValidName(header, 9) ? header : "Function.Unknown";
  return "Function.Unknown";
}

ErrorBody NormalizeErrorBody(const std::string& error_type_header, const std::string& body) {
  std::string fallback = ValidErrorTypeHeader(error_type_header);
  if (fallback.empty()) fallback = "Function.Unknown";
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(body, nullptr, false);
  ErrorBody out;
  if (j.is_object()) {
    auto it = j.find("errorType");
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) j["errorType"] = fallback;
    if (j.find("errorMessage") == j.end()) j["errorMessage"] = "";
    out.type = j["errorType"].get<std::string>();
  } else {
    j = nlohmann::ordered_json::object();
    j["errorMessage"] = body;
    j["errorType"] = fallback;
    out.type = fallback;
  }
  out.json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

std::string MakeErrorJson(const std::string& type, const std::string& message) {
  nlohmann::ordered_json j;
  j["errorType"] = type;
  j["errorMessage"] = message;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace chromapact::emulator
