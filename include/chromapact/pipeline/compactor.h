// One compaction cycle of one collection shard (docs/design/log.md), as a plain class with no Lambda
// types (the compactor binary adapts SQS events, the schedule and its own actions to RunCycle):
//
//   lease -> pointer -> base version (log_position P) -> list the shard's log after P -> apply the
//   contiguous run P+1..Q in sequence order with Chroma's semantics (closing an old hole with a void
//   marker, skipping a delta that can never apply) -> Persist -> publish with log_position Q -> CAS
//   -> settle the triggering messages -> release
//
// Exactly once, in order: a version is the log applied up to its manifest's log_position, so a
// redelivered trigger, a second compactor or a retry after a crash starts from the committed
// position and can apply nothing twice; the pointer's compare-and-swap (pointer.h) rejects a
// commit on a base that is no longer current (then the cycle rebuilds on the new base, bounded).
// The lease only avoids wasted work; it is renewed between applied deltas, after the base fetch,
// after Persist and between uploaded files.
//
// Triggers (delta_message.h) only say "look at this shard": the cycle reads S3, never receives from
// the queue. After a cycle that ended OK at position Q, a triggering message is deleted when its
// log_position <= Q (or 0), or when it names no entry (beyond a complete listing of the log). An
// entry the cycle skipped (a delta that can never apply) is recorded in the manifest and reported
// to the dead-letter queue (CompactorOptions::dead_letters) before the commit; without one, its
// trigger is a failure so that it reaches the DLQ by the redrive policy. When entries past Q remain (budget spent,
// or a hole younger than the hole timeout when the deadline came), the cycle re-arms the shard:
// it sends one new trigger (dedup id "<coll>#<shard>#<seen>#rearm#fence-<fence>") and then deletes the
// triggering messages, so waiting work never counts a receive towards the DLQ.
//
// Not thread-safe: one Compactor per thread (the seams under it are not thread-safe either).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/snapshot.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline {

// Named points of a cycle at which CompactorOptions::step_hook is called (crash-point tests).
inline constexpr const char* kCompactStepListed = "compactor.listed";         // log listed after the base
inline constexpr const char* kCompactStepMerged = "compactor.merged";         // deltas applied + persisted
inline constexpr const char* kCompactStepMidUpload = "compactor.mid_upload";  // after the 1st file
inline constexpr const char* kCompactStepUploaded = "compactor.uploaded";     // manifest.json uploaded
inline constexpr const char* kCompactStepCommitted = "compactor.committed";   // pointer CAS won
inline constexpr const char* kCompactStepRearmed = "compactor.rearmed";      // new trigger sent
inline constexpr const char* kCompactStepBeforeRelease = "compactor.before_release";

struct CompactorOptions {
  // Local directory for cached base versions and the working copy: <work_dir>/<coll>#<shard>/{base,work}.
  std::string work_dir;
  // Identifies this compactor instance (S3-key-safe: [A-Za-z0-9._-]); lease owners and snapshot
  // writer ids are "<writer_id>.<ulid>" (fresh per cycle / per publish).
  std::string writer_id = "compactor";
  LeaseOptions lease;
  // Budget of one cycle: at most this many log entries, delta bytes and records are applied; the
  // rest is left for the next cycle (re-armed). The first entry is always applied.
  size_t max_deltas = 1000;
  uint64_t max_delta_bytes = 512u << 20;
  uint64_t max_records = 1000000;
  // A missing sequence number followed by a present one is a hole; once the next present entry's
  // S3 LastModified is older than this (by `clock`), the compactor writes a void marker there
  // (log.h). Until then it polls for the entry, up to the cycle's deadline.
  int64_t hole_timeout_ms = 30000;
  // Persist with store::PersistOptions purge_log + vacuum (log rows both segments contain).
  bool compact_log = true;
  // Minor and major compaction (docs/design/chunks.md): a cycle rewrites the HNSW files (major)
  // only when the records its base does not hold reach `major_tail_records`, when that base is
  // older than `major_tail_age_ms` (by `clock`, from the manifest's base_created_at_ms), or for a
  // shard's first version; otherwise (minor) it writes chroma.sqlite3 only and the tail stays in
  // embeddings_queue, replayed on open by every reader (Chroma included). major_tail_records 0:
  // every cycle is major. Chroma's own default sync_threshold is 1000.
  uint64_t major_tail_records = 1000;
  int64_t major_tail_age_ms = 15 * 60 * 1000;
  // Chunk size of published versions (snapshot.h PublishOptions; 0: whole files).
  uint64_t chunk_bytes = kDefaultChunkBytes;
  // Pointer CAS attempts (1 = no rebuild after a lost CAS).
  int max_commit_attempts = 3;
  // For a shard with no pointer yet: the collection is created with these options, overridden by
  // the configuration stored for the collection at its creation (collection_options.h).
  store::CollectionOptions collection;
  codec::DeltaLimits limits;
  // Where a skipped entry is reported (the delta queue's DLQ, CHROMAPACT_DLQ_URL): one message
  // {"collection", "shard", "log_position", "delta_key", "reason", "version"} per skipped entry,
  // sent right before the commit that skips it (group "<coll>#<shard>", dedup "<coll>#<shard>#<seq>#
  // skipped"), and again by any later cycle that meets the entry's trigger (a report lost to a
  // send error or a crash is not lost for good); the trigger is deleted only once its report is
  // out. Borrowed; null = report the entry's trigger as a failure instead. Reporting the
  // trigger drags the later triggers of its group back with it (FIFO's partial-batch rule), so
  // healthy triggers could follow it into the DLQ: the direct send avoids that.
  Queue* dead_letters = nullptr;
  // Called at each kCompactStep*; a non-OK return abandons the cycle right there, as a crash would:
  // no release, no message deleted or re-armed.
  std::function<Status(std::string_view step)> step_hook;
};

struct MessageFailure {
  std::string message_id;
  Status status;  // why (kInvalidArgument for a body that is no trigger, the skip reason, ...)
};

struct CyclePhases {  // wall time per phase, ms (steady clock), summed over commit attempts
  int64_t lease_ms = 0, list_ms = 0, pointer_ms = 0, base_ms = 0, merge_ms = 0, persist_ms = 0,
          upload_ms = 0, commit_ms = 0, delete_ms = 0, release_ms = 0, total_ms = 0;
  // Parts of merge_ms: open the work copy, GET the deltas, decode them, apply them to the Store
  // (SQLite log + metadata segment + HNSW inserts), wait for holes.
  int64_t open_ms = 0, fetch_ms = 0, decode_ms = 0, apply_ms = 0, hole_wait_ms = 0;
};

struct CycleResult {
  // OK when the cycle ran to its end (a new version committed, or nothing to apply). Otherwise the
  // step that failed: kPreconditionFailed (lease held by another: nothing was done, fence 0),
  // kAborted (step_hook / lost lease / CAS attempts exhausted), or the seam's error.
  Status status;
  int64_t new_version = 0;     // committed version, 0 when none
  std::string manifest_key;    // its manifest.json key
  uint64_t base_position = 0;  // log_position of the base version
  uint64_t log_position = 0;   // log_position of the current version after the cycle (OK only)
  uint64_t applied = 0;        // log entries applied (deltas) in new_version
  uint64_t records = 0;        // records in those deltas
  uint64_t voided = 0;         // void markers written by this cycle
  std::vector<codec::SkippedEntry> skipped;  // entries skipped by this cycle
  uint64_t dead_lettered = 0;  // of those, reported to CompactorOptions::dead_letters
  bool rearmed = false;        // a new trigger was sent: entries past log_position remain
  // Triggering messages deleted (covered by the current version, or handed to the re-armed trigger).
  std::vector<std::string> deleted_message_ids;
  // Triggering messages that must come back (batchItemFailures): bodies that are no trigger of
  // this shard, triggers of skipped entries whose report could not be sent (or with no
  // dead-letter queue), and, when the status is not OK, every one not deleted.
  std::vector<MessageFailure> failures;
  CyclePhases phases;
  uint64_t bytes_deltas = 0;      // delta bytes fetched
  uint64_t bytes_downloaded = 0;  // snapshot bytes fetched (manifest included)
  uint64_t bytes_uploaded = 0;    // snapshot bytes uploaded (manifest included)
  uint64_t bytes_snapshot = 0;    // bytes of the new version's files (what a whole upload moves)
  uint64_t objects_uploaded = 0;  // chunks (or files) PUT for the new version
  bool major = false;             // the new version rewrote the HNSW files
  int commit_attempts = 0;
  int64_t fence = 0;  // lease fence of this cycle
  // The message ids of `failures`.
  std::vector<std::string> BatchItemFailures() const;
};

class Compactor {
 public:
  // Borrows every seam and the clock; all must outlive the compactor. `kv` holds leases and
  // pointers (lease.h, pointer.h); `objects` the bucket with deltas/ and snapshots/; `queue` the
  // trigger queue (deletes and re-arms only).
  Compactor(KvStore* kv, ObjectStore* objects, Queue* queue, const Clock* clock, CompactorOptions options);

  // Runs one cycle for `shard`. `messages` are the triggering messages of this shard (an SQS
  // event's records whose delta_message.h body names it; none for the schedule). A message naming
  // another shard or with an unparsable body is a failure. `deadline_steady_ms` (steady clock, ms;
  // 0 = none): after it no further entry is applied and no hole waited for (the first entry of a
  // cycle is always applied, so every cycle makes progress) — the caller leaves room for persist +
  // upload + commit.
  CycleResult RunCycle(const ShardId& shard, const std::vector<QueueMessage>& messages,
                       int64_t deadline_steady_ms = 0);

  // For triggers a cycle could not take up (the shard's lease stayed held by another compactor):
  // re-arms the shard (one new trigger) and deletes `messages`. Returns the messages not deleted
  // (all of them when the re-arm failed), to report as batchItemFailures.
  std::vector<MessageFailure> HandOff(const ShardId& shard, const std::vector<QueueMessage>& messages,
                                      const Status& why);

 private:
  KvStore* kv_;
  ObjectStore* objects_;
  Queue* queue_;
  const Clock* clock_;
  CompactorOptions options_;
  std::map<std::string, std::string> cached_manifest_key_;  // by ShardId::ToString: what base/ holds
};

}  // namespace chromapact::pipeline
