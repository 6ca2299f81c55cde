// Log keys, the sequence counter and void markers (log.h).
#include "chromapact/pipeline/log.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace chromapact::pipeline {
namespace {

constexpr std::string_view kVoidMagic = "chromapact-void 1\n";
constexpr std::string_view kLogSuffix = ".cpd";

aws::Item SeqKeyItem(const ShardId& shard) {
  return {{kPartitionKey, aws::AttributeValue::S(SequenceKey(shard))}};
}

Result<uint64_t> SeqOf(const aws::Item& item, const std::string& key) {
  auto n = aws::GetInt64(item, "next_seq");
  if (!n.ok()) return Internal(key + ": " + n.status().message());
  if (*n < 0) return Corruption(key + ": next_seq is negative");
  return static_cast<uint64_t>(*n);
}

}  // namespace

std::string LogPrefix(const ShardId& shard) {
  return "deltas/" + shard.collection + "/" + std::to_string(shard.shard) + "/";
}

std::string LogKey(const ShardId& shard, uint64_t seq) {
  char digits[kLogSeqDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  return LogPrefix(shard) + digits + std::string(kLogSuffix);
}

std::optional<uint64_t> ParseLogKey(const ShardId& shard, std::string_view key) {
  const std::string prefix = LogPrefix(shard);
  if (key.size() != prefix.size() + kLogSeqDigits + kLogSuffix.size()) return std::nullopt;
  if (key.substr(0, prefix.size()) != prefix) return std::nullopt;
  if (key.substr(key.size() - kLogSuffix.size()) != kLogSuffix) return std::nullopt;
  uint64_t seq = 0;
  for (char c : key.substr(prefix.size(), kLogSeqDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (seq > (UINT64_MAX - d) / 10) return std::nullopt;
    seq = seq * 10 + d;
  }
  if (seq == 0) return std::nullopt;
  return seq;
}

std::string SequenceKey(const ShardId& shard) { return "SEQ#" + shard.ToString(); }

Result<uint64_t> NextSequence(KvStore* kv, const ShardId& shard) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  KvUpdate req;
  req.key = SeqKeyItem(shard);
  req.update = "ADD #n :one";
  req.expr.names = {{"#n", "next_seq"}};
  req.expr.values = {{":one", aws::AttributeValue::N(int64_t{1})}};
  auto item = kv->Update(req);
  if (!item.ok()) return item.status().WithContext("sequence " + SequenceKey(shard));
  return SeqOf(*item, SequenceKey(shard));
}

Result<uint64_t> LastSequence(KvStore* kv, const ShardId& shard) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  auto item = kv->Get(SeqKeyItem(shard));
  if (!item.ok()) return item.status().WithContext("sequence " + SequenceKey(shard));
  if (!item->has_value()) return uint64_t{0};
  auto seq = SeqOf(**item, SequenceKey(shard));
  if (!seq.ok()) return Corruption(seq.status().message());
  return seq;
}

std::string EncodeVoidMarker(uint64_t seq, const std::string& reason, const std::string& writer_id,
                             int64_t created_at_ms) {
  nlohmann::json j = {{"log_position", seq},
                      {"reason", reason},
                      {"writer_id", writer_id},
                      {"created_at_ms", created_at_ms}};
  return std::string(kVoidMagic) + j.dump() + "\n";
}

bool IsVoidMarker(std::string_view body) { return body.substr(0, kVoidMagic.size()) == kVoidMagic; }

Result<std::vector<LogEntry>> ListLog(ObjectStore* objects, const ShardId& shard, uint64_t after, size_t limit) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  std::string start = after == 0 ? std::string() : LogKey(shard, after);
  std::vector<LogEntry> out;
  // `limit` counts log entries, not objects: keys under the prefix that are no log keys (a console
  // "folder" object, say) must not make a full page look like the end of the log.
  for (;;) {
    const size_t want = limit == 0 ? 0 : limit - out.size();
    auto listed = objects->ListAfter(LogPrefix(shard), start, want);
    if (!listed.ok()) return listed.status().WithContext("list log " + LogPrefix(shard));
    for (const ObjectMeta& m : *listed) {
      auto seq = ParseLogKey(shard, m.key);
      if (!seq || *seq <= after) continue;
      out.push_back({*seq, m.key, m.size, m.last_modified_ms});
      if (limit > 0 && out.size() >= limit) return out;
    }
    if (limit == 0 || listed->size() < want || listed->empty()) return out;
    start = listed->back().key;
  }
}

}  // namespace chromapact::pipeline
