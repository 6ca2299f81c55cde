#include "chromapact/pipeline/collection_options.h"

#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/shard_id.h"

namespace chromapact::pipeline {
namespace {

Status ReadCount(const nlohmann::json& hnsw, const char* key, int64_t min, size_t* out) {
  auto it = hnsw.find(key);
  if (it == hnsw.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < min) {
    return InvalidArgument(std::string("configuration.hnsw.") + key + ": expected an integer >= " + std::to_string(min));
  }
  *out = static_cast<size_t>(it->get<int64_t>());
  return Status::Ok();
}

}  // namespace

Result<store::HnswParams> HnswParamsFromConfiguration(const nlohmann::json& configuration,
                                                       const store::HnswParams& defaults) {
  store::HnswParams p = defaults;
  if (configuration.is_null()) return p;
  if (!configuration.is_object()) return InvalidArgument("configuration: expected an object");
  auto h = configuration.find("hnsw");
  if (h == configuration.end() || h->is_null()) return p;
  if (!h->is_object()) return InvalidArgument("configuration.hnsw: expected an object");
  if (auto s = h->find("space"); s != h->end() && !s->is_null()) {
    auto space = s->is_string() ? store::ParseSpace(s->get<std::string>()) : Result<store::Space>(InvalidArgument(""));
    if (!space.ok()) return InvalidArgument("configuration.hnsw.space: expected one of l2, cosine, ip");
    p.space = *space;
  }
  CP_RETURN_IF_ERROR(ReadCount(*h, "ef_construction", 1, &p.ef_construction));
  CP_RETURN_IF_ERROR(ReadCount(*h, "ef_search", 1, &p.ef_search));
  CP_RETURN_IF_ERROR(ReadCount(*h, "max_neighbors", 2, &p.M));
  CP_RETURN_IF_ERROR(ReadCount(*h, "sync_threshold", 2, &p.sync_threshold));
  if (auto r = h->find("resize_factor"); r != h->end() && !r->is_null()) {
    if (!r->is_number() || r->get<double>() < 1.0) {
      return InvalidArgument("configuration.hnsw.resize_factor: expected a number >= 1");
    }
    p.resize_factor = r->get<double>();
  }
  return p;
}

nlohmann::json ConfigurationJson(const store::HnswParams& p) {
  return {{"hnsw",
           {{"space", store::SpaceName(p.space)},
            {"ef_construction", p.ef_construction},
            {"ef_search", p.ef_search},
            {"max_neighbors", p.M},
            {"resize_factor", p.resize_factor},
            {"sync_threshold", p.sync_threshold}}},
          {"spann", nullptr},
          {"embedding_function", nullptr}};
}

Status StoreCollectionConfiguration(KvStore* kv, const std::string& storage, const nlohmann::json& configuration) {
  KvUpdate req;
  req.key = {{kPartitionKey, aws::AttributeValue::S(CollectionKey(storage))}};
  req.update = "SET #c = if_not_exists(#c, :c)";
  req.expr.names = {{"#c", "configuration"}};
  req.expr.values = {{":c", aws::AttributeValue::S(configuration.dump())}};
  return kv->Update(req).status().WithContext("collection " + CollectionKey(storage) + ": configuration");
}

Result<store::CollectionOptions> LoadCollectionOptions(KvStore* kv, const std::string& storage,
                                                       store::CollectionOptions defaults) {
  CP_ASSIGN_OR_RETURN(auto item, kv->Get({{kPartitionKey, aws::AttributeValue::S(CollectionKey(storage))}}));
  if (!item) return defaults;
  const aws::AttributeValue* c = aws::FindAttribute(*item, "configuration");
  if (c == nullptr) return defaults;
  nlohmann::json j = nlohmann::json::parse(c->s(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption(CollectionKey(storage) + ": configuration is not JSON");
  auto params = HnswParamsFromConfiguration(j, defaults.hnsw);
  if (!params.ok()) return Corruption(CollectionKey(storage) + ": " + params.status().message());
  defaults.hnsw = *params;
  return defaults;
}

}  // namespace chromapact::pipeline
