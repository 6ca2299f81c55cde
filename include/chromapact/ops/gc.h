// Garbage collection of a collection shard (`chromapact gc`): old snapshot versions, abandoned
// uploads, chunks and the log entries no retained version needs. Layout: pipeline/snapshot.h (a version is
// every object under snapshots/<collection>/<shard>/<version>-<writer_id>/, manifest.json uploaded
// last), pipeline/log.h (deltas/<collection>/<shard>/<seq>.cpd), ops/versions.h (ListVersions).
//
// What is RETAINED (complete versions = prefixes with a manifest.json):
//   1. the version the pointer names — read before listing, again after listing and before every
//      version's deletion; a pointer that moved to a manifest GC did not list stops GC (kAborted):
//      the CAS may have been won by a version uploaded after the listing, whose log_position GC
//      has not taken into account;
//   2. the `keep_versions` newest complete versions (by version number, then created_at, then
//      writer id): in normal operation the version the pointer named before its last move is the
//      one right below it, so query instances whose cached pointer is a little stale still find
//      their version, and `chromapact rollback` has somewhere to go;
//   3. every version whose newest object — the later of its newest S3 LastModified and its
//      manifest's created_at_ms — is younger than `min_age_ms`: a compactor may be uploading or about
//      to compare-and-swap it (a Lambda invocation lasts at most 15 minutes), and query instances
//      re-read the pointer every CHROMAPACT_POINTER_TTL_MS (1 s by default), far more often.
//      An object whose LastModified the store did not report counts as young.
// What is DELETED:
//   - every other complete version: its manifest.json FIRST, in its own request, so that a crash
//     right after leaves a prefix that looks like an unfinished upload — never a manifest naming
//     files that are gone — then its other files (S3 DeleteObjects, at most 1000 keys a request);
//   - chunks (chunks/<collection>/<shard>/<sha256>, pipeline/snapshot.h) that no retained version's
//     manifest lists and whose LastModified is older than `min_age_ms`, after the versions: a
//     compactor uploads the chunks of its version before the manifest (young), and reuses without
//     uploading only chunks of the pointer's version (retained); the lease keeps both apart anyway;
//   - unfinished uploads (a prefix without manifest.json) whose newest object is older than
//     `min_age_ms`: a compactor that died (or a GC that crashed half-way through a version). A
//     younger one may be a compactor at work.
//   - log entries (deltas and void markers) with seq <= the smallest log_position among the retained
//     complete versions — every retained version (the pointer's included, so never an entry above
//     the pointer's log_position) applies everything at or below its log_position, so rolling back
//     to any of them still finds the whole log after it — and whose LastModified is older than
//     `min_age_ms`. Deleted in seq order, stopping at the first entry that is too young, so what
//     remains is always a contiguous run up to the head of the log. The age matters for void
//     markers: deleting one re-opens its key, and a producer's PUT still in flight for that number
//     would then land and be acknowledged although every version passed over it. A producer lives
//     at most 15 minutes (Lambda's maximum timeout) and its SigV4 signature is valid for 15 minutes
//     (S3 refuses the request after that), both far below the 1 h default; min_age_ms below
//     kMinGcAgeMs (15 min) is refused. Skipped entries (codec/manifest.h `skipped`) are deleted like
//     any other applied entry.
// Anything else under the shard's snapshot prefix (keys that are not <version>-<writer>/...) is
// left alone.
//
// Exclusion: a run takes the shard's compaction lease (pipeline::LeaseTable, owner "gc-<uuid>")
// for its whole duration, so no compactor of this deployment builds a version while GC works and two
// GC runs never overlap; it heartbeats (HeartbeatIfDue) before every delete request and releases
// the lease at the end, on success and on error. A held lease fails the run with the lease's
// kPreconditionFailed error and nothing deleted (retry later). ops::Rollback takes the same lease,
// so a rollback can never point at a version this run is deleting.
//
// Crash safety: a run that stops anywhere (crash, error, hook) has deleted only objects nothing
// retained needs, in an order that never leaves a manifest without its files; a later run finishes
// the job (a half-deleted version is then an old unfinished upload).
//
// A dry run computes the same plan without taking the lease and deletes nothing; the result then
// says what a run would delete.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::ops {

// The smallest min_age_ms accepted: a producer's lifetime (Lambda's 15-minute maximum) and the
// validity of a SigV4 signature (15 minutes).
inline constexpr int64_t kMinGcAgeMs = 15 * 60 * 1000;

struct GcOptions {
  size_t keep_versions = 3;      // newest complete versions kept (>= 1); the pointer's is kept anyway
  int64_t min_age_ms = 3600000;  // nothing younger is deleted (>= kMinGcAgeMs)
  bool dry_run = false;          // compute and report, delete nothing, take no lease
};

// A retained complete version and why.
struct GcRetained {
  std::string manifest_key;
  uint64_t version = 0;
  uint64_t log_position = 0;
  bool current = false;  // the pointer names it
  bool newest = false;   // among the keep_versions newest
  bool young = false;    // newer than min_age_ms
};

struct GcResult {
  pipeline::ShardId shard;
  bool dry_run = false;
  std::optional<pipeline::Pointer> pointer;    // as read after listing
  std::vector<GcRetained> retained;            // by version
  std::vector<std::string> deleted_versions;   // prefixes of complete versions deleted (dry run: to delete)
  std::vector<std::string> deleted_unfinished; // prefixes of unfinished uploads deleted
  uint64_t objects_deleted = 0;                // snapshot objects (both kinds above), manifests included
  uint64_t bytes_deleted = 0;                  // their size
  uint64_t chunks_deleted = 0;                 // chunks/<collection>/<shard>/ objects no retained version lists
  uint64_t chunk_bytes_deleted = 0;            // their size
  uint64_t log_entries_deleted = 0;
  uint64_t log_bytes_deleted = 0;
  // The log was cut at this position: entries <= log_cut were candidates (the smallest log_position
  // among the retained versions; 0 when nothing is retained). log_deleted_through is the highest
  // seq actually deleted (0: none; below log_cut when younger entries stopped the cut).
  uint64_t log_cut = 0;
  uint64_t log_deleted_through = 0;
  int64_t lease_fence = 0;  // the lease taken (0 for a dry run)
};

// Called with the name of the next delete request before it is sent ("version <prefix> manifest",
// "version <prefix> files <n>", "unfinished <prefix> <n>", "chunks <n>", "log <n>"). A non-OK return stops the run
// there (the lease is released, as on any error) and is returned: crash-point tests.
using GcHook = std::function<Status(const std::string& step)>;

// Collects the garbage of `shard` (rules above). Errors: kInvalidArgument (bad shard id,
// keep_versions 0, min_age_ms < kMinGcAgeMs); the lease's kPreconditionFailed when it is held;
// kAborted when the pointer moved to a version GC did not list, or names one GC was about to
// delete, or the lease was lost midway (run again); kCorruption from ListVersions, or when the
// pointer names no listed complete version; kIOError naming the keys S3 refused to delete;
// ObjectStore / KvStore errors; the hook's error. After an error some deletions may have happened;
// none of them is something a retained version or the pointer needs.
Result<GcResult> CollectGarbage(pipeline::ObjectStore* objects, pipeline::KvStore* kv, const pipeline::Clock* clock,
                                const pipeline::ShardId& shard, const GcOptions& options, const GcHook& hook = {});

// {"collection", "shard", "dry_run", "pointer": {"version", "manifest_key"} | null, "retained":
// [{"version", "manifest_key", "log_position", "current", "newest", "young"}], "deleted_versions",
// "deleted_unfinished", "objects_deleted", "bytes_deleted", "chunks_deleted", "chunk_bytes_deleted",
// "log_entries_deleted", "log_bytes_deleted",
// "log_cut", "log_deleted_through"}.
nlohmann::json ToJson(const GcResult& result);

}  // namespace chromapact::ops
