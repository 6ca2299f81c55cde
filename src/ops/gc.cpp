// CollectGarbage of ops/gc.h.
#include "chromapact/ops/gc.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "chromapact/codec/manifest.h"
#include "chromapact/ops/collection_status.h"
#include "chromapact/ops/versions.h"
#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/snapshot.h"

namespace chromapact::ops {
namespace {

using pipeline::ShardId;

// S3 DeleteObjects takes at most 1000 keys: one batch is one request.
constexpr size_t kDeleteBatch = 1000;

struct Plan {
  std::vector<GcRetained> retained;
  std::set<std::string> retained_keys;        // manifest keys of `retained`
  std::vector<VersionInfo> delete_versions;   // complete
  std::vector<VersionInfo> delete_unfinished;
  uint64_t log_cut = 0;
};

bool YoungAt(int64_t newest_ms, int64_t now_ms, int64_t min_age_ms) {
  return newest_ms == 0 || now_ms - newest_ms < min_age_ms;
}

Plan MakePlan(const ShardVersions& sv, const std::set<std::string>& pinned, int64_t now_ms, const GcOptions& o) {
  Plan plan;
  std::vector<const VersionInfo*> complete;
  for (const auto& v : sv.versions) {
    if (!v.manifest_key.empty()) {
      complete.push_back(&v);
    } else if (!YoungAt(v.last_modified_ms, now_ms, o.min_age_ms)) {
      plan.delete_unfinished.push_back(v);
    }
  }
  std::vector<const VersionInfo*> by_age = complete;
  std::sort(by_age.begin(), by_age.end(), [](const VersionInfo* a, const VersionInfo* b) {
    return std::tie(a->version, a->created_at_ms, a->writer_id) > std::tie(b->version, b->created_at_ms, b->writer_id);
  });
  std::set<const VersionInfo*> newest(by_age.begin(),
                                      by_age.begin() + static_cast<long>(std::min(o.keep_versions, by_age.size())));
  uint64_t cut = std::numeric_limits<uint64_t>::max();
  for (const VersionInfo* v : complete) {
    GcRetained r;
    r.manifest_key = v->manifest_key;
    r.version = v->version;
    r.log_position = v->log_position;
    r.current = pinned.count(v->manifest_key) > 0;
    r.newest = newest.count(v) > 0;
    // A LastModified of 0 (not reported) makes the version young: max() keeps created_at then, and
    // YoungAt treats 0 as young, so take the reported one into account only when it exists.
    const int64_t newest_ms = v->last_modified_ms == 0 ? 0 : std::max(v->last_modified_ms, v->created_at_ms);
    r.young = YoungAt(newest_ms, now_ms, o.min_age_ms);
    if (r.current || r.newest || r.young) {
      cut = std::min(cut, v->log_position);
      plan.retained_keys.insert(r.manifest_key);
      plan.retained.push_back(std::move(r));
    } else {
      plan.delete_versions.push_back(*v);
    }
  }
  plan.log_cut = plan.retained.empty() ? 0 : cut;
  return plan;
}

Status DeleteKeys(pipeline::ObjectStore* objects, const std::vector<std::string>& keys) {
  CP_ASSIGN_OR_RETURN(std::vector<pipeline::DeleteFailure> failed, objects->Delete(keys));
  if (failed.empty()) return Status::Ok();
  std::string msg = "S3 refused to delete " + std::to_string(failed.size()) + " of " + std::to_string(keys.size()) +
                    " keys:";
  for (size_t i = 0; i < failed.size() && i < 10; ++i) {
    msg += " " + failed[i].key + " (" + failed[i].code + ": " + failed[i].message + ")";
  }
  return IOError(msg);
}

class Run {
 public:
  Run(pipeline::ObjectStore* objects, pipeline::KvStore* kv, const pipeline::Clock* clock, const ShardId& shard,
      const GcOptions& options, const GcHook& hook)
      : objects_(objects), clock_(clock), shard_(shard), options_(options), hook_(hook), pointers_(kv, clock),
        leases_(kv, clock), kv_(kv) {}

  Result<GcResult> Go() {
    CP_RETURN_IF_ERROR(pipeline::ValidateShardId(shard_));
    if (options_.keep_versions == 0) return InvalidArgument("gc: keep_versions must be at least 1");
    if (options_.min_age_ms < kMinGcAgeMs) {
      return InvalidArgument("gc: min_age_ms " + std::to_string(options_.min_age_ms) + " is below " +
                             std::to_string(kMinGcAgeMs) +
                             " (15 min: a producer's PUT may still race a void marker that long)");
    }
    if (options_.dry_run) return Body();
    CP_ASSIGN_OR_RETURN(lease_, leases_.Acquire(shard_, "gc-" + pipeline::NewUuid()));
    Result<GcResult> r = Body();
    Status released = leases_.Release(*lease_);
    if (released.ok()) return r;
    if (r.ok()) {
      return released.WithContext("gc " + shard_.ToString() + " finished, releasing its lease failed");
    }
    return Status(r.status().code(), r.status().message() + " (releasing the lease also failed: " +
                                         released.ToString() + ")");
  }

 private:
  // Hook, heartbeat, then one delete request.
  Status Delete(const std::string& step, const std::vector<std::string>& keys) {
    if (hook_) CP_RETURN_IF_ERROR(hook_(step));
    CP_RETURN_IF_ERROR(leases_.HeartbeatIfDue(&*lease_));
    return DeleteKeys(objects_, keys).WithContext("gc " + shard_.ToString() + ": " + step);
  }

  // The pointer must name a version the plan retains (it may have moved between retained ones).
  Status CheckPointer(const Plan& plan) {
    CP_ASSIGN_OR_RETURN(std::optional<pipeline::Pointer> p, pointers_.Read(shard_));
    if (!p) {
      if (result_.pointer) return Aborted("gc " + shard_.ToString() + ": the pointer disappeared");
      return Status::Ok();
    }
    if (plan.retained_keys.count(p->manifest_key) == 0) {
      return Aborted("gc " + shard_.ToString() + ": the pointer moved to " + p->manifest_key +
                     " (version " + std::to_string(p->version) + "), which this run does not retain; run again");
    }
    return Status::Ok();
  }

  Result<GcResult> Body() {
    const std::string where = "gc " + shard_.ToString();
    result_.shard = shard_;
    result_.dry_run = options_.dry_run;
    result_.lease_fence = lease_ ? lease_->fence : 0;
    CP_ASSIGN_OR_RETURN(ShardVersions sv, ListVersions(objects_, kv_, clock_, shard_));
    CP_ASSIGN_OR_RETURN(std::optional<pipeline::Pointer> after, pointers_.Read(shard_));
    auto listed_complete = [&](const std::string& key) {
      return std::any_of(sv.versions.begin(), sv.versions.end(),
                         [&](const VersionInfo& v) { return !v.manifest_key.empty() && v.manifest_key == key; });
    };
    std::set<std::string> pinned;
    for (const auto& p : {sv.pointer, after}) {
      if (!p) continue;
      if (!listed_complete(p->manifest_key)) {
        if (p == after && !(sv.pointer == after)) {
          return Aborted(where + ": the pointer moved during the listing to " + p->manifest_key +
                         ", which the listing does not have; run again");
        }
        return Corruption(where + ": the pointer (version " + std::to_string(p->version) + ") names " +
                          p->manifest_key + ", which is no complete version in S3");
      }
      pinned.insert(p->manifest_key);
    }
    if (sv.pointer && !after) return Aborted(where + ": the pointer disappeared during the listing");
    result_.pointer = after;
    const int64_t now = clock_->NowMs();
    Plan plan = MakePlan(sv, pinned, now, options_);
    result_.retained = plan.retained;
    result_.log_cut = plan.log_cut;

    // Complete versions: the manifest, then the rest.
    for (const VersionInfo& v : plan.delete_versions) {
      if (!options_.dry_run) {
        CP_RETURN_IF_ERROR(CheckPointer(plan));
        CP_RETURN_IF_ERROR(Delete("version " + v.prefix + " manifest", {v.manifest_key}));
        CP_RETURN_IF_ERROR(DeletePrefix("version " + v.prefix + " files", v.prefix));
      }
      result_.deleted_versions.push_back(v.prefix);
      result_.objects_deleted += v.objects;
      result_.bytes_deleted += v.bytes;
    }
    for (const VersionInfo& v : plan.delete_unfinished) {
      if (!options_.dry_run) CP_RETURN_IF_ERROR(DeletePrefix("unfinished " + v.prefix, v.prefix));
      result_.deleted_unfinished.push_back(v.prefix);
      result_.objects_deleted += v.objects;
      result_.bytes_deleted += v.bytes;
    }

    CP_RETURN_IF_ERROR(CollectChunks(plan, now));

    // The log, in seq order, up to the cut and the first entry too young.
    if (plan.log_cut == 0) return result_;
    CP_ASSIGN_OR_RETURN(std::vector<pipeline::LogEntry> entries,
                        pipeline::ListLog(objects_, shard_, 0, static_cast<size_t>(plan.log_cut)));
    std::vector<pipeline::LogEntry> doomed;
    for (const auto& e : entries) {
      if (e.seq > plan.log_cut || YoungAt(e.last_modified_ms, now, options_.min_age_ms)) break;
      doomed.push_back(e);
    }
    if (doomed.empty()) return result_;
    if (!options_.dry_run) CP_RETURN_IF_ERROR(CheckPointer(plan));
    for (size_t i = 0; i < doomed.size(); i += kDeleteBatch) {
      std::vector<std::string> keys;
      uint64_t bytes = 0;
      const size_t end = std::min(doomed.size(), i + kDeleteBatch);
      for (size_t j = i; j < end; ++j) {
        keys.push_back(doomed[j].key);
        bytes += static_cast<uint64_t>(doomed[j].size);
      }
      if (!options_.dry_run) CP_RETURN_IF_ERROR(Delete("log " + std::to_string(i / kDeleteBatch), keys));
      result_.log_entries_deleted += keys.size();
      result_.log_bytes_deleted += bytes;
      result_.log_deleted_through = doomed[end - 1].seq;
    }
    return result_;
  }

  // Chunks no retained manifest lists and older than min_age_ms (an upload at work, whose manifest
  // is not there yet, writes only young ones; a compactor reuses only chunks of the pointer's
  // version, which is retained). Runs after the versions' deletion, so a crash before it leaves
  // chunks nothing lists, never a manifest without its chunks.
  Status CollectChunks(const Plan& plan, int64_t now) {
    std::set<std::string> referenced;
    for (const GcRetained& v : plan.retained) {
      CP_ASSIGN_OR_RETURN(std::string text, objects_->Get(v.manifest_key));
      CP_ASSIGN_OR_RETURN(codec::Manifest m, codec::DecodeManifest(text));
      for (const auto& f : m.files) referenced.insert(f.chunks.begin(), f.chunks.end());
    }
    const std::string prefix = pipeline::ChunkPrefix(shard_);
    CP_ASSIGN_OR_RETURN(std::vector<pipeline::ObjectMeta> stored, objects_->List(prefix));
    std::vector<const pipeline::ObjectMeta*> doomed;
    for (const auto& o : stored) {
      if (referenced.count(o.key.substr(prefix.size())) > 0) continue;
      if (YoungAt(o.last_modified_ms, now, options_.min_age_ms)) continue;
      doomed.push_back(&o);
    }
    if (doomed.empty()) return Status::Ok();
    if (!options_.dry_run) CP_RETURN_IF_ERROR(CheckPointer(plan));
    for (size_t i = 0; i < doomed.size(); i += kDeleteBatch) {
      std::vector<std::string> keys;
      uint64_t bytes = 0;
      for (size_t j = i; j < std::min(doomed.size(), i + kDeleteBatch); ++j) {
        keys.push_back(doomed[j]->key);
        bytes += static_cast<uint64_t>(doomed[j]->size);
      }
      if (!options_.dry_run) CP_RETURN_IF_ERROR(Delete("chunks " + std::to_string(i / kDeleteBatch), keys));
      result_.chunks_deleted += keys.size();
      result_.chunk_bytes_deleted += bytes;
    }
    return Status::Ok();
  }

  // Every object still under `prefix`, in batches.
  Status DeletePrefix(const std::string& step, const std::string& prefix) {
    CP_ASSIGN_OR_RETURN(std::vector<pipeline::ObjectMeta> listed, objects_->List(prefix));
    for (size_t i = 0; i < listed.size(); i += kDeleteBatch) {
      std::vector<std::string> keys;
      for (size_t j = i; j < std::min(listed.size(), i + kDeleteBatch); ++j) keys.push_back(listed[j].key);
      CP_RETURN_IF_ERROR(Delete(step + " " + std::to_string(i / kDeleteBatch), keys));
    }
    return Status::Ok();
  }

  pipeline::ObjectStore* objects_;
  const pipeline::Clock* clock_;
  ShardId shard_;
  GcOptions options_;
  const GcHook& hook_;
  pipeline::PointerTable pointers_;
  pipeline::LeaseTable leases_;
  pipeline::KvStore* kv_;
  std::optional<pipeline::Lease> lease_;
  GcResult result_;
};

}  // namespace

Result<GcResult> CollectGarbage(pipeline::ObjectStore* objects, pipeline::KvStore* kv, const pipeline::Clock* clock,
                                const ShardId& shard, const GcOptions& options, const GcHook& hook) {
  Run run(objects, kv, clock, shard, options, hook);
  return run.Go();
}

nlohmann::json ToJson(const GcResult& r) {
  nlohmann::json retained = nlohmann::json::array();
  for (const auto& v : r.retained) {
    retained.push_back({{"version", v.version},
                        {"manifest_key", v.manifest_key},
                        {"log_position", v.log_position},
                        {"current", v.current},
                        {"newest", v.newest},
                        {"young", v.young}});
  }
  nlohmann::json pointer = nullptr;
  if (r.pointer) pointer = {{"version", r.pointer->version}, {"manifest_key", r.pointer->manifest_key}};
  return {{"collection", r.shard.collection},
          {"shard", r.shard.shard},
          {"dry_run", r.dry_run},
          {"pointer", pointer},
          {"retained", retained},
          {"deleted_versions", r.deleted_versions},
          {"deleted_unfinished", r.deleted_unfinished},
          {"objects_deleted", r.objects_deleted},
          {"bytes_deleted", r.bytes_deleted},
          {"chunks_deleted", r.chunks_deleted},
          {"chunk_bytes_deleted", r.chunk_bytes_deleted},
          {"log_entries_deleted", r.log_entries_deleted},
          {"log_bytes_deleted", r.log_bytes_deleted},
          {"log_cut", r.log_cut},
          {"log_deleted_through", r.log_deleted_through}};
}

}  // namespace chromapact::ops
