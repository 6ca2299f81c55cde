#include "pipeline/compactor_apply.h"

#include <utility>

namespace chromapact::pipeline::internal {
namespace {

store::RecordBatch ToBatch(codec::DeltaRecords r) {
  store::RecordBatch b;
  b.ids = std::move(r.ids);
  b.embeddings = std::move(r.embeddings);
  b.documents = std::move(r.documents);
  b.metadatas = std::move(r.metadatas);
  return b;
}

}  // namespace

Status ApplyDelta(store::Store* store, const std::string& collection, codec::Delta delta) {
  codec::DeltaRecords records = std::move(delta.records);
  if (records.ids.empty()) return Status::Ok();
  switch (delta.meta.op) {
    case codec::DeltaOp::kAdd: return store->Add(collection, ToBatch(std::move(records)));
    case codec::DeltaOp::kUpsert: return store->Upsert(collection, ToBatch(std::move(records)));
    case codec::DeltaOp::kUpdate: {
      auto parts = codec::SplitOnEmbeddingGiven(std::move(records), delta.meta.dimension);
      if (!parts.first.ids.empty()) CP_RETURN_IF_ERROR(store->Update(collection, ToBatch(std::move(parts.first))));
      if (!parts.second.ids.empty()) CP_RETURN_IF_ERROR(store->Update(collection, ToBatch(std::move(parts.second))));
      return Status::Ok();
    }
    case codec::DeltaOp::kDelete: return store->Delete(collection, records.ids).status();
  }
  return InvalidArgument("delta: unknown operation");
}

}  // namespace chromapact::pipeline::internal
