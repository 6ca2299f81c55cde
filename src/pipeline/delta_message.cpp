#include "chromapact/pipeline/delta_message.h"

#include <nlohmann/json.hpp>

#include "chromapact/codec/ulid.h"

namespace chromapact::pipeline {

std::string DeltaKey(const ShardId& shard, const std::string& delta_id) {
  return "deltas/" + shard.collection + "/" + std::to_string(shard.shard) + "/" + delta_id + ".cpd";
}

std::string EncodeDeltaMessage(const DeltaMessage& message) {
  nlohmann::json j = {{"delta_key", message.delta_key},
                      {"collection", message.shard.collection},
                      {"shard", message.shard.shard},
                      {"delta_id", message.delta_id},
                      {"count", message.count}};
  return j.dump();
}

Result<DeltaMessage> ParseDeltaMessage(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("delta message: body is not a JSON object");
  DeltaMessage m;
  auto str = [&](const char* key, std::string* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
      return InvalidArgument(std::string("delta message: ") + key + ": missing or not a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  CP_RETURN_IF_ERROR(str("delta_key", &m.delta_key));
  CP_RETURN_IF_ERROR(str("collection", &m.shard.collection));
  CP_RETURN_IF_ERROR(str("delta_id", &m.delta_id));
  auto shard = j.find("shard");
  if (shard == j.end() || !shard->is_number_integer())
    return InvalidArgument("delta message: shard: missing or not an integer");
  int64_t s = shard->get<int64_t>();
  if (s < 0 || s > 1000000) return InvalidArgument("delta message: shard: out of range");
  m.shard.shard = static_cast<int>(s);
  auto count = j.find("count");
  if (count != j.end()) {
    if (!count->is_number_unsigned())
      return InvalidArgument("delta message: count: not a non-negative integer");
    m.count = count->get<uint64_t>();
  }
  CP_RETURN_IF_ERROR(ValidateShardId(m.shard).WithContext("delta message"));
  CP_RETURN_IF_ERROR(codec::ValidateUlid(m.delta_id, "delta message: delta_id"));
  return m;
}

}  // namespace chromapact::pipeline
