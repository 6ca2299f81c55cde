// S3Client's internals shared by s3.cpp (single requests) and s3_multipart.cpp (internal).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chromapact/aws/http.h"
#include "chromapact/aws/retry.h"
#include "chromapact/aws/s3.h"
#include "s3_wire.h"

namespace chromapact::aws {

// One S3 call: what to sign and send, and how to read the answer.
struct S3Call {
  std::string op;  // "PutObject s3://bucket/key", used as the Status context
  s3_wire::RequestSpec spec;
  std::string body;            // in-memory body (used when body_file is empty and body_ref is null)
  const std::string* body_ref = nullptr;  // when set: the body is these caller-owned bytes (no copy)
  std::string body_file;       // stream the body from [offset, offset + length) of this file
  uint64_t body_file_offset = 0;
  int64_t body_file_length = -1;
  std::string response_file;   // 2xx body streamed here
  bool accept_304 = false;     // a 304 answer is a result, not an error (conditional GET)
  bool error_in_200 = false;   // a 2xx <Error> body is an error (Copy, CompleteMultipartUpload)
};

struct S3Client::Impl {
  Impl(ClientConfig c, S3Options o)
      : config(std::move(c)), options(o), retry(o.retry) {}

  // Signs and sends `call` (re-signed on every attempt), retried per `retry`. Returns the 2xx
  // (or accepted 304) answer, else the mapped error Status. `attempts`, when set, receives how
  // many attempts were made.
  Result<HttpResponse> Execute(const S3Call& call, int* attempts = nullptr);

  // HttpClients are pooled: each thread of a call holds its own while it sends.
  std::unique_ptr<HttpClient> AcquireHttp();
  void ReleaseHttp(std::unique_ptr<HttpClient> http);

  ClientConfig config;
  S3Options options;
  RetryPolicy retry;
  std::mutex mu;
  std::vector<std::unique_ptr<HttpClient>> pool;  // idle clients
};

// "s3://bucket/key" for messages.
inline std::string S3Uri(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + (key.empty() ? "" : "/" + key);
}

}  // namespace chromapact::aws
