// A small HTTP/1.1 client over libcurl: one reusable connection pool per HttpClient, explicit
// timeouts, bodies from memory or streamed from/to files.
//
// Every request carries an explicit Content-Type when it has a body (libcurl's default
// application/x-www-form-urlencoded makes some servers parse and drop the body: docs/aws-notes.md §2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::aws {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST, HEAD, DELETE
  std::string url;             // absolute, already percent-encoded as it goes on the wire
  HttpHeaders headers;         // sent as given (names are case-insensitive on the wire)
  std::string body;            // used when body_file is empty and body_ref is null
  // When set (and body_file is empty), the body is *body_ref instead of `body`: not owned, it must
  // outlive Send. Lets a caller send a large in-memory body without copying it into the request.
  const std::string* body_ref = nullptr;
  std::string body_file;       // stream the body from this file (size from the file)
  uint64_t body_file_offset = 0;  // with body_file: first byte to send
  int64_t body_file_length = -1;  // with body_file: bytes to send; -1 = to the end
  std::string response_file;   // when set and the status is 2xx, stream the body here (truncating)
  int64_t timeout_ms = 30000;  // whole-request timeout; 0 = none
  int64_t connect_timeout_ms = 5000;
};

struct HttpResponse {
  int status = 0;  // HTTP status code
  HttpHeaders headers;  // names lower-cased
  std::string body;     // empty when streamed to response_file; reserved from a 2xx Content-Length
  // Value of the first header named `name` (lower-case), or "".
  std::string Header(const std::string& name) const;
};

// Sends requests; safe to use from one thread at a time (give each thread its own HttpClient).
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request (no retries: see retry.h). A response with any status is OK at this level.
  // Errors: kUnavailable for connection/DNS/send/receive failures, kTimeout when timeout_ms passed,
  // kIOError when body_file / response_file cannot be opened.
  Result<HttpResponse> Send(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::aws
