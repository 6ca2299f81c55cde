#include "chromapact/pipeline/collection_resolver.h"

#include <nlohmann/json.hpp>

namespace chromapact::pipeline {

CollectionResolver::CollectionResolver(CollectionRegistry* registry, const Clock* clock, int shards, int64_t ttl_ms)
    : registry_(registry), clock_(clock), shards_(shards), ttl_ms_(ttl_ms) {}

Result<std::string> CollectionResolver::Resolve(const std::string& collection) {
  const int64_t now = clock_->NowMs();
  if (auto it = cache_.find(collection); it != cache_.end() && now - it->second.at_ms < ttl_ms_) {
    return it->second.storage;
  }
  const std::string where = "collection " + collection + ": registry";
  Entry entry{collection, now, false};
  auto by_name = registry_->GetByName(kDefaultTenant, kDefaultDatabase, collection);
  if (by_name.ok()) {
    entry = {by_name->storage, now, true};
  } else if (by_name.status().code() != StatusCode::kNotFound) {
    return by_name.status().WithContext(where);
  } else if (auto by_id = registry_->GetById(collection); by_id.ok()) {
    entry = {by_id->storage, now, true};
  } else if (by_id.status().code() != StatusCode::kNotFound) {
    return by_id.status().WithContext(where);
  }
  cache_[collection] = entry;
  return entry.storage;
}

Status CollectionResolver::Register(const std::string& collection) {
  if (auto it = cache_.find(collection); it != cache_.end() && it->second.registered) return Status::Ok();
  if (!ValidateCollectionName(collection).ok()) return Status::Ok();  // reachable by its storage key only
  CollectionInfo info;
  info.name = collection;
  info.storage = collection;
  info.shards = shards_;
  auto created = registry_->Create(std::move(info), /*get_or_create=*/true);
  if (!created.ok()) return created.status().WithContext("collection " + collection + ": registry");
  cache_[collection] = {created->storage, clock_->NowMs(), true};
  if (created->storage != collection) {
    return Status(StatusCode::kAlreadyExists, "collection " + collection + ": registered meanwhile, stored under " +
                                                  created->storage + "; this write went to storage " + collection);
  }
  return Status::Ok();
}

Status CollectionResolver::ResolveEvent(nlohmann::json* event, const std::string& default_collection) {
  if (!event->is_object()) return Status::Ok();
  std::string collection = default_collection;
  if (auto it = event->find("collection"); it != event->end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument("collection: expected a string");
    collection = it->get<std::string>();
  }
  if (collection.empty()) return Status::Ok();
  CP_ASSIGN_OR_RETURN(std::string storage, Resolve(collection));
  (*event)["collection"] = storage;
  return Status::Ok();
}

}  // namespace chromapact::pipeline
