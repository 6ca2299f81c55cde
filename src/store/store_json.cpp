// Chroma's include list and REST (API v2) response bodies for get and query (store.h).
#include <cstdio>
#include <cstdlib>

#include "chromapact/store/store.h"

namespace chromapact::store {
namespace {

// The double whose shortest decimal form is float `f`'s shortest round-trip form (as Rust prints an
// f32: 0.1f -> 0.1, not 0.10000000149011612).
double ShortestFloat(float f) {
  char buf[32];
  for (int precision = 6; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return std::strtod(buf, nullptr);
}

nlohmann::json FloatList(const std::vector<float>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (float f : v) out.push_back(ShortestFloat(f));
  return out;
}

nlohmann::json Documents(const std::vector<std::optional<std::string>>& docs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : docs) out.push_back(d ? nlohmann::json(*d) : nlohmann::json(nullptr));
  return out;
}

nlohmann::json IncludeList(unsigned include) {
  nlohmann::json out = nlohmann::json::array();
  if (include & kIncludeDocuments) out.push_back("documents");
  if (include & kIncludeMetadatas) out.push_back("metadatas");
  if (include & kIncludeEmbeddings) out.push_back("embeddings");
  if (include & kIncludeDistances) out.push_back("distances");
  return out;
}

}  // namespace

Result<unsigned> ParseInclude(const nlohmann::json& include) {
  if (include.is_null()) return kDefaultGetInclude;
  if (!include.is_array()) return InvalidArgument("include: must be a list of strings");
  unsigned out = 0;
  for (size_t i = 0; i < include.size(); ++i) {
    const auto& v = include[i];
    if (!v.is_string()) return InvalidArgument("include[" + std::to_string(i) + "]: must be a string");
    const std::string s = v.get<std::string>();
    if (s == "embeddings") {
      out |= kIncludeEmbeddings;
    } else if (s == "documents") {
      out |= kIncludeDocuments;
    } else if (s == "metadatas") {
      out |= kIncludeMetadatas;
    } else if (s == "distances") {
      out |= kIncludeDistances;
    } else if (s != "uris" && s != "data") {
      return InvalidArgument("include[" + std::to_string(i) + "]: unknown value '" + s + "'");
    }
  }
  return out;
}

nlohmann::json ToJson(const GetResult& r) {
  nlohmann::json out = nlohmann::json::object();
  out["ids"] = r.ids;
  out["embeddings"] = nullptr;
  if (r.embeddings) {
    out["embeddings"] = nlohmann::json::array();
    for (const auto& e : *r.embeddings) out["embeddings"].push_back(FloatList(e));
  }
  out["documents"] = r.documents ? Documents(*r.documents) : nlohmann::json(nullptr);
  out["uris"] = nullptr;
  out["metadatas"] = r.metadatas ? nlohmann::json(*r.metadatas) : nlohmann::json(nullptr);
  out["include"] = IncludeList(r.include);
  return out;
}

nlohmann::json ToJson(const QueryResult& r) {
  nlohmann::json out = nlohmann::json::object();
  out["ids"] = r.ids;
  out["embeddings"] = nullptr;
  if (r.embeddings) {
    out["embeddings"] = nlohmann::json::array();
    for (const auto& per_query : *r.embeddings) {
      nlohmann::json lists = nlohmann::json::array();
      for (const auto& e : per_query) lists.push_back(FloatList(e));
      out["embeddings"].push_back(std::move(lists));
    }
  }
  out["documents"] = nullptr;
  if (r.documents) {
    out["documents"] = nlohmann::json::array();
    for (const auto& d : *r.documents) out["documents"].push_back(Documents(d));
  }
  out["uris"] = nullptr;
  out["metadatas"] = r.metadatas ? nlohmann::json(*r.metadatas) : nlohmann::json(nullptr);
  out["distances"] = nullptr;
  if (r.distances) {
    out["distances"] = nlohmann::json::array();
    for (const auto& d : *r.distances) out["distances"].push_back(FloatList(d));
  }
  out["include"] = IncludeList(r.include);
  return out;
}

}  // namespace chromapact::store
