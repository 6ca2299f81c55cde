// A reader's view of the pointers, at most `max_age_ms` stale (CHROMAPACT_POINTER_TTL_MS): a query
// Lambda asks for the pointer on every invocation but reads DynamoDB at most once per
// max_age_ms per shard. Staleness is safe: a snapshot version, once committed, is immutable and stays
// readable until a garbage collector removes it, which must keep the versions readers may still hold
// (none is built yet: docs/design/overview.md §1).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "chromapact/pipeline/pointer.h"

namespace chromapact::pipeline {

// Not thread-safe (neither is the PointerTable under it).
class PointerCache {
 public:
  // Borrows `pointers` and `clock`. max_age_ms >= 0 (0: every Get reads).
  PointerCache(PointerTable* pointers, const Clock* clock, int64_t max_age_ms);

  // The pointer as read at most max_age_ms ago (by `clock`), else read now and remembered.
  // "No pointer yet" is cached like a pointer. Errors: as PointerTable::Read; a failed read is not
  // cached and leaves the previous entry in place.
  Result<std::optional<Pointer>> Get(const ShardId& shard);
  // Forgets the shard's entry (e.g. after the snapshot it named could not be fetched).
  void Invalidate(const ShardId& shard);

 private:
  struct Entry {
    std::optional<Pointer> pointer;
    int64_t read_at_ms = 0;
  };
  PointerTable* pointers_;
  const Clock* clock_;
  int64_t max_age_ms_;
  std::map<std::string, Entry> entries_;  // by PointerKey
};

}  // namespace chromapact::pipeline
