#include "chromapact/pipeline/dimension_registry.h"

#include "chromapact/pipeline/shard_id.h"

namespace chromapact::pipeline {
namespace {

Status Mismatch(uint64_t expected, uint32_t got) {
  return InvalidArgument("embeddings: Collection expecting embedding with dimension of " + std::to_string(expected) +
                         ", got " + std::to_string(got));
}

}  // namespace

std::string CollectionKey(const std::string& collection) { return "COLL#" + collection; }

Status DimensionRegistry::Check(const std::string& collection, uint32_t dimension) {
  if (auto it = known_.find(collection); it != known_.end()) {
    return it->second == dimension ? Status::Ok() : Mismatch(it->second, dimension);
  }
  KvUpdate req;
  req.key = {{kPartitionKey, aws::AttributeValue::S(CollectionKey(collection))}};
  req.update = "SET #d = if_not_exists(#d, :d)";
  req.condition = "attribute_not_exists(#d) OR #d = :d";
  req.expr.names = {{"#d", "dimension"}};
  req.expr.values = {{":d", aws::AttributeValue::N(static_cast<int64_t>(dimension))}};
  std::optional<aws::Item> current;
  auto updated = kv_->Update(req, &current);
  if (updated.ok()) {
    known_[collection] = dimension;
    return Status::Ok();
  }
  if (updated.status().code() == StatusCode::kPreconditionFailed && current) {
    auto d = aws::GetInt64(*current, "dimension");
    if (d.ok()) {
      known_[collection] = static_cast<uint32_t>(*d);
      return Mismatch(static_cast<uint64_t>(*d), dimension);
    }
  }
  return updated.status().WithContext("collection " + CollectionKey(collection) + ": dimension");
}

}  // namespace chromapact::pipeline
