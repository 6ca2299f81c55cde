// A collection shard and the DynamoDB keys of its items (docs/design/log.md): the lease lives at
// `LOCK#<collection>#<shard>`, the pointer at `PTR#<collection>#<shard>` and the log's sequence
// counter at `SEQ#<collection>#<shard>` (log.h), all in one table whose only key is the string
// partition key `pk`.
#pragma once

#include <string>
#include <string_view>

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

// The shard of a record id in a collection of `shards` shards: FNV-1a 64-bit of the id's UTF-8
// bytes, modulo shards. Stable across processes, platforms and releases (it decides where a record
// lives: changing it would split one id over two shards). Precondition: shards >= 1.
int ShardForId(std::string_view id, int shards);

// MessageGroupId of the trigger messages of `shard` on the FIFO queue: "<collection>#<shard>" (its
// SHA-256 in hex when longer than SQS's 128 characters), one
// group per collection shard. Order inside the group does not matter for correctness (the log in S3
// is applied in sequence order, log.h); the group keeps one shard's triggers from being handled by
// two compactor invocations at once. Precondition: ValidateShardId OK.
std::string MessageGroupFor(const ShardId& shard);

}  // namespace chromapact::pipeline
