// ObjectStore: the seam through which the pipeline reaches S3 (deltas, snapshot files, manifests).
// Only what the producer, compactor and query need: put (create-only or conditional), get, head,
// list under a prefix, batch delete. The real implementation goes over aws/s3.h (object_store_s3.h);
// the tests' fault injector (tests/support/faults) wraps any ObjectStore to fail or "crash" a call.
//
// Keys are full object keys inside the store's bucket (e.g. "deltas/docs/0/00000000000000000042.cpd"). ETags are
// the strings S3 returns, including their double quotes.
//
// Status codes: kNotFound (NoSuchKey / 404) for a missing object; kPreconditionFailed (S3 412
// PreconditionFailed, also 409 ConditionalRequestConflict when a concurrent conditional write won)
// when If-None-Match / If-Match does not hold; kUnauthenticated / kPermissionDenied; kThrottled /
// kUnavailable after retries; kIOError for local files; kInternal for unparsable answers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::pipeline {

struct ObjectMeta {
  std::string key;
  int64_t size = 0;              // bytes
  std::string etag;              // quoted, as S3 sends it
  int64_t last_modified_ms = 0;  // epoch ms UTC; 0 when the call does not report it
};

struct PutObjectOptions {
  // If-None-Match: * — create only; kPreconditionFailed when the key exists (S3 "conditional writes").
  bool if_none_match_any = false;
  // If-Match: <etag> — replace only that version; kPreconditionFailed on mismatch, kNotFound when
  // the key is absent. Empty: not sent.
  std::string if_match;
  std::string content_type = "application/octet-stream";
};

struct DeleteFailure {
  std::string key;
  std::string code;  // S3 error code, e.g. "AccessDenied"
  std::string message;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Uploads `body` (bytes). Returns the new object's meta (key, size, etag).
  virtual Result<ObjectMeta> Put(const std::string& key, const std::string& body,
                                 const PutObjectOptions& options = {}) = 0;
  // Uploads a local file (multipart when large). Errors as Put, plus kIOError for the file.
  virtual Result<ObjectMeta> PutFile(const std::string& key, const std::string& path,
                                     const PutObjectOptions& options = {}) = 0;
  // The whole object; *meta (if non-null) receives its size and etag.
  virtual Result<std::string> Get(const std::string& key, ObjectMeta* meta = nullptr) = 0;
  // Streams the object to `path` (created or truncated). Returns its meta.
  virtual Result<ObjectMeta> GetToFile(const std::string& key, const std::string& path) = 0;
  virtual Result<ObjectMeta> Head(const std::string& key) = 0;
  // Every object whose key starts with `prefix`, in key order, all pages.
  virtual Result<std::vector<ObjectMeta>> List(const std::string& prefix) = 0;
  // The objects under `prefix` whose key sorts after `start_after` (ListObjectsV2 StartAfter; empty:
  // from the first), in key order, page by page until `limit` objects were read (0: all pages).
  // May return a few more than `limit` (the rest of the last page).
  virtual Result<std::vector<ObjectMeta>> ListAfter(const std::string& prefix, const std::string& start_after,
                                                    size_t limit) = 0;
  // Deletes any number of keys (batched by the implementation). Deleting a missing key is OK (S3).
  // Per-key failures come back in the vector; the Status fails only when a whole call does.
  virtual Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>& keys) = 0;
};

}  // namespace chromapact::pipeline
