// Internal to the query service: the log tail of a shard read on top of its committed version, so
// that a write is visible to queries before any compaction. The tail is applied the way the
// compactor applies it (compactor_apply.h, the same skip rules: void markers, undecodable bytes,
// deltas of another shard, content the store rejects), to a private read-write copy of the
// version's directory (version_copy.h: chroma.sqlite3 copied, the HNSW files hard-linked); the copy
// is made on the first entry past the version.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline::internal {

struct ShardTail {
  ShardId shard;
  std::string version_dir;     // the committed version's files (never written)
  std::string tail_dir;        // the private copy the tail is applied to
  uint64_t base_position = 0;  // the version's log_position
  uint64_t applied = 0;        // the log position `store` reflects (>= base_position)
  // What is served: the version read-only until the first tail entry, then the read-write copy.
  std::unique_ptr<store::Store> store;
  bool copy = false;                   // `store` is the copy
  std::map<uint64_t, std::string> bad;  // entries that can never apply, with why (skipped)
  int64_t listed_at_ms = -1;            // steady clock of the last listing; -1 = never
};

// Applies the entries after tail->applied that are in the log without a gap (a hole ends the run:
// the compactor decides it later), at most `max_entries`. Returns how many positions advanced.
// Errors: ObjectStore errors (listing, GET); kIOError copying the version; Store errors other than
// kInvalidArgument (which skips the entry and rebuilds the copy without it, as the compactor does).
// On error `tail` still serves a consistent state (what was applied before the failing entry, or
// the version).
Result<uint64_t> ReadTail(ObjectStore* objects, ShardTail* tail, size_t max_entries);

}  // namespace chromapact::pipeline::internal
