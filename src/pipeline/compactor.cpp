#include "chromapact/pipeline/compactor.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "chromapact/codec/manifest.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/collection_options.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/snapshot.h"
#include "pipeline/compactor_apply.h"
#include "pipeline/version_copy.h"

namespace chromapact::pipeline {
namespace {

namespace fs = std::filesystem;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Trigger {
  QueueMessage q;
  std::optional<DeltaMessage> parsed;
  bool failed = false;
  bool settled = false;  // deleted
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

// Deletes the receipts of `which`; marks the ones deleted as settled and returns their ids.
std::vector<std::string> DeleteTriggers(Queue* queue, const std::vector<Trigger*>& which) {
  std::vector<std::string> receipts, deleted;
  for (const Trigger* t : which) receipts.push_back(t->q.receipt_handle);
  if (receipts.empty()) return deleted;
  auto del = queue->DeleteBatch(receipts);
  if (!del.ok()) return deleted;  // not deleted: the event source deletes what is not a failure
  for (Trigger* t : which) {
    bool failed = std::any_of(del->begin(), del->end(),
                              [&](const ReceiptFailure& f) { return f.receipt_handle == t->q.receipt_handle; });
    if (!failed) {
      t->settled = true;
      deleted.push_back(t->q.message_id);
    }
  }
  return deleted;
}

// Sends a new trigger for `shard` naming position `seen`; `tag` makes its dedup id unique.
Status SendRearm(Queue* queue, const ShardId& shard, uint64_t seen, const std::string& tag) {
  DeltaMessage m{shard, seen, seen > 0 ? LogKey(shard, seen) : std::string()};
  QueueSend send;
  send.body = EncodeDeltaMessage(m);
  send.group_id = MessageGroupFor(shard);
  send.dedup_id = SqsId(shard.ToString() + "#" + std::to_string(seen) + "#rearm#" + tag);
  return queue->Send(send).status().WithContext("compactor: re-arm " + shard.ToString());
}

enum class HoleOutcome { kFilled, kVoided, kWaitOver };

}  // namespace

std::vector<std::string> CycleResult::BatchItemFailures() const {
  std::vector<std::string> ids;
  for (const auto& f : failures) ids.push_back(f.message_id);
  return ids;
}

Compactor::Compactor(KvStore* kv, ObjectStore* objects, Queue* queue, const Clock* clock,
                     CompactorOptions options)
    : kv_(kv), objects_(objects), queue_(queue), clock_(clock), options_(std::move(options)) {}

std::vector<MessageFailure> Compactor::HandOff(const ShardId& shard, const std::vector<QueueMessage>& messages,
                                               const Status& why) {
  std::vector<MessageFailure> failures;
  if (messages.empty()) return failures;
  uint64_t seen = 0;
  std::vector<Trigger> trigs;
  for (const auto& m : messages) {
    trigs.push_back({m, std::nullopt, false, false});
    auto p = ParseDeltaMessage(m.body);
    if (p.ok()) seen = std::max(seen, p->log_position);
  }
  auto tag = codec::NewUlid();
  Status sent = tag.ok() ? SendRearm(queue_, shard, seen, "handoff-" + *tag) : tag.status();
  if (!sent.ok()) {
    for (const auto& m : messages) failures.push_back({m.message_id, why});
    return failures;
  }
  std::vector<Trigger*> all;
  for (auto& t : trigs) all.push_back(&t);
  DeleteTriggers(queue_, all);
  return failures;  // not deleted ones are deleted by the event source (they are no failures)
}

CycleResult Compactor::RunCycle(const ShardId& shard, const std::vector<QueueMessage>& messages,
                                int64_t deadline_steady_ms) {
  CycleResult r;
  const int64_t t_start = SteadyMs();
  std::vector<Trigger> trigs;
  trigs.reserve(messages.size());
  for (const auto& m : messages) {
    Trigger t{m, std::nullopt, false, false};
    auto parsed = ParseDeltaMessage(m.body);
    if (!parsed.ok()) {
      t.failed = true;
      r.failures.push_back({m.message_id, parsed.status()});
    } else if (!(parsed->shard == shard)) {
      t.failed = true;
      r.failures.push_back({m.message_id, InvalidArgument("compactor: message names shard " +
                                                          parsed->shard.ToString() + ", cycle is " +
                                                          shard.ToString())});
    } else {
      t.parsed = std::move(parsed).value();
    }
    trigs.push_back(std::move(t));
  }

  // Ends the cycle. Not OK: every triggering message neither deleted nor failed comes back.
  auto finish = [&](Status st) -> CycleResult {
    r.status = std::move(st);
    if (!r.status.ok()) {
      for (auto& t : trigs) {
        if (!t.settled && !t.failed) r.failures.push_back({t.q.message_id, r.status});
      }
    }
    r.phases.total_ms = SteadyMs() - t_start;
    return std::move(r);
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
  // Renews the lease once a third of its TTL has passed, also after it expired locally (the
  // conditional heartbeat still wins when nobody took it over: a long step does not lose it).
  auto renew = [&](const std::string& after) -> Status {
    if (lease.expires_at_ms - clock_->NowMs() > options_.lease.ttl_ms * 2 / 3) return Status::Ok();
    auto hb = leases.Heartbeat(lease);
    if (!hb.ok()) return hb.status().WithContext("compactor: heartbeat after " + after);
    lease = *hb;
    return Status::Ok();
  };
  // A hook failure is a crash: stop right there, no clean-up.
  auto step = [&](const char* name) -> Status {
    if (options_.step_hook) CP_RETURN_IF_ERROR(options_.step_hook(name));
    return renew(name);
  };
  // Other failures release the lease (best effort); the triggering messages come back.
  auto abandon = [&](Status st) -> CycleResult {
    (void)leases.Release(lease);
    return finish(std::move(st));
  };
  auto past_deadline = [&](int64_t extra_ms) {
    return deadline_steady_ms > 0 && SteadyMs() + extra_ms >= deadline_steady_ms;
  };

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
  std::map<uint64_t, std::string> fetched;     // seq -> entry bytes (kept across attempts)
  std::map<uint64_t, std::string> known_bad;   // seq -> why it can never apply (kept across attempts)
  std::optional<codec::Manifest> current;      // the version current after the cycle
  bool remains = false;                        // entries past the committed position are left
  uint64_t seen = 0;                           // highest sequence number listed
  bool listed_all = true;                      // the last listing reached the end of the log

  // Waits for the entry at `seq` (a hole before the present entry `next`) or voids it.
  auto close_hole = [&](uint64_t seq, const LogEntry& next) -> Result<HoleOutcome> {
    const std::string key = LogKey(shard, seq);
    const int64_t wait_start = SteadyMs();
    std::chrono::milliseconds pause(100);
    for (;;) {
      // Age by the next entry's LastModified; when the store did not report one, by how long this
      // cycle has waited.
      const int64_t age = next.last_modified_ms > 0 ? clock_->NowMs() - next.last_modified_ms : SteadyMs() - wait_start;
      if (age >= options_.hole_timeout_ms) {
        PutObjectOptions create_only;
        create_only.if_none_match_any = true;
        auto put = objects_->Put(key, EncodeVoidMarker(seq, "hole: no delta " + std::to_string(options_.hole_timeout_ms) +
                                                                " ms after entry " + std::to_string(next.seq),
                                                       options_.writer_id, clock_->NowMs()),
                                 create_only);
        if (put.ok()) return HoleOutcome::kVoided;
        if (put.status().code() == StatusCode::kPreconditionFailed) return HoleOutcome::kFilled;
        return put.status().WithContext("compactor: void marker " + key);
      }
      // Listing (not HEAD) tells whether the entry landed: the role's ListBucket is scoped to the
      // log's prefix, and whether S3 then answers HEAD of a missing key with 404 or 403 is not
      // something to build on.
      auto landed = ListLog(objects_, shard, seq - 1, 1);
      if (!landed.ok()) return landed.status().WithContext("compactor: hole " + key);
      if (!landed->empty() && landed->front().seq == seq) return HoleOutcome::kFilled;
      const int64_t waited = SteadyMs() - wait_start;
      if (past_deadline(pause.count()) || (deadline_steady_ms == 0 && waited >= options_.hole_timeout_ms)) {
        return HoleOutcome::kWaitOver;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
      CP_RETURN_IF_ERROR(renew("hole wait"));
    }
  };

  // Reports a skipped entry to the dead-letter queue (at most once per cycle; SQS drops a repeat
  // within 5 minutes by its dedup id). False when it could not be sent.
  std::set<uint64_t> reported;
  auto report = [&](const codec::SkippedEntry& sk, uint64_t version) -> bool {
    if (reported.count(sk.log_position) > 0) return true;
    nlohmann::json body = {{"collection", shard.collection}, {"shard", shard.shard},
                           {"log_position", sk.log_position}, {"delta_key", LogKey(shard, sk.log_position)},
                           {"reason", sk.reason}, {"version", version}};
    QueueSend send{body.dump(), MessageGroupFor(shard),
                   SqsId(shard.ToString() + "#" + std::to_string(sk.log_position) + "#skipped")};
    if (!options_.dead_letters->Send(send).ok()) return false;
    reported.insert(sk.log_position);
    ++r.dead_lettered;
    return true;
  };

  for (int attempt = 1; attempt <= std::max(1, options_.max_commit_attempts); ++attempt) {
    r.commit_attempts = attempt;
    r.applied = r.records = 0;
    r.skipped.clear();
    remains = false;

    // ---- base version
    t = SteadyMs();
    std::optional<codec::Manifest> base;
    if (ptr) {
      const std::string key = shard.ToString();
      std::error_code ec;
      bool reuse = cached_manifest_key_[key] == ptr->manifest_key &&
                   fs::exists(base_dir + "/" + codec::kManifestFileName, ec);
      if (reuse) {  // a local copy that does not read back is fetched again, not trusted
        auto text = ReadText(base_dir + "/" + codec::kManifestFileName);
        auto m = text.ok() ? codec::DecodeManifest(*text) : Result<codec::Manifest>(text.status());
        if (m.ok()) {
          base = std::move(m).value();
        } else {
          reuse = false;
        }
      }
      if (!reuse) {
        cached_manifest_key_.erase(key);
        FetchStats fs_stats;
        auto m = FetchSnapshot(objects_, ptr->manifest_key, base_dir, &fs_stats);
        r.bytes_downloaded += fs_stats.bytes_fetched;
        if (!m.ok()) return abandon(m.status().WithContext("compactor: base version"));
        base = std::move(m).value();
        cached_manifest_key_[key] = ptr->manifest_key;
      }
      if (base->collection != shard.collection || base->shard != static_cast<uint32_t>(shard.shard)) {
        return abandon(Corruption("compactor: pointer " + PointerKey(shard) + " names a version of " +
                                  base->collection + "#" + std::to_string(base->shard)));
      }
      if (Status st = ResetDir(work_dir); !st.ok()) return abandon(st);
      if (Status st = internal::LinkOrCopyVersion(base_dir, work_dir, "compactor"); !st.ok()) return abandon(st);
    } else {
      if (Status st = ResetDir(work_dir); !st.ok()) return abandon(st);
    }
    r.phases.base_ms += SteadyMs() - t;
    const uint64_t base_pos = base ? base->log_position : 0;
    r.base_position = base_pos;
    current = base;
    if (Status s = renew("base"); !s.ok()) return abandon(s);

    // ---- list the log after the base
    t = SteadyMs();
    auto listed = ListLog(objects_, shard, base_pos, options_.max_deltas + 1);
    r.phases.list_ms += SteadyMs() - t;
    if (!listed.ok()) return abandon(listed.status().WithContext("compactor"));
    std::vector<LogEntry> entries = std::move(listed).value();
    if (!entries.empty()) seen = std::max(seen, entries.back().seq);
    listed_all = entries.size() <= options_.max_deltas;
    if (Status st = step(kCompactStepListed); !st.ok()) return finish(st);
    if (entries.empty()) break;  // nothing new

    // ---- merge
    t = SteadyMs();
    int64_t sub = t;
    // The HNSW base is loaded only if this cycle turns out major (Persist with vectors loads it and
    // replays the tail): a minor cycle never reads it.
    store::OpenOptions open_options;
    open_options.defer_vectors = true;
    auto store_or = store::Store::Open(work_dir, open_options);
    if (!store_or.ok()) return abandon(store_or.status().WithContext("compactor: open work copy"));
    std::unique_ptr<store::Store> st = std::move(store_or).value();
    store::CollectionOptions collection_options = options_.collection;
    if (!base) {  // the first version: the configuration given at the collection's creation, if any
      auto loaded = LoadCollectionOptions(kv_, shard.collection, collection_options);
      if (!loaded.ok()) return abandon(loaded.status().WithContext("compactor: collection configuration"));
      collection_options = std::move(loaded).value();
    }
    auto info = st->CreateCollection(shard.collection, collection_options, /*get_or_create=*/true);
    if (!info.ok()) return abandon(info.status().WithContext("compactor: collection"));
    std::optional<size_t> dim = info->dimension;
    r.phases.open_ms += SteadyMs() - sub;

    uint64_t next = base_pos + 1;  // the sequence number to apply next
    uint64_t bytes = 0;
    size_t idx = 0;
    bool restart = false;  // a delta the store rejected after a partial apply: rebuild without it
    uint64_t voided_now = 0;
    auto skip = [&](uint64_t seq, const Status& why) {
      known_bad[seq] = why.ToString();
      r.skipped.push_back({seq, why.ToString()});
    };
    while (idx < entries.size()) {
      const uint64_t processed = next - (base_pos + 1);
      if (processed >= options_.max_deltas ||
          (processed > 0 && (bytes >= options_.max_delta_bytes || r.records >= options_.max_records ||
                             past_deadline(0)))) {
        remains = true;
        break;
      }
      const LogEntry& e = entries[idx];
      if (e.seq != next) {  // a hole at `next`
        sub = SteadyMs();
        auto outcome = close_hole(next, e);
        r.phases.hole_wait_ms += SteadyMs() - sub;
        if (!outcome.ok()) return abandon(outcome.status());
        if (*outcome == HoleOutcome::kWaitOver) {
          remains = true;
          break;
        }
        if (*outcome == HoleOutcome::kVoided) {
          ++voided_now;
          ++next;
          continue;
        }
        entries.insert(entries.begin() + static_cast<std::ptrdiff_t>(idx), LogEntry{next, LogKey(shard, next), 0, 0});
        continue;
      }
      ++idx;
      ++next;
      if (auto bad = known_bad.find(e.seq); bad != known_bad.end()) {
        r.skipped.push_back({e.seq, bad->second});
        continue;
      }
      auto it = fetched.find(e.seq);
      if (it == fetched.end()) {
        sub = SteadyMs();
        auto body = objects_->Get(e.key);
        r.phases.fetch_ms += SteadyMs() - sub;
        if (!body.ok()) return abandon(body.status().WithContext("compactor: log entry " + e.key));
        r.bytes_deltas += body->size();
        it = fetched.emplace(e.seq, std::move(body).value()).first;
      }
      bytes += it->second.size();
      if (IsVoidMarker(it->second)) continue;
      codec::DeltaOptions dopts;
      dopts.limits = options_.limits;
      if (dim) dopts.expected_dimension = static_cast<uint32_t>(*dim);
      sub = SteadyMs();
      auto delta = codec::DecodeDelta(it->second, dopts);
      r.phases.decode_ms += SteadyMs() - sub;
      if (!delta.ok()) {
        // Only damaged or invalid bytes can never apply. Another format version (a rolling
        // deploy), limits the producer did not share, or a local failure can: stop, move nothing.
        const StatusCode c = delta.status().code();
        if (c != StatusCode::kCorruption && c != StatusCode::kInvalidArgument) {
          return abandon(delta.status().WithContext("compactor: log entry " + e.key));
        }
        skip(e.seq, delta.status().WithContext("log entry " + e.key));
        continue;
      }
      if (delta->meta.collection != shard.collection || static_cast<int>(delta->meta.shard) != shard.shard) {
        skip(e.seq, InvalidArgument("log entry " + e.key + " is a delta of " + delta->meta.collection + "#" +
                                    std::to_string(delta->meta.shard)));
        continue;
      }
      const uint64_t n = delta->records.size();
      sub = SteadyMs();
      Status applied = internal::ApplyDelta(st.get(), shard.collection, std::move(delta).value());
      r.phases.apply_ms += SteadyMs() - sub;
      if (!applied.ok()) {
        // kInvalidArgument is the Store rejecting the content (another dimension, a bad value);
        // anything else (kResourceExhausted from HNSW's memory, I/O) is about this machine.
        if (applied.code() == StatusCode::kInvalidArgument) {
          skip(e.seq, applied.WithContext("apply log entry " + e.key));
          restart = true;  // part of it may be in the work copy
          break;
        }
        return abandon(applied.WithContext("compactor: apply " + e.key));
      }
      ++r.applied;
      r.records += n;
      // A merge of many deltas can outlast the lease: renew it between deltas.
      if (Status hb = renew("delta " + std::to_string(e.seq)); !hb.ok()) return abandon(hb);
      if (!dim) {
        auto again = st->GetCollection(shard.collection);
        if (again.ok()) dim = again->dimension;
      }
    }
    r.phases.merge_ms += SteadyMs() - t;
    r.voided += voided_now;  // void markers are durable, whatever happens to this attempt
    if (restart) {
      st.reset();
      --attempt;  // known_bad grew, so this ends
      continue;
    }
    if (idx < entries.size()) remains = true;
    const uint64_t new_pos = next - 1;
    if (new_pos == base_pos) {
      st.reset();
      break;  // nothing applied (a young hole right after the base)
    }

    // ---- persist
    t = SteadyMs();
    codec::Manifest manifest;
    manifest.collection = shard.collection;
    manifest.shard = static_cast<uint32_t>(shard.shard);
    manifest.version = ptr ? static_cast<uint64_t>(ptr->version) + 1 : 1;
    if (ptr) manifest.parent_version = static_cast<uint64_t>(ptr->version);
    manifest.log_position = new_pos;
    if (base) manifest.skipped = base->skipped;
    for (const auto& s : r.skipped) manifest.skipped.push_back(s);
    if (manifest.skipped.size() > codec::kMaxSkippedEntries) {
      manifest.skipped.erase(manifest.skipped.begin(),
                             manifest.skipped.end() - static_cast<std::ptrdiff_t>(codec::kMaxSkippedEntries));
    }
    auto count = st->Count(shard.collection);
    if (!count.ok()) return abandon(count.status());
    manifest.record_count = *count;
    manifest.dimension = dim ? static_cast<uint32_t>(*dim) : 0;
    manifest.created_at_ms = clock_->NowMs();
    auto tail = st->VectorTailRecords(shard.collection);
    if (!tail.ok()) return abandon(tail.status());
    const bool major = !base || options_.major_tail_records == 0 || *tail >= options_.major_tail_records ||
                       manifest.created_at_ms - base->base_created_at_ms >= options_.major_tail_age_ms;
    manifest.base_log_position = major ? new_pos : base->base_log_position;
    manifest.base_created_at_ms = major ? manifest.created_at_ms : base->base_created_at_ms;
    store::PersistOptions persist;
    persist.purge_log = options_.compact_log;  // log rows both segments contain: ~40% of the bytes
    persist.vacuum = options_.compact_log;     // the purged pages leave the file
    persist.vectors = major;
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
    PublishOptions publish;
    publish.chunk_bytes = options_.chunk_bytes;
    publish.known = base ? &*base : nullptr;  // the pointer's version: GC keeps its chunks
    publish.hook = [&](uint64_t done) -> Status {
      if (done != 1) return renew("uploaded object " + std::to_string(done));
      hook_status = step(kCompactStepMidUpload);
      return hook_status;
    };
    auto pub = PublishSnapshot(objects_, shard, work_dir, &manifest, publish);
    r.phases.upload_ms += SteadyMs() - t;
    if (!hook_status.ok()) return finish(hook_status);
    if (!pub.ok()) return abandon(pub.status());
    r.bytes_uploaded += pub->bytes;
    r.bytes_snapshot = pub->bytes_total;
    r.objects_uploaded += pub->objects;
    r.major = major;
    if (Status s = step(kCompactStepUploaded); !s.ok()) return finish(s);

    // Skipped entries are reported before the commit: a crash after it would leave no later cycle
    // that skips them again (a lost CAS skips them again, and the dedup id drops the repeat).
    if (options_.dead_letters != nullptr) {
      for (const codec::SkippedEntry& sk : r.skipped) {
        // Without its report the skip would be known only to the manifest: commit nothing yet.
        if (!report(sk, manifest.version)) {
          return abandon(Unavailable("compactor: cannot report skipped log entry " + std::to_string(sk.log_position) +
                                     " to the dead-letter queue"));
        }
      }
    }

    // ---- commit
    t = SteadyMs();
    // The lease is checked right before the CAS: after a forced release (the fence bumped) or a
    // take-over, this holder stops here instead of committing.
    if (auto hb = leases.Heartbeat(lease); !hb.ok()) {
      Status why = hb.status().WithContext("compactor: heartbeat before commit");
      return why.code() == StatusCode::kAborted ? finish(why) : abandon(why);
    } else {
      lease = *hb;
    }
    std::optional<Pointer> now_ptr;
    auto cas = ptr ? pointers.CompareAndSwap(shard, ptr->version, pub->manifest_key, lease.fence, &now_ptr)
                   : pointers.Create(shard, 1, pub->manifest_key, lease.fence, &now_ptr);
    r.phases.commit_ms += SteadyMs() - t;
    bool committed = cas.ok();
    // A retried CAS whose first attempt landed fails its condition against our own commit.
    if (!committed && now_ptr && now_ptr->manifest_key == pub->manifest_key) committed = true;
    if (!committed && cas.status().code() != StatusCode::kPreconditionFailed) {
      // Ambiguous: the write may have landed. Read and compare.
      auto again = pointers.Read(shard);
      if (!again.ok()) return abandon(cas.status().WithContext("compactor: commit"));
      if (again->has_value() && (*again)->manifest_key == pub->manifest_key) {
        committed = true;
      } else {
        return abandon(cas.status().WithContext("compactor: commit"));
      }
    }
    if (!committed) {  // lost the CAS: someone committed on our base
      ptr = now_ptr;
      if (attempt < options_.max_commit_attempts) continue;
      (void)leases.Release(lease);
      return finish(Aborted("compactor: pointer " + PointerKey(shard) + " moved on every one of " +
                            std::to_string(attempt) + " commit attempts"));
    }
    r.new_version = static_cast<int64_t>(manifest.version);
    r.manifest_key = pub->manifest_key;
    current = manifest;
    // The work copy is the new base.
    {
      std::error_code ec;
      fs::remove_all(base_dir, ec);
      fs::rename(work_dir, base_dir, ec);
      auto text = codec::EncodeManifest(manifest);
      bool written = false;
      if (!ec && text.ok()) {
        std::ofstream out(base_dir + "/" + codec::kManifestFileName, std::ios::binary | std::ios::trunc);
        out << *text;
        out.close();
        written = static_cast<bool>(out);
      }
      if (written) {
        cached_manifest_key_[shard.ToString()] = pub->manifest_key;
      } else {
        cached_manifest_key_.erase(shard.ToString());
      }
    }
    if (Status s = step(kCompactStepCommitted); !s.ok()) return finish(s);
    break;
  }
  const uint64_t pos = current ? current->log_position : 0;
  r.log_position = pos;
  // ---- settle the triggering messages
  t = SteadyMs();
  std::vector<Trigger*> to_delete, uncovered;
  for (auto& tr : trigs) {
    if (tr.failed) continue;
    const uint64_t p = tr.parsed->log_position;
    if (p > pos && !(listed_all && p > seen)) {
      uncovered.push_back(&tr);
      continue;
    }
    // Here p <= pos, or p names no entry at all: a producer sends its trigger only after its PUT
    // and the log was listed after the trigger was received, so a complete listing that ends
    // below p means there is nothing to wait for (a hand-made or stale trigger): re-arming it
    // would loop forever.
    // The trigger of a skipped entry goes only once the entry's report is out: the report of an
    // earlier cycle may have failed or been cut short by a crash, so it is (re)sent here.
    const codec::SkippedEntry* s = current && p > 0 ? codec::FindSkipped(*current, p) : nullptr;
    if (s != nullptr && (options_.dead_letters == nullptr || !report(*s, current->version))) {
      tr.failed = true;
      r.failures.push_back({tr.q.message_id, Corruption("log entry " + std::to_string(p) + " skipped: " + s->reason)});
      continue;
    }
    to_delete.push_back(&tr);
  }
  if (remains || !uncovered.empty()) {
    for (const Trigger* tr : uncovered) seen = std::max(seen, tr->parsed->log_position);
    Status sent = SendRearm(queue_, shard, seen, "fence-" + std::to_string(lease.fence));
    if (sent.ok()) {
      r.rearmed = true;
      for (Trigger* tr : uncovered) to_delete.push_back(tr);
      if (Status s = step(kCompactStepRearmed); !s.ok()) return finish(s);
    } else {
      // No new trigger: the ones this cycle holds come back instead and run the next cycle (without
      // any, the schedule does).
      for (Trigger* tr : uncovered) {
        tr->failed = true;
        r.failures.push_back({tr->q.message_id, sent});
      }
      for (Trigger* tr : to_delete) {
        tr->failed = true;
        r.failures.push_back({tr->q.message_id, sent});
      }
      to_delete.clear();
    }
  }
  r.deleted_message_ids = DeleteTriggers(queue_, to_delete);
  r.phases.delete_ms = SteadyMs() - t;
  if (Status s = step(kCompactStepBeforeRelease); !s.ok()) return finish(s);

  // ---- release
  t = SteadyMs();
  Status rel = leases.Release(lease);
  r.phases.release_ms = SteadyMs() - t;
  (void)rel;  // losing the lease at release changes nothing that was committed
  return finish(Status::Ok());
}

}  // namespace chromapact::pipeline
