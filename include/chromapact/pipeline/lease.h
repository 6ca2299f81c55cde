// The compaction lease of a collection shard (docs/design/pointer.md): one DynamoDB item
// `LOCK#<collection>#<shard>` holding {owner, expires_at (epoch ms UTC), fence, acquired_at}.
//
// Acquire is one conditional UpdateItem, `attribute_not_exists(pk) OR expires_at < :now`, which sets
// owner and expiry and ADDs 1 to the fencing counter, returning the new item (ReturnValues ALL_NEW):
// every acquisition by anyone gets a strictly larger fence. Heartbeat and release are conditioned
// on `owner = :me AND fence = :fence`, so a holder whose lease expired and was taken over cannot
// extend or drop the new holder's lease. Release never deletes the item (that would restart the
// fence at 1): it removes the owner and sets expires_at to 0.
//
// The lease only avoids wasted work. Correctness never depends on it: a holder may stall past its
// expiry at any moment, and the pointer's compare-and-swap (pointer.h) is what rejects its late
// commit. Expiry compares the caller's clock with times other callers wrote, so ttl_ms must dwarf
// clock skew between hosts.
//
// Attribute names are always sent as #names: `owner` and `ttl` are DynamoDB reserved words (moto
// enforces the list, docs/aws-notes.md §4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

struct LeaseOptions {
  int64_t ttl_ms = 60000;  // CHROMAPACT_LEASE_TTL_MS (docs/reference/environment.md); heartbeat at a third of it
};

// A lease as its holder knows it.
struct Lease {
  ShardId shard;
  std::string owner;
  int64_t fence = 0;          // this acquisition's fencing token (>= 1)
  int64_t expires_at_ms = 0;  // epoch ms UTC
};

// The lease item as stored.
struct LeaseState {
  std::string owner;          // "" when released
  int64_t fence = 0;          // acquisitions so far
  int64_t expires_at_ms = 0;  // 0 when released
  int64_t acquired_at_ms = 0;
  // Held by someone at `now_ms` (the acquire condition would fail).
  bool HeldAt(int64_t now_ms) const { return !owner.empty() && expires_at_ms >= now_ms; }
};

// Not thread-safe (the KvStore is not): one LeaseTable per thread.
class LeaseTable {
 public:
  // Borrows `kv` and `clock`; both must outlive the table.
  LeaseTable(KvStore* kv, const Clock* clock, LeaseOptions options = {});

  // Takes the lease for `owner` until now + ttl_ms. `owner` must be unique to this caller and
  // attempt (e.g. the Lambda request id plus a random suffix): when the unexpired lease already
  // names `owner` — an earlier Acquire landed but its answer was lost — that lease is returned
  // (same fence, its expiry unchanged) instead of an error.
  // Errors: kInvalidArgument for a bad shard id or empty owner; kPreconditionFailed "lease
  // LOCK#c#0 is held by 'B' (fence 7) until <ms>" when another owner holds an unexpired lease,
  // with *holder (if non-null) set to the item as it was; other KvStore errors as they come.
  Result<Lease> Acquire(const ShardId& shard, const std::string& owner,
                        std::optional<LeaseState>* holder = nullptr);

  // Extends `lease` to now + ttl_ms and returns it with the new expiry. Succeeds while the item
  // still names this owner and fence, even after expiry if nobody took it over in between.
  // Errors: kAborted "lease LOCK#c#0 lost: ..." naming the current owner/fence when someone else
  // acquired it since, or it was released; other KvStore errors as they come (the lease may still
  // be held: retry or give up, never assume).
  Result<Lease> Heartbeat(const Lease& lease);

  // For holders that heartbeat between steps of their work (no thread): heartbeats `*lease` when a
  // third of ttl_ms or more has passed since it was last extended (expires_at - now <= 2/3 ttl),
  // updating *lease; otherwise does nothing and sends nothing. Errors: as Heartbeat, and also
  // kAborted without a request when *lease already expired by the local clock (someone may have
  // taken over: stop work that is only worth doing under the lease).
  Status HeartbeatIfDue(Lease* lease);

  // Gives the lease up (owner removed, expires_at = 0, fence kept). Releasing a lease this holder
  // already released is OK. Errors: kAborted "lease LOCK#c#0 lost: ..." when another holder took
  // it over; other KvStore errors.
  Status Release(const Lease& lease);

  // Break-glass for a stuck lease (`chromapact lease release --force`): whoever holds it, removes the
  // owner, sets expires_at to 0 and ADDs 1 to the fence, unconditionally (the item is created when
  // absent). The old holder's next Heartbeat / HeartbeatIfDue / Release fails with kAborted (its
  // fence no longer matches), and the compactor heartbeats right before its pointer CAS, so it
  // stops instead of committing (the CAS would still reject a commit on a moved pointer). Returns
  // the item as it is after the update. Errors: kInvalidArgument for a bad shard id; KvStore errors.
  Result<LeaseState> ForceRelease(const ShardId& shard);

  // The stored item (consistent read), nullopt when the shard was never leased.
  Result<std::optional<LeaseState>> Read(const ShardId& shard);

  const LeaseOptions& options() const { return options_; }

 private:
  KvStore* kv_;
  const Clock* clock_;
  LeaseOptions options_;
};

// Parses a lease item. Errors: kCorruption naming the attribute when one is missing or mistyped.
Result<LeaseState> ParseLeaseItem(const aws::Item& item);

}  // namespace chromapact::pipeline
