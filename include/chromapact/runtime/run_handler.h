// The Lambda Runtime API loop: the whole public surface of the runtime, as in aws-lambda-cpp's
// run_handler(). A bootstrap's main() builds its handler and calls RunHandler; if start-up fails it
// calls ReportInitError and exits non-zero.
//
// Protocol (source: AWS doc "Using the Lambda runtime API for custom runtimes", runtimes-api.html;
// docs/aws-notes.md §7): base http://$AWS_LAMBDA_RUNTIME_API/2018-06-01;
//   GET  /runtime/invocation/next            (no timeout: the sandbox may be frozen between invokes)
//   POST /runtime/invocation/{id}/response   (the success payload)
//   POST /runtime/invocation/{id}/error      ({"errorMessage","errorType","stackTrace"} +
//                                             Lambda-Runtime-Function-Error-Type)
//   POST /runtime/init/error                 (same body; the process then exits)
// The client is libcurl, with proxies disabled (loopback only) and no Expect: 100-continue.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "chromapact/runtime/context.h"
#include "chromapact/runtime/handler_result.h"
#include "chromapact/status.h"

namespace chromapact::runtime {

// Largest success payload the loop posts: 6 MiB, Lambda's synchronous response quota (AWS doc
// "Lambda quotas"). The Runtime API itself answers 413 only past 6 MiB + 100 B = 6291556 bytes
// (docs/aws-notes.md §7); staying at 6 MiB keeps us under it with room for nothing else to go wrong.
inline constexpr size_t kMaxResponseBytes = 6 * 1024 * 1024;

// The handler: (event body as received from /next, context) -> result. Called on the thread that
// called RunHandler, one invocation at a time. An exception escaping it is caught and reported as a
// "Runtime.UnhandledException" error whose message names the exception type and what().
using Handler = std::function<HandlerResult(const std::string& event, const Context& context)>;

struct RunOptions {
  // host:port of the Runtime API; empty = read $AWS_LAMBDA_RUNTIME_API.
  std::string runtime_api;
  // Return OK after this many invocations have been answered; 0 = never (production).
  int max_invocations = 0;
  // When set, checked before each GET /next: true makes RunHandler return OK. (A /next already
  // waiting is not interrupted: it has no timeout by design.)
  const std::atomic<bool>* stop = nullptr;
  // GET /next is retried on transient failures (connection errors, HTTP 5xx, a 200 without a
  // request id) with exponential backoff and full jitter: attempt k (0-based) waits a uniformly
  // random time in [0, min(cap, base * 2^k)] ms. After next_max_attempts failed attempts in a row
  // RunHandler gives up. A success resets the count.
  int next_max_attempts = 6;
  int64_t next_backoff_base_ms = 50;
  int64_t next_backoff_cap_ms = 2000;
  // Success payloads larger than this (bytes) are not sent; the invocation gets the error
  // "Function.ResponseSizeTooLarge" instead.
  size_t max_response_bytes = kMaxResponseBytes;
};

// Runs the loop: GET /next, call the handler, post /response or /error, repeat.
// Sets the log request id (runtime/logging.h) for each invocation and exports _X_AMZN_TRACE_ID.
// A failed /response or /error post is logged and the loop goes on (the Runtime API decides the
// invocation's fate; the next /next tells whether it is still there).
// Returns OK when max_invocations were answered or *stop became true; kInvalidArgument when no
// Runtime API address is known; kUnavailable when GET /next failed next_max_attempts times in a row;
// kInternal when /next answered a non-retryable status (4xx). The caller should exit non-zero on
// any error.
Status RunHandler(const Handler& handler, const RunOptions& options = RunOptions());

// POSTs `error` to /runtime/init/error (with Lambda-Runtime-Function-Error-Type from
// ErrorTypeHeader(error.type)) and logs it. Call when start-up fails, then exit non-zero.
// Only runtime_api from `options` is used. Errors: kInvalidArgument when no Runtime API address is
// known, kUnavailable when the post failed or was not answered 2xx.
Status ReportInitError(const FunctionError& error, const RunOptions& options = RunOptions());

}  // namespace chromapact::runtime
