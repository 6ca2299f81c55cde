// Lambda Function URL (and API Gateway HTTP API) events, payload format 2.0, to and from the
// handler's HttpRequest / HttpResponse. Source: AWS Lambda Developer Guide, "Invoking Lambda
// function URLs" (request and response payloads): rawPath, rawQueryString,
// requestContext.http.method, headers (lower-case names; repeated headers joined by commas), body
// (a string) + isBase64Encoded; the response {statusCode, headers, body, isBase64Encoded}.
#pragma once

#include <nlohmann/json.hpp>

#include "chromapact/api/http_message.h"
#include "chromapact/status.h"

namespace chromapact::api {

// Errors: kInvalidArgument naming the field ("requestContext.http.method: expected a string",
// "body: not base64", "rawPath: ...") when the event is not a payload 2.0 HTTP event.
Result<HttpRequest> ParseFunctionUrlEvent(const nlohmann::json& event);

// {"statusCode", "headers": {"content-type"}, "body", "isBase64Encoded": false}.
nlohmann::json ToFunctionUrlResponse(const HttpResponse& response);

// Percent-decodes `s` ('+' stays '+'; in a query string the caller maps '+' to ' ' first).
// Errors: kInvalidArgument for a truncated or non-hex escape.
Result<std::string> PercentDecode(const std::string& s);
// "a=1&b=x%20y" -> {a: "1", b: "x y"} ('+' is a space, as in HTML forms). Errors: PercentDecode's.
Result<std::map<std::string, std::string>> ParseQueryString(const std::string& raw);

}  // namespace chromapact::api
