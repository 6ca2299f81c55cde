#include "chromapact/pipeline/delta_message.h"

#include <nlohmann/json.hpp>

#include "chromapact/crypto.h"
#include "chromapact/pipeline/log.h"

namespace chromapact::pipeline {

std::string SqsId(std::string id) {
  return id.size() <= kMaxSqsIdLength ? id : Sha256Hex(id);
}

std::string TriggerDedupId(const ShardId& shard, uint64_t log_position) {
  return SqsId(shard.ToString() + "#" + std::to_string(log_position));
}

std::string EncodeDeltaMessage(const DeltaMessage& message) {
  nlohmann::json j = {{"collection", message.shard.collection},
                      {"shard", message.shard.shard},
                      {"log_position", message.log_position}};
  if (!message.delta_key.empty()) j["delta_key"] = message.delta_key;
  return j.dump();
}

Result<DeltaMessage> ParseDeltaMessage(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("delta message: body is not a JSON object");
  DeltaMessage m;
  auto coll = j.find("collection");
  if (coll == j.end() || !coll->is_string()) {
    return InvalidArgument("delta message: collection: missing or not a string");
  }
  m.shard.collection = coll->get<std::string>();
  auto shard = j.find("shard");
  if (shard == j.end() || !shard->is_number_integer())
    return InvalidArgument("delta message: shard: missing or not an integer");
  int64_t s = shard->get<int64_t>();
  if (s < 0 || s > 1000000) return InvalidArgument("delta message: shard: out of range");
  m.shard.shard = static_cast<int>(s);
  CP_RETURN_IF_ERROR(ValidateShardId(m.shard).WithContext("delta message"));
  if (auto pos = j.find("log_position"); pos != j.end()) {
    if (!pos->is_number_unsigned()) return InvalidArgument("delta message: log_position: not a non-negative integer");
    m.log_position = pos->get<uint64_t>();
  }
  if (m.log_position > 0) m.delta_key = LogKey(m.shard, m.log_position);
  return m;
}

}  // namespace chromapact::pipeline
