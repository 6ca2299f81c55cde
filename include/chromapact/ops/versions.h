// The snapshot versions of a collection shard as they sit in S3 (`chromapact versions`), and the way
// back to one of them (`chromapact rollback`). Layout (pipeline/snapshot.h):
//   snapshots/<collection>/<shard>/<version>-<writer_id>/manifest.json   uploaded last
//   chunks/<collection>/<shard>/<sha256>                                 the files' chunks, shared
//   (format 2, or chunk_bytes 0: the files themselves beside the manifest)
// A prefix with a manifest.json is a complete version; one without is an upload that is unfinished
// (a compactor at work) or abandoned (a compactor that died); a complete version the pointer never
// named lost its compare-and-swap. Every version is "the shard's log applied in order up to its
// log_position" (docs/design/log.md), so any complete version plus the log after its log_position
// is the whole collection again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::ops {

struct VersionInfo {
  std::string prefix;          // "snapshots/<collection>/<shard>/<version>-<writer_id>/"
  uint64_t version = 0;        // from the prefix
  std::string writer_id;       // from the prefix
  std::string manifest_key;    // prefix + "manifest.json"; "" when there is none (unfinished upload)
  uint64_t objects = 0;        // objects under the prefix, manifest included
  uint64_t bytes = 0;          // their total size
  int64_t last_modified_ms = 0;  // newest LastModified under the prefix, epoch ms UTC
  bool current = false;        // the pointer names this manifest
  // From the manifest (complete versions only):
  uint64_t log_position = 0;
  uint64_t record_count = 0;
  uint32_t dimension = 0;
  int64_t created_at_ms = 0;
  std::optional<uint64_t> parent_version;
  uint64_t base_log_position = 0;  // the log its HNSW files hold (== log_position: a major version)
  uint64_t snapshot_bytes = 0;     // size of its files (the persist directory)
  // Every chunk the manifest lists is under the shard's chunk prefix with its size (or, without
  // chunks, every file under the version's prefix with the manifest's size).
  bool files_present = false;
};

struct ShardVersions {
  pipeline::ShardId shard;
  std::optional<pipeline::Pointer> pointer;  // nullopt: nothing committed yet
  std::vector<VersionInfo> versions;         // by version, then writer_id
};

// Lists the shard's versions: one listing of snapshots/<collection>/<shard>/, one GET per manifest,
// one listing of chunks/<collection>/<shard>/ when a manifest has chunks.
// Errors: kInvalidArgument for a bad shard id; kCorruption naming the key for a manifest that does
// not decode or belongs to another shard, or a malformed pointer; ObjectStore / KvStore errors.
Result<ShardVersions> ListVersions(pipeline::ObjectStore* objects, pipeline::KvStore* kv, const pipeline::Clock* clock,
                                   const pipeline::ShardId& shard);

// {"collection", "shard", "pointer": {"version", "manifest_key", "committed_at"} | null, "versions":
// [{"version", "writer_id", "manifest_key" | null, "current", "complete", "files_present",
// "log_position", "base_log_position", "snapshot_bytes", "record_count", "dimension", "created_at",
// "parent_version", "objects", "bytes",
// "last_modified"}]} (times ISO 8601 UTC).
nlohmann::json ToJson(const ShardVersions& versions);

struct RollbackResult {
  pipeline::Pointer before;  // the pointer it replaced
  pipeline::Pointer after;   // version before.version + 1, naming the target's manifest
  VersionInfo target;
  bool triggered = false;    // a trigger was sent so the compactor applies the log after the target
};

// Under the shard's compaction lease (so no GC deletes the target meanwhile, ops/gc.h, and no
// compactor works on the shard), points the shard back at the complete version `manifest_key` (a
// compare-and-swap from the pointer as read, like any commit, recording the lease's fence), then, with `queue` non-null, sends the shard a
// trigger (pipeline/delta_message.h, log_position 0). The next compaction cycle rebuilds from the
// target and applies the whole log after its log_position again, so nothing acknowledged is lost;
// queries move to it when they next read the pointer. Checked first, changing nothing when they
// fail: the shard has a pointer and the target is a complete version of this shard with every
// file present (kNotFound naming what is missing); it is not already current (kAlreadyExists); the
// log after its log_position up to the current version's is all still there — entries and void
// markers, none removed by GC (kPreconditionFailed "log entry N ... is gone").
// Errors: those; kPreconditionFailed "lease ... is held" when a compactor or GC holds the lease
// (run it again later, or `chromapact lease release --force` a stuck one); kPreconditionFailed
// "pointer ... moved" when a compactor committed meanwhile; ObjectStore / KvStore / Queue errors (after a Queue error the pointer has moved).
Result<RollbackResult> Rollback(pipeline::ObjectStore* objects, pipeline::KvStore* kv, pipeline::Queue* queue,
                                const pipeline::Clock* clock, const pipeline::ShardId& shard,
                                const std::string& manifest_key);

}  // namespace chromapact::ops
