// Produce: validate the whole request, check its dimension, split it by shard, append one delta
// per shard to the shard's log, then announce each on the queue (producer.h).
#include "chromapact/pipeline/producer.h"

#include <chrono>
#include <map>

#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/log.h"
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
  nlohmann::json positions = nlohmann::json::array();
  for (const LogPosition& p : result.log_positions) {
    positions.push_back({{"shard", p.shard}, {"log_position", p.log_position}});
  }
  return {{"count", result.count}, {"delta_keys", result.delta_keys}, {"log_positions", positions}};
}

Result<ProduceResult> Produce(KvStore* kv, ObjectStore* objects, Queue* queue, DimensionRegistry* dimensions,
                              const ProduceRequest& request, const ProducerOptions& options,
                              ProduceResult* appended) {
  if (appended != nullptr) *appended = ProduceResult{};
  if (options.shards < 1) return InvalidArgument("shards: must be >= 1, got " + std::to_string(options.shards));
  CP_RETURN_IF_ERROR(ValidateShardId(ShardId{request.collection, 0}));
  // Documents of records sent without an embedding are embedded first (a copy only then).
  codec::DeltaRecords embedded;
  const bool may_embed = request.op == codec::DeltaOp::kAdd || request.op == codec::DeltaOp::kUpsert ||
                         (request.op == codec::DeltaOp::kUpdate && options.embedding_function != nullptr);
  bool needs_embedding = false;
  for (size_t i = 0; may_embed && !needs_embedding && i < request.records.size(); ++i) {
    needs_embedding = !request.records.HasEmbedding(i);
  }
  if (needs_embedding) {
    embedded = request.records;
    CP_RETURN_IF_ERROR(EmbedDocuments(options.embedding_function, request.op, &embedded));
  }
  const codec::DeltaRecords& r = needs_embedding ? embedded : request.records;
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
  if (whole.meta.dimension > 0 && dimensions != nullptr) {
    CP_RETURN_IF_ERROR(dimensions->Check(request.collection, whole.meta.dimension));
  }

  std::map<int, std::vector<size_t>> rows_by_shard;
  for (size_t i = 0; i < r.size(); ++i) {
    if (request.op == codec::DeltaOp::kUpdate && !GivesAnything(r, i)) continue;  // a no-op record
    rows_by_shard[ShardForId(r.ids[i], options.shards)].push_back(i);
  }

  ProduceResult result;
  result.count = r.size();
  std::vector<DeltaMessage> messages;
  PutObjectOptions create_only;
  create_only.if_none_match_any = true;
  for (const auto& [shard_no, rows] : rows_by_shard) {
    const ShardId shard{request.collection, shard_no};
    codec::Delta d;
    d.meta = whole.meta;
    d.meta.shard = static_cast<uint32_t>(shard_no);
    d.records = Select(r, rows, whole.meta.dimension);
    d.meta.dimension = d.records.embeddings.empty() ? 0 : whole.meta.dimension;
    if (!messages.empty()) {
      CP_ASSIGN_OR_RETURN(d.meta.delta_id, codec::NewUlid());
    }
    CP_ASSIGN_OR_RETURN(std::string bytes, codec::EncodeDelta(d, dopts));
    // The number is taken right before the PUT: the window in which a crash leaves a hole.
    CP_ASSIGN_OR_RETURN(uint64_t seq, NextSequence(kv, shard));
    const std::string key = LogKey(shard, seq);
    auto put = objects->Put(key, bytes, create_only);
    if (!put.ok()) {
      if (put.status().code() == StatusCode::kPreconditionFailed) {
        return put.status().WithContext("append " + key + ": log position " + std::to_string(seq) +
                                        " was voided by the compactor (hole timeout passed before the "
                                        "write landed); nothing of shard " + shard.ToString() +
                                        " was written: retry");
      }
      if (put.status().code() == StatusCode::kTimeout) {
        return put.status().WithContext("append " + key + ": outcome unknown; if an earlier attempt landed, it "
                                        "applies at log position " + std::to_string(seq) + " of shard " +
                                        shard.ToString() + ": not acknowledged");
      }
      return put.status().WithContext("append " + key);
    }
    result.bytes += bytes.size();
    messages.push_back({shard, seq, key});
    if (appended != nullptr) {
      appended->delta_keys.push_back(key);
      appended->log_positions.push_back({shard_no, seq});
      appended->bytes += bytes.size();
    }
  }
  for (const DeltaMessage& m : messages) {
    QueueSend send;
    send.body = EncodeDeltaMessage(m);
    send.group_id = MessageGroupFor(m.shard);
    send.dedup_id = TriggerDedupId(m.shard, m.log_position);
    auto sent = queue->Send(send);
    if (!sent.ok()) return sent.status().WithContext("send message for " + m.delta_key);
    result.delta_keys.push_back(m.delta_key);
    result.log_positions.push_back({m.shard.shard, m.log_position});
  }
  return result;
}

}  // namespace chromapact::pipeline
