// The SQS message that announces a log entry (docs/design/log.md): a trigger only. The log in S3
// (log.h) is what the compactor applies; a message just says "shard S has entries up to N". JSON body:
//   {"collection": "docs", "shard": 0, "log_position": 42,
//    "delta_key": "deltas/docs/0/00000000000000000042.cpd"}
// On the FIFO queue: MessageGroupId "<collection>#<shard>" (one group per collection shard,
// shard_id.h MessageGroupFor) and MessageDeduplicationId "<collection>#<shard>#<log_position>"
// (TriggerDedupId). A trigger re-armed by a compactor that left work behind carries the position it
// saw and its own dedup id (compactor.h). Consumers recognise the shard by this body, never by the
// group id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

struct DeltaMessage {
  ShardId shard;
  // The announced entry's sequence number (>= 1). 0 = no particular entry: "look at this shard"
  // (a re-armed trigger that saw no entry, or a body written before the log existed).
  uint64_t log_position = 0;
  std::string delta_key;  // LogKey(shard, log_position); "" when log_position is 0
};

// SQS allows at most 128 characters in a MessageGroupId or MessageDeduplicationId (SQS API
// Reference, SendMessage); a collection name may have 512.
inline constexpr size_t kMaxSqsIdLength = 128;
// `id` when it has at most kMaxSqsIdLength characters, else its SHA-256 in hex (64 characters).
std::string SqsId(std::string id);

// SqsId("<collection>#<shard>#<log_position>"). Precondition: ValidateShardId OK.
std::string TriggerDedupId(const ShardId& shard, uint64_t log_position);

// Compact JSON text of the body.
std::string EncodeDeltaMessage(const DeltaMessage& message);

// Errors: kInvalidArgument naming the key when the body is not a JSON object, collection or shard
// is missing or mistyped, the shard id is invalid (ValidateShardId), or log_position is not a
// non-negative integer. A body without log_position (written before the log) parses with 0.
Result<DeltaMessage> ParseDeltaMessage(std::string_view body);

}  // namespace chromapact::pipeline
