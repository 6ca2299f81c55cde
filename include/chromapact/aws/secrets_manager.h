// A minimal AWS Secrets Manager client: GetSecretValue (to read an API key at start-up) and
// CreateSecret (tests and set-up scripts).
//
// Wire protocol (AWS Secrets Manager API Reference, "GetSecretValue" / "CreateSecret" request
// examples): POST / with `X-Amz-Target: secretsmanager.<Operation>`,
// `Content-Type: application/x-amz-json-1.1`, a JSON body, SigV4 with signing name "secretsmanager";
// the public endpoint is https://secretsmanager.<region>.amazonaws.com. Errors are HTTP 400/5xx with
// a JSON body {"__type": "<Code>", "Message": ...} (src/aws/json_service.h maps them).
//
// Status codes of every call: kNotFound (ResourceNotFoundException: no such secret, or no version
// with that stage); kPermissionDenied (AccessDeniedException: the IAM policy lacks
// secretsmanager:GetSecretValue, or kms:Decrypt for the secret's key); kUnauthenticated (bad
// signature or credentials); kInvalidArgument (InvalidRequestException / InvalidParameterException /
// DecryptionFailure and other 4xx); kThrottled / kUnavailable after the retries ran out (retry.h).
// AWS errors carry AwsErrorInfo. Secret values never appear in a Status message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "chromapact/aws/credentials.h"
#include "chromapact/status.h"

namespace chromapact::aws {

struct SecretsManagerOptions {
  int max_attempts = 3;        // total attempts per call (retry.h)
  int64_t timeout_ms = 10000;  // per attempt
};

// One version of a secret as GetSecretValue answers it.
struct SecretValue {
  std::string arn;         // ARN
  std::string name;        // Name
  std::string version_id;  // VersionId
  // SecretString; nullopt when the secret holds SecretBinary instead (not read: see has_binary).
  // A secret: never log it or put it into a Status message.
  std::optional<std::string> secret_string;
  bool has_binary = false;  // SecretBinary was present
};

// Not thread-safe (one HttpClient): give each thread its own client.
class SecretsManagerClient {
 public:
  explicit SecretsManagerClient(ClientConfig config, SecretsManagerOptions options = {});
  ~SecretsManagerClient();
  SecretsManagerClient(const SecretsManagerClient&) = delete;
  SecretsManagerClient& operator=(const SecretsManagerClient&) = delete;

  // Config from the environment (credentials.h). The service-specific endpoint variable is the AWS
  // SDKs' AWS_ENDPOINT_URL_SECRETS_MANAGER (AWS SDKs and Tools Reference Guide, "Service-specific
  // endpoints": the service id "Secrets Manager" upper-cased, spaces as '_'), else AWS_ENDPOINT_URL.
  // Errors: as ClientConfigFromEnvironment.
  static Result<std::unique_ptr<SecretsManagerClient>> FromEnvironment(SecretsManagerOptions options = {});

  // GetSecretValue of `secret_id` (a name or an ARN); `version_stage` empty = AWSCURRENT.
  // Errors: kInvalidArgument for an empty id; the codes listed above; kInternal when the answer has
  // neither SecretString nor SecretBinary.
  Result<SecretValue> GetSecretValue(const std::string& secret_id, const std::string& version_stage = "");

  // CreateSecret with a SecretString; returns the new secret's ARN. Errors: kAlreadyExists
  // (ResourceExistsException), and the codes listed above.
  Result<std::string> CreateSecret(const std::string& name, const std::string& secret_string);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::aws
