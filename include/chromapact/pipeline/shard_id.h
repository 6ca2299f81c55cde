// A collection shard and the DynamoDB keys of its items (DESIGN.md §3): the lease lives at
// `LOCK#<collection>#<shard>` and the pointer at `PTR#<collection>#<shard>`, both in one table whose
// only key is the string partition key `pk`.
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

// Message groups per shard on the FIFO delta queue (ProducerOptions::message_groups,
// CHROMAPACT_MESSAGE_GROUPS); why 16 and why groups at all: docs/design/message-groups.md.
inline constexpr int kDefaultMessageGroups = 16;

// MessageGroupId of the message announcing delta `delta_id` of `shard`:
// "<collection>#<shard>#<k>", k = FNV-1a 64 of the delta id's bytes % groups (0 .. groups-1).
// SQS FIFO delivers no message of a group while another of that group is in flight, so one
// group per shard would cap a cycle's drain at one ReceiveMessage (10 messages); G groups raise
// the cap to about 10*G on SQS. Order inside a shard is not needed: the compactor applies by
// last-writer-wins on the delta ULID (compactor.h), and it recognises its shard by the message
// body (delta_message.h), never by the group id. Precondition: ValidateShardId OK, groups >= 1.
std::string MessageGroupFor(const ShardId& shard, std::string_view delta_id, int groups);

}  // namespace chromapact::pipeline
