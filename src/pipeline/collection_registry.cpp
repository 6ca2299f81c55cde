#include "chromapact/pipeline/collection_registry.h"

#include <algorithm>
#include <cctype>

#include "chromapact/pipeline/collection_options.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/shard_id.h"
#include "store/collection_config.h"
#include "store/store_impl.h"

namespace chromapact::pipeline {
namespace {

using aws::AttributeValue;

std::string DatabasePath(const std::string& tenant, const std::string& database) {
  return tenant + "/" + database;
}
std::string NameKey(const std::string& tenant, const std::string& database, const std::string& name) {
  return "NAME#" + DatabasePath(tenant, database) + "/" + name;
}
std::string IdKey(const std::string& id) { return "ID#" + id; }
std::string DatabaseKey(const std::string& tenant, const std::string& database) {
  return "DB#" + DatabasePath(tenant, database);
}
aws::Item Key(const std::string& pk) { return {{kPartitionKey, AttributeValue::S(pk)}}; }

bool LooksLikeUuid(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

aws::Item ToItem(const CollectionInfo& c) {
  aws::Item item = Key(NameKey(c.tenant, c.database, c.name));
  item["id"] = AttributeValue::S(c.id);
  item["storage"] = AttributeValue::S(c.storage);
  item["configuration"] = AttributeValue::S(c.configuration.dump());
  item["metadata"] = AttributeValue::S(c.metadata.dump());
  item["shards"] = AttributeValue::N(static_cast<int64_t>(c.shards));
  item["created_at_ms"] = AttributeValue::N(c.created_at_ms);
  return item;
}

Result<nlohmann::json> JsonAttribute(const aws::Item& item, const std::string& name) {
  CP_ASSIGN_OR_RETURN(std::string text, aws::GetString(item, name));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption("registry item " + aws::GetString(item, kPartitionKey).value() + ": " + name + " is not JSON");
  return j;
}

Result<CollectionInfo> FromItem(const aws::Item& item, const std::string& tenant, const std::string& database,
                                const std::string& name) {
  CollectionInfo c;
  c.tenant = tenant;
  c.database = database;
  c.name = name;
  CP_ASSIGN_OR_RETURN(c.id, aws::GetString(item, "id"));
  CP_ASSIGN_OR_RETURN(c.storage, aws::GetString(item, "storage"));
  CP_ASSIGN_OR_RETURN(c.configuration, JsonAttribute(item, "configuration"));
  CP_ASSIGN_OR_RETURN(c.metadata, JsonAttribute(item, "metadata"));
  CP_ASSIGN_OR_RETURN(int64_t shards, aws::GetInt64(item, "shards"));
  c.shards = static_cast<int>(shards);
  CP_ASSIGN_OR_RETURN(c.created_at_ms, aws::GetInt64(item, "created_at_ms"));
  return c;
}

Status CollectionMissing(const std::string& what) { return NotFound("Collection [" + what + "] does not exist"); }

}  // namespace

nlohmann::json CollectionInfo::ToChromaJson() const {
  return {{"id", id},
          {"name", name},
          {"configuration_json", configuration.is_object() ? configuration : nlohmann::json::object()},
          {"metadata", metadata},
          {"dimension", dimension ? nlohmann::json(*dimension) : nlohmann::json(nullptr)},
          {"tenant", tenant},
          {"database", database},
          {"log_position", 0},
          {"version", 0}};
}

Status ValidateCollectionName(const std::string& name) { return store::internal::ValidateCollectionName(name); }

std::string NewUuid() { return store::internal::NewUuid(); }

CollectionRegistry::CollectionRegistry(KvStore* kv, const Clock* clock) : kv_(kv), clock_(clock) {}

Result<CollectionInfo> CollectionRegistry::Create(CollectionInfo info, bool get_or_create, bool* created) {
  if (created != nullptr) *created = false;
  CP_RETURN_IF_ERROR(ValidateCollectionName(info.name));
  if (info.id.empty()) info.id = NewUuid();
  if (info.storage.empty()) info.storage = info.id;
  CP_RETURN_IF_ERROR(ValidateShardId({info.storage, 0}));
  if (info.created_at_ms == 0) info.created_at_ms = clock_->NowMs();
  if (!info.configuration.is_object()) info.configuration = nlohmann::json::object();
  const std::string where = "collection " + info.name;
  // ID# first: the NAME# item is the commit point, so an ID# item without one is an unused UUID.
  aws::Item id_item = Key(IdKey(info.id));
  id_item["tenant"] = AttributeValue::S(info.tenant);
  id_item["database"] = AttributeValue::S(info.database);
  id_item["name"] = AttributeValue::S(info.name);
  CP_RETURN_IF_ERROR(kv_->Put({id_item, "", {}}).WithContext(where));
  // The configuration where the compactor and the query read it (collection_options.h).
  CP_RETURN_IF_ERROR(StoreCollectionConfiguration(kv_, info.storage, info.configuration));
  std::optional<aws::Item> current;
  Status put = kv_->Put({ToItem(info), "attribute_not_exists(#pk)", {{{"#pk", kPartitionKey}}, {}}}, &current);
  CollectionInfo result = info;
  if (put.code() == StatusCode::kPreconditionFailed) {
    (void)kv_->Delete({Key(IdKey(info.id)), "", {}});  // best effort: an unused UUID
    if (!get_or_create) return Status(StatusCode::kAlreadyExists, "Collection [" + info.name + "] already exists");
    if (current) {
      CP_ASSIGN_OR_RETURN(result, FromItem(*current, info.tenant, info.database, info.name));
    } else {
      CP_ASSIGN_OR_RETURN(result, GetByName(info.tenant, info.database, info.name));
      return result;
    }
  } else if (!put.ok()) {
    return put.WithContext(where);
  } else if (created != nullptr) {
    *created = true;
  }
  // The listing (idempotent: get_or_create repairs a listing a crash left out).
  KvUpdate list;
  list.key = Key(DatabaseKey(info.tenant, info.database));
  list.update = "ADD #n :n";
  list.expr.names = {{"#n", "names"}};
  list.expr.values = {{":n", AttributeValue::SS({info.name})}};
  CP_RETURN_IF_ERROR(kv_->Update(list).status().WithContext(where + ": listing"));
  if (auto d = kv_->Get(Key(CollectionKey(result.storage))); d.ok() && *d) {
    if (auto dim = aws::GetInt64(**d, "dimension"); dim.ok()) result.dimension = static_cast<uint32_t>(*dim);
  }
  return result;
}

Result<CollectionInfo> CollectionRegistry::GetByName(const std::string& tenant, const std::string& database,
                                                     const std::string& name) {
  CP_ASSIGN_OR_RETURN(auto item, kv_->Get(Key(NameKey(tenant, database, name))));
  if (!item) return CollectionMissing(name);
  CP_ASSIGN_OR_RETURN(CollectionInfo c, FromItem(*item, tenant, database, name));
  CP_ASSIGN_OR_RETURN(auto dim_item, kv_->Get(Key(CollectionKey(c.storage))));
  if (dim_item) {
    if (auto dim = aws::GetInt64(*dim_item, "dimension"); dim.ok()) c.dimension = static_cast<uint32_t>(*dim);
  }
  return c;
}

Result<CollectionInfo> CollectionRegistry::GetById(const std::string& id) {
  if (!LooksLikeUuid(id)) return CollectionMissing(id);
  CP_ASSIGN_OR_RETURN(auto item, kv_->Get(Key(IdKey(id))));
  if (!item) return CollectionMissing(id);
  CP_ASSIGN_OR_RETURN(std::string tenant, aws::GetString(*item, "tenant"));
  CP_ASSIGN_OR_RETURN(std::string database, aws::GetString(*item, "database"));
  CP_ASSIGN_OR_RETURN(std::string name, aws::GetString(*item, "name"));
  auto c = GetByName(tenant, database, name);
  if (!c.ok() && c.status().code() == StatusCode::kNotFound) return CollectionMissing(id);
  if (c.ok() && c->id != id) return CollectionMissing(id);  // the name now belongs to another collection
  return c;
}

Result<std::vector<CollectionInfo>> CollectionRegistry::List(const std::string& tenant, const std::string& database,
                                                             std::optional<size_t> limit, size_t offset) {
  CP_ASSIGN_OR_RETURN(auto list, kv_->Get(Key(DatabaseKey(tenant, database))));
  std::vector<CollectionInfo> all;
  if (list) {
    if (const auto* names = aws::FindAttribute(*list, "names")) {
      for (const auto& name : names->set()) {
        auto c = GetByName(tenant, database, name);
        if (c.ok()) {
          all.push_back(std::move(c).value());
        } else if (c.status().code() != StatusCode::kNotFound) {  // deleted between the two reads
          return c.status();
        }
      }
    }
  }
  std::sort(all.begin(), all.end(), [](const CollectionInfo& a, const CollectionInfo& b) {
    return a.created_at_ms != b.created_at_ms ? a.created_at_ms < b.created_at_ms : a.name < b.name;
  });
  const size_t from = std::min(offset, all.size());
  const size_t to = limit ? std::min(all.size(), from + std::min(*limit, all.size())) : all.size();
  return std::vector<CollectionInfo>(all.begin() + static_cast<std::ptrdiff_t>(from),
                                     all.begin() + static_cast<std::ptrdiff_t>(to));
}

Result<size_t> CollectionRegistry::Count(const std::string& tenant, const std::string& database) {
  CP_ASSIGN_OR_RETURN(auto all, List(tenant, database));
  return all.size();
}

Status CollectionRegistry::Delete(const std::string& tenant, const std::string& database, const std::string& name) {
  std::optional<aws::Item> old;
  Status del = kv_->Delete({Key(NameKey(tenant, database, name)), "attribute_exists(#pk)", {{{"#pk", kPartitionKey}}, {}}},
                           &old);
  if (del.code() == StatusCode::kPreconditionFailed) return CollectionMissing(name);
  CP_RETURN_IF_ERROR(del.WithContext("collection " + name));
  KvUpdate list;
  list.key = Key(DatabaseKey(tenant, database));
  list.update = "DELETE #n :n";
  list.expr.names = {{"#n", "names"}};
  list.expr.values = {{":n", AttributeValue::SS({name})}};
  CP_RETURN_IF_ERROR(kv_->Update(list).status().WithContext("collection " + name + ": listing"));
  return Status::Ok();
}

Result<CollectionInfo> CollectionRegistry::Modify(const std::string& id, const std::optional<std::string>& new_name,
                                                  const std::optional<nlohmann::json>& new_metadata) {
  CP_ASSIGN_OR_RETURN(CollectionInfo c, GetById(id));
  if (new_metadata) c.metadata = *new_metadata;
  if (!new_name || *new_name == c.name) {
    KvPut put{ToItem(c), "#id = :id", {{{"#id", "id"}}, {{":id", AttributeValue::S(id)}}}};
    Status st = kv_->Put(put);
    if (st.code() == StatusCode::kPreconditionFailed) return CollectionMissing(id);
    CP_RETURN_IF_ERROR(st);
    return c;
  }
  CP_RETURN_IF_ERROR(ValidateCollectionName(*new_name));
  const std::string old_name = c.name;
  c.name = *new_name;
  Status put = kv_->Put({ToItem(c), "attribute_not_exists(#pk)", {{{"#pk", kPartitionKey}}, {}}});
  if (put.code() == StatusCode::kPreconditionFailed) {
    return Status(StatusCode::kAlreadyExists, "Collection [" + c.name + "] already exists");
  }
  CP_RETURN_IF_ERROR(put);
  aws::Item id_item = Key(IdKey(id));
  id_item["tenant"] = AttributeValue::S(c.tenant);
  id_item["database"] = AttributeValue::S(c.database);
  id_item["name"] = AttributeValue::S(c.name);
  CP_RETURN_IF_ERROR(kv_->Put({id_item, "", {}}));
  KvUpdate list;
  list.key = Key(DatabaseKey(c.tenant, c.database));
  list.update = "ADD #n :n";
  list.expr.names = {{"#n", "names"}};
  list.expr.values = {{":n", AttributeValue::SS({c.name})}};
  CP_RETURN_IF_ERROR(kv_->Update(list).status());
  CP_RETURN_IF_ERROR(Delete(c.tenant, c.database, old_name));
  return c;
}

}  // namespace chromapact::pipeline
