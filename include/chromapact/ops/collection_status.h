// What an operator asks first about a collection (`chromapact status`): per shard, the pointer
// (version, manifest, commit time), the version's log_position, record count and dimension, the
// shard's last sequence number taken, the log entries waiting past the version (pending deltas), and
// the compaction lease (holder, fence, expiry). Read-only: one consistent GetItem per DynamoDB item,
// one GET of the manifest, one listing of the log tail per shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/status.h"

namespace chromapact::ops {

struct ShardStatus {
  int shard = 0;
  std::optional<pipeline::Pointer> pointer;  // nullopt: nothing committed yet
  uint64_t log_position = 0;   // of the pointer's version (0 without one)
  uint64_t record_count = 0;   // live records in that version
  uint32_t dimension = 0;      // 0 = not known yet
  uint64_t skipped = 0;        // log entries the version passed over (manifest `skipped`)
  uint64_t last_sequence = 0;  // last sequence number taken by producers (SEQ# item; 0 = none)
  uint64_t pending = 0;        // log entries (deltas and void markers) past log_position
  std::optional<pipeline::LeaseState> lease;  // nullopt: never leased
  bool lease_held = false;     // held by someone at the time of the read (unexpired)
};

struct CollectionStatus {
  std::string collection;
  std::vector<ShardStatus> shards;  // shard 0 .. shards-1
  uint64_t record_count = 0;        // sum over shards
  uint64_t pending = 0;             // sum over shards
};

// Reads the status of `collection` over `shards` shards (>= 1). The log tail is counted up to
// `pending_limit` entries per shard (a larger backlog reports pending_limit).
// Errors: kInvalidArgument (bad collection name or shards < 1); kCorruption (a malformed pointer,
// lease or manifest); ObjectStore / KvStore errors (kPermissionDenied, kUnavailable, ...).
Result<CollectionStatus> ReadCollectionStatus(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                              const pipeline::Clock* clock, const std::string& collection,
                                              int shards, size_t pending_limit = 100000);

// {"collection", "record_count", "pending", "shards": [{"shard", "version", "manifest_key",
// "committed_at" (ISO 8601 UTC), "log_position", "record_count", "dimension", "skipped",
// "last_sequence", "pending", "lease": {"owner", "fence", "expires_at", "held"} | null}]}.
nlohmann::json ToJson(const CollectionStatus& status);

// ISO 8601 UTC with milliseconds ("2026-12-05T07:30:00.123Z") of epoch ms; "" for 0.
std::string FormatUtcMs(int64_t epoch_ms);

}  // namespace chromapact::ops
