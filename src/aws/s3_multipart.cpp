// S3Client multipart upload: the four calls, and UploadFileMultipart, which uploads a file's parts
// from several threads (each with its own pooled HttpClient) and aborts the upload on failure.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "chromapact/aws/s3.h"
#include "chromapact/crypto.h"
#include "s3_client_impl.h"

namespace chromapact::aws {

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket, const std::string& key,
                                                    const S3PutOptions& options) {
  if (bucket.empty() || key.empty()) return InvalidArgument("CreateMultipartUpload: bucket or key is empty");
  S3Call call;
  call.op = "CreateMultipartUpload " + S3Uri(bucket, key);
  call.spec.method = "POST";
  call.spec.bucket = bucket;
  call.spec.key = key;
  call.spec.query = {{"uploads", ""}};
  s3_wire::AddPutHeaders(options, /*content=*/true, /*conditions=*/false, &call.spec.headers);
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  auto id = s3_wire::ParseUploadId(resp.body);
  if (!id.ok()) return id.status().WithContext(call.op);
  return id;
}

Result<std::string> S3Client::UploadPartFromFile(const std::string& bucket, const std::string& key,
                                                 const std::string& upload_id, int part_number,
                                                 const std::string& path, uint64_t offset, uint64_t length) {
  const std::string op = "UploadPart " + S3Uri(bucket, key) + " part " + std::to_string(part_number);
  if (bucket.empty() || key.empty() || upload_id.empty()) return InvalidArgument(op + ": bucket, key or upload id is empty");
  if (part_number < 1 || part_number > kS3MaxParts) return InvalidArgument(op + ": part number outside 1..10000");
  // The signed SHA-256 protects the part (S3 rejects a mismatch: XAmzContentSHA256Mismatch); no
  // Content-MD5, which would be a second pass over the part.
  auto sha256 = s3_wire::FileRangeDigest(path, offset, length, s3_wire::DigestAlgorithm::kSha256);
  if (!sha256.ok()) return sha256.status().WithContext(op);
  S3Call call;
  call.op = op;
  call.spec.method = "PUT";
  call.spec.bucket = bucket;
  call.spec.key = key;
  call.spec.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  call.spec.payload_sha256 = *sha256;
  call.spec.headers = {{"content-type", "application/octet-stream"}};
  call.body_file = path;
  call.body_file_offset = offset;
  call.body_file_length = static_cast<int64_t>(length);
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  std::string etag = resp.Header("etag");
  if (etag.empty()) return Internal(op + ": answer has no ETag");
  return etag;
}

Result<S3PutResult> S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                                      const std::string& upload_id,
                                                      const std::vector<S3CompletedPart>& parts,
                                                      const S3PutOptions& options) {
  const std::string op = "CompleteMultipartUpload " + S3Uri(bucket, key);
  if (bucket.empty() || key.empty() || upload_id.empty()) return InvalidArgument(op + ": bucket, key or upload id is empty");
  if (parts.empty()) return InvalidArgument(op + ": no parts");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].part_number <= parts[i - 1].part_number) return InvalidArgument(op + ": part numbers not ascending");
  }
  S3Call call;
  call.op = op;
  call.spec.method = "POST";
  call.spec.bucket = bucket;
  call.spec.key = key;
  call.spec.query = {{"uploadId", upload_id}};
  call.body = s3_wire::CompleteMultipartBody(parts);
  call.spec.payload_sha256 = Sha256Hex(call.body);
  call.spec.headers = {{"content-type", "application/xml"}};
  s3_wire::AddPutHeaders(options, /*content=*/false, /*conditions=*/true, &call.spec.headers);
  call.error_in_200 = true;
  CP_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Execute(call));
  auto etag = s3_wire::ParseResultEtag(resp.body);
  if (!etag.ok()) return etag.status().WithContext(op);
  return S3PutResult{*etag};
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) {
  if (bucket.empty() || key.empty() || upload_id.empty()) {
    return InvalidArgument("AbortMultipartUpload: bucket, key or upload id is empty");
  }
  S3Call call;
  call.op = "AbortMultipartUpload " + S3Uri(bucket, key);
  call.spec.method = "DELETE";
  call.spec.bucket = bucket;
  call.spec.key = key;
  call.spec.query = {{"uploadId", upload_id}};
  return impl_->Execute(call).status();
}

Result<S3PutResult> S3Client::UploadFileMultipart(const std::string& bucket, const std::string& key,
                                                  const std::string& path, const S3PutOptions& options) {
  const std::string op = "UploadFileMultipart " + S3Uri(bucket, key);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return IOError(op + ": cannot read " + path + ": " + ec.message());
  uint64_t part_size = std::max(impl_->options.part_size, kS3MinPartSize);
  while ((size + part_size - 1) / part_size > static_cast<uint64_t>(kS3MaxParts)) part_size *= 2;
  const int n_parts = size == 0 ? 1 : static_cast<int>((size + part_size - 1) / part_size);

  CP_ASSIGN_OR_RETURN(std::string upload_id, CreateMultipartUpload(bucket, key, options));

  std::vector<S3CompletedPart> parts(static_cast<size_t>(n_parts));
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  auto worker = [&] {
    while (!failed.load()) {
      const int i = next.fetch_add(1);
      if (i >= n_parts) return;
      const uint64_t offset = static_cast<uint64_t>(i) * part_size;
      const uint64_t length = std::min(part_size, size - offset);
      auto etag = UploadPartFromFile(bucket, key, upload_id, i + 1, path, offset, length);
      if (!etag.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = etag.status();
        failed = true;
        return;
      }
      parts[static_cast<size_t>(i)] = {i + 1, *etag};
    }
  };
  const int threads = std::max(1, std::min(impl_->options.upload_concurrency, n_parts));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();  // the calling thread uploads too
  for (auto& t : pool) t.join();

  Status result = first_error;
  if (result.ok()) {
    auto done = CompleteMultipartUpload(bucket, key, upload_id, parts, options);
    if (done.ok()) return done;
    result = done.status();
  }
  // Best effort: the first error is what the caller needs; a failed abort leaves parts that an
  // AbortIncompleteMultipartUpload lifecycle rule removes.
  (void)AbortMultipartUpload(bucket, key, upload_id);
  return result.WithContext(op);
}

}  // namespace chromapact::aws
