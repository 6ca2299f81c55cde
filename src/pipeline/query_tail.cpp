#include "query_tail.h"

#include <filesystem>
#include <system_error>

#include "chromapact/codec/delta.h"
#include "chromapact/pipeline/log.h"
#include "compactor_apply.h"
#include "pipeline/version_copy.h"

namespace chromapact::pipeline::internal {
namespace fs = std::filesystem;
namespace {

// Replaces tail->store with a fresh read-write copy of the version (the tail not applied yet).
Status StartCopy(ShardTail* tail) {
  tail->store.reset();
  std::error_code ec;
  fs::remove_all(tail->tail_dir, ec);
  CP_RETURN_IF_ERROR(LinkOrCopyVersion(tail->version_dir, tail->tail_dir, "log tail of " + tail->shard.ToString()));
  store::OpenOptions open;
  open.create_if_missing = false;
  auto st = store::Store::Open(tail->tail_dir, open);
  if (!st.ok()) return st.status().WithContext("open the log tail's copy of " + tail->shard.ToString());
  tail->store = std::move(st).value();
  tail->copy = true;
  tail->applied = tail->base_position;
  return Status::Ok();
}

// Back to the version alone (read-only), after a failure left the copy in an unknown state.
Status ServeVersion(ShardTail* tail) {
  tail->store.reset();
  tail->copy = false;
  tail->applied = tail->base_position;
  store::OpenOptions open;
  open.read_only = true;
  open.immutable = true;
  open.create_if_missing = false;
  auto st = store::Store::Open(tail->version_dir, open);
  if (!st.ok()) return st.status();
  tail->store = std::move(st).value();
  return Status::Ok();
}

}  // namespace

Result<uint64_t> ReadTail(ObjectStore* objects, ShardTail* tail, size_t max_entries) {
  const uint64_t start = tail->applied;
  for (int rebuilds = 0;; ++rebuilds) {
    CP_ASSIGN_OR_RETURN(auto entries, ListLog(objects, tail->shard, tail->applied, max_entries));
    bool restart = false;
    for (const LogEntry& e : entries) {
      if (e.seq != tail->applied + 1) break;  // a hole: the compactor voids it or the delta arrives
      if (tail->bad.count(e.seq) > 0) {
        tail->applied = e.seq;
        continue;
      }
      auto body = objects->Get(e.key);
      if (!body.ok()) return body.status().WithContext("log tail " + e.key);
      if (IsVoidMarker(*body)) {
        tail->applied = e.seq;
        continue;
      }
      codec::DeltaOptions dopts;
      auto info = tail->store->GetCollection(tail->shard.collection);
      if (info.ok() && info->dimension) dopts.expected_dimension = static_cast<uint32_t>(*info->dimension);
      auto delta = codec::DecodeDelta(*body, dopts);
      if (!delta.ok()) {
        const StatusCode c = delta.status().code();
        if (c != StatusCode::kCorruption && c != StatusCode::kInvalidArgument) {
          return delta.status().WithContext("log tail " + e.key);
        }
        tail->bad[e.seq] = delta.status().ToString();  // the compactor skips it too
        tail->applied = e.seq;
        continue;
      }
      if (delta->meta.collection != tail->shard.collection || static_cast<int>(delta->meta.shard) != tail->shard.shard) {
        tail->bad[e.seq] = "a delta of " + delta->meta.collection + "#" + std::to_string(delta->meta.shard);
        tail->applied = e.seq;
        continue;
      }
      if (!tail->copy) CP_RETURN_IF_ERROR(StartCopy(tail));
      Status applied = ApplyDelta(tail->store.get(), tail->shard.collection, std::move(delta).value());
      if (!applied.ok()) {
        if (applied.code() != StatusCode::kInvalidArgument || rebuilds >= 8) {
          (void)ServeVersion(tail);
          return applied.WithContext("log tail " + e.key);
        }
        tail->bad[e.seq] = applied.ToString();  // part of it may be in the copy: rebuild without it
        CP_RETURN_IF_ERROR(StartCopy(tail));
        restart = true;
        break;
      }
      tail->applied = e.seq;
    }
    if (!restart) return tail->applied > start ? tail->applied - start : 0;
  }
}

}  // namespace chromapact::pipeline::internal
