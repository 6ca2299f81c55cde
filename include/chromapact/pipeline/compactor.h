// One compaction cycle of one collection shard (DESIGN.md §1, §3; issue 4 item 5), as a plain class
// with no Lambda types (the compactor binary adapts an SQS event to RunCycle and its failures to
// batchItemFailures):
//
//   lease -> drain -> pointer -> base -> fetch + decode + apply deltas -> Persist (purging the log
//   rows both segments contain, then VACUUM when a quarter of chroma.sqlite3 is free: the log held
//   every vector a second time) -> publish -> CAS -> delete exactly the applied messages -> release
//
// The lease is renewed (HeartbeatIfDue) at every step, between applied deltas and between uploaded
// files, so a merge or upload longer than the TTL keeps it; a lost lease aborts the cycle (kAborted).
// Correctness does not depend on the lease: the pointer CAS (pointer.h) rejects a commit on a base
// that is no longer current, and then the cycle rebuilds on the new base (bounded) or gives its
// messages back. A message is deleted only after a pointer naming a version that contains its
// delta was committed, so every acknowledged delta survives a crash at any point.
//
// Idempotency (redelivery never changes the result, in any order relative to later deltas):
//   1. a delta whose id is in the base manifest's applied_delta_ids is skipped whole;
//   2. every record id carries the ULID of the delta that last wrote it (deletes included: a
//      tombstone), kept in `chromapact_versions.json` inside the persist directory (a file Chroma
//      ignores); a delta's record is applied only when its delta_id is greater than the id's
//      version: last writer wins by ULID, also after (1)'s list was pruned.
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
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline {

// Named points of a cycle at which CompactorOptions::step_hook is called (crash-point tests).
inline constexpr const char* kCompactStepDrained = "compactor.drained";       // messages received
inline constexpr const char* kCompactStepMerged = "compactor.merged";         // deltas applied + persisted
inline constexpr const char* kCompactStepMidUpload = "compactor.mid_upload";  // after the 1st file
inline constexpr const char* kCompactStepUploaded = "compactor.uploaded";     // manifest.json uploaded
inline constexpr const char* kCompactStepCommitted = "compactor.committed";   // pointer CAS won
inline constexpr const char* kCompactStepMidDelete = "compactor.mid_delete";  // half the messages deleted
inline constexpr const char* kCompactStepBeforeRelease = "compactor.before_release";

// File (inside a snapshot's persist directory) with the per-id record versions:
// {"format_version": 1, "versions": {"<record id>": "<delta ULID>", ...}}.
inline constexpr const char* kRecordVersionsFileName = "chromapact_versions.json";

struct CompactorOptions {
  // Local directory for cached base versions and the working copy: <work_dir>/<coll>#<shard>/{base,work}.
  std::string work_dir;
  // Identifies this compactor instance (S3-key-safe: [A-Za-z0-9._-]); lease owners and snapshot
  // writer ids are "<writer_id>.<ulid>" (fresh per cycle / per publish).
  std::string writer_id = "compactor";
  LeaseOptions lease;
  // Drain: after the triggering messages, ReceiveMessage (10 at a time, no wait) until the queue
  // answers none, `max_messages` were received in total, or `drain_budget_ms` (steady clock) passed.
  int max_messages = 100;
  int64_t drain_budget_ms = 2000;
  int visibility_seconds = 300;  // for the drain's ReceiveMessage
  // Delta bytes budget: once this many delta bytes were fetched, further drained (not triggering)
  // messages are given back (visibility 0) instead of applied.
  uint64_t max_delta_bytes = 512u << 20;
  // The queue's message retention period (SQS MessageRetentionPeriod, max 14 days): a delta older
  // than this can no longer be redelivered, so applied_delta_ids and record versions (tombstones
  // included) whose ULID time is older than now - retention_ms are dropped from each new version.
  int64_t retention_ms = 14LL * 24 * 3600 * 1000;
  // Persist with store::PersistOptions purge_log + vacuum (see the cycle above). false keeps the
  // whole SQLite log in every version (the behaviour before issue 4's merge-speed work; the bench
  // compares both).
  bool compact_log = true;
  // Pointer CAS attempts (1 = no rebuild after a lost CAS).
  int max_commit_attempts = 3;
  // For a shard with no pointer yet: the collection is created with these options.
  store::CollectionOptions collection;
  codec::DeltaLimits limits;
  // Called at each kCompactStep*; a non-OK return abandons the cycle right there, as a crash would:
  // no release, no messages given back (they return when their visibility times out).
  std::function<Status(std::string_view step)> step_hook;
};

struct MessageFailure {
  std::string message_id;
  Status status;            // why (kCorruption / kInvalidArgument for a bad delta, ...)
  bool triggering = false;  // one of RunCycle's `messages` (-> batchItemFailures)
};

struct CyclePhases {  // wall time per phase, ms (steady clock), summed over commit attempts
  int64_t lease_ms = 0, drain_ms = 0, pointer_ms = 0, base_ms = 0, merge_ms = 0, persist_ms = 0,
          upload_ms = 0, commit_ms = 0, delete_ms = 0, release_ms = 0, total_ms = 0;
  // Parts of merge_ms: open the work copy (Store::Open + collection + record versions), GET the
  // deltas, decode them, apply them to the Store (SQLite log + metadata segment + HNSW inserts).
  int64_t open_ms = 0, fetch_ms = 0, decode_ms = 0, apply_ms = 0;
};

struct CycleResult {
  // OK when the cycle ran to its end (a new version committed, or nothing to apply). Otherwise the
  // step that failed: kPreconditionFailed (lease held by another: nothing was done), kAborted
  // (step_hook / lost lease / CAS attempts exhausted), or the seam's error.
  Status status;
  int64_t new_version = 0;   // committed version, 0 when none
  std::string manifest_key;  // its manifest.json key
  // Message ids deleted from the queue: applied now, or already contained in the base version.
  std::vector<std::string> applied_message_ids;
  std::vector<MessageFailure> failures;  // not deleted
  // When the status is not OK: every triggering message not deleted (batchItemFailures).
  // Receipts this cycle received and neither deleted nor gave back (they reappear after their
  // visibility timeout; tests make them visible at once to simulate that).
  std::vector<std::string> in_flight_receipts;
  std::vector<std::string> applied_delta_ids;  // newly applied in new_version
  CyclePhases phases;
  uint64_t bytes_deltas = 0;      // delta bytes fetched
  uint64_t bytes_downloaded = 0;  // snapshot bytes fetched (manifest included)
  uint64_t bytes_uploaded = 0;    // snapshot bytes uploaded (manifest included)
  int commit_attempts = 0;
  int64_t fence = 0;  // lease fence of this cycle
  // The ids of batchItemFailures: failures with triggering set, plus (status not OK) every
  // triggering message that was not deleted.
  std::vector<std::string> BatchItemFailures() const;
};

class Compactor {
 public:
  // Borrows every seam and the clock; all must outlive the compactor. `kv` holds leases and
  // pointers (lease.h, pointer.h); `objects` the bucket with deltas/ and snapshots/.
  Compactor(KvStore* kv, ObjectStore* objects, Queue* queue, const Clock* clock, CompactorOptions options);

  // Runs one cycle for `shard`. `messages` are the triggering messages (an SQS event's records of
  // this shard, from any of its message groups: shard_id.h MessageGroupFor; order does not matter);
  // bodies are delta_message.h JSON, which alone names the shard (the group id is never read). Messages naming another
  // shard, with an unparsable body, or whose delta is missing / corrupt / of the wrong dimension /
  // of another collection or shard are failures (not deleted); the rest of the batch still commits.
  // Drained messages of other shards are given back at once (visibility 0).
  CycleResult RunCycle(const ShardId& shard, const std::vector<QueueMessage>& messages);

 private:
  struct Impl;
  KvStore* kv_;
  ObjectStore* objects_;
  Queue* queue_;
  const Clock* clock_;
  CompactorOptions options_;
  std::map<std::string, std::string> cached_manifest_key_;  // by ShardId::ToString: what base/ holds
};

}  // namespace chromapact::pipeline
