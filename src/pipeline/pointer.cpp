#include "chromapact/pipeline/pointer.h"

#include <utility>

namespace chromapact::pipeline {
namespace {

using aws::AttributeValue;

aws::Item KeyOf(const ShardId& shard) {
  return {{kPartitionKey, AttributeValue::S(PointerKey(shard))}};
}

Status Relabel(const Status& from, std::string message) {
  if (from.aws()) return Status(StatusCode::kPreconditionFailed, std::move(message), *from.aws());
  return PreconditionFailed(std::move(message));
}

// Fills *current from the ALL_OLD item of a failed condition; returns a description for messages.
std::string TakeCurrent(const std::optional<aws::Item>& old, std::optional<Pointer>* current) {
  if (current != nullptr) current->reset();
  if (!old) return "does not exist";
  auto p = ParsePointerItem(*old);
  if (!p.ok()) return "is unreadable (" + p.status().message() + ")";
  if (current != nullptr) *current = *p;
  return "is at version " + std::to_string(p->version) + " (manifest " + p->manifest_key + ", fence " +
         std::to_string(p->fence) + ")";
}

Status CheckArgs(const ShardId& shard, int64_t version, const std::string& manifest_key, const char* op) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  if (version < 1) return InvalidArgument(std::string(op) + ": version " + std::to_string(version) + " < 1");
  if (manifest_key.empty()) return InvalidArgument(std::string(op) + ": manifest_key is empty");
  return Status::Ok();
}

}  // namespace

Result<Pointer> ParsePointerItem(const aws::Item& item) {
  Pointer p;
  auto version = aws::GetInt64(item, "version");
  if (!version.ok()) return Corruption("pointer item: " + version.status().message());
  p.version = *version;
  auto key = aws::GetString(item, "manifest_key");
  if (!key.ok()) return Corruption("pointer item: " + key.status().message());
  p.manifest_key = *key;
  auto at = aws::GetInt64(item, "committed_at");
  if (!at.ok()) return Corruption("pointer item: " + at.status().message());
  p.committed_at_ms = *at;
  auto fence = aws::GetInt64(item, "fence");
  if (!fence.ok()) return Corruption("pointer item: " + fence.status().message());
  p.fence = *fence;
  return p;
}

PointerTable::PointerTable(KvStore* kv, const Clock* clock) : kv_(kv), clock_(clock) {}

Result<std::optional<Pointer>> PointerTable::Read(const ShardId& shard) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  CP_ASSIGN_OR_RETURN(auto item, kv_->Get(KeyOf(shard)));
  if (!item) return std::optional<Pointer>();
  auto p = ParsePointerItem(*item);
  if (!p.ok()) return p.status().WithContext(PointerKey(shard));
  return std::optional<Pointer>(std::move(p).value());
}

Result<Pointer> PointerTable::Create(const ShardId& shard, int64_t version, const std::string& manifest_key,
                                     int64_t fence, std::optional<Pointer>* current) {
  CP_RETURN_IF_ERROR(CheckArgs(shard, version, manifest_key, "pointer create"));
  if (current != nullptr) current->reset();
  Pointer p{version, manifest_key, clock_->NowMs(), fence};
  KvPut req;
  req.item = KeyOf(shard);
  req.item["version"] = AttributeValue::N(p.version);
  req.item["manifest_key"] = AttributeValue::S(p.manifest_key);
  req.item["committed_at"] = AttributeValue::N(p.committed_at_ms);
  req.item["fence"] = AttributeValue::N(p.fence);
  req.condition = "attribute_not_exists(pk)";
  std::optional<aws::Item> old;
  Status st = kv_->Put(req, &old);
  if (st.code() == StatusCode::kPreconditionFailed) {
    return Relabel(st, "pointer " + PointerKey(shard) + " already exists: it " + TakeCurrent(old, current));
  }
  if (!st.ok()) return st.WithContext("pointer create " + PointerKey(shard));
  return p;
}

Result<Pointer> PointerTable::CompareAndSwap(const ShardId& shard, int64_t base_version,
                                             const std::string& manifest_key, int64_t fence,
                                             std::optional<Pointer>* current) {
  CP_RETURN_IF_ERROR(CheckArgs(shard, base_version, manifest_key, "pointer compare-and-swap"));
  if (current != nullptr) current->reset();
  Pointer next{base_version + 1, manifest_key, clock_->NowMs(), fence};
  KvUpdate req;
  req.key = KeyOf(shard);
  req.update = "SET #v = :next, #m = :m, #c = :c, #f = :f";
  // On a missing item `#v = :base` is false, so the CAS never creates a pointer.
  req.condition = "#v = :base";
  req.expr.names = {{"#v", "version"}, {"#m", "manifest_key"}, {"#c", "committed_at"}, {"#f", "fence"}};
  req.expr.values = {{":next", AttributeValue::N(next.version)},
                     {":base", AttributeValue::N(base_version)},
                     {":m", AttributeValue::S(next.manifest_key)},
                     {":c", AttributeValue::N(next.committed_at_ms)},
                     {":f", AttributeValue::N(next.fence)}};
  std::optional<aws::Item> old;
  auto res = kv_->Update(req, &old);
  if (!res.ok()) {
    if (res.status().code() == StatusCode::kPreconditionFailed) {
      return Relabel(res.status(), "pointer " + PointerKey(shard) + " moved: expected version " +
                                       std::to_string(base_version) + ", but it " +
                                       TakeCurrent(old, current));
    }
    return res.status().WithContext("pointer compare-and-swap " + PointerKey(shard));
  }
  auto stored = ParsePointerItem(*res);
  if (!stored.ok()) return stored.status().WithContext(PointerKey(shard) + " after compare-and-swap");
  return std::move(stored).value();
}

}  // namespace chromapact::pipeline
