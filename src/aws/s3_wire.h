// S3 REST/XML wire format (internal, no I/O but local file hashing): where a request goes
// (path vs virtual-host style), how it is signed, the XML bodies we send and the XML / header
// answers we read, and how an error answer becomes a Status. Sources: S3 API Reference pages of
// each operation, "Virtual hosting of buckets", "Error responses".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/aws/http.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sigv4.h"
#include "chromapact/status.h"

namespace chromapact::aws::s3_wire {

// Where requests for one bucket go.
struct Endpoint {
  std::string origin;     // "scheme://authority", e.g. "http://127.0.0.1:5000"
  std::string host;       // Host header value (authority)
  std::string base_path;  // path prefix of a custom endpoint without trailing '/', usually ""
  bool path_style = true;
};

// Custom endpoint (config.endpoint non-empty): path style at that endpoint. Public AWS:
// virtual-host https://<bucket>.s3.<region>.amazonaws.com, or path style at
// https://s3.<region>.amazonaws.com when the bucket name contains '.' (or is empty).
Endpoint ResolveEndpoint(const ClientConfig& config, const std::string& bucket);

// The decoded resource path for (bucket, key) at `ep`: path style "/bucket/key" ("/bucket" for
// bucket-level calls), virtual-host "/key" ("/" for bucket-level calls). The key is taken literally.
std::string ResourcePath(const Endpoint& ep, const std::string& bucket, const std::string& key);

// One S3 request before signing.
struct RequestSpec {
  std::string method = "GET";
  std::string bucket;
  std::string key;  // empty: a bucket-level request
  std::vector<std::pair<std::string, std::string>> query;  // decoded (name, value), e.g. {"uploads", ""}
  HttpHeaders headers;  // extra headers, names lower-case (content-type, if-match, x-amz-meta-...)
  std::string payload_sha256 = kEmptyPayloadSha256;  // hex SHA-256 of the body
};

// Builds the HttpRequest (url, headers incl. host / x-amz-date / x-amz-content-sha256 /
// Authorization) for `spec`, signed with S3 rules at `amz_date` ("" = now). Body, files and
// timeouts are left for the caller. Errors: as SignHeaders (kInvalidArgument).
Result<HttpRequest> BuildSigned(const ClientConfig& config, const RequestSpec& spec, const std::string& amz_date = "");

// "bytes=first-last" / "bytes=first-". Errors: kInvalidArgument when last < first (and last != -1).
Result<std::string> RangeHeader(const S3ByteRange& range);

// Adds content-type, If-None-Match / If-Match and x-amz-meta-* of `options` to `headers`.
// `conditions` / `content` select which groups are added.
void AddPutHeaders(const S3PutOptions& options, bool content, bool conditions, HttpHeaders* headers);

// Object metadata from a GetObject / HeadObject answer's headers: ETag, Content-Type,
// Last-Modified, x-amz-meta-*, size from Content-Range's total (ranged) or Content-Length.
S3ObjectInfo InfoFromHeaders(const HttpResponse& resp);

// Percent-decoding; '+' becomes a space when `plus_is_space` (S3 encoding-type=url answers).
std::string UrlDecode(const std::string& s, bool plus_is_space);

// ListObjectsV2 query parameters (list-type=2, encoding-type=url, and the set fields).
std::vector<std::pair<std::string, std::string>> ListQuery(const S3ListRequest& request);
// Parses a <ListBucketResult>; decodes keys/prefixes when <EncodingType>url</EncodingType>.
// Errors: kInternal for malformed XML or a missing root.
Result<S3ListPage> ParseListObjectsV2(const std::string& xml);

// <Delete><Quiet>false</Quiet><Object><Key>...</Key></Object>...</Delete> (keys XML-escaped).
std::string DeleteObjectsBody(const std::vector<std::string>& keys);
// Parses a <DeleteResult> (<Deleted><Key>, <Error><Key><Code><Message>).
Result<S3DeleteResult> ParseDeleteResult(const std::string& xml);

// <CreateBucketConfiguration> naming `region`, or "" for us-east-1 (which takes no body).
std::string CreateBucketBody(const std::string& region);

// <UploadId> of an <InitiateMultipartUploadResult>. Errors: kInternal when absent.
Result<std::string> ParseUploadId(const std::string& xml);
// <CompleteMultipartUpload><Part><PartNumber>n</PartNumber><ETag>..</ETag></Part>...
std::string CompleteMultipartBody(const std::vector<S3CompletedPart>& parts);
// <ETag> of a <CompleteMultipartUploadResult> / <CopyObjectResult>. Errors: kInternal when absent.
Result<std::string> ParseResultEtag(const std::string& xml);

// True when a 2xx body is an <Error> document (CopyObject / CompleteMultipartUpload may answer 200
// and fail later: S3 API Reference of both).
bool IsErrorDocument(const std::string& body);

// The Status for an S3 error answer (any non-2xx, or a 2xx IsErrorDocument): code, message and
// RequestId from <Error>, request id from x-amz-request-id first; a body-less answer (HEAD) gets the
// code NotFound (404), Forbidden (403), PreconditionFailed (412), NotModified (304) or "".
// Classified by ClassifyAwsError. Message: "<op>: HTTP <status> <Code>: <Message>".
Status ErrorFromResponse(const std::string& op, const HttpResponse& resp);

enum class DigestAlgorithm { kSha256, kMd5 };

// Lowercase hex digest of bytes [offset, offset + length) of a file, streamed in 1 MiB reads.
// kSha256 is the signed x-amz-content-sha256 of a file body; kMd5 (a second full pass, so only on
// rare paths) is what a single-part object's ETag holds in double quotes (S3 API Reference, Common
// Response Headers: ETag). Errors: kIOError when the file cannot be opened or is shorter than
// offset + length; kInternal when OpenSSL's EVP init fails.
Result<std::string> FileRangeDigest(const std::string& path, uint64_t offset, uint64_t length,
                                    DigestAlgorithm algorithm);

}  // namespace chromapact::aws::s3_wire
