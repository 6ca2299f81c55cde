// Fuzz target: Lambda Function URL events (payload 2.0, api/function_url.h) and the query-string and
// percent decoders under them. Nothing may crash; an event that parses has an upper-case method
// and a path; a response always converts to an event answer with a numeric statusCode.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/api/function_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chromapact::api;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)PercentDecode(bytes);
  (void)ParseQueryString(bytes);
  const auto event = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded()) return 0;
  auto req = ParseFunctionUrlEvent(event);
  if (req.ok()) {
    for (char c : req->method) {
      if (c >= 'a' && c <= 'z') std::abort();
    }
    HttpResponse resp;
    resp.status = 200;
    resp.body = req->body;  // any bytes, as a handler might echo them
    const nlohmann::json out = ToFunctionUrlResponse(resp);
    if (!out["statusCode"].is_number_integer()) std::abort();
    (void)out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
