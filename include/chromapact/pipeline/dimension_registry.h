// The collection's embedding dimension, kept where the producer can check it before it
// acknowledges (docs/design/log.md "Dimension"): DynamoDB item `COLL#<collection>` {pk, dimension}
// in the lease/pointer table. The first write with embeddings sets it with one conditional
// UpdateItem (`SET dimension = if_not_exists(dimension, :d)` if `attribute_not_exists(dimension) OR
// dimension = :d`); every later write is checked against it, so a wrong-dimension delta is refused
// at the producer (as Chroma answers HTTP 400 "Collection expecting embedding with dimension of 64,
// got 63", ../docs chroma-semantics) instead of reaching the log.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "chromapact/pipeline/kv_store.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

// "COLL#<collection>".
std::string CollectionKey(const std::string& collection);

// Caches what it learned per collection (a dimension never changes once set). Not thread-safe.
class DimensionRegistry {
 public:
  explicit DimensionRegistry(KvStore* kv) : kv_(kv) {}
  // OK when `collection` has dimension `dimension` or had none (then it is set to `dimension`).
  // One UpdateItem the first time per collection and process, none after.
  // Errors: kInvalidArgument "embeddings: Collection expecting embedding with dimension of 384, got
  // 383" when another dimension is set; KvStore errors (kThrottled, kPermissionDenied, ...).
  Status Check(const std::string& collection, uint32_t dimension);

 private:
  KvStore* kv_;
  std::map<std::string, uint32_t> known_;
};

}  // namespace chromapact::pipeline
