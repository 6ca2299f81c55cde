// Produce: validate the whole request, split it by shard, upload one delta per shard create-only,
// then announce each on the queue (producer.h).
#include "chromapact/pipeline/producer.h"

#include <chrono>
#include <map>

#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/shard_id.h"

namespace chromapact::pipeline {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint32_t DimensionOf(const codec::DeltaRecords& r) {
  if (r.embeddings.empty() || r.ids.empty()) return 0;
  return static_cast<uint32_t>(r.embeddings.size() / r.ids.size());
}

bool GivesAnything(const codec::DeltaRecords& r, size_t i) {
  return r.HasEmbedding(i) || (!r.documents.empty() && r.documents[i].has_value()) ||
         (!r.metadatas.empty() && !r.metadatas[i].is_null());
}

// The records of `r` at `rows`, keeping the columns that are present in `r` (an embeddings column
// in which none of the rows gives one is dropped).
codec::DeltaRecords Select(const codec::DeltaRecords& r, const std::vector<size_t>& rows, uint32_t dim) {
  codec::DeltaRecords out;
  bool any_emb = false, all_emb = true;
  for (size_t i : rows) {
    if (r.HasEmbedding(i)) {
      any_emb = true;
    } else {
      all_emb = false;
    }
  }
  for (size_t i : rows) {
    out.ids.push_back(r.ids[i]);
    if (!r.documents.empty()) out.documents.push_back(r.documents[i]);
    if (!r.metadatas.empty()) out.metadatas.push_back(r.metadatas[i]);
  }
  if (any_emb) {
    out.embeddings.reserve(rows.size() * dim);
    for (size_t i : rows) {
      out.embeddings.insert(out.embeddings.end(), r.embeddings.begin() + static_cast<std::ptrdiff_t>(i * dim),
                            r.embeddings.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
      if (!all_emb) out.embedding_given.push_back(r.HasEmbedding(i) ? 1 : 0);
    }
  }
  return out;
}

}  // namespace

nlohmann::json ToJson(const ProduceResult& result) {
  return {{"delta_keys", result.delta_keys}, {"count", result.count}};
}

Result<ProduceResult> Produce(ObjectStore* objects, Queue* queue, const ProduceRequest& request,
                              const ProducerOptions& options) {
  if (options.shards < 1) return InvalidArgument("shards: must be >= 1, got " + std::to_string(options.shards));
  if (options.message_groups < 1) {
    return InvalidArgument("message_groups: must be >= 1, got " + std::to_string(options.message_groups));
  }
  CP_RETURN_IF_ERROR(ValidateShardId(ShardId{request.collection, 0}));
  const codec::DeltaRecords& r = request.records;
  const int64_t now_ms = options.now_ms != 0 ? options.now_ms : SystemNowMs();
  codec::DeltaOptions dopts;
  dopts.limits = options.limits;

  // The whole request first, so that errors name the request's record indexes and nothing is
  // written for a bad request.
  codec::Delta whole;
  whole.meta.op = request.op;
  whole.meta.collection = request.collection;
  whole.meta.dimension = DimensionOf(r);
  whole.meta.producer_id = options.producer_id;
  whole.meta.created_at_ms = now_ms;
  CP_ASSIGN_OR_RETURN(whole.meta.delta_id, codec::NewUlid());
  whole.records = r;
  CP_RETURN_IF_ERROR(codec::ValidateDelta(whole, dopts));

  std::map<int, std::vector<size_t>> rows_by_shard;
  for (size_t i = 0; i < r.size(); ++i) {
    if (request.op == codec::DeltaOp::kUpdate && !GivesAnything(r, i)) continue;  // a no-op record
    rows_by_shard[ShardForId(r.ids[i], options.shards)].push_back(i);
  }

  struct Encoded {
    DeltaMessage message;
    std::string bytes;
  };
  std::vector<Encoded> encoded;
  for (const auto& [shard, rows] : rows_by_shard) {
    codec::Delta d;
    d.meta = whole.meta;
    d.meta.shard = static_cast<uint32_t>(shard);
    d.records = Select(r, rows, whole.meta.dimension);
    d.meta.dimension = d.records.embeddings.empty() ? 0 : whole.meta.dimension;
    if (!encoded.empty()) {
      CP_ASSIGN_OR_RETURN(d.meta.delta_id, codec::NewUlid());
    }
    Encoded e;
    CP_ASSIGN_OR_RETURN(e.bytes, codec::EncodeDelta(d, dopts));
    e.message.shard = ShardId{request.collection, shard};
    e.message.delta_id = d.meta.delta_id;
    e.message.delta_key = DeltaKey(e.message.shard, d.meta.delta_id);
    e.message.count = rows.size();
    encoded.push_back(std::move(e));
  }

  ProduceResult result;
  result.count = r.size();
  PutObjectOptions create_only;
  create_only.if_none_match_any = true;
  for (const Encoded& e : encoded) {
    auto put = objects->Put(e.message.delta_key, e.bytes, create_only);
    if (!put.ok()) return put.status().WithContext("upload " + e.message.delta_key);
    result.bytes += e.bytes.size();
  }
  for (const Encoded& e : encoded) {
    QueueSend send;
    send.body = EncodeDeltaMessage(e.message);
    send.group_id = MessageGroupFor(e.message.shard, e.message.delta_id, options.message_groups);
    send.dedup_id = e.message.delta_id;
    auto sent = queue->Send(send);
    if (!sent.ok()) return sent.status().WithContext("send message for " + e.message.delta_key);
    result.delta_keys.push_back(e.message.delta_key);
  }
  return result;
}

}  // namespace chromapact::pipeline
