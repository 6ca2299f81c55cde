// Snapshot versions on S3 (docs/design/overview.md §3 "Snapshot version"): a version is a
// Chroma persist directory plus manifest.json (codec/manifest.h), stored under a prefix that only
// its writer ever writes to:
//   snapshots/<collection>/<shard>/<version>-<writer_id>/<relative path>   (every file, create-only)
//   snapshots/<collection>/<shard>/<version>-<writer_id>/manifest.json     (uploaded last)
// Since the prefix is fresh and every PUT is If-None-Match: *, two writers of the same version
// number can never overwrite each other's files; which of them becomes current is decided by the
// pointer's compare-and-swap (pointer.h), never by S3. A version whose manifest.json exists has all
// its files (they were uploaded before it); a manifest that no pointer names is garbage for GC.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

// "snapshots/<collection>/<shard>/<version>-<writer_id>/". Precondition: ValidateShardId OK.
std::string SnapshotPrefix(const ShardId& shard, uint64_t version, const std::string& writer_id);

struct PublishStats {
  std::string manifest_key;  // S3 key of the uploaded manifest.json
  uint64_t files = 0;        // files uploaded (manifest.json excluded)
  uint64_t bytes = 0;        // bytes uploaded, manifest.json included
};

// Called after each file upload with the number of files uploaded so far (manifest excluded); a
// non-OK return stops the upload there and is returned (crash-point tests). May be empty.
using UploadHook = std::function<Status(uint64_t files_done)>;

// Publishes the closed persist directory `dir` (no Store may have it open) as `manifest`'s version:
// fills manifest->files with HashDirectoryFiles(dir), validates the manifest (ValidateManifest),
// uploads every file create-only to SnapshotPrefix(shard, manifest->version, manifest->writer_id),
// then manifest.json. A create-only PUT that answers kPreconditionFailed (an earlier attempt of this
// same call landed but its answer was lost) is accepted when the stored object has the same SHA-256.
// Errors: HashDirectoryFiles / ValidateManifest errors; kAlreadyExists naming the key when a stored
// object differs from ours; ObjectStore errors naming the key. Nothing is deleted on failure.
Result<PublishStats> PublishSnapshot(ObjectStore* objects, const ShardId& shard, const std::string& dir,
                                     codec::Manifest* manifest, const UploadHook& hook = {});

struct FetchStats {
  uint64_t files_fetched = 0;  // downloaded (added or changed)
  uint64_t files_reused = 0;   // already in `dir` with the right size and SHA-256
  uint64_t files_removed = 0;  // in `dir` but not in the manifest
  uint64_t bytes_fetched = 0;  // bytes of files downloaded, manifest.json included
};

// Makes `dir` (created when missing) hold exactly the version whose manifest is at `manifest_key`:
// gets and decodes manifest.json, hashes the files already in `dir` (a previously fetched version,
// possibly damaged), downloads only files that are missing or whose size/SHA-256 differs (each to
// a temporary name, verified, then renamed), removes files the manifest does not list, and writes
// manifest.json last. On success `dir` verifies against the returned manifest (VerifyDirectory).
// Errors: kNotFound (manifest or file missing on S3); kCorruption naming the file whose download
// does not match its listed size/SHA-256, or a manifest that does not decode; kIOError; ObjectStore
// errors. On error `dir` may hold a mix and must be fetched again before use.
Result<codec::Manifest> FetchSnapshot(ObjectStore* objects, const std::string& manifest_key,
                                      const std::string& dir, FetchStats* stats = nullptr);

}  // namespace chromapact::pipeline
