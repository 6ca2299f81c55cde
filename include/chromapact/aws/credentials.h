// AWS credentials, region and endpoints from the environment.
//
// Names follow the AWS SDKs' standard variables (AWS doc "Environment variables to configure the AWS
// CLI" and "Service-specific endpoints"): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION (falling back to AWS_DEFAULT_REGION), AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.
#pragma once

#include <string>

#include "chromapact/status.h"

namespace chromapact::aws {

// Secrets: never log, print or put these into a Status message.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys; sent as X-Amz-Security-Token otherwise
};

// For logs: "Credentials{access_key_id=AKID..., secret_access_key=<redacted>, session_token=<set>|<none>}".
// Never contains the secret or the session token.
std::string ToString(const Credentials& c);

// Reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
// Errors: kInvalidArgument naming the missing variable when the key id or secret is unset or empty.
Result<Credentials> CredentialsFromEnvironment();

// AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1".
std::string RegionFromEnvironment();

// The endpoint for `service` ("s3", "sqs", "dynamodb"): AWS_ENDPOINT_URL_<SERVICE upper-case>, else
// AWS_ENDPOINT_URL, else empty (meaning: the public AWS endpoint for the region). Empty variables
// count as unset; trailing '/' is removed.
std::string EndpointFromEnvironment(const std::string& service);

// Everything one client needs to reach one service.
struct ClientConfig {
  Credentials credentials;
  std::string region = "us-east-1";
  // Base URL without trailing slash, e.g. "http://127.0.0.1:5000". Empty: the public AWS endpoint
  // https://<service>.<region>.amazonaws.com (S3: virtual-host style https://<bucket>.s3.<region>...).
  std::string endpoint;
};

// For logs: "ClientConfig{region=..., endpoint=..., credentials=<ToString(Credentials)>}" (no secrets).
std::string ToString(const ClientConfig& c);

// Credentials, region and the endpoint for `service` from the environment.
// Errors: as CredentialsFromEnvironment.
Result<ClientConfig> ClientConfigFromEnvironment(const std::string& service);

}  // namespace chromapact::aws
