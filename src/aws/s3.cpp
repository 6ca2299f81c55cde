// S3Client: single-request operations (objects, listing, buckets) over the pooled, retried transport.
#include "chromapact/aws/s3.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "chromapact/crypto.h"
#include "s3_client_impl.h"

namespace chromapact::aws {
namespace {

constexpr size_t kMaxKeyBytes = 1024;         // S3 User Guide "Naming Amazon S3 objects"
constexpr size_t kMaxDeleteKeys = 1000;       // S3 API Reference DeleteObjects

Status CheckBucket(const std::string& op, const std::string& bucket) {
  return bucket.empty() ? InvalidArgument(op + ": bucket name is empty") : Status::Ok();
}

Status CheckObject(const std::string& op, const std::string& bucket, const std::string& key) {
  CP_RETURN_IF_ERROR(CheckBucket(op, bucket));
  if (key.empty()) return InvalidArgument(op + " " + S3Uri(bucket, key) + ": key is empty");
  if (key.size() > kMaxKeyBytes) return InvalidArgument(op + ": key longer than 1024 bytes");
  return Status::Ok();
}

Result<uint64_t> FileSize(const std::string& op, const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return IOError(op + ": cannot read " + path + ": " + ec.message());
  return static_cast<uint64_t>(size);
}

}  // namespace

namespace {

// A conditional PUT that was retried may lose to itself: the first attempt stored the object but its
// answer was lost, so the retry gets 412. When the object now holds exactly our bytes (single-part
// ETag = quoted hex MD5), the write did happen and is reported as a success. No PUT sends
// Content-MD5, so `our_md5_hex` (our body's lowercase hex MD5; "" when it cannot be computed) is
// called only on that rare path.
Result<S3PutResult> FinishConditionalPut(S3Client* client, Result<HttpResponse> sent, int attempts,
                                         const std::string& bucket, const std::string& key,
                                         const S3PutOptions& options,
                                         const std::function<std::string()>& our_md5_hex) {
  if (sent.ok()) return S3PutResult{sent->Header("etag")};
  const bool conditional = options.if_none_match_any || !options.if_match.empty();
  if (!conditional || attempts < 2 || sent.status().code() != StatusCode::kPreconditionFailed) return sent.status();
  const std::string md5_hex = our_md5_hex();
  if (md5_hex.empty()) return sent.status();
  auto head = client->HeadObject(bucket, key);
  const std::string ours = "\"" + md5_hex + "\"";
  if (head.ok() && head->etag == ours) return S3PutResult{ours};
  if (!head.ok()) {  // cannot tell whose object it is
    return Status(StatusCode::kTimeout, sent.status().message() + " after " + std::to_string(attempts) +
                                            " attempts; an earlier attempt may have written it (check failed: " +
                                            head.status().ToString() + ")");
  }
  return sent.status();
}

}  // namespace

std::unique_ptr<HttpClient> S3Client::Impl::AcquireHttp() {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!pool.empty()) {
      auto h = std::move(pool.back());
      pool.pop_back();
      return h;
    }
  }
  return std::make_unique<HttpClient>();
}

void S3Client::Impl::ReleaseHttp(std::unique_ptr<HttpClient> http) {
  std::lock_guard<std::mutex> lock(mu);
  if (pool.size() < 16) pool.push_back(std::move(http));
}

Result<HttpResponse> S3Client::Impl::Execute(const S3Call& call, int* attempts) {
  std::unique_ptr<HttpClient> http = AcquireHttp();
  HttpResponse answer;
  Status st = retry.Run(/*idempotent=*/true, [&](int n) -> Status {
    if (attempts != nullptr) *attempts = n;
    auto req = s3_wire::BuildSigned(config, call.spec);
    if (!req.ok()) return req.status().WithContext(call.op + ": signing");
    req->body_ref = call.body_ref != nullptr ? call.body_ref : &call.body;  // no copy of the body
    req->body_file = call.body_file;
    req->body_file_offset = call.body_file_offset;
    req->body_file_length = call.body_file_length;
    req->response_file = call.response_file;
    req->timeout_ms = options.timeout_ms;
    req->connect_timeout_ms = options.connect_timeout_ms;
    auto resp = http->Send(*req);
    if (!resp.ok()) return resp.status().WithContext(call.op);
    const bool ok2xx = resp->status >= 200 && resp->status < 300;
    if ((ok2xx && !(call.error_in_200 && s3_wire::IsErrorDocument(resp->body))) ||
        (call.accept_304 && resp->status == 304)) {
      answer = std::move(resp).value();
      return Status::Ok();
    }
    return s3_wire::ErrorFromResponse(call.op, *resp);
  });
  ReleaseHttp(std::move(http));
  if (!st.ok()) return st;
  return answer;
}

S3Client::S3Client(ClientConfig config, S3Options options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {}

S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::FromEnvironment(S3Options options) {
  CP_ASSIGN_OR_RETURN(ClientConfig config, ClientConfigFromEnvironment("s3"));
  return std::make_unique<S3Client>(std::move(config), options);
}

const ClientConfig& S3Client::config() const { return impl_->config; }
const S3Options& S3Client::options() const { return impl_->options; }

Status S3Client::CreateBucket(const std::string& bucket) {
  CP_RETURN_IF_ERROR(CheckBucket("CreateBucket", bucket));
  S3Call call;
  call.op = "CreateBucket " + S3Uri(bucket, "");
  call.spec.method = "PUT";
  call.spec.bucket = bucket;
  call.body = s3_wire::CreateBucketBody(impl_->config.region);
  if (!call.body.empty()) call.spec.headers.emplace_back("content-type", "application/xml");
  call.spec.payload_sha256 = Sha256Hex(call.body);
  return impl_->Execute(call).status();
}

Status S3Client::DeleteBucket(const std::string& bucket) {
  CP_RETURN_IF_ERROR(CheckBucket("DeleteBucket", bucket));
  S3Call call;
  call.op = "DeleteBucket " + S3Uri(bucket, "");
  call.spec.method = "DELETE";
  call.spec.bucket = bucket;
  return impl_->Execute(call).status();
}

Result<S3PutResult> S3Client::PutObject(const std::string& bucket, const std::string& key, const std::string& body,
                                        const S3PutOptions& options) {
  CP_RETURN_IF_ERROR(CheckObject("PutObject", bucket, key));
  S3Call call;
  call.op = "PutObject " + S3Uri(bucket, key);
  call.spec.method = "PUT";
  call.spec.bucket = bucket;
  call.spec.key = key;
  // The signed payload hash is the integrity check (S3 rejects a body that does not match it:
  // XAmzContentSHA256Mismatch), so no Content-MD5: MD5 would be a second full pass over the body
  // (~2x SHA-256's cost with SHA-NI). boto3 does the same over http (signed payload + CRC32, no MD5).
  call.spec.payload_sha256 = Sha256Hex(body);
  s3_wire::AddPutHeaders(options, /*content=*/true, /*conditions=*/true, &call.spec.headers);
  call.body_ref = &body;  // sent from the caller's bytes, not copied
  int attempts = 0;
  auto sent = impl_->Execute(call, &attempts);
  return FinishConditionalPut(this, std::move(sent), attempts, bucket, key, options,
                              [&body] { return HexEncode(Md5(body)); });
}

Result<S3PutResult> S3Client::PutObjectFromFile(const std::string& bucket, const std::string& key,
                                                const std::string& path, const S3PutOptions& options) {
  const std::string op = "PutObject " + S3Uri(bucket, key);
  CP_RETURN_IF_ERROR(CheckObject("PutObject", bucket, key));
  CP_ASSIGN_OR_RETURN(uint64_t size, FileSize(op, path));
  // As PutObject: the signed SHA-256 protects the body, no Content-MD5 (a second pass, ~100 ms CPU
  // per 64 MiB).
  auto sha256 = s3_wire::FileRangeDigest(path, 0, size, s3_wire::DigestAlgorithm::kSha256);
  if (!sha256.ok()) return sha256.status().WithContext(op);
  S3Call call;
  call.op = op;
  call.spec.method = "PUT";
  call.spec.bucket = bucket;
  call.spec.key = key;
  call.spec.payload_sha256 = *sha256;
  s3_wire::AddPutHeaders(options, true, true, &call.spec.headers);
  call.body_file = path;
  call.body_file_length = static_cast<int64_t>(size);
  int attempts = 0;
  auto sent = impl_->Execute(call, &attempts);
  return FinishConditionalPut(this, std::move(sent), attempts, bucket, key, options, [&path, size] {
    auto md5 = s3_wire::FileRangeDigest(path, 0, size, s3_wire::DigestAlgorithm::kMd5);
    return md5.ok() ? *md5 : std::string();
  });
}

Result<S3PutResult> S3Client::PutFile(const std::string& bucket, const std::string& key, const std::string& path,
                                      const S3PutOptions& options) {
  CP_ASSIGN_OR_RETURN(uint64_t size, FileSize("PutFile " + S3Uri(bucket, key), path));
  if (size >= impl_->options.multipart_threshold) return UploadFileMultipart(bucket, key, path, options);
  return PutObjectFromFile(bucket, key, path, options);
}

namespace {

Result<S3Call> GetCall(const std::string& op, const std::string& bucket, const std::string& key,
                       const S3GetOptions& options) {
  S3Call call;
  call.op = op;
  call.spec.method = "GET";
  call.spec.bucket = bucket;
  call.spec.key = key;
  if (options.range.has_value()) {
    auto range = s3_wire::RangeHeader(*options.range);
    if (!range.ok()) return range.status().WithContext(op);
    call.spec.headers.emplace_back("range", *range);
  }
  if (!options.if_none_match.empty()) call.spec.headers.emplace_back("if-none-match", options.if_none_match);
  if (!options.if_match.empty()) call.spec.headers.emplace_back("if-match", options.if_match);
  call.accept_304 = true;
  return call;
}

S3GetResult GetResultFrom(HttpResponse resp, bool keep_body) {
  S3GetResult r;
  r.not_modified = resp.status == 304;
  r.info = s3_wire::InfoFromHeaders(resp);
  if (r.not_modified) {
    r.info.size = 0;
    return r;
  }
  const std::string cl = resp.Header("content-length");
  r.content_length = cl.empty() ? resp.body.size() : std::strtoull(cl.c_str(), nullptr, 10);
  if (keep_body) r.body = std::move(resp.body);
  return r;
}

}  // namespace

Result<S3GetResult> S3Client::GetObject(const std::string& bucket, const std::string& key,
                                        const S3GetOptions& options) {
  CP_RETURN_IF_ERROR(CheckObject("GetObject", bucket, key));
  CP_ASSIGN_OR_RETURN(S3Call call, GetCall("GetObject " + S3Uri(bucket, key), bucket, key, options));
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  S3GetResult r = GetResultFrom(std::move(resp), true);
  if (!r.not_modified) r.content_length = r.body.size();
  return r;
}

Result<S3GetResult> S3Client::GetObjectToFile(const std::string& bucket, const std::string& key,
                                              const std::string& path, const S3GetOptions& options) {
  CP_RETURN_IF_ERROR(CheckObject("GetObject", bucket, key));
  if (path.empty()) return InvalidArgument("GetObject " + S3Uri(bucket, key) + ": file path is empty");
  CP_ASSIGN_OR_RETURN(S3Call call, GetCall("GetObject " + S3Uri(bucket, key), bucket, key, options));
  call.response_file = path;
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  return GetResultFrom(std::move(resp), false);
}

Result<S3ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  CP_RETURN_IF_ERROR(CheckObject("HeadObject", bucket, key));
  S3Call call;
  call.op = "HeadObject " + S3Uri(bucket, key);
  call.spec.method = "HEAD";
  call.spec.bucket = bucket;
  call.spec.key = key;
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  return s3_wire::InfoFromHeaders(resp);
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  CP_RETURN_IF_ERROR(CheckObject("DeleteObject", bucket, key));
  S3Call call;
  call.op = "DeleteObject " + S3Uri(bucket, key);
  call.spec.method = "DELETE";
  call.spec.bucket = bucket;
  call.spec.key = key;
  return impl_->Execute(call).status();
}

Result<S3DeleteResult> S3Client::DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) {
  CP_RETURN_IF_ERROR(CheckBucket("DeleteObjects", bucket));
  for (const auto& k : keys) CP_RETURN_IF_ERROR(CheckObject("DeleteObjects", bucket, k));  // before any request
  S3DeleteResult all;
  for (size_t start = 0; start < keys.size(); start += kMaxDeleteKeys) {
    std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(start),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), start + kMaxDeleteKeys)));
    S3Call call;
    call.op = "DeleteObjects " + S3Uri(bucket, "");
    call.spec.method = "POST";
    call.spec.bucket = bucket;
    call.spec.query = {{"delete", ""}};
    call.body = s3_wire::DeleteObjectsBody(chunk);
    call.spec.payload_sha256 = Sha256Hex(call.body);
    // S3 requires Content-MD5 (or a checksum header) on DeleteObjects (S3 API Reference DeleteObjects).
    call.spec.headers = {{"content-type", "application/xml"}, {"content-md5", Base64Encode(Md5(call.body))}};
    CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
    auto parsed = s3_wire::ParseDeleteResult(resp.body);
    if (!parsed.ok()) return parsed.status().WithContext(call.op);
    for (auto& k : parsed->deleted) all.deleted.push_back(std::move(k));
    for (auto& e : parsed->errors) all.errors.push_back(std::move(e));
  }
  return all;
}

Result<S3PutResult> S3Client::CopyObject(const std::string& src_bucket, const std::string& src_key,
                                         const std::string& dst_bucket, const std::string& dst_key,
                                         const S3PutOptions& options) {
  CP_RETURN_IF_ERROR(CheckObject("CopyObject", src_bucket, src_key));
  CP_RETURN_IF_ERROR(CheckObject("CopyObject", dst_bucket, dst_key));
  S3Call call;
  call.op = "CopyObject " + S3Uri(src_bucket, src_key) + " -> " + S3Uri(dst_bucket, dst_key);
  call.spec.method = "PUT";
  call.spec.bucket = dst_bucket;
  call.spec.key = dst_key;
  // S3 API Reference CopyObject: x-amz-copy-source is "bucket/key", URL-encoded.
  call.spec.headers.emplace_back("x-amz-copy-source", UriEncode(src_bucket + "/" + src_key, /*keep_slash=*/true));
  const bool replace = !options.metadata.empty();
  if (replace) {
    call.spec.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
    s3_wire::AddPutHeaders(options, /*content=*/true, /*conditions=*/false, &call.spec.headers);
  }
  if (options.if_none_match_any) call.spec.headers.emplace_back("if-none-match", "*");
  call.error_in_200 = true;
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  auto etag = s3_wire::ParseResultEtag(resp.body);
  if (!etag.ok()) return etag.status().WithContext(call.op);
  return S3PutResult{*etag};
}

Result<S3ListPage> S3Client::ListObjectsV2(const S3ListRequest& request) {
  CP_RETURN_IF_ERROR(CheckBucket("ListObjectsV2", request.bucket));
  if (request.max_keys < 0 || request.max_keys > 1000) {
    return InvalidArgument("ListObjectsV2: max_keys " + std::to_string(request.max_keys) + " outside 0..1000");
  }
  S3Call call;
  call.op = "ListObjectsV2 " + S3Uri(request.bucket, "");
  call.spec.method = "GET";
  call.spec.bucket = request.bucket;
  call.spec.query = s3_wire::ListQuery(request);
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  auto page = s3_wire::ParseListObjectsV2(resp.body);
  if (!page.ok()) return page.status().WithContext(call.op);
  return page;
}

Result<S3ListPage> S3Client::ListAllObjects(const S3ListRequest& request) {
  S3ListRequest req = request;
  S3ListPage all;
  while (true) {
    CP_ASSIGN_OR_RETURN(S3ListPage page, ListObjectsV2(req));
    for (auto& o : page.objects) all.objects.push_back(std::move(o));
    for (auto& p : page.common_prefixes) all.common_prefixes.push_back(std::move(p));
    if (!page.is_truncated) break;
    if (page.next_continuation_token == req.continuation_token) {
      return Internal("ListObjectsV2 " + S3Uri(request.bucket, "") + ": continuation token did not advance");
    }
    req.continuation_token = page.next_continuation_token;
    req.start_after.clear();
  }
  return all;
}

}  // namespace chromapact::aws
