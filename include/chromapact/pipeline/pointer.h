// The pointer of a collection shard (docs/design/pointer.md): the one small mutable record
// that says which snapshot version is current. Item `PTR#<collection>#<shard>` in the lease table,
// {version, manifest_key, committed_at (epoch ms UTC), fence}. Why DynamoDB and not an S3 object
// with If-Match: docs/design/pointer.md.
//
// The pointer moves only by compare-and-swap: the first one is created with
// `attribute_not_exists(pk)`, every later one by UpdateItem conditioned on `version = :base`,
// which sets version = base + 1. Two writers that read the same base cannot both win; the loser
// gets kPreconditionFailed and the winner's pointer (ReturnValuesOnConditionCheckFailure ALL_OLD,
// no second read). This CAS — not the lease — is what makes a compactor that stalled past its
// lease harmless (the old design lost updates that way: A's lease expired before its commit, B built
// on the same base and replaced A's version): its commit names a base that is no longer current.
// `fence` records the lease token of the committer, for audit; it is not part of the condition, so
// correctness does not depend on the lease.
//
// Readers use a strongly consistent GetItem (one request, < 1 KiB item).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

struct Pointer {
  int64_t version = 0;          // >= 1, +1 per commit
  std::string manifest_key;     // S3 key of the version's manifest.json
  int64_t committed_at_ms = 0;  // epoch ms UTC, the committer's clock
  int64_t fence = 0;            // lease fence of the committer (0: none)

  bool operator==(const Pointer& o) const {
    return version == o.version && manifest_key == o.manifest_key && committed_at_ms == o.committed_at_ms &&
           fence == o.fence;
  }
};

// Not thread-safe (the KvStore is not).
class PointerTable {
 public:
  // Borrows `kv` and `clock`; both must outlive the table.
  PointerTable(KvStore* kv, const Clock* clock);

  // The current pointer (consistent read), nullopt when the shard has none yet.
  // Errors: kCorruption when the item is malformed; KvStore errors.
  Result<std::optional<Pointer>> Read(const ShardId& shard);

  // Creates the first pointer, create-only. Errors: kInvalidArgument (bad shard, version < 1, empty
  // manifest_key); kPreconditionFailed "pointer PTR#c#0 already exists at version N" with
  // *current set to it; KvStore errors.
  Result<Pointer> Create(const ShardId& shard, int64_t version, const std::string& manifest_key,
                         int64_t fence, std::optional<Pointer>* current = nullptr);

  // Moves the pointer from `base_version` to base_version + 1 naming `manifest_key`.
  // Errors: kInvalidArgument (bad shard, base < 1, empty manifest_key); kPreconditionFailed
  // "pointer PTR#c#0 moved: expected version B, found W" (or "... does not exist") with *current
  // set to what is stored (nullopt when nothing is); KvStore errors. After kAborted / kUnavailable /
  // kTimeout the write may or may not have landed: Read and compare manifest_key to find out.
  Result<Pointer> CompareAndSwap(const ShardId& shard, int64_t base_version, const std::string& manifest_key,
                                 int64_t fence, std::optional<Pointer>* current = nullptr);

 private:
  KvStore* kv_;
  const Clock* clock_;
};

// Parses a pointer item. Errors: kCorruption naming the attribute when one is missing or mistyped.
Result<Pointer> ParsePointerItem(const aws::Item& item);

}  // namespace chromapact::pipeline
