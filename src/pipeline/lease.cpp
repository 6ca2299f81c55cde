#include "chromapact/pipeline/lease.h"

#include <utility>

namespace chromapact::pipeline {
namespace {

using aws::AttributeValue;

// Attribute names; always sent through these placeholders (`owner` is a reserved word).
const std::map<std::string, std::string> kNames = {
    {"#o", "owner"}, {"#e", "expires_at"}, {"#f", "fence"}, {"#a", "acquired_at"}};

aws::Item KeyOf(const ShardId& shard) {
  return {{kPartitionKey, AttributeValue::S(LeaseKey(shard))}};
}

std::string Describe(const std::optional<aws::Item>& item) {
  if (!item) return "no lease item";
  auto st = ParseLeaseItem(*item);
  if (!st.ok()) return "unreadable lease item (" + st.status().message() + ")";
  if (st->owner.empty()) return "released (fence " + std::to_string(st->fence) + ")";
  return "held by '" + st->owner + "' (fence " + std::to_string(st->fence) + ") until " +
         std::to_string(st->expires_at_ms);
}

// A new code and message, keeping the AWS details (error code, request id) of `from`.
Status Relabel(const Status& from, StatusCode code, std::string message) {
  if (from.aws()) return Status(code, std::move(message), *from.aws());
  return Status(code, std::move(message));
}

Status CheckLease(const Lease& lease) {
  CP_RETURN_IF_ERROR(ValidateShardId(lease.shard));
  if (lease.owner.empty()) return InvalidArgument("lease: owner is empty");
  if (lease.fence < 1) return InvalidArgument("lease: fence " + std::to_string(lease.fence) + " < 1");
  return Status::Ok();
}

}  // namespace

Result<LeaseState> ParseLeaseItem(const aws::Item& item) {
  LeaseState s;
  if (const AttributeValue* o = aws::FindAttribute(item, "owner")) {
    if (o->type() != AttributeValue::Type::kS) return Corruption("lease item: owner is not a string");
    s.owner = o->s();
  }
  auto fence = aws::GetInt64(item, "fence");
  if (!fence.ok()) return Corruption("lease item: " + fence.status().message());
  s.fence = *fence;
  auto exp = aws::GetInt64(item, "expires_at");
  if (!exp.ok()) return Corruption("lease item: " + exp.status().message());
  s.expires_at_ms = *exp;
  if (aws::FindAttribute(item, "acquired_at") != nullptr) {
    auto acq = aws::GetInt64(item, "acquired_at");
    if (!acq.ok()) return Corruption("lease item: " + acq.status().message());
    s.acquired_at_ms = *acq;
  }
  return s;
}

LeaseTable::LeaseTable(KvStore* kv, const Clock* clock, LeaseOptions options)
    : kv_(kv), clock_(clock), options_(options) {}

Result<Lease> LeaseTable::Acquire(const ShardId& shard, const std::string& owner,
                                  std::optional<LeaseState>* holder) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  if (owner.empty()) return InvalidArgument("lease acquire " + LeaseKey(shard) + ": owner is empty");
  if (options_.ttl_ms <= 0) return InvalidArgument("lease acquire: ttl_ms must be > 0");
  if (holder != nullptr) holder->reset();
  const int64_t now = clock_->NowMs();
  KvUpdate req;
  req.key = KeyOf(shard);
  req.update = "SET #o = :me, #e = :exp, #a = :now ADD #f :one";
  req.condition = "attribute_not_exists(pk) OR #e < :now";
  req.expr.names = kNames;
  req.expr.values = {{":me", AttributeValue::S(owner)},
                     {":exp", AttributeValue::N(now + options_.ttl_ms)},
                     {":now", AttributeValue::N(now)},
                     {":one", AttributeValue::N(int64_t{1})}};
  std::optional<aws::Item> old;
  auto res = kv_->Update(req, &old);
  if (!res.ok()) {
    Status st = res.status();
    if (st.code() != StatusCode::kPreconditionFailed)
      return st.WithContext("lease acquire " + LeaseKey(shard));
    if (old) {
      auto parsed = ParseLeaseItem(*old);
      if (parsed.ok()) {
        // Ours already: an earlier attempt landed but its answer was lost (owner ids are unique per
        // caller, so nobody else can have written this owner).
        if (parsed->owner == owner) return Lease{shard, owner, parsed->fence, parsed->expires_at_ms};
        if (holder != nullptr) *holder = *parsed;
      }
    }
    return Relabel(
        st, StatusCode::kPreconditionFailed,
        "lease " + LeaseKey(shard) + " is " + Describe(old) + " (now " + std::to_string(now) + ")");
  }
  CP_ASSIGN_OR_RETURN(LeaseState state, ParseLeaseItem(*res));
  if (state.owner != owner) {
    return Internal("lease acquire " + LeaseKey(shard) + ": ALL_NEW names owner '" + state.owner + "'");
  }
  return Lease{shard, owner, state.fence, state.expires_at_ms};
}

Result<Lease> LeaseTable::Heartbeat(const Lease& lease) {
  CP_RETURN_IF_ERROR(CheckLease(lease));
  const int64_t now = clock_->NowMs();
  KvUpdate req;
  req.key = KeyOf(lease.shard);
  req.update = "SET #e = :exp";
  req.condition = "#o = :me AND #f = :fence";
  req.expr.names = {{"#o", "owner"}, {"#e", "expires_at"}, {"#f", "fence"}};
  req.expr.values = {{":me", AttributeValue::S(lease.owner)},
                     {":exp", AttributeValue::N(now + options_.ttl_ms)},
                     {":fence", AttributeValue::N(lease.fence)}};
  std::optional<aws::Item> old;
  auto res = kv_->Update(req, &old);
  if (!res.ok()) {
    if (res.status().code() != StatusCode::kPreconditionFailed) {
      return res.status().WithContext("lease heartbeat " + LeaseKey(lease.shard));
    }
    return Relabel(res.status(), StatusCode::kAborted,
                   "lease " + LeaseKey(lease.shard) + " lost by '" + lease.owner + "' (fence " +
                       std::to_string(lease.fence) + "): now " + Describe(old));
  }
  CP_ASSIGN_OR_RETURN(LeaseState state, ParseLeaseItem(*res));
  Lease out = lease;
  out.expires_at_ms = state.expires_at_ms;
  return out;
}

Status LeaseTable::HeartbeatIfDue(Lease* lease) {
  if (lease == nullptr) return InvalidArgument("lease heartbeat: null lease");
  const int64_t now = clock_->NowMs();
  if (lease->expires_at_ms < now) {
    return Aborted("lease " + LeaseKey(lease->shard) + " of '" + lease->owner + "' (fence " +
                   std::to_string(lease->fence) + ") expired at " + std::to_string(lease->expires_at_ms) +
                   " (now " + std::to_string(now) + ")");
  }
  if (lease->expires_at_ms - now > options_.ttl_ms * 2 / 3) return Status::Ok();
  CP_ASSIGN_OR_RETURN(Lease extended, Heartbeat(*lease));
  *lease = std::move(extended);
  return Status::Ok();
}

Status LeaseTable::Release(const Lease& lease) {
  CP_RETURN_IF_ERROR(CheckLease(lease));
  KvUpdate req;
  req.key = KeyOf(lease.shard);
  req.update = "SET #e = :zero REMOVE #o";
  req.condition = "#o = :me AND #f = :fence";
  req.expr.names = {{"#o", "owner"}, {"#e", "expires_at"}, {"#f", "fence"}};
  req.expr.values = {{":me", AttributeValue::S(lease.owner)},
                     {":zero", AttributeValue::N(int64_t{0})},
                     {":fence", AttributeValue::N(lease.fence)}};
  std::optional<aws::Item> old;
  auto res = kv_->Update(req, &old);
  if (res.ok()) return Status::Ok();
  if (res.status().code() != StatusCode::kPreconditionFailed) {
    return res.status().WithContext("lease release " + LeaseKey(lease.shard));
  }
  if (old) {
    auto st = ParseLeaseItem(*old);
    // Our own earlier release (a retry after a lost answer): nothing to do.
    if (st.ok() && st->owner.empty() && st->fence == lease.fence) return Status::Ok();
  }
  return Relabel(res.status(), StatusCode::kAborted,
                 "lease " + LeaseKey(lease.shard) + " lost by '" + lease.owner + "' (fence " +
                     std::to_string(lease.fence) + "), cannot release: now " + Describe(old));
}

Result<LeaseState> LeaseTable::ForceRelease(const ShardId& shard) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  KvUpdate req;
  req.key = KeyOf(shard);
  req.update = "SET #e = :zero ADD #f :one REMOVE #o";
  req.expr.names = {{"#o", "owner"}, {"#e", "expires_at"}, {"#f", "fence"}};
  req.expr.values = {{":zero", AttributeValue::N(int64_t{0})}, {":one", AttributeValue::N(int64_t{1})}};
  auto item = kv_->Update(req);
  if (!item.ok()) return item.status().WithContext("lease force-release " + LeaseKey(shard));
  return ParseLeaseItem(*item);
}

Result<std::optional<LeaseState>> LeaseTable::Read(const ShardId& shard) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  CP_ASSIGN_OR_RETURN(auto item, kv_->Get(KeyOf(shard)));
  if (!item) return std::optional<LeaseState>();
  CP_ASSIGN_OR_RETURN(LeaseState st, ParseLeaseItem(*item));
  return std::optional<LeaseState>(std::move(st));
}

}  // namespace chromapact::pipeline
