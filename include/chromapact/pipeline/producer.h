// The producer's logic (docs/design/log.md): a Chroma-shaped write request becomes one immutable
// delta per collection shard it touches, appended to that shard's log, then announced on the queue.
// No Lambda types: lambdas/producer adapts an invocation to ParseProduceRequest + Produce.
//
//   request {"collection", "operation": "add|upsert|update|delete", "ids", "embeddings"?,
//            "documents"?, "metadatas"?}
//   -> records without an embedding get their document embedded (EmbedDocuments, when an embedding
//      function is configured) -> validate all records (codec::ValidateDelta; errors name the field
//      and the record's index in the request) -> dimension check (dimension_registry.h) -> split by
//      ShardForId -> per shard:
//      seq = NextSequence (log.h), EncodeDelta, PUT If-None-Match: * at LogKey(shard, seq)
//   -> then per shard SendMessage (delta_message.h body, MessageGroupId "<coll>#<shard>",
//      MessageDeduplicationId "<coll>#<shard>#<seq>")
//   -> {"count": n, "delta_keys": [...], "log_positions": [{"shard": s, "log_position": seq}, ...]}
//
// Acknowledgement (the OK result) comes only after every PUT and send succeeded, so an acknowledged
// write is in its shard's log. Failure semantics: a request that fails validation or the dimension
// check writes nothing. A failure after that returns the error and is not an acknowledgement: a
// sequence number taken but not written is a hole the compactor closes with a void marker after its
// hole timeout; a delta written whose message was not sent is still applied (the log, not the
// queue, is what the compactor reads; the next trigger or the schedule covers it). A client retries
// the whole request; the retry is a new write, applied after everything acknowledged before it.
// A PUT that loses to a void marker (kPreconditionFailed) means the compactor gave that number up:
// nothing of that shard was written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/codec/delta.h"
#include "chromapact/embed/embedding_function.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/kv_store.h"
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
  std::string producer_id;       // recorded in each delta's header (e.g. the Lambda request id)
  codec::DeltaLimits limits;
  int64_t now_ms = 0;            // created_at_ms of the deltas (epoch ms UTC); 0 = the system clock
  // Embeds the documents of records sent without an embedding (EmbedDocuments). Borrowed; nullptr =
  // none configured (CHROMAPACT_EMBEDDING_URL unset).
  embed::EmbeddingFunction* embedding_function = nullptr;
};

// Chroma's client embeds documents when a write has no embeddings (chromadb/api/models/
// CollectionCommon.py: add/upsert/update call the collection's embedding function on the documents
// when embeddings are None); here the producer does it, per record. Rules, for records that give
// no embedding (`records` as parsed: an absent embeddings column, or null entries):
//   add / upsert: the record's document is embedded; a record with neither an embedding nor a
//     document is kInvalidArgument "ids[i] ('<id>'): add needs an embedding or a document to embed".
//   update: with `ef`, a record that gives a document gets it embedded (its stored embedding follows
//     the new document, as in Chroma); without `ef`, the document is updated and the embedding
//     left as it was (the behaviour before embedding functions existed). Records that give no
//     document are left alone.
//   delete: nothing.
// All texts go to `ef` in one Embed call (it batches); the rows land in records->embeddings
// (embedding_given cleared when every record now has one). Errors: kPreconditionFailed
// (embed::NotConfigured "documents: ...") when some add/upsert record needs embedding and `ef` is
// null; kInvalidArgument when embeddings given in the request have another dimension than
// ef->dimension(); the embedding function's errors prefixed "documents: embed with <name>".
// OK without change when nothing needs embedding.
Status EmbedDocuments(embed::EmbeddingFunction* ef, codec::DeltaOp op, codec::DeltaRecords* records);

struct LogPosition {
  int shard = 0;
  uint64_t log_position = 0;  // the delta's sequence number in the shard's log
};

struct ProduceResult {
  std::vector<std::string> delta_keys;  // one per shard touched, in shard order
  std::vector<LogPosition> log_positions;  // the same order
  uint64_t count = 0;                   // records in the request
  uint64_t bytes = 0;                   // encoded delta bytes uploaded
};

// {"count": n, "delta_keys": [...], "log_positions": [{"shard", "log_position"}, ...]}.
nlohmann::json ToJson(const ProduceResult& result);

// Embeds documents first (EmbedDocuments with options.embedding_function: its errors, nothing
// written). Validates the whole request (kInvalidArgument / kResourceExhausted from codec::ValidateDelta,
// naming the field and the record's index in the request; kInvalidArgument for shards < 1 or a bad
// collection name), then checks the embeddings' dimension with `dimensions` (kInvalidArgument
// "embeddings: Collection expecting embedding with dimension of D, got d"): then nothing is
// written. Then appends and sends as described above. Errors after validation: NextSequence's,
// ObjectStore errors naming the key (kPreconditionFailed "... voided ..." when a void marker holds
// the key; kTimeout "outcome unknown" when a retried PUT met an existing object the producer may
// not read to compare: its own earlier attempt, which then applies, or a void marker), Queue errors naming the delta key. `kv` holds the sequence items.
// A request over several shards is one delta per shard: an error after some were appended is not
// an acknowledgement, yet those deltas are in their logs and will be applied. `appended` (may be
// null) then receives them (delta_keys / log_positions of the shards appended; count 0), so a caller
// can tell the client exactly what will apply.
Result<ProduceResult> Produce(KvStore* kv, ObjectStore* objects, Queue* queue, DimensionRegistry* dimensions,
                              const ProduceRequest& request, const ProducerOptions& options,
                              ProduceResult* appended = nullptr);

}  // namespace chromapact::pipeline
