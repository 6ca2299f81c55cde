// The SQS message a producer sends for each delta it uploaded (DESIGN.md §1: SendMessage
// {delta_key, coll, shard, n}); the compactor reads it back. JSON body, keys:
//   {"delta_key": "deltas/<collection>/<shard>/<delta_id>.cpd", "collection": "docs", "shard": 0,
//    "delta_id": "<canonical ULID>", "count": 100}
// MessageGroupId is "<collection>#<shard>#<k>" (shard_id.h MessageGroupFor: k = hash(delta_id) % G),
// so one shard's deltas are spread over G FIFO groups and a cycle can drain more than one
// ReceiveMessage of them; consumers recognise the shard by this body, never by the group id
// (docs/design/message-groups.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

struct DeltaMessage {
  std::string delta_key;  // S3 key of the .cpd object
  ShardId shard;
  std::string delta_id;  // canonical ULID (codec/ulid.h), the .cpd file's delta_id
  uint64_t count = 0;    // records in the delta
};

// "deltas/<collection>/<shard>/<delta_id>.cpd". Precondition: ValidateShardId OK.
std::string DeltaKey(const ShardId& shard, const std::string& delta_id);

// Compact JSON text of the body.
std::string EncodeDeltaMessage(const DeltaMessage& message);

// Errors: kInvalidArgument naming the key when the body is not a JSON object, a key is missing or
// mistyped, the shard id is invalid (ValidateShardId) or delta_id is not a canonical ULID.
Result<DeltaMessage> ParseDeltaMessage(std::string_view body);

}  // namespace chromapact::pipeline
