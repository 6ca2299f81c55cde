#include "chromapact/pipeline/pointer_cache.h"

#include <utility>

namespace chromapact::pipeline {

PointerCache::PointerCache(PointerTable* pointers, const Clock* clock, int64_t max_age_ms)
    : pointers_(pointers), clock_(clock), max_age_ms_(max_age_ms < 0 ? 0 : max_age_ms) {}

Result<std::optional<Pointer>> PointerCache::Get(const ShardId& shard) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  const std::string key = PointerKey(shard);
  const int64_t now = clock_->NowMs();
  auto it = entries_.find(key);
  if (it != entries_.end() && max_age_ms_ > 0 && now - it->second.read_at_ms < max_age_ms_) {
    return it->second.pointer;
  }
  CP_ASSIGN_OR_RETURN(std::optional<Pointer> fresh, pointers_->Read(shard));
  entries_[key] = Entry{fresh, now};
  return fresh;
}

void PointerCache::Invalidate(const ShardId& shard) { entries_.erase(PointerKey(shard)); }

}  // namespace chromapact::pipeline
