// ListVersions and Rollback of ops/versions.h.
#include "chromapact/ops/versions.h"

#include <algorithm>
#include <map>

#include "chromapact/codec/manifest.h"
#include "chromapact/ops/collection_status.h"
#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/snapshot.h"

namespace chromapact::ops {
namespace {

using pipeline::ShardId;

// "snapshots/<collection>/<shard>/" (SnapshotPrefix without its last component).
std::string ShardSnapshotsPrefix(const ShardId& shard) {
  const std::string one = pipeline::SnapshotPrefix(shard, 1, "w");
  return one.substr(0, one.size() - std::string("1-w/").size());
}

// "<version>-<writer_id>" -> (version, writer_id); nullopt for anything else.
std::optional<std::pair<uint64_t, std::string>> ParseVersionDir(const std::string& dir) {
  const size_t dash = dir.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= dir.size()) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < dash; ++i) {
    if (dir[i] < '0' || dir[i] > '9' || v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(dir[i] - '0');
  }
  if (v == 0) return std::nullopt;
  return std::make_pair(v, dir.substr(dash + 1));
}

}  // namespace

Result<ShardVersions> ListVersions(pipeline::ObjectStore* objects, pipeline::KvStore* kv, const pipeline::Clock* clock,
                                   const ShardId& shard) {
  CP_RETURN_IF_ERROR(pipeline::ValidateShardId(shard));
  ShardVersions out;
  out.shard = shard;
  pipeline::PointerTable pointers(kv, clock);
  CP_ASSIGN_OR_RETURN(out.pointer, pointers.Read(shard));
  const std::string root = ShardSnapshotsPrefix(shard);
  CP_ASSIGN_OR_RETURN(std::vector<pipeline::ObjectMeta> listed, objects->List(root));
  std::map<std::string, VersionInfo> by_dir;
  std::map<std::string, std::map<std::string, int64_t>> sizes;  // dir -> relative path -> size
  for (const auto& o : listed) {
    const std::string rest = o.key.substr(root.size());
    const size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;  // not inside a version folder
    const std::string dir = rest.substr(0, slash);
    auto parsed = ParseVersionDir(dir);
    if (!parsed) continue;
    VersionInfo& v = by_dir[dir];
    v.prefix = root + dir + "/";
    v.version = parsed->first;
    v.writer_id = parsed->second;
    v.objects += 1;
    v.bytes += static_cast<uint64_t>(o.size);
    v.last_modified_ms = std::max(v.last_modified_ms, o.last_modified_ms);
    const std::string path = rest.substr(slash + 1);
    if (path == codec::kManifestFileName) v.manifest_key = o.key;
    sizes[dir][path] = o.size;
  }
  std::optional<std::map<std::string, int64_t>> chunk_sizes;  // sha256 -> size, listed when needed
  for (auto& [dir, v] : by_dir) {
    if (v.manifest_key.empty()) continue;
    CP_ASSIGN_OR_RETURN(std::string text, objects->Get(v.manifest_key));
    auto m = codec::DecodeManifest(text);
    if (!m.ok()) return m.status().WithContext(v.manifest_key);
    if (m->collection != shard.collection || m->shard != static_cast<uint32_t>(shard.shard)) {
      return Corruption(v.manifest_key + ": a manifest of " + m->collection + "#" + std::to_string(m->shard));
    }
    v.log_position = m->log_position;
    v.record_count = m->record_count;
    v.dimension = m->dimension;
    v.created_at_ms = m->created_at_ms;
    v.parent_version = m->parent_version;
    v.base_log_position = m->base_log_position;
    v.files_present = true;
    if (m->chunk_bytes != 0 && !chunk_sizes) {
      const std::string chunks = pipeline::ChunkPrefix(shard);
      CP_ASSIGN_OR_RETURN(std::vector<pipeline::ObjectMeta> stored, objects->List(chunks));
      chunk_sizes.emplace();
      for (const auto& o : stored) (*chunk_sizes)[o.key.substr(chunks.size())] = o.size;
    }
    for (const auto& f : m->files) {
      v.snapshot_bytes += f.size;
      if (m->chunk_bytes == 0) {
        auto it = sizes[dir].find(f.path);
        if (it == sizes[dir].end() || it->second != static_cast<int64_t>(f.size)) v.files_present = false;
        continue;
      }
      for (size_t k = 0; k < f.chunks.size(); ++k) {
        const uint64_t len = std::min<uint64_t>(m->chunk_bytes, f.size - k * m->chunk_bytes);
        auto it = chunk_sizes->find(f.chunks[k]);
        if (it == chunk_sizes->end() || it->second != static_cast<int64_t>(len)) v.files_present = false;
      }
    }
    v.current = out.pointer && out.pointer->manifest_key == v.manifest_key;
  }
  for (auto& [dir, v] : by_dir) out.versions.push_back(std::move(v));
  std::sort(out.versions.begin(), out.versions.end(), [](const VersionInfo& a, const VersionInfo& b) {
    return a.version != b.version ? a.version < b.version : a.writer_id < b.writer_id;
  });
  return out;
}

nlohmann::json ToJson(const ShardVersions& sv) {
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : sv.versions) {
    const bool complete = !v.manifest_key.empty();
    versions.push_back({{"version", v.version},
                        {"writer_id", v.writer_id},
                        {"manifest_key", complete ? nlohmann::json(v.manifest_key) : nlohmann::json(nullptr)},
                        {"current", v.current},
                        {"complete", complete},
                        {"files_present", v.files_present},
                        {"log_position", v.log_position},
                        {"base_log_position", v.base_log_position},
                        {"snapshot_bytes", v.snapshot_bytes},
                        {"record_count", v.record_count},
                        {"dimension", v.dimension},
                        {"created_at", FormatUtcMs(v.created_at_ms)},
                        {"parent_version", v.parent_version ? nlohmann::json(*v.parent_version) : nlohmann::json()},
                        {"objects", v.objects},
                        {"bytes", v.bytes},
                        {"last_modified", FormatUtcMs(v.last_modified_ms)}});
  }
  nlohmann::json pointer = nullptr;
  if (sv.pointer) {
    pointer = {{"version", sv.pointer->version},
               {"manifest_key", sv.pointer->manifest_key},
               {"committed_at", FormatUtcMs(sv.pointer->committed_at_ms)}};
  }
  return {{"collection", sv.shard.collection}, {"shard", sv.shard.shard}, {"pointer", pointer}, {"versions", versions}};
}

namespace {

// Rollback's checks and CAS, under `lease`.
Result<RollbackResult> RollbackLeased(pipeline::ObjectStore* objects, pipeline::KvStore* kv, pipeline::Queue* queue,
                                      const pipeline::Clock* clock, const ShardId& shard,
                                      const std::string& manifest_key, const pipeline::Lease& lease) {
  CP_ASSIGN_OR_RETURN(ShardVersions sv, ListVersions(objects, kv, clock, shard));
  const std::string where = "rollback " + shard.ToString();
  if (!sv.pointer) return NotFound(where + ": nothing committed yet (no pointer " + pipeline::PointerKey(shard) + ")");
  auto target = std::find_if(sv.versions.begin(), sv.versions.end(),
                             [&](const VersionInfo& v) { return v.manifest_key == manifest_key; });
  if (target == sv.versions.end()) {
    return NotFound(where + ": no complete version with manifest " + manifest_key + " (see `chromapact versions`)");
  }
  if (!target->files_present) return NotFound(where + ": files of " + manifest_key + " are missing");
  if (target->current) return Status(StatusCode::kAlreadyExists, where + ": " + manifest_key + " is current already");
  // The log after the target up to what the current version covers must all be there: the next
  // cycle applies it again. (Entries past the current version are the log's ordinary tail.)
  auto current = std::find_if(sv.versions.begin(), sv.versions.end(), [](const VersionInfo& v) { return v.current; });
  const uint64_t upto = current != sv.versions.end() ? current->log_position : 0;
  if (upto > target->log_position) {
    CP_ASSIGN_OR_RETURN(auto entries, pipeline::ListLog(objects, shard, target->log_position,
                                                        static_cast<size_t>(upto - target->log_position)));
    uint64_t want = target->log_position + 1;
    for (const auto& e : entries) {
      if (e.seq > upto) break;
      if (e.seq != want) break;
      ++want;
    }
    if (want <= upto) {
      return PreconditionFailed(where + ": log entry " + std::to_string(want) + " after version " +
                                std::to_string(target->version) + "'s log_position " +
                                std::to_string(target->log_position) +
                                " is gone (removed by gc?): rolling back would lose acknowledged writes");
    }
  }
  RollbackResult r;
  r.before = *sv.pointer;
  r.target = *target;
  pipeline::PointerTable pointers(kv, clock);
  CP_ASSIGN_OR_RETURN(r.after, pointers.CompareAndSwap(shard, sv.pointer->version, manifest_key, lease.fence));
  if (queue != nullptr) {
    pipeline::DeltaMessage trigger;
    trigger.shard = shard;
    pipeline::QueueSend send;
    send.body = pipeline::EncodeDeltaMessage(trigger);
    send.group_id = pipeline::MessageGroupFor(shard);
    send.dedup_id = pipeline::SqsId(shard.ToString() + "#rollback#" + std::to_string(r.after.version));
    CP_RETURN_IF_ERROR(queue->Send(send).status().WithContext(where + ": pointer moved to version " +
                                                              std::to_string(r.after.version) + ", trigger"));
    r.triggered = true;
  }
  return r;
}

}  // namespace

Result<RollbackResult> Rollback(pipeline::ObjectStore* objects, pipeline::KvStore* kv, pipeline::Queue* queue,
                                const pipeline::Clock* clock, const ShardId& shard, const std::string& manifest_key) {
  CP_RETURN_IF_ERROR(pipeline::ValidateShardId(shard));
  pipeline::LeaseTable leases(kv, clock);
  CP_ASSIGN_OR_RETURN(pipeline::Lease lease, leases.Acquire(shard, "rollback-" + pipeline::NewUuid()));
  auto r = RollbackLeased(objects, kv, queue, clock, shard, manifest_key, lease);
  Status released = leases.Release(lease);
  if (r.ok() && !released.ok()) {
    return released.WithContext("rollback " + shard.ToString() + ": done (pointer version " +
                                std::to_string(r->after.version) + "), but releasing the lease");
  }
  return r;
}

}  // namespace chromapact::ops
