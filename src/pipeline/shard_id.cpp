#include "chromapact/pipeline/shard_id.h"

#include "chromapact/pipeline/delta_message.h"

#include <cstdint>

namespace chromapact::pipeline {

std::string ShardId::ToString() const {
  return collection + "#" + std::to_string(shard);
}

Status ValidateShardId(const ShardId& id) {
  if (id.collection.empty()) return InvalidArgument("shard id: collection is empty");
  if (id.collection.size() > 512) {
    return InvalidArgument("shard id: collection is " + std::to_string(id.collection.size()) +
                           " bytes long (at most 512)");
  }
  for (size_t i = 0; i < id.collection.size(); ++i) {
    char c = id.collection[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument("shard id: collection '" + id.collection + "' has character '" +
                             std::string(1, c) + "' at " + std::to_string(i) +
                             " (allowed: A-Z a-z 0-9 . _ -)");
    }
  }
  if (id.shard < 0) return InvalidArgument("shard id: shard " + std::to_string(id.shard) + " is negative");
  return Status::Ok();
}

namespace {

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  return h;
}

}  // namespace

int ShardForId(std::string_view id, int shards) {
  return static_cast<int>(Fnv1a64(id) % static_cast<uint64_t>(shards));
}

std::string MessageGroupFor(const ShardId& shard) { return SqsId(shard.ToString()); }

std::string LeaseKey(const ShardId& id) {
  return "LOCK#" + id.ToString();
}
std::string PointerKey(const ShardId& id) {
  return "PTR#" + id.ToString();
}

}  // namespace chromapact::pipeline
