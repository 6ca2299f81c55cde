// ObjectStore over aws::S3Client for one bucket.
#include <time.h>

#include <cstdio>
#include <utility>

#include "chromapact/pipeline/object_store_s3.h"

namespace chromapact::pipeline {
namespace {

// "2026-12-01T10:00:00.000Z" (ListObjectsV2) -> epoch ms; 0 when unparsable.
int64_t ParseIsoMs(const std::string& s) {
  struct tm tm = {};
  int ms = 0;
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
  if (n < 6) return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (n == 7 ? ms : 0);
}

// "Tue, 01 Dec 2026 10:00:00 GMT" (HEAD / GET Last-Modified) -> epoch ms; 0 when unparsable.
int64_t ParseHttpDateMs(const std::string& s) {
  struct tm tm = {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// S3 answers 409 ConditionalRequestConflict when a concurrent conditional write to the same key won
// (S3 User Guide "Conditional writes"): for our callers that is the same as a lost condition.
Status MapConditional(Status st) {
  if (st.aws() && st.aws()->error_code == "ConditionalRequestConflict") {
    return Status(StatusCode::kPreconditionFailed, st.message(), *st.aws());
  }
  return st;
}

aws::S3PutOptions ToS3(const PutObjectOptions& o) {
  aws::S3PutOptions out;
  out.content_type = o.content_type;
  out.if_none_match_any = o.if_none_match_any;
  out.if_match = o.if_match;
  return out;
}

ObjectMeta FromInfo(const std::string& key, const aws::S3ObjectInfo& info) {
  return {key, static_cast<int64_t>(info.size), info.etag, ParseHttpDateMs(info.last_modified)};
}

class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(aws::S3Client* client, std::unique_ptr<aws::S3Client> owned, std::string bucket)
      : client_(client), owned_(std::move(owned)), bucket_(std::move(bucket)) {}

  Result<ObjectMeta> Put(const std::string& key, const std::string& body,
                         const PutObjectOptions& o) override {
    auto r = client_->PutObject(bucket_, key, body, ToS3(o));
    if (!r.ok()) return MapConditional(r.status());
    return ObjectMeta{key, static_cast<int64_t>(body.size()), r->etag, 0};
  }

  Result<ObjectMeta> PutFile(const std::string& key, const std::string& path,
                             const PutObjectOptions& o) override {
    auto r = client_->PutFile(bucket_, key, path, ToS3(o));
    if (!r.ok()) return MapConditional(r.status());
    // The size as stored (the file could change under us; S3's answer carries no length).
    auto head = client_->HeadObject(bucket_, key);
    if (!head.ok()) return ObjectMeta{key, -1, r->etag, 0};
    ObjectMeta meta = FromInfo(key, *head);
    meta.etag = r->etag;
    return meta;
  }

  Result<std::string> Get(const std::string& key, ObjectMeta* meta) override {
    CP_ASSIGN_OR_RETURN(auto r, client_->GetObject(bucket_, key));
    if (meta != nullptr) *meta = FromInfo(key, r.info);
    return std::move(r.body);
  }

  Result<ObjectMeta> GetToFile(const std::string& key, const std::string& path) override {
    CP_ASSIGN_OR_RETURN(auto r, client_->GetObjectToFile(bucket_, key, path));
    return FromInfo(key, r.info);
  }

  Result<ObjectMeta> Head(const std::string& key) override {
    CP_ASSIGN_OR_RETURN(auto info, client_->HeadObject(bucket_, key));
    return FromInfo(key, info);
  }

  Result<std::vector<ObjectMeta>> List(const std::string& prefix) override {
    aws::S3ListRequest req;
    req.bucket = bucket_;
    req.prefix = prefix;
    CP_ASSIGN_OR_RETURN(auto page, client_->ListAllObjects(req));
    std::vector<ObjectMeta> out;
    out.reserve(page.objects.size());
    for (const auto& o : page.objects) {
      out.push_back({o.key, static_cast<int64_t>(o.size), o.etag, ParseIsoMs(o.last_modified)});
    }
    return out;
  }

  Result<std::vector<ObjectMeta>> ListAfter(const std::string& prefix, const std::string& start_after,
                                            size_t limit) override {
    aws::S3ListRequest req;
    req.bucket = bucket_;
    req.prefix = prefix;
    req.start_after = start_after;
    std::vector<ObjectMeta> out;
    for (;;) {
      CP_ASSIGN_OR_RETURN(auto page, client_->ListObjectsV2(req));
      for (const auto& o : page.objects) {
        out.push_back({o.key, static_cast<int64_t>(o.size), o.etag, ParseIsoMs(o.last_modified)});
      }
      if (!page.is_truncated || (limit > 0 && out.size() >= limit)) break;
      req.continuation_token = page.next_continuation_token;
    }
    return out;
  }

  Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>& keys) override {
    std::vector<DeleteFailure> failures;
    if (keys.empty()) return failures;
    CP_ASSIGN_OR_RETURN(auto r, client_->DeleteObjects(bucket_, keys));
    for (auto& e : r.errors) failures.push_back({std::move(e.key), std::move(e.code), std::move(e.message)});
    return failures;
  }

 private:
  aws::S3Client* client_;
  std::unique_ptr<aws::S3Client> owned_;
  std::string bucket_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewS3ObjectStore(aws::S3Client* client, std::string bucket) {
  return std::make_unique<S3ObjectStore>(client, nullptr, std::move(bucket));
}

std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<aws::S3Client> client, std::string bucket) {
  aws::S3Client* raw = client.get();
  return std::make_unique<S3ObjectStore>(raw, std::move(client), std::move(bucket));
}

}  // namespace chromapact::pipeline
