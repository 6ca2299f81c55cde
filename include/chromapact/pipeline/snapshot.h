// Snapshot versions on S3 (docs/design/overview.md §3 "Snapshot version", docs/design/chunks.md):
// a version is a Chroma persist directory plus manifest.json (codec/manifest.h). Its files are
// stored as content-addressed chunks shared by the shard's versions, its manifest under a prefix
// that only its writer ever writes to:
//   chunks/<collection>/<shard>/<sha256 of the chunk>                      (create-only, immutable)
//   snapshots/<collection>/<shard>/<version>-<writer_id>/manifest.json     (uploaded last)
// (a manifest with chunk_bytes 0, and every format-2 manifest, has its files whole beside it:
//   snapshots/<collection>/<shard>/<version>-<writer_id>/<relative path>).
// Since the prefix is fresh and every PUT is If-None-Match: *, two writers of the same version
// number can never overwrite each other's manifests, and a chunk key names its bytes; which version
// becomes current is decided by the pointer's compare-and-swap (pointer.h), never by S3. A version
// whose manifest.json exists has all its chunks (they were uploaded, or known to be stored, before
// it); a manifest that no pointer names is garbage for GC, and so is a chunk no manifest lists
// (ops/gc.h).
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

// "chunks/<collection>/<shard>/" and the key of the chunk whose SHA-256 is `sha256` (64 lowercase
// hex) under it. Precondition: ValidateShardId OK.
std::string ChunkPrefix(const ShardId& shard);
std::string ChunkKey(const ShardId& shard, const std::string& sha256);

// The chunk size new versions use unless told otherwise (bytes; 64 SQLite pages). Chosen by
// measurement: docs/design/chunks.md.
inline constexpr uint64_t kDefaultChunkBytes = 256u << 10;

struct PublishStats {
  std::string manifest_key;     // S3 key of the uploaded manifest.json
  uint64_t files = 0;           // files in the version (manifest.json excluded)
  uint64_t objects = 0;         // objects PUT (chunks, or whole files), manifest.json excluded
  uint64_t chunks_reused = 0;   // chunks not PUT: listed by `known`, or already PUT by this call
  uint64_t bytes = 0;           // bytes uploaded, manifest.json included
  uint64_t bytes_total = 0;     // bytes of the version's files (what a whole upload would move)
};

// Called after each object upload with the number of objects PUT so far (manifest excluded); a
// non-OK return stops the upload there and is returned (crash-point tests). May be empty.
using UploadHook = std::function<Status(uint64_t objects_done)>;

struct PublishOptions {
  // Chunk size (codec::Manifest::chunk_bytes); 0 stores every file whole under the version prefix.
  uint64_t chunk_bytes = kDefaultChunkBytes;
  // A version of the same shard whose chunks are stored (the parent): they are not PUT again.
  // Borrowed, may be null. It must be a version that cannot be garbage-collected meanwhile (the
  // pointer's; GC keeps it, ops/gc.h).
  const codec::Manifest* known = nullptr;
  UploadHook hook;
};

// Publishes the closed persist directory `dir` (no Store may have it open) as `manifest`'s version:
// fills manifest->files (HashDirectoryFiles(dir, chunk_bytes)) and chunk_bytes, validates the
// manifest (ValidateManifest), uploads create-only every chunk that `known` does not list (or every
// file whole, chunk_bytes 0), then manifest.json. A create-only PUT that answers
// kPreconditionFailed is accepted for a chunk when the stored object has the chunk's size (its key
// is its hash), and for a file or manifest when the stored object has the same SHA-256 (an earlier
// attempt of this same call landed but its answer was lost).
// Errors: HashDirectoryFiles / ValidateManifest errors; kAlreadyExists naming the key when a stored
// object differs from ours; ObjectStore errors naming the key. Nothing is deleted on failure.
Result<PublishStats> PublishSnapshot(ObjectStore* objects, const ShardId& shard, const std::string& dir,
                                     codec::Manifest* manifest, const PublishOptions& options = {});

struct FetchStats {
  uint64_t files_fetched = 0;   // files written (added or changed)
  uint64_t files_reused = 0;    // already in `dir` with the right size and SHA-256
  uint64_t files_removed = 0;   // in `dir` but not in the manifest
  uint64_t chunks_fetched = 0;  // chunks downloaded
  uint64_t chunks_reused = 0;   // chunks of changed files copied from files already in `dir`
  uint64_t bytes_fetched = 0;   // bytes downloaded (files or chunks), manifest.json included
};

// Makes `dir` (created when missing) hold exactly the version whose manifest is at `manifest_key`:
// gets and decodes manifest.json, hashes the files already in `dir` (a previously fetched version,
// possibly damaged), keeps files whose size and SHA-256 match, and builds the others under a
// temporary name: each chunk is copied from a file already in `dir` that holds it at a chunk
// boundary, or downloaded (ChunkKey; format 2 / chunk_bytes 0: the whole file from the version's
// prefix) and checked against its hash; each file is checked against its size and SHA-256, then
// renamed into place once all are built. Files the manifest does not list are removed, and
// manifest.json is written last. On success `dir` verifies against the returned manifest
// (VerifyDirectory).
// Errors: kNotFound (manifest, chunk or file missing on S3); kCorruption naming the chunk or file
// whose bytes do not match the manifest, or a manifest that does not decode; kIOError; ObjectStore
// errors. On error `dir` may hold a mix and must be fetched again before use.
Result<codec::Manifest> FetchSnapshot(ObjectStore* objects, const std::string& manifest_key,
                                      const std::string& dir, FetchStats* stats = nullptr);

}  // namespace chromapact::pipeline
