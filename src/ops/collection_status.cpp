#include "chromapact/ops/collection_status.h"

#include <ctime>

#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/shard_id.h"

namespace chromapact::ops {

using pipeline::ShardId;

std::string FormatUtcMs(int64_t epoch_ms) {
  if (epoch_ms <= 0) return "";
  const std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(epoch_ms % 1000));
  return buf;
}

Result<CollectionStatus> ReadCollectionStatus(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                              const pipeline::Clock* clock, const std::string& collection,
                                              int shards, size_t pending_limit) {
  if (shards < 1) return InvalidArgument("shards: expected >= 1, got " + std::to_string(shards));
  CP_RETURN_IF_ERROR(pipeline::ValidateShardId({collection, 0}));
  pipeline::PointerTable pointers(kv, clock);
  pipeline::LeaseTable leases(kv, clock);
  CollectionStatus out;
  out.collection = collection;
  for (int s = 0; s < shards; ++s) {
    const ShardId shard{collection, s};
    ShardStatus st;
    st.shard = s;
    CP_ASSIGN_OR_RETURN(st.pointer, pointers.Read(shard));
    if (st.pointer) {
      CP_ASSIGN_OR_RETURN(std::string text, objects->Get(st.pointer->manifest_key));
      auto manifest = codec::DecodeManifest(text);
      if (!manifest.ok()) return manifest.status().WithContext(st.pointer->manifest_key);
      st.log_position = manifest->log_position;
      st.record_count = manifest->record_count;
      st.dimension = manifest->dimension;
      st.skipped = manifest->skipped.size();
    }
    CP_ASSIGN_OR_RETURN(st.last_sequence, pipeline::LastSequence(kv, shard));
    CP_ASSIGN_OR_RETURN(auto tail, pipeline::ListLog(objects, shard, st.log_position, pending_limit));
    st.pending = std::min(tail.size(), pending_limit);
    CP_ASSIGN_OR_RETURN(st.lease, leases.Read(shard));
    st.lease_held = st.lease && st.lease->HeldAt(clock->NowMs());
    out.record_count += st.record_count;
    out.pending += st.pending;
    out.shards.push_back(std::move(st));
  }
  return out;
}

nlohmann::json ToJson(const CollectionStatus& status) {
  nlohmann::json shards = nlohmann::json::array();
  for (const ShardStatus& s : status.shards) {
    nlohmann::json j = {{"shard", s.shard},
                        {"version", nullptr},
                        {"manifest_key", nullptr},
                        {"committed_at", nullptr},
                        {"log_position", s.log_position},
                        {"record_count", s.record_count},
                        {"dimension", s.dimension},
                        {"skipped", s.skipped},
                        {"last_sequence", s.last_sequence},
                        {"pending", s.pending},
                        {"lease", nullptr}};
    if (s.pointer) {
      j["version"] = s.pointer->version;
      j["manifest_key"] = s.pointer->manifest_key;
      j["committed_at"] = FormatUtcMs(s.pointer->committed_at_ms);
    }
    if (s.lease) {
      j["lease"] = {{"owner", s.lease->owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.lease->owner)},
                    {"fence", s.lease->fence},
                    {"expires_at", FormatUtcMs(s.lease->expires_at_ms)},
                    {"held", s.lease_held}};
    }
    shards.push_back(std::move(j));
  }
  return {{"collection", status.collection},
          {"record_count", status.record_count},
          {"pending", status.pending},
          {"shards", std::move(shards)}};
}

}  // namespace chromapact::ops
