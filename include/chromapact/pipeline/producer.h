// The producer's logic (DESIGN.md §1, §4; issue 4 item 6): a Chroma-shaped write request becomes
// one immutable delta per collection shard it touches, each uploaded create-only and then announced
// on the delta queue. No Lambda types: lambdas/producer adapts an invocation to ParseProduceRequest +
// Produce.
//
//   request {"collection", "operation": "add|upsert|update|delete", "ids", "embeddings"?,
//            "documents"?, "metadatas"?}
//   -> validate all records (codec::ValidateDelta; errors name the field and the record's index in
//      the request) -> split by ShardForId -> per shard: EncodeDelta, PUT If-None-Match: *
//      deltas/<coll>/<shard>/<ulid>.cpd -> then per shard SendMessage (delta_message.h body,
//      MessageGroupId "<coll>#<shard>", MessageDeduplicationId = the ULID)
//   -> {"delta_keys": [...], "count": n}
//
// Failure semantics: a request that fails validation writes nothing. A failure after validation
// (an upload or a send) returns the error; deltas uploaded before it whose message was not sent are
// unreferenced garbage (the compactor never reads a delta without a message; GC removes them), and
// messages already sent stay valid. A client retries the whole request; re-applying a record is
// harmless (upsert/update/delete are idempotent, add of an existing id is ignored: store.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/codec/delta.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

struct ProduceRequest {
  std::string collection;
  codec::DeltaOp op = codec::DeltaOp::kUpsert;
  // All the request's records in request order (shapes: codec/delta.h DeltaRecords).
  codec::DeltaRecords records;
};

// Parses the event JSON. "collection" may be absent when `default_collection` is non-empty.
// "operation" defaults to "upsert" when absent. "embeddings": n lists of numbers (update: an entry
// may be null = not given); "documents": n strings or nulls; "metadatas": n objects or nulls. A key
// that is absent or null means the column is absent.
// Errors: kInvalidArgument naming the key (and index), e.g. "embeddings[3]: expected a list of
// numbers", "documents: expected 5 entries (one per id), got 4"; the collection name rule of
// ValidateShardId. Semantic checks (duplicates, finiteness, metadata types) are Produce's.
Result<ProduceRequest> ParseProduceRequest(const nlohmann::json& event, const std::string& default_collection);

struct ProducerOptions {
  int shards = 1;                // shards of the collection (CHROMAPACT_SHARDS), >= 1
  // FIFO message groups per shard (CHROMAPACT_MESSAGE_GROUPS), >= 1: shard_id.h MessageGroupFor,
  // docs/design/message-groups.md. 1 gives the old "<coll>#<shard>#0" single group.
  int message_groups = kDefaultMessageGroups;
  std::string producer_id;       // recorded in each delta's header (e.g. the Lambda request id)
  codec::DeltaLimits limits;
  int64_t now_ms = 0;            // created_at_ms of the deltas (epoch ms UTC); 0 = the system clock
};

struct ProduceResult {
  std::vector<std::string> delta_keys;  // one per shard touched, in shard order
  uint64_t count = 0;                   // records in the request
  uint64_t bytes = 0;                   // encoded delta bytes uploaded
};

// {"delta_keys": [...], "count": n}.
nlohmann::json ToJson(const ProduceResult& result);

// Validates the whole request first (kInvalidArgument / kResourceExhausted from codec::ValidateDelta,
// naming the field and the record's index in the request; kInvalidArgument for shards < 1,
// message_groups < 1 or a bad collection name): then nothing is written. Then uploads and sends as described above.
// Errors after validation: ObjectStore errors naming the key (kPreconditionFailed when a delta key
// already exists, i.e. a ULID collision), Queue errors naming the delta key.
Result<ProduceResult> Produce(ObjectStore* objects, Queue* queue, const ProduceRequest& request,
                              const ProducerOptions& options);

}  // namespace chromapact::pipeline
