// A collection shard and the DynamoDB keys of its items (DESIGN.md §3): the lease lives at
// `LOCK#<collection>#<shard>` and the pointer at `PTR#<collection>#<shard>`, both in one table whose
// only key is the string partition key `pk`.
#pragma once

#include <string>

#include "chromapact/status.h"

namespace chromapact::pipeline {

// Name of the table's partition key attribute (type S).
inline constexpr const char* kPartitionKey = "pk";

struct ShardId {
  std::string collection;  // Chroma collection name: 3..512 chars of [A-Za-z0-9._-] (never '#')
  int shard = 0;           // 0 .. shards-1

  bool operator==(const ShardId& o) const { return collection == o.collection && shard == o.shard; }
  // "<collection>#<shard>", e.g. "docs#0".
  std::string ToString() const;
};

// Errors: kInvalidArgument naming the field when the collection is empty, longer than 512 bytes or
// contains a character outside [A-Za-z0-9._-] ('#' would make keys ambiguous), or shard < 0.
Status ValidateShardId(const ShardId& id);

// "LOCK#<collection>#<shard>" and "PTR#<collection>#<shard>". Precondition: ValidateShardId is OK.
std::string LeaseKey(const ShardId& id);
std::string PointerKey(const ShardId& id);

}  // namespace chromapact::pipeline
