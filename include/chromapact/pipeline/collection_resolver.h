// Which stored collection a producer or query event means. Those events name a collection by a
// string (`collection`, or CHROMAPACT_COLLECTION); through the collections registry
// (collection_registry.h) that string may be a Chroma name or UUID. Resolution, in order:
//   1. a name registered in default_tenant / default_database -> its storage key
//      (a collection created through the REST API is stored under its UUID);
//   2. a registered collection UUID -> its storage key;
//   3. otherwise the string itself is the storage key.
// After the first acknowledged write to such an unregistered string, the producer registers it
// (Register): when it is a valid Chroma name, default_tenant / default_database get a collection of
// that name stored under the string itself, so the official clients find what a producer created
// ("a registry item per collection, created by the API or on first write"). Its configuration is
// left empty, so the compactor's own defaults (CHROMAPACT_HNSW_*) still decide the HNSW parameters.
// Answers are remembered for `ttl_ms` (per process): a name deleted and re-created through the API
// is followed within that time. Not thread-safe: one per thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

class CollectionResolver {
 public:
  // Borrows `registry` and `clock`. `shards`: recorded on a name this resolver registers.
  CollectionResolver(CollectionRegistry* registry, const Clock* clock, int shards, int64_t ttl_ms = 5000);

  // The storage key for `collection` (rules 1-3; reads only). Errors: the registry's KvStore errors
  // (kThrottled, kPermissionDenied, ...), naming the collection; never kNotFound (an unknown
  // string is its own storage key).
  Result<std::string> Resolve(const std::string& collection);

  // Registers `collection` (stored under itself) after a write to it was acknowledged, unless it is
  // registered already or is not a valid Chroma name (then OK, nothing written). Errors: the
  // registry's KvStore errors; kAlreadyExists when, in a race, the name was registered meanwhile with
  // another storage key (the write went to the string's own key, which the name does not reach).
  Status Register(const std::string& collection);

  // Resolves the event's "collection" (absent or null: `default_collection`) and writes the storage
  // key back into it; an event without either is left alone (the event's parser names that error).
  // Errors: Resolve's; kInvalidArgument "collection: expected a string".
  Status ResolveEvent(nlohmann::json* event, const std::string& default_collection);

 private:
  struct Entry {
    std::string storage;
    int64_t at_ms = 0;
    bool registered = false;  // known to be in the registry (no need to register again)
  };
  CollectionRegistry* registry_;
  const Clock* clock_;
  int shards_;
  int64_t ttl_ms_;
  std::map<std::string, Entry> cache_;
};

}  // namespace chromapact::pipeline
