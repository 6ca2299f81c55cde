// A small S3 client over the REST/XML protocol (Amazon S3 API Reference), SigV4-signed with S3 rules
// (signing name "s3", x-amz-content-sha256 always sent, the path neither normalised nor encoded
// twice: sigv4.h).
//
// Addressing: with a custom endpoint (ClientConfig::endpoint, from AWS_ENDPOINT_URL_S3 /
// AWS_ENDPOINT_URL) always path style, `<endpoint>/<bucket>/<key>`; with the public AWS endpoint
// virtual-host style `https://<bucket>.s3.<region>.amazonaws.com/<key>` (path style
// `https://s3.<region>.amazonaws.com/<bucket>/<key>` for bucket names with '.', which the TLS
// wildcard certificate does not cover). S3 API Reference "Virtual hosting of buckets".
//
// Keys: any UTF-8 string of 1..1024 bytes, taken literally: "a//b", "./x", "my key+=&ü~*().txt"
// are distinct keys and go on the wire UriEncode'd once, '/' kept (no normalisation).
//
// Errors of every call (Status codes; AWS errors carry AwsErrorInfo: S3 <Error><Code>, HTTP status,
// x-amz-request-id):
//   kNotFound            NoSuchKey, NoSuchBucket, NoSuchUpload, or a 404 without a body (HEAD)
//   kPreconditionFailed  412 (PreconditionFailed: If-Match / If-None-Match lost)
//   kAlreadyExists       BucketAlreadyOwnedByYou, BucketAlreadyExists
//   kPermissionDenied    AccessDenied (IAM policy), or a 403 without a body (HEAD)
//   kUnauthenticated     SignatureDoesNotMatch, InvalidAccessKeyId, InvalidToken, ExpiredToken
//   kThrottled           SlowDown / 503 throttling / 429, after retries ran out
//   kUnavailable         5xx or network errors, after retries ran out
//   kTimeout             a request exceeded S3Options::timeout_ms on every attempt
//   kInvalidArgument     a bad argument (empty bucket/key, bad range, part size) or another 4xx
//   kIOError             a local file cannot be read or written
//   kInternal            an answer we cannot parse
// Messages name the operation, bucket and key; they never contain secrets.
//
// Retries: every operation here is idempotent by S3 semantics and is retried per S3Options::retry
// (retry.h) with a fresh signature. A conditional PutObject / PutObjectFromFile (If-None-Match: * or
// If-Match) whose first attempt was stored but whose answer was lost gets 412 on the retry; then the
// client heads the key and reports success when the object's ETag is our body's MD5 (the single-part
// ETag), i.e. the object holds exactly our bytes. When that HEAD fails (e.g. AccessDenied for a
// caller that may write but not read the key) the outcome is unknown and the PUT answers kTimeout
// ("may have been written by an earlier attempt"), not the 412. CompleteMultipartUpload has no such check: a
// retried conditional complete may report kPreconditionFailed or kNotFound (NoSuchUpload) although
// the object was written.
//
// Thread safety: an S3Client may be used from many threads at once; it keeps a pool of HttpClients
// (one keep-alive connection each), created on demand.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/retry.h"
#include "chromapact/status.h"

namespace chromapact::aws {

inline constexpr uint64_t kMiB = 1024 * 1024;
// S3 limits (S3 User Guide "Amazon S3 multipart upload limits"): every part but the last is
// 5 MiB .. 5 GiB, at most 10000 parts.
inline constexpr uint64_t kS3MinPartSize = 5 * kMiB;
inline constexpr int kS3MaxParts = 10000;

struct S3Options {
  RetryOptions retry{4, 50, 2000};
  int64_t timeout_ms = 120000;        // per attempt, whole request (ms)
  int64_t connect_timeout_ms = 5000;  // per attempt (ms)
  // PutFile uses multipart at and above this size (bytes).
  uint64_t multipart_threshold = 16 * kMiB;
  // Part size for multipart uploads (bytes, >= kS3MinPartSize); grown automatically when the file
  // would need more than kS3MaxParts parts.
  uint64_t part_size = 8 * kMiB;
  // Parts uploaded at once by one multipart upload (threads, each with its own HttpClient), >= 1.
  int upload_concurrency = 4;
};

// Conditions and headers for a write (PutObject, PutFile, CompleteMultipartUpload, CopyObject).
struct S3PutOptions {
  std::string content_type = "application/octet-stream";
  // Send "If-None-Match: *": the write succeeds only when the key does not exist yet, else
  // kPreconditionFailed (S3 User Guide "Conditional writes").
  bool if_none_match_any = false;
  // When not empty, send "If-Match: <etag>" (the ETag as returned, with its quotes): the write
  // succeeds only when the current object has this ETag; kPreconditionFailed on a mismatch,
  // kNotFound when the key does not exist. Not sent by CopyObject (moto ignores it there).
  std::string if_match;
  // User metadata, sent as x-amz-meta-<name> (names lower-case ASCII; values ASCII).
  std::map<std::string, std::string> metadata;
};

struct S3PutResult {
  std::string etag;  // as S3 returned it, with quotes: "\"<md5 hex>\"" or "\"<md5>-<parts>\""
};

// Inclusive byte range of an object (HTTP Range "bytes=first-last"); last = -1 means "to the end".
struct S3ByteRange {
  uint64_t first = 0;
  int64_t last = -1;
};

struct S3GetOptions {
  std::optional<S3ByteRange> range;  // whole object when unset
  // When not empty, send If-None-Match: an unchanged object (same ETag) gives OK with
  // S3GetResult::not_modified = true and no body (HTTP 304).
  std::string if_none_match;
  // When not empty, send If-Match: a different ETag gives kPreconditionFailed (412).
  std::string if_match;
};

// Object metadata (HeadObject, and every GetObject answer).
struct S3ObjectInfo {
  std::string etag;           // with quotes
  uint64_t size = 0;          // whole object size, bytes (from Content-Range on a ranged GET)
  std::string content_type;
  std::string last_modified;  // HTTP date as sent, e.g. "Tue, 01 Dec 2026 10:00:00 GMT"
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix, names lower-case
};

struct S3GetResult {
  bool not_modified = false;  // If-None-Match matched (HTTP 304): body empty, info.etag set
  std::string body;           // the bytes (empty when written to a file)
  uint64_t content_length = 0;  // bytes returned (the range length for a ranged GET)
  S3ObjectInfo info;
};

struct S3ListRequest {
  std::string bucket;
  std::string prefix;              // only keys starting with this (empty: all)
  std::string delimiter;           // e.g. "/": group keys below it into common_prefixes (empty: none)
  std::string continuation_token;  // from the previous page's next_continuation_token
  std::string start_after;         // only keys after this one (first page only)
  int max_keys = 0;                // 1..1000 keys per page; 0 = the server's default (1000)
};

struct S3ListedObject {
  std::string key;
  uint64_t size = 0;          // bytes
  std::string etag;           // with quotes
  std::string last_modified;  // ISO 8601 UTC, e.g. "2026-12-01T10:00:00.000Z"
};

struct S3ListPage {
  std::vector<S3ListedObject> objects;       // in key order (UTF-8 byte order)
  std::vector<std::string> common_prefixes;  // with a delimiter: the grouped prefixes
  bool is_truncated = false;                 // more pages follow
  std::string next_continuation_token;       // set when is_truncated
};

// One key DeleteObjects could not delete.
struct S3DeleteError {
  std::string key;
  std::string code;  // S3 error code, e.g. "AccessDenied"
  std::string message;
};

struct S3DeleteResult {
  std::vector<std::string> deleted;  // keys reported deleted (missing keys count as deleted, as on S3)
  std::vector<S3DeleteError> errors;
};

// One uploaded part of a multipart upload.
struct S3CompletedPart {
  int part_number = 0;  // 1..10000
  std::string etag;     // as UploadPart returned it
};

class S3Client {
 public:
  explicit S3Client(ClientConfig config, S3Options options = {});
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Credentials, region and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL from the environment.
  // Errors: as ClientConfigFromEnvironment.
  static Result<std::unique_ptr<S3Client>> FromEnvironment(S3Options options = {});

  const ClientConfig& config() const;
  const S3Options& options() const;

  // --- Buckets (tests, demo and deployment scripts) ---

  // CreateBucket (with a LocationConstraint outside us-east-1). Errors: kAlreadyExists
  // (BucketAlreadyExists: another owner; BucketAlreadyOwnedByYou: outside us-east-1 only, since
  // us-east-1 answers 200 for a bucket the caller already owns: S3 API Reference CreateBucket).
  Status CreateBucket(const std::string& bucket);
  // DeleteBucket; the bucket must be empty (else kInvalidArgument, code BucketNotEmpty).
  Status DeleteBucket(const std::string& bucket);

  // --- Objects ---

  // PutObject from memory. Returns the new ETag. Errors: see the file comment; conditions per
  // S3PutOptions. The body is sent from `body` itself (not copied) with its SHA-256 signed as
  // x-amz-content-sha256, which S3 checks (XAmzContentSHA256Mismatch); no Content-MD5 (a second full
  // pass over the body; boto3 over http likewise sends a signed SHA-256 plus CRC32, no MD5).
  Result<S3PutResult> PutObject(const std::string& bucket, const std::string& key, const std::string& body,
                                const S3PutOptions& options = {});
  // PutObject streaming the whole file `path` (one request; S3 limit 5 GiB). kIOError when the
  // file cannot be read. Integrity as PutObject: the file's SHA-256 (one read pass before sending)
  // is signed as x-amz-content-sha256; no Content-MD5 (it cost a second digest, ~100 ms CPU per
  // 64 MiB). The file's MD5 is computed only on the lost-answer 412 path (file comment).
  Result<S3PutResult> PutObjectFromFile(const std::string& bucket, const std::string& key, const std::string& path,
                                        const S3PutOptions& options = {});
  // PutObjectFromFile below options().multipart_threshold bytes, else UploadFileMultipart.
  Result<S3PutResult> PutFile(const std::string& bucket, const std::string& key, const std::string& path,
                              const S3PutOptions& options = {});

  // GetObject into memory. Ranged per options.range (kInvalidArgument code InvalidRange when the
  // range starts past the end: HTTP 416). If-None-Match → not_modified; If-Match → 412.
  Result<S3GetResult> GetObject(const std::string& bucket, const std::string& key, const S3GetOptions& options = {});
  // GetObject streamed into the file `path` (created or truncated; left untouched on 304 and on
  // errors before the body arrives). The result's body is empty.
  Result<S3GetResult> GetObjectToFile(const std::string& bucket, const std::string& key, const std::string& path,
                                      const S3GetOptions& options = {});

  // HeadObject. kNotFound when the key (or bucket) does not exist (404 without a body).
  Result<S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key);

  // DeleteObject (one key; deleting a missing key succeeds, as on S3).
  Status DeleteObject(const std::string& bucket, const std::string& key);

  // DeleteObjects: POST ?delete with an XML body and Content-MD5 (which S3 requires here: S3 API
  // Reference DeleteObjects; the only request that sends it), 1000 keys per request (longer
  // lists are split). Per-key failures land in S3DeleteResult::errors with an OK Status.
  Result<S3DeleteResult> DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys);

  // CopyObject (server-side, x-amz-copy-source) to dst_bucket/dst_key; options.content_type and
  // metadata replace the source's when metadata is non-empty (x-amz-metadata-directive REPLACE),
  // else the source's are copied. Returns the new ETag. An <Error> inside a 200 answer is an error.
  Result<S3PutResult> CopyObject(const std::string& src_bucket, const std::string& src_key,
                                 const std::string& dst_bucket, const std::string& dst_key,
                                 const S3PutOptions& options = {});

  // ListObjectsV2: one page (encoding-type=url is requested and decoded, so keys with any bytes
  // survive the XML). kInvalidArgument for max_keys outside 0..1000.
  Result<S3ListPage> ListObjectsV2(const S3ListRequest& request);
  // Every page of ListObjectsV2 from request.continuation_token on, concatenated (objects and
  // common_prefixes; is_truncated false).
  Result<S3ListPage> ListAllObjects(const S3ListRequest& request);

  // --- Multipart upload (S3 API Reference CreateMultipartUpload / UploadPart /
  //     CompleteMultipartUpload / AbortMultipartUpload) ---

  // Starts an upload; returns its UploadId. options.content_type and metadata are sent here.
  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key,
                                            const S3PutOptions& options = {});
  // Uploads part `part_number` (1..10000) from bytes [offset, offset + length) of the file `path`;
  // returns the part's ETag. The part's SHA-256 is signed as x-amz-content-sha256 (S3 checks it);
  // no Content-MD5, as PutObjectFromFile.
  Result<std::string> UploadPartFromFile(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, int part_number, const std::string& path,
                                         uint64_t offset, uint64_t length);
  // Completes the upload from `parts` (ascending part numbers). options.if_none_match_any /
  // if_match are sent here (content_type and metadata belong to CreateMultipartUpload).
  // A part under 5 MiB other than the last gives kInvalidArgument (EntityTooSmall).
  Result<S3PutResult> CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id, const std::vector<S3CompletedPart>& parts,
                                              const S3PutOptions& options = {});
  // Aborts an upload (frees its parts).
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id);

  // Uploads the file `path` as a multipart upload: parts of options().part_size bytes (grown to stay
  // within kS3MaxParts), options().upload_concurrency at a time, each on its own thread and
  // HttpClient. On any failure the upload is aborted and the first error returned. A file of 0 bytes
  // is sent as one empty part.
  Result<S3PutResult> UploadFileMultipart(const std::string& bucket, const std::string& key, const std::string& path,
                                          const S3PutOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::aws
