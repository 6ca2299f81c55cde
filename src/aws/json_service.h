// Transport shared by the JSON-protocol clients (SQS, DynamoDB, Secrets Manager): POST / to the service
// endpoint with X-Amz-Target, Content-Type application/x-amz-json-1.0 (or 1.1: JsonServiceSpec) and a
// JSON body, SigV4-signed (re-signed on every attempt), retried per RetryPolicy (retry.h: throttling / 5xx / network errors, full-jitter backoff), and
// non-2xx answers mapped to a Status carrying AwsErrorInfo.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/http.h"
#include "chromapact/aws/retry.h"
#include "chromapact/status.h"

namespace chromapact::aws::internal {

struct JsonServiceSpec {
  std::string signing_name;  // "sqs", "dynamodb"
  std::string endpoint_prefix;  // host prefix of the public endpoint: https://<prefix>.<region>.amazonaws.com
  // The JSON protocol version the service speaks: 1.0 (SQS, DynamoDB) or "application/x-amz-json-1.1"
  // (Secrets Manager: AWS Secrets Manager API Reference, "Common Parameters"/request examples).
  std::string content_type = "application/x-amz-json-1.0";
};

struct JsonCallOptions {
  int max_attempts = 3;
  int64_t timeout_ms = 10000;  // per attempt
  int64_t base_delay_ms = 50;  // full-jitter backoff (retry.h)
  int64_t cap_delay_ms = 2000;
};

class JsonService {
 public:
  JsonService(ClientConfig config, JsonServiceSpec spec, JsonCallOptions options);
  ~JsonService();

  // Sends `body` as operation `target` (the full X-Amz-Target value, e.g. "AmazonSQS.SendMessage").
  // Returns the parsed JSON answer ({} for an empty 2xx body). On an AWS error the Status carries
  // AwsErrorInfo and, when `error_body` is non-null, *error_body receives the error's JSON body
  // (null when it was not JSON, e.g. moto's XML ErrorResponse). `extra_timeout_ms` is added to the
  // per-attempt timeout (long polls).
  Result<nlohmann::json> Call(const std::string& target, const nlohmann::json& body,
                              nlohmann::json* error_body = nullptr, int64_t extra_timeout_ms = 0);

  const std::string& url() const { return url_; }

 private:
  ClientConfig config_;
  JsonServiceSpec spec_;
  JsonCallOptions options_;
  RetryPolicy retry_;
  std::string url_;   // endpoint + "/"
  std::string host_;  // Host header value: authority of url_
  std::unique_ptr<HttpClient> http_;
};

// Maps a non-2xx answer of a JSON-protocol service to a Status (exposed for unit tests):
// the code is the suffix after '#' of the JSON "__type" (else X-Amzn-ErrorType up to ':', else the
// <Code> of an XML <ErrorResponse>), the message is "message" or "Message" (or XML <Message>), the
// request id comes from x-amzn-requestid / x-amz-request-id. `op` names the call in the message.
Status JsonProtocolError(const std::string& op, const HttpResponse& resp);

// The StatusCode for an AWS error code and HTTP status (see status.h for the classes).
StatusCode ClassifyAwsError(const std::string& code, int http_status);

}  // namespace chromapact::aws::internal
