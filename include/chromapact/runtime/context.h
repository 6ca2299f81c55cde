// The per-invocation context a Lambda handler receives: what the Runtime API's /next response told
// us about this invocation (source: AWS doc "Using the Lambda runtime API for custom runtimes",
// runtimes-api.html, "Next invocation" response headers; docs/aws-notes.md §7).
#pragma once

#include <cstdint>
#include <string>

namespace chromapact::runtime {

struct Context {
  // Lambda-Runtime-Aws-Request-Id: the invocation's id; never empty for a context given to a handler.
  std::string request_id;
  // Lambda-Runtime-Deadline-Ms: when the invocation times out, Unix epoch milliseconds (UTC).
  // 0 when the header was absent or not a number.
  int64_t deadline_ms = 0;
  // Lambda-Runtime-Invoked-Function-Arn, e.g. "arn:aws:lambda:us-east-1:123456789012:function:f".
  std::string function_arn;
  // Lambda-Runtime-Trace-Id, X-Ray "Root=…;Parent=…;Sampled=…"; empty when absent. The loop also
  // exports it as the environment variable _X_AMZN_TRACE_ID for the handler's duration (and unsets
  // it when the header is absent), as the Runtime API doc asks.
  std::string trace_id;
  // Lambda-Runtime-Client-Context / Lambda-Runtime-Cognito-Identity (JSON text as sent by mobile
  // SDK callers); empty when absent.
  std::string client_context;
  std::string cognito_identity;
  // Lambda-Runtime-Aws-Tenant-Id (tenant-isolated functions); empty when absent.
  std::string tenant_id;

  // Milliseconds left until deadline_ms, measured against the system clock; negative once the
  // deadline has passed. When deadline_ms is 0 (unknown) returns INT64_MAX.
  int64_t RemainingTimeMs() const;
  // The same against a given "now" (Unix epoch ms), for callers that already read the clock.
  int64_t RemainingTimeMs(int64_t now_ms) const;
};

// The system clock as Unix epoch milliseconds (UTC).
int64_t NowUnixMs();

}  // namespace chromapact::runtime
