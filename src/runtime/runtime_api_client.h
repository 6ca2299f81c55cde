// Internal: the HTTP side of the Runtime API loop over one libcurl easy handle (connection reuse).
// Kept apart from the loop so the loop reads as the protocol and this as the transport.
#pragma once

#include <memory>
#include <string>

#include "chromapact/runtime/context.h"
#include "chromapact/runtime/handler_result.h"
#include "chromapact/status.h"

namespace chromapact::runtime::internal {

struct NextInvocation {
  std::string event;  // the /next body, as received
  Context context;
};

class RuntimeApiClient {
 public:
  // `host_port` as in AWS_LAMBDA_RUNTIME_API, e.g. "127.0.0.1:9001". Errors: kInvalidArgument when
  // empty, kInternal when libcurl cannot make a handle.
  static Result<std::unique_ptr<RuntimeApiClient>> Create(const std::string& host_port);
  struct Impl;
  explicit RuntimeApiClient(std::unique_ptr<Impl> impl);  // use Create()
  ~RuntimeApiClient();
  RuntimeApiClient(const RuntimeApiClient&) = delete;
  RuntimeApiClient& operator=(const RuntimeApiClient&) = delete;

  // One GET /runtime/invocation/next, without a timeout. Errors: kUnavailable for connection errors,
  // HTTP 5xx and a 200 without Lambda-Runtime-Aws-Request-Id (all worth retrying); kInternal for
  // any other status.
  Result<NextInvocation> Next();
  // POST /runtime/invocation/{id}/response. Errors: kUnavailable (transport), kResourceExhausted
  // (413), kInternal (other non-2xx), each naming the step and the answer's body.
  Status PostResponse(const std::string& request_id, const std::string& payload, const std::string& content_type);
  // POST /runtime/invocation/{id}/error with Lambda-Runtime-Function-Error-Type. Errors as above.
  Status PostError(const std::string& request_id, const FunctionError& error);
  // POST /runtime/init/error. Errors as above.
  Status PostInitError(const FunctionError& error);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::runtime::internal
