// ParseProduceRequest: the producer event's JSON -> codec::DeltaRecords, naming the key and index of
// whatever has the wrong shape. Semantic checks are codec::ValidateDelta's (producer.cpp).
#include <cmath>
#include <string>

#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/shard_id.h"

namespace chromapact::pipeline {
namespace {

std::string Idx(const char* key, size_t i) { return std::string(key) + "[" + std::to_string(i) + "]"; }

// The value of `key`, or nullptr when absent or null.
const nlohmann::json* Column(const nlohmann::json& event, const char* key) {
  auto it = event.find(key);
  if (it == event.end() || it->is_null()) return nullptr;
  return &*it;
}

Status CheckColumnSize(const nlohmann::json& column, const char* key, size_t n) {
  if (!column.is_array()) return InvalidArgument(std::string(key) + ": expected a list, got " + column.type_name());
  if (column.size() != n) {
    return InvalidArgument(std::string(key) + ": expected " + std::to_string(n) + " entries (one per id), got " +
                           std::to_string(column.size()));
  }
  return Status::Ok();
}

Status ParseEmbeddings(const nlohmann::json& column, size_t n, codec::DeltaRecords* r) {
  CP_RETURN_IF_ERROR(CheckColumnSize(column, "embeddings", n));
  size_t dim = 0;
  size_t dim_from = 0;
  bool any = false, all = true;
  for (size_t i = 0; i < n; ++i) {
    const auto& row = column[i];
    if (row.is_null()) {
      all = false;
      continue;
    }
    if (!row.is_array() || row.empty()) return InvalidArgument(Idx("embeddings", i) + ": expected a non-empty list of numbers");
    if (!any) {
      dim = row.size();
      dim_from = i;
      any = true;
    } else if (row.size() != dim) {
      return InvalidArgument(Idx("embeddings", i) + ": expected dimension " + std::to_string(dim) + " (as " +
                             Idx("embeddings", dim_from) + "), got " + std::to_string(row.size()));
    }
  }
  if (!any) return Status::Ok();  // every entry null: column absent
  r->embeddings.assign(n * dim, 0.0f);
  if (!all) r->embedding_given.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const auto& row = column[i];
    if (row.is_null()) continue;
    if (!all) r->embedding_given[i] = 1;
    for (size_t k = 0; k < dim; ++k) {
      if (!row[k].is_number()) {
        return InvalidArgument(Idx("embeddings", i) + "[" + std::to_string(k) + "]: expected a number, got " +
                               row[k].type_name());
      }
      r->embeddings[i * dim + k] = static_cast<float>(row[k].get<double>());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ProduceRequest> ParseProduceRequest(const nlohmann::json& event, const std::string& default_collection) {
  if (!event.is_object()) return InvalidArgument(std::string("event: expected a JSON object, got ") + event.type_name());
  ProduceRequest req;
  const nlohmann::json* coll = Column(event, "collection");
  if (coll == nullptr) {
    if (default_collection.empty()) return InvalidArgument("collection: missing (and CHROMAPACT_COLLECTION is not set)");
    req.collection = default_collection;
  } else if (!coll->is_string()) {
    return InvalidArgument(std::string("collection: expected a string, got ") + coll->type_name());
  } else {
    req.collection = coll->get<std::string>();
  }
  CP_RETURN_IF_ERROR(ValidateShardId(ShardId{req.collection, 0}));

  if (const nlohmann::json* op = Column(event, "operation")) {
    if (!op->is_string()) return InvalidArgument(std::string("operation: expected a string, got ") + op->type_name());
    CP_ASSIGN_OR_RETURN(req.op, codec::ParseDeltaOp(op->get<std::string>()));
  }

  const nlohmann::json* ids = Column(event, "ids");
  if (ids == nullptr) return InvalidArgument("ids: missing");
  if (!ids->is_array()) return InvalidArgument(std::string("ids: expected a list, got ") + ids->type_name());
  if (ids->empty()) return InvalidArgument("ids: empty (at least one record is needed)");
  const size_t n = ids->size();
  codec::DeltaRecords& r = req.records;
  r.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(*ids)[i].is_string()) return InvalidArgument(Idx("ids", i) + ": expected a string, got " + (*ids)[i].type_name());
    r.ids.push_back((*ids)[i].get<std::string>());
  }
  if (const nlohmann::json* e = Column(event, "embeddings")) CP_RETURN_IF_ERROR(ParseEmbeddings(*e, n, &r));
  if (const nlohmann::json* d = Column(event, "documents")) {
    CP_RETURN_IF_ERROR(CheckColumnSize(*d, "documents", n));
    r.documents.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if ((*d)[i].is_null()) continue;
      if (!(*d)[i].is_string()) {
        return InvalidArgument(Idx("documents", i) + ": expected a string or null, got " + (*d)[i].type_name());
      }
      r.documents[i] = (*d)[i].get<std::string>();
    }
  }
  if (const nlohmann::json* m = Column(event, "metadatas")) {
    CP_RETURN_IF_ERROR(CheckColumnSize(*m, "metadatas", n));
    r.metadatas.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (!(*m)[i].is_null() && !(*m)[i].is_object()) {
        return InvalidArgument(Idx("metadatas", i) + ": expected an object or null, got " + (*m)[i].type_name());
      }
      r.metadatas.push_back((*m)[i]);
    }
  }
  return req;
}

}  // namespace chromapact::pipeline
