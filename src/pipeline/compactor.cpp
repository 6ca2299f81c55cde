#include "chromapact/pipeline/compactor.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "chromapact/codec/manifest.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/snapshot.h"
#include "pipeline/compactor_apply.h"

namespace chromapact::pipeline {
namespace {

namespace fs = std::filesystem;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

enum class MsgState {
  kPending,    // to apply in this attempt
  kApplied,    // applied into the version being built
  kContained,  // already in the base version (redelivery)
  kDuplicate,  // same delta id as an earlier message of this cycle
  kFailed,     // not applicable: not deleted, reported
  kGiveBack,   // not ours / over budget: visibility 0
};

struct Msg {
  QueueMessage q;
  bool triggering = false;
  std::optional<DeltaMessage> parsed;
  MsgState state = MsgState::kPending;
  bool settled = false;  // deleted or given back
};

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status ResetDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return IOError("cannot remove " + dir + ": " + ec.message());
  fs::create_directories(dir, ec);
  if (ec) return IOError("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

std::vector<std::string> CycleResult::BatchItemFailures() const {
  std::vector<std::string> ids;
  for (const auto& f : failures) {
    if (f.triggering) ids.push_back(f.message_id);
  }
  return ids;
}

Compactor::Compactor(KvStore* kv, ObjectStore* objects, Queue* queue, const Clock* clock,
                     CompactorOptions options)
    : kv_(kv), objects_(objects), queue_(queue), clock_(clock), options_(std::move(options)) {}

CycleResult Compactor::RunCycle(const ShardId& shard, const std::vector<QueueMessage>& messages) {
  CycleResult r;
  const int64_t t_start = SteadyMs();
  std::vector<Msg> msgs;
  for (const auto& m : messages) msgs.push_back({m, true, std::nullopt, MsgState::kPending, false});

  auto fail_msg = [&](Msg& m, Status st) {
    m.state = MsgState::kFailed;
    r.failures.push_back({m.q.message_id, std::move(st), m.triggering});
  };
  // Ends the cycle: whatever was neither deleted nor given back stays in flight.
  auto finish = [&](Status st) -> CycleResult {
    r.status = std::move(st);
    for (auto& m : msgs) {
      if (m.settled) continue;
      r.in_flight_receipts.push_back(m.q.receipt_handle);
      if (!r.status.ok() && m.triggering && m.state != MsgState::kFailed) {
        r.failures.push_back({m.q.message_id, r.status, true});
      }
    }
    r.phases.total_ms = SteadyMs() - t_start;
    return std::move(r);
  };
  auto give_back = [&](std::vector<Msg*> which) {
    std::vector<std::string> receipts;
    for (Msg* m : which) receipts.push_back(m->q.receipt_handle);
    if (receipts.empty()) return;
    auto res = queue_->ChangeVisibility(receipts, 0);
    if (!res.ok()) return;  // they come back after their visibility timeout anyway
    for (Msg* m : which) {
      bool failed = std::any_of(res->begin(), res->end(), [&](const ReceiptFailure& f) {
        return f.receipt_handle == m->q.receipt_handle;
      });
      if (!failed) m->settled = true;
    }
  };

  Status valid = ValidateShardId(shard);
  if (!valid.ok()) return finish(valid);

  // ---- lease
  int64_t t = SteadyMs();
  LeaseTable leases(kv_, clock_, options_.lease);
  auto owner_ulid = codec::NewUlid();
  if (!owner_ulid.ok()) return finish(owner_ulid.status());
  auto lease_or = leases.Acquire(shard, options_.writer_id + "." + *owner_ulid);
  r.phases.lease_ms = SteadyMs() - t;
  if (!lease_or.ok()) return finish(lease_or.status().WithContext("compactor: lease"));
  Lease lease = *lease_or;
  r.fence = lease.fence;
  // A hook failure is a crash: stop right there, no clean-up.
  auto step = [&](const char* name) -> Status {
    if (options_.step_hook) CP_RETURN_IF_ERROR(options_.step_hook(name));
    return leases.HeartbeatIfDue(&lease).WithContext(std::string("compactor: heartbeat after ") + name);
  };
  // Other failures release the lease (best effort) and leave the messages in flight.
  auto abandon = [&](Status st) -> CycleResult {
    (void)leases.Release(lease);
    return finish(std::move(st));
  };

  // ---- drain
  t = SteadyMs();
  const int64_t drain_deadline = t + options_.drain_budget_ms;
  while (static_cast<int>(msgs.size()) < options_.max_messages && SteadyMs() < drain_deadline) {
    int n = std::min(10, options_.max_messages - static_cast<int>(msgs.size()));
    auto batch = queue_->Receive(n, 0, options_.visibility_seconds);
    if (!batch.ok() || batch->empty()) break;  // a failed drain only ends the drain early
    for (auto& m : *batch) msgs.push_back({std::move(m), false, std::nullopt, MsgState::kPending, false});
  }
  {
    std::vector<Msg*> not_ours;
    std::map<std::string, size_t> first_of;  // delta id -> index of its first message
    for (size_t i = 0; i < msgs.size(); ++i) {
      Msg& m = msgs[i];
      auto parsed = ParseDeltaMessage(m.q.body);
      if (!parsed.ok()) {
        fail_msg(m, parsed.status());
        continue;
      }
      if (!(parsed->shard == shard)) {
        if (m.triggering) {
          fail_msg(m, InvalidArgument("compactor: message names shard " + parsed->shard.ToString() +
                                      ", cycle is " + shard.ToString()));
        } else {
          m.state = MsgState::kGiveBack;
          not_ours.push_back(&m);
        }
        continue;
      }
      m.parsed = std::move(parsed).value();
      auto [it, fresh] = first_of.emplace(m.parsed->delta_id, i);
      if (!fresh) m.state = MsgState::kDuplicate;
    }
    give_back(not_ours);
  }
  r.phases.drain_ms = SteadyMs() - t;
  if (Status st = step(kCompactStepDrained); !st.ok()) return finish(st);

  // ---- pointer
  t = SteadyMs();
  PointerTable pointers(kv_, clock_);
  auto ptr_or = pointers.Read(shard);
  r.phases.pointer_ms = SteadyMs() - t;
  if (!ptr_or.ok()) return abandon(ptr_or.status().WithContext("compactor: pointer"));
  std::optional<Pointer> ptr = *ptr_or;

  const std::string root = options_.work_dir + "/" + shard.ToString();
  const std::string base_dir = root + "/base";
  const std::string work_dir = root + "/work";
  std::map<std::string, std::string> fetched;  // delta key -> bytes (kept across attempts)

  for (int attempt = 1; attempt <= std::max(1, options_.max_commit_attempts); ++attempt) {
    r.commit_attempts = attempt;
    for (auto& m : msgs) {
      if (m.state == MsgState::kApplied || m.state == MsgState::kContained) m.state = MsgState::kPending;
    }
    r.applied_delta_ids.clear();

    // ---- base version
    t = SteadyMs();
    std::optional<codec::Manifest> base;
    if (ptr) {
      const std::string key = shard.ToString();
      std::error_code ec;
      bool reuse = cached_manifest_key_[key] == ptr->manifest_key &&
                   fs::exists(base_dir + "/" + codec::kManifestFileName, ec);
      if (reuse) {
        auto text = ReadText(base_dir + "/" + codec::kManifestFileName);
        if (!text.ok()) return abandon(text.status());
        auto m = codec::DecodeManifest(*text);
        if (!m.ok()) return abandon(m.status().WithContext("compactor: cached base"));
        base = std::move(m).value();
      } else {
        cached_manifest_key_.erase(key);
        FetchStats fs_stats;
        auto m = FetchSnapshot(objects_, ptr->manifest_key, base_dir, &fs_stats);
        r.bytes_downloaded += fs_stats.bytes_fetched;
        if (!m.ok()) return abandon(m.status().WithContext("compactor: base version"));
        base = std::move(m).value();
        cached_manifest_key_[key] = ptr->manifest_key;
      }
      if (Status st = ResetDir(work_dir); !st.ok()) return abandon(st);
      std::error_code cec;
      fs::copy(base_dir, work_dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing, cec);
      if (cec) return abandon(IOError("compactor: copy base: " + cec.message()));
      fs::remove(work_dir + "/" + codec::kManifestFileName, cec);
    } else {
      if (Status st = ResetDir(work_dir); !st.ok()) return abandon(st);
    }
    r.phases.base_ms += SteadyMs() - t;

    // ---- merge
    t = SteadyMs();
    int64_t sub = t;
    auto store_or = store::Store::Open(work_dir, {});
    if (!store_or.ok()) return abandon(store_or.status().WithContext("compactor: open work copy"));
    std::unique_ptr<store::Store> st = std::move(store_or).value();
    auto info = st->CreateCollection(shard.collection, options_.collection, /*get_or_create=*/true);
    if (!info.ok()) return abandon(info.status().WithContext("compactor: collection"));
    std::optional<size_t> dim = info->dimension;
    auto versions_or = internal::LoadRecordVersions(work_dir);
    if (!versions_or.ok()) return abandon(versions_or.status());
    internal::RecordVersions versions = std::move(versions_or).value();
    r.phases.open_ms += SteadyMs() - sub;

    for (auto& m : msgs) {
      if (m.state != MsgState::kPending) continue;
      const DeltaMessage& dm = *m.parsed;
      if (base && codec::HasAppliedDelta(*base, dm.delta_id)) {
        m.state = MsgState::kContained;
        continue;
      }
      auto it = fetched.find(dm.delta_key);
      if (it == fetched.end()) {
        if (!m.triggering && r.bytes_deltas >= options_.max_delta_bytes) {
          m.state = MsgState::kGiveBack;
          continue;
        }
        sub = SteadyMs();
        auto body = objects_->Get(dm.delta_key);
        r.phases.fetch_ms += SteadyMs() - sub;
        if (!body.ok()) {
          if (body.status().code() == StatusCode::kNotFound) {
            fail_msg(m, body.status().WithContext("compactor: delta " + dm.delta_key));
            continue;
          }
          return abandon(body.status().WithContext("compactor: delta " + dm.delta_key));
        }
        r.bytes_deltas += body->size();
        it = fetched.emplace(dm.delta_key, std::move(body).value()).first;
      }
      codec::DeltaOptions dopts;
      dopts.limits = options_.limits;
      if (dim) dopts.expected_dimension = static_cast<uint32_t>(*dim);
      sub = SteadyMs();
      auto delta = codec::DecodeDelta(it->second, dopts);
      r.phases.decode_ms += SteadyMs() - sub;
      if (!delta.ok()) {
        fail_msg(m, delta.status().WithContext("compactor: delta " + dm.delta_key));
        continue;
      }
      if (delta->meta.collection != shard.collection || static_cast<int>(delta->meta.shard) != shard.shard ||
          delta->meta.delta_id != dm.delta_id) {
        fail_msg(m, InvalidArgument("compactor: delta " + dm.delta_key + " is " + delta->meta.collection +
                                    "#" + std::to_string(delta->meta.shard) + "/" + delta->meta.delta_id +
                                    ", message names " + shard.ToString() + "/" + dm.delta_id));
        continue;
      }
      sub = SteadyMs();
      auto applied = internal::ApplyDelta(st.get(), shard.collection, std::move(delta).value(), &versions);
      r.phases.apply_ms += SteadyMs() - sub;
      if (!applied.ok()) {
        StatusCode c = applied.status().code();
        if (c == StatusCode::kInvalidArgument || c == StatusCode::kResourceExhausted) {
          fail_msg(m, applied.status().WithContext("compactor: apply " + dm.delta_key));
          continue;
        }
        return abandon(applied.status().WithContext("compactor: apply " + dm.delta_key));
      }
      m.state = MsgState::kApplied;
      r.applied_delta_ids.push_back(dm.delta_id);
      // A merge of many deltas can outlast the lease: renew it between deltas (no request until a
      // third of the TTL has passed), or stop once it is lost.
      if (Status hb = leases.HeartbeatIfDue(&lease); !hb.ok()) {
        return abandon(hb.WithContext("compactor: heartbeat during merge"));
      }
      if (!dim) {
        auto again = st->GetCollection(shard.collection);
        if (again.ok()) dim = again->dimension;
      }
    }
    r.phases.merge_ms += SteadyMs() - t;

    if (r.applied_delta_ids.empty()) {
      st.reset();
      break;  // nothing new: only delete what the base already contains
    }

    // ---- persist
    t = SteadyMs();
    codec::Manifest manifest;
    manifest.collection = shard.collection;
    manifest.shard = static_cast<uint32_t>(shard.shard);
    manifest.version = ptr ? static_cast<uint64_t>(ptr->version) + 1 : 1;
    if (ptr) manifest.parent_version = static_cast<uint64_t>(ptr->version);
    if (base) manifest.applied_delta_ids = base->applied_delta_ids;
    codec::AddAppliedDeltaIds(&manifest, r.applied_delta_ids);
    const int64_t cutoff_ms = clock_->NowMs() - options_.retention_ms;
    if (cutoff_ms > 0) {
      codec::PruneAppliedDeltaIds(&manifest, static_cast<uint64_t>(cutoff_ms));
      internal::PruneRecordVersions(&versions, cutoff_ms);
    }
    auto count = st->Count(shard.collection);
    if (!count.ok()) return abandon(count.status());
    manifest.record_count = *count;
    manifest.dimension = dim ? static_cast<uint32_t>(*dim) : 0;
    manifest.created_at_ms = clock_->NowMs();
    if (Status s = internal::SaveRecordVersions(work_dir, versions); !s.ok()) return abandon(s);
    store::PersistOptions persist;
    persist.purge_log = options_.compact_log;  // log rows both segments contain: ~40% of the bytes
    persist.vacuum = options_.compact_log;     // the purged pages leave the file
    if (Status s = st->Persist(persist); !s.ok()) return abandon(s.WithContext("compactor: persist"));
    st.reset();  // closes SQLite: the directory is final
    r.phases.persist_ms += SteadyMs() - t;
    if (Status s = step(kCompactStepMerged); !s.ok()) return finish(s);

    // ---- publish
    t = SteadyMs();
    auto writer_ulid = codec::NewUlid();
    if (!writer_ulid.ok()) return abandon(writer_ulid.status());
    manifest.writer_id = options_.writer_id + "." + *writer_ulid;
    Status hook_status;
    auto pub = PublishSnapshot(objects_, shard, work_dir, &manifest, [&](uint64_t files_done) -> Status {
      if (files_done != 1) return leases.HeartbeatIfDue(&lease).WithContext("compactor: heartbeat during upload");
      hook_status = step(kCompactStepMidUpload);
      return hook_status;
    });
    r.phases.upload_ms += SteadyMs() - t;
    if (!hook_status.ok()) return finish(hook_status);
    if (!pub.ok()) return abandon(pub.status());
    r.bytes_uploaded += pub->bytes;
    if (Status s = step(kCompactStepUploaded); !s.ok()) return finish(s);

    // ---- commit
    t = SteadyMs();
    std::optional<Pointer> current;
    auto cas = ptr ? pointers.CompareAndSwap(shard, ptr->version, pub->manifest_key, lease.fence, &current)
                   : pointers.Create(shard, 1, pub->manifest_key, lease.fence, &current);
    r.phases.commit_ms += SteadyMs() - t;
    bool committed = cas.ok();
    if (!cas.ok() && cas.status().code() != StatusCode::kPreconditionFailed) {
      // Ambiguous: the write may have landed. Read and compare.
      auto now = pointers.Read(shard);
      if (!now.ok()) return abandon(cas.status().WithContext("compactor: commit"));
      if (now->has_value() && (*now)->manifest_key == pub->manifest_key) {
        committed = true;
      } else {
        return abandon(cas.status().WithContext("compactor: commit"));
      }
    }
    if (!committed) {  // lost the CAS: someone committed on our base
      ptr = current;
      if (attempt < options_.max_commit_attempts) continue;
      std::vector<Msg*> back;
      for (auto& m : msgs) {
        if (m.state != MsgState::kFailed) back.push_back(&m);
      }
      give_back(back);
      (void)leases.Release(lease);
      return finish(Aborted("compactor: pointer " + PointerKey(shard) + " moved on every one of " +
                            std::to_string(attempt) + " commit attempts"));
    }
    r.new_version = static_cast<int64_t>(manifest.version);
    r.manifest_key = pub->manifest_key;
    // The work copy is the new base.
    {
      std::error_code ec;
      fs::remove_all(base_dir, ec);
      fs::rename(work_dir, base_dir, ec);
      auto text = codec::EncodeManifest(manifest);
      if (!ec && text.ok()) {
        std::ofstream(base_dir + "/" + codec::kManifestFileName, std::ios::binary | std::ios::trunc) << *text;
        cached_manifest_key_[shard.ToString()] = pub->manifest_key;
      } else {
        cached_manifest_key_.erase(shard.ToString());
      }
    }
    if (Status s = step(kCompactStepCommitted); !s.ok()) return finish(s);
    break;
  }

  // ---- delete exactly the messages whose deltas the current version contains
  t = SteadyMs();
  std::vector<Msg*> done;
  std::vector<Msg*> back;
  for (auto& m : msgs) {
    if (m.state == MsgState::kApplied || m.state == MsgState::kContained || m.state == MsgState::kDuplicate) {
      done.push_back(&m);
    } else if (m.state == MsgState::kGiveBack && !m.settled) {
      back.push_back(&m);
    }
  }
  const size_t half = (done.size() + 1) / 2;
  for (int part = 0; part < 2; ++part) {
    std::vector<Msg*> slice(done.begin() + (part == 0 ? 0 : static_cast<std::ptrdiff_t>(half)),
                            part == 0 ? done.begin() + static_cast<std::ptrdiff_t>(half) : done.end());
    if (!slice.empty()) {
      std::vector<std::string> receipts;
      for (Msg* m : slice) receipts.push_back(m->q.receipt_handle);
      auto del = queue_->DeleteBatch(receipts);
      if (!del.ok()) return abandon(del.status().WithContext("compactor: delete messages"));
      for (Msg* m : slice) {
        bool failed = std::any_of(del->begin(), del->end(), [&](const ReceiptFailure& f) {
          return f.receipt_handle == m->q.receipt_handle;
        });
        if (!failed) {
          m->settled = true;
          r.applied_message_ids.push_back(m->q.message_id);
        }
      }
    }
    if (part == 0 && !done.empty()) {
      if (Status s = step(kCompactStepMidDelete); !s.ok()) {
        r.phases.delete_ms = SteadyMs() - t;
        return finish(s);
      }
    }
  }
  give_back(back);
  r.phases.delete_ms = SteadyMs() - t;
  if (Status s = step(kCompactStepBeforeRelease); !s.ok()) return finish(s);

  // ---- release
  t = SteadyMs();
  Status rel = leases.Release(lease);
  r.phases.release_ms = SteadyMs() - t;
  // Losing the lease at release changes nothing that was committed.
  (void)rel;
  return finish(Status::Ok());
}

}  // namespace chromapact::pipeline
