// AWS Signature Version 4 request signing.
//
// Source of the rules: AWS General Reference "Signature Version 4 signing process" (canonical request,
// string to sign, signing key) and the S3 API Reference "Authenticating Requests (AWS Signature
// Version 4)": S3 neither normalises the path nor encodes it twice and always sends
// x-amz-content-sha256; every other service normalises the path (removes "." and "..", collapses
// "//") and URI-encodes each path segment twice. Verified against the aws-c-auth and botocore
// test suites and the S3 documentation examples (docs/aws-notes.md §6).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/status.h"

namespace chromapact::aws {

// The hex SHA-256 of the empty string, and the S3 marker for an unsigned body.
inline constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";

// A request as it will go on the wire.
struct SignableRequest {
  std::string method;  // "GET", "PUT", ...
  // The path as the *decoded* resource name, e.g. "/bucket/my key+1.txt" (the signer encodes it).
  std::string path;
  // Query parameters as decoded (name, value) pairs, in any order; duplicates allowed.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers as (name, value); must include "host". Names are matched case-insensitively.
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body, or kUnsignedPayload (S3 only).
  std::string payload_sha256 = kEmptyPayloadSha256;
};

struct SigningParams {
  std::string region;   // e.g. "us-east-1"
  std::string service;  // signing name: "s3", "sqs", "dynamodb", ...
  // Request time, "YYYYMMDDTHHMMSSZ" (UTC). Empty: now.
  std::string amz_date;
  // S3 rules: no path normalisation, single encoding, x-amz-content-sha256 header added.
  bool s3_rules = false;
  // Without S3 rules: remove "." / ".." segments and collapse "//" before encoding (every AWS
  // service but S3). false only reproduces the suites' "-unnormalized" cases.
  bool normalize_path = true;
  // Without S3 rules: the canonical URI is the wire path (`path` encoded once, see WireTarget)
  // encoded again, i.e. `path` encoded twice, as every AWS service but S3 expects. false encodes
  // `path` once; only the suites need it, because their request files hold the raw wire path
  // (aws-c-auth "use_double_uri_encode" / botocore quote the wire path once more).
  bool double_encode_path = true;
  // Add and sign X-Amz-Security-Token when the credentials carry a session token (true for every
  // AWS service; the test suites also cover signing without it).
  bool sign_session_token = true;
};

// Intermediate values, exposed so tests can compare each step with the published suites.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
  std::string authorization;  // full Authorization header value (header form only)
};

// The URI-encoding of one string by SigV4 rules: unreserved characters A-Z a-z 0-9 - _ . ~ kept,
// every other byte (UTF-8 bytes included) as %XX (upper-case hex); '/' kept when `keep_slash`.
// Example: UriEncode("a b+ü", false) == "a%20b%2B%C3%BC".
std::string UriEncode(const std::string& s, bool keep_slash);

// The request target as it must go on the wire after signing: UriEncode(path, keep '/') (empty path:
// "/"), then "?" and the query pairs UriEncode'd and joined as "k=v&..." in `req.query` order (no "?"
// when there is no query). Append it to the endpoint to build HttpRequest::url. Never fails.
std::string WireTarget(const SignableRequest& req);

// Signs `req` in the header form: adds x-amz-date, x-amz-security-token (when a session token is
// present; signed unless params.sign_session_token is false), x-amz-content-sha256 (S3 rules) and
// Authorization to req->headers, first removing any earlier values of exactly those headers so a
// request can be signed again (retries). Header canonicalisation: names lower-cased, values trimmed
// with inner white-space runs (folded lines included) collapsed to one space, repeated names joined
// with ',' in request order. Query: sorted by encoded name, then encoded value; empty value as "k=".
// Errors: kInvalidArgument when the host header is missing, credentials are empty or amz_date is
// not "YYYYMMDDTHHMMSSZ". Messages never contain the secret or the session token.
Result<SigningResult> SignHeaders(SignableRequest* req, const Credentials& creds, const SigningParams& params);

// Presigns `req` in the query form (X-Amz-Algorithm ... X-Amz-Signature added to req->query, earlier
// X-Amz-* signing parameters removed first) valid for `expires_seconds` (1..604800: AWS S3 API
// Reference "Authenticating Requests: Using Query Parameters"). Every header in req->headers is
// signed (X-Amz-SignedHeaders); the payload hash is req.payload_sha256 (S3: use kUnsignedPayload).
// Errors: as SignHeaders, plus kInvalidArgument for the expiry.
Result<SigningResult> Presign(SignableRequest* req, const Credentials& creds, const SigningParams& params,
                              int64_t expires_seconds);

// S3 aws-chunked streaming upload (S3 API Reference "Signature Calculations for the Authorization
// Header: Transferring Payload in Multiple Chunks"): the signature of one chunk, lowercase hex.
// The seed request is signed with SignHeaders, payload_sha256 "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
// `previous_signature` is the seed's signature for the first chunk, then the previous chunk's;
// the last chunk is empty. params.amz_date must be the seed's (not empty), region/service as there.
// String to sign: "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous "\n" sha256("") "\n"
// chunk_sha256. Errors: kInvalidArgument for empty credentials, region/service or a bad amz_date.
Result<std::string> SignChunk(const Credentials& creds, const SigningParams& params,
                              const std::string& previous_signature, const std::string& chunk_sha256);

// The signing key for (secret, date "YYYYMMDD", region, service), 32 raw bytes:
// HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
// Cached in a small thread-safe process-wide cache keyed by (SHA-256 of the secret, date, region,
// service), so two secrets never share an entry; the cache holds at most 64 keys.
std::string DeriveSigningKey(const std::string& secret, const std::string& date, const std::string& region,
                             const std::string& service);

// The same key computed every time, without the cache (what DeriveSigningKey does on a miss).
std::string ComputeSigningKey(const std::string& secret, const std::string& date, const std::string& region,
                              const std::string& service);

}  // namespace chromapact::aws
