// The collections registry: what Chroma calls a collection (tenant, database, name, UUID,
// configuration, metadata) mapped to the key its log, pointer, sequence and dimension items are
// stored under (`storage`, the ShardId::collection of shard_id.h). Three item kinds in the
// lease/pointer table (pk only, strongly consistent reads):
//   NAME#<tenant>/<database>/<name>  {id, storage, configuration, metadata, shards, created_at_ms}
//                                    the authority: a collection exists iff this item does
//   ID#<id>                          {tenant, database, name}: lookups by UUID
//   DB#<tenant>/<database>           {names: SS}: the listing
// Collections created through the REST API are stored under their UUID (so a deleted and re-created
// name starts empty); the producer and query functions' own event format names the storage key.
// The dimension is the producer's `COLL#<storage>` item (dimension_registry.h).
//
// Names follow Chroma (rust/types/src/collection.rs): 3..512 characters of [A-Za-z0-9._-], starting
// and ending with [A-Za-z0-9], no "..", not an IPv4 address.
// Not thread-safe: one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

inline constexpr const char* kDefaultTenant = "default_tenant";
inline constexpr const char* kDefaultDatabase = "default_database";

struct CollectionInfo {
  std::string id;  // UUID (RFC 4122 version 4, lower-case hex with hyphens)
  std::string tenant = kDefaultTenant;
  std::string database = kDefaultDatabase;
  std::string name;
  std::string storage;  // the log / pointer key of the collection (ShardId::collection)
  nlohmann::json configuration = nlohmann::json::object();  // Chroma's configuration_json
  nlohmann::json metadata;                                  // object or null
  int shards = 1;                                           // shards at creation
  std::optional<uint32_t> dimension;                        // once the first embedding was written
  int64_t created_at_ms = 0;                                // epoch ms UTC

  // Chroma's Collection model as the REST API answers it: {id, name, configuration_json, metadata,
  // dimension, tenant, database, log_position: 0, version: 0}.
  nlohmann::json ToChromaJson() const;
};

// Errors: kInvalidArgument quoting the name, for a name outside the rule above.
Status ValidateCollectionName(const std::string& name);

// A new random UUID v4 (the one the store gives collections and segments: std::random_device).
std::string NewUuid();

class CollectionRegistry {
 public:
  // Borrows `kv` and `clock` (creation times).
  CollectionRegistry(KvStore* kv, const Clock* clock);

  // Creates `info` (id and storage chosen here when empty: a new UUID, stored under it;
  // created_at_ms from the clock). `info.configuration` is also written where the compactor and the
  // query read it (collection_options.h). With get_or_create an existing collection of that name is
  // returned unchanged (*created = false); without it that is kAlreadyExists "Collection [name]
  // already exists" (Chroma's UniqueConstraintError). Errors: ValidateCollectionName's; KvStore's.
  Result<CollectionInfo> Create(CollectionInfo info, bool get_or_create, bool* created = nullptr);

  // kNotFound "Collection [name] does not exist" (Chroma's wording) when absent.
  Result<CollectionInfo> GetByName(const std::string& tenant, const std::string& database, const std::string& name);
  // kNotFound "Collection [id] does not exist" when absent (also for a malformed id).
  Result<CollectionInfo> GetById(const std::string& id);
  // The database's collections ordered by created_at_ms then name; `offset` skipped, at most
  // `limit` (nullopt = all).
  Result<std::vector<CollectionInfo>> List(const std::string& tenant, const std::string& database,
                                           std::optional<size_t> limit = std::nullopt, size_t offset = 0);
  Result<size_t> Count(const std::string& tenant, const std::string& database);

  // Removes the collection from the registry (its name is free again); its stored data is left
  // for garbage collection. kNotFound when absent.
  Status Delete(const std::string& tenant, const std::string& database, const std::string& name);

  // Chroma's modify (PUT .../collections/{id}): a new name (kAlreadyExists when taken) and/or new
  // metadata (replaces the whole object). kNotFound when absent.
  Result<CollectionInfo> Modify(const std::string& id, const std::optional<std::string>& new_name,
                                const std::optional<nlohmann::json>& new_metadata);

 private:
  KvStore* kv_;
  const Clock* clock_;
};

}  // namespace chromapact::pipeline
