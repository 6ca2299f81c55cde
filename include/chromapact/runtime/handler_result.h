// What a Lambda handler returns: a tagged value, either a success payload or a function error, in
// the spirit of aws-lambda-cpp's invocation_response. Handlers never throw across this API (the loop
// turns an escaped exception into an error result anyway).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::runtime {

// A function error as the Runtime API's /error and /init/error bodies carry it:
// {"errorMessage": message, "errorType": type, "stackTrace": stack_trace} (runtimes-api.html).
struct FunctionError {
  std::string type;     // e.g. "InvalidArgument", "Function.ResponseSizeTooLarge"
  std::string message;  // human-readable, names the offending field or step
  std::vector<std::string> stack_trace;  // optional frames or context lines, outermost first
};

class HandlerResult {
 public:
  // A success whose body is `payload` (any bytes; usually JSON) sent with `content_type`.
  static HandlerResult Success(std::string payload, std::string content_type = "application/json");
  // A function error. An empty `type` becomes "Function.Unknown".
  static HandlerResult Failure(std::string type, std::string message, std::vector<std::string> stack_trace = {});
  // A function error from a non-OK Status: type = StatusCodeName(code) (e.g. "InvalidArgument"),
  // message = status.message(). An OK Status is a bug and gives type "Internal".
  static HandlerResult FromStatus(const Status& status);

  bool ok() const { return ok_; }
  // Precondition ok(): the body to post to /response and its Content-Type.
  const std::string& payload() const { return payload_; }
  const std::string& content_type() const { return content_type_; }
  // Precondition !ok().
  const FunctionError& error() const { return error_; }

  // The /error body: {"errorMessage","errorType","stackTrace"} as one JSON object (stackTrace is
  // always an array). Precondition !ok().
  std::string ErrorJson() const;

 private:
  HandlerResult() = default;
  bool ok_ = false;
  std::string payload_;
  std::string content_type_;
  FunctionError error_;
};

// The value for the Lambda-Runtime-Function-Error-Type header derived from an error type. Lambda
// accepts only `(Runtime|Function)\.[A-Z][a-zA-Z]+` (docs/aws-notes.md §7, from RIE's handler code) and
// turns anything else into *.Unknown, so: a matching type is kept; a bare `[A-Z][a-zA-Z]+` name
// such as "InvalidArgument" becomes "Function.InvalidArgument"; anything else "Function.Unknown".
std::string ErrorTypeHeader(const std::string& type);

// The error body for an arbitrary error (same shape as HandlerResult::ErrorJson()).
std::string ErrorJson(const FunctionError& error);

}  // namespace chromapact::runtime
