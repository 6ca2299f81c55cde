#include "store/collection_config.h"

#include <cctype>
#include <regex>

namespace chromapact::store::internal {
namespace {

void ReadHnswObject(const nlohmann::json& h, HnswParams* p) {
  if (!h.is_object()) return;
  auto num = [&](const char* key, size_t* out) {
    auto it = h.find(key);
    if (it != h.end() && it->is_number_integer() && it->get<int64_t>() > 0) *out = it->get<size_t>();
  };
  num("ef_construction", &p->ef_construction);
  num("ef_search", &p->ef_search);
  num("max_neighbors", &p->M);
  num("M", &p->M);
  num("sync_threshold", &p->sync_threshold);
  auto rf = h.find("resize_factor");
  if (rf != h.end() && rf->is_number()) p->resize_factor = rf->get<double>();
}

Status ReadSpace(const nlohmann::json& obj, HnswParams* p) {
  if (!obj.is_object()) return Status::Ok();
  auto it = obj.find("space");
  if (it == obj.end() || !it->is_string()) return Status::Ok();
  auto space = ParseSpace(it->get<std::string>());
  if (!space.ok()) return Corruption("collection config: " + space.status().message());
  p->space = *space;
  return Status::Ok();
}

bool IsDefault(const HnswParams& p) {
  HnswParams d;
  return p.space == d.space && p.M == d.M && p.ef_construction == d.ef_construction &&
         p.ef_search == d.ef_search && p.sync_threshold == d.sync_threshold && p.resize_factor == d.resize_factor;
}

const nlohmann::json* Path(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  const nlohmann::json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

}  // namespace

std::string ConfigJsonFor(const HnswParams& params) {
  nlohmann::ordered_json hnsw;
  hnsw["space"] = SpaceName(params.space);
  hnsw["ef_construction"] = params.ef_construction;
  hnsw["ef_search"] = params.ef_search;
  hnsw["max_neighbors"] = params.M;
  hnsw["resize_factor"] = params.resize_factor;
  hnsw["sync_threshold"] = params.sync_threshold;
  nlohmann::ordered_json cfg;
  cfg["vector_index"]["hnsw"] = hnsw;
  cfg["embedding_function"]["type"] = "legacy";
  return cfg.dump();
}

Result<HnswParams> ParseHnswParams(const std::string& config_json, const std::string& schema_json,
                                   const nlohmann::json& legacy) {
  HnswParams p;
  nlohmann::json schema = nlohmann::json::parse(schema_json, nullptr, false);
  if (!schema_json.empty() && schema.is_discarded()) return Corruption("collections.schema_str is not JSON");
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  if (!config_json.empty() && config.is_discarded()) return Corruption("collections.config_json_str is not JSON");

  bool found = false;
  if (!schema_json.empty()) {
    // 1.3+: keys["#embedding"] wins over defaults (rust/types/src/collection_schema.rs).
    for (auto path : {Path(schema, {"keys", "#embedding", "float_list", "vector_index", "config"}),
                      Path(schema, {"defaults", "float_list", "vector_index", "config"})}) {
      if (path == nullptr || !path->is_object()) continue;
      CP_RETURN_IF_ERROR(ReadSpace(*path, &p));
      if (auto h = Path(*path, {"hnsw"})) ReadHnswObject(*h, &p);
      found = true;
      break;
    }
  }
  if (!found && !config_json.empty()) {
    if (auto h = Path(config, {"vector_index", "hnsw"})) {  // 1.0 .. 1.2
      CP_RETURN_IF_ERROR(ReadSpace(*h, &p));
      ReadHnswObject(*h, &p);
    } else if (auto h2 = Path(config, {"hnsw_configuration"})) {  // 0.5 / 0.6 legacy
      CP_RETURN_IF_ERROR(ReadSpace(*h2, &p));
      ReadHnswObject(*h2, &p);
    }
  }
  if (IsDefault(p) && legacy.is_object()) {
    auto it = legacy.find("hnsw:space");
    if (it != legacy.end() && it->is_string()) {
      auto space = ParseSpace(it->get<std::string>());
      if (!space.ok()) return Corruption("metadata hnsw:space: " + space.status().message());
      p.space = *space;
    }
    auto num = [&](const char* key, size_t* out) {
      auto v = legacy.find(key);
      if (v != legacy.end() && v->is_number_integer() && v->get<int64_t>() > 0) *out = v->get<size_t>();
    };
    num("hnsw:construction_ef", &p.ef_construction);
    num("hnsw:search_ef", &p.ef_search);
    num("hnsw:M", &p.M);
    num("hnsw:sync_threshold", &p.sync_threshold);
    auto rf = legacy.find("hnsw:resize_factor");
    if (rf != legacy.end() && rf->is_number()) p.resize_factor = rf->get<double>();
  }
  return p;
}

Status ValidateCollectionName(const std::string& name) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("collection name '" + name + "': " + why);
  };
  if (name.size() < 3 || name.size() > 512) return bad("must be 3..512 characters long");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return bad("may contain only [a-zA-Z0-9._-]");
    }
  }
  if (!std::isalnum(static_cast<unsigned char>(name.front())) ||
      !std::isalnum(static_cast<unsigned char>(name.back()))) {
    return bad("must start and end with a letter or digit");
  }
  if (name.find("..") != std::string::npos) return bad("must not contain '..'");
  static const std::regex kIpv4(R"(^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$)");
  if (std::regex_match(name, kIpv4)) return bad("must not be an IPv4 address");
  return Status::Ok();
}

Status ValidateHnswParams(const HnswParams& params) {
  if (params.M < 2) return InvalidArgument("hnsw M (max_neighbors) must be >= 2, got " + std::to_string(params.M));
  if (params.ef_construction < 1) return InvalidArgument("hnsw ef_construction must be >= 1");
  if (params.ef_search < 1) return InvalidArgument("hnsw ef_search must be >= 1");
  if (!(params.resize_factor >= 1.0)) return InvalidArgument("hnsw resize_factor must be >= 1");
  return Status::Ok();
}

}  // namespace chromapact::store::internal
