// How the emulator turns what a runtime posted to /error or /init/error into what the caller gets.
#pragma once

#include <string>

namespace chromapact::emulator {

// Lambda-Runtime-Function-Error-Type must match (Runtime|Function)\.[A-Z][a-zA-Z]+; anything else
// becomes "Runtime.Unknown" (when it starts with "Runtime.") or "Function.Unknown"; an empty header
// stays empty (docs/aws-notes.md §7, from RIE's handler code).
std::string ValidErrorTypeHeader(const std::string& header);

struct ErrorBody {
  std::string json;  // a JSON object with at least errorType and errorMessage
  std::string type;  // its errorType
};

// A JSON object body is kept (errorType filled from the header, or "Function.Unknown", when it has
// none); any other body becomes {"errorType": <header or Function.Unknown>, "errorMessage": body}.
ErrorBody NormalizeErrorBody(const std::string& error_type_header, const std::string& body);

// {"errorType": type, "errorMessage": message} for errors the emulator itself reports.
std::string MakeErrorJson(const std::string& type, const std::string& message);

}  // namespace chromapact::emulator
