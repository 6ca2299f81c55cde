// Collection routes of chroma_api.h: list, count, create / get_or_create, get by name or id, modify,
// delete; record routes are dispatched to routes_records.cpp.
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "api_internal.h"
#include "chromapact/pipeline/collection_options.h"

namespace chromapact::api {
namespace {

using pipeline::CollectionInfo;

HttpResponse Json(const nlohmann::json& body) { return JsonResponse(200, body); }

// A non-negative integer query parameter; absent = nullopt. Errors: kInvalidArgument naming it.
Result<std::optional<size_t>> QueryCount(const HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return std::optional<size_t>();
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < 0) return InvalidArgument(name + ": expected a non-negative integer");
  return std::optional<size_t>(static_cast<size_t>(v));
}

Status CheckMetadata(const nlohmann::json& m, const std::string& key) {
  if (m.is_null()) return Status::Ok();
  if (!m.is_object()) return InvalidArgument(key + ": expected an object or null");
  for (const auto& [k, v] : m.items()) {
    if (!(v.is_string() || v.is_number() || v.is_boolean() || v.is_null())) {
      return InvalidArgument(key + "." + k + ": expected a string, number, boolean or null");
    }
  }
  return Status::Ok();
}

// A collection id from the path as Chroma parses it (Rust uuid::Uuid::parse_str: hyphenated, simple,
// braced or urn form, any case), in the registry's form: lower-case hyphenated. Chroma answers a
// malformed one 400, not 404. Errors: kInvalidArgument naming the id.
Result<std::string> CollectionId(const std::string& text) {
  std::string s = text;
  if (s.size() == 45 && s.compare(0, 9, "urn:uuid:") == 0) {
    s = s.substr(9);
  } else if (s.size() == 38 && s.front() == '{' && s.back() == '}') {
    s = s.substr(1, 36);
  }
  std::string hex;
  bool ok = s.size() == 32 || s.size() == 36;
  for (size_t i = 0; ok && i < s.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    if (s.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
      ok = ch == '-';
    } else if ((ok = std::isxdigit(ch) != 0)) {
      hex.push_back(static_cast<char>(std::tolower(ch)));
    }
  }
  if (!ok) {
    return InvalidArgument("collection id '" + text + "': not a valid UUID (Collection ID is not a valid UUIDv4)");
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

nlohmann::json Member(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() ? nlohmann::json(nullptr) : *it;
}

Result<CollectionInfo> Create(pipeline::CollectionRegistry* registry, const std::string& tenant,
                              const std::string& database, int shards, const nlohmann::json& body) {
  const nlohmann::json name = Member(body, "name");
  if (!name.is_string()) return InvalidArgument("name: expected a string");
  const nlohmann::json configuration = Member(body, "configuration");
  CP_ASSIGN_OR_RETURN(store::HnswParams params, pipeline::HnswParamsFromConfiguration(configuration, {}));
  const nlohmann::json metadata = Member(body, "metadata");
  CP_RETURN_IF_ERROR(CheckMetadata(metadata, "metadata"));
  const nlohmann::json get_or_create = Member(body, "get_or_create");
  if (!get_or_create.is_null() && !get_or_create.is_boolean()) {
    return InvalidArgument("get_or_create: expected a boolean");
  }
  CollectionInfo info;
  info.tenant = tenant;
  info.database = database;
  info.name = name.get<std::string>();
  info.configuration = pipeline::ConfigurationJson(params);
  if (configuration.is_object()) {  // the client's embedding function description, kept for it
    if (auto ef = configuration.find("embedding_function"); ef != configuration.end()) {
      info.configuration["embedding_function"] = *ef;
    }
  }
  info.metadata = metadata.is_object() && metadata.empty() ? nlohmann::json(nullptr) : metadata;
  info.shards = shards;
  return registry->Create(std::move(info), get_or_create.is_boolean() && get_or_create.get<bool>());
}

}  // namespace

HttpResponse ChromaApiRoutes::Collections(const HttpRequest& req, const std::string& tenant,
                                          const std::string& database, const std::vector<std::string>& path) {
  pipeline::CollectionRegistry* registry = api_.s_.collections;
  const std::string& m = req.method;
  auto not_allowed = [&] {
    return JsonResponse(405, {{"error", "MethodNotAllowed"},
                              {"message", "method " + m + " is not allowed on " + req.path}});
  };
  if (path.size() == 1 && path[0] == "collections_count") {
    if (m != "GET") return not_allowed();
    auto n = registry->Count(tenant, database);
    return n.ok() ? Json(*n) : ErrorResponse(n.status());
  }
  if (path.empty() || path[0] != "collections") {
    return JsonResponse(404, {{"error", "NotFoundError"}, {"message", "no route " + m + " " + req.path}});
  }
  if (path.size() == 1) {
    if (m == "GET") {
      auto limit = QueryCount(req, "limit");
      if (!limit.ok()) return ErrorResponse(limit.status());
      auto offset = QueryCount(req, "offset");
      if (!offset.ok()) return ErrorResponse(offset.status());
      auto list = registry->List(tenant, database, *limit, offset->value_or(0));
      if (!list.ok()) return ErrorResponse(list.status());
      nlohmann::json out = nlohmann::json::array();
      for (const auto& c : *list) out.push_back(c.ToChromaJson());
      return Json(out);
    }
    if (m != "POST") return not_allowed();
    auto body = ParseBody(req);
    if (!body.ok()) return ErrorResponse(body.status());
    auto c = Create(registry, tenant, database, api_.options_.shards, *body);
    return c.ok() ? Json(c->ToChromaJson()) : ErrorResponse(c.status());
  }
  if (path.size() == 3 && path[1] == "by-id") {
    if (m != "GET") return not_allowed();
    auto id = CollectionId(path[2]);
    if (!id.ok()) return ErrorResponse(id.status());
    auto c = registry->GetById(*id);
    return c.ok() ? Json(c->ToChromaJson()) : ErrorResponse(c.status());
  }
  if (path.size() == 2) {
    if (m == "GET") {
      auto c = registry->GetByName(tenant, database, path[1]);
      return c.ok() ? Json(c->ToChromaJson()) : ErrorResponse(c.status());
    }
    if (m == "DELETE") {
      Status st = registry->Delete(tenant, database, path[1]);
      return st.ok() ? Json(nlohmann::json::object()) : ErrorResponse(st);
    }
    if (m != "PUT") return not_allowed();
    auto id = CollectionId(path[1]);
    if (!id.ok()) return ErrorResponse(id.status());
    auto body = ParseBody(req);
    if (!body.ok()) return ErrorResponse(body.status());
    std::optional<std::string> new_name;
    std::optional<nlohmann::json> new_metadata;
    if (const nlohmann::json n = Member(*body, "new_name"); !n.is_null()) {
      if (!n.is_string()) return ErrorResponse(InvalidArgument("new_name: expected a string"));
      new_name = n.get<std::string>();
    }
    if (const nlohmann::json md = Member(*body, "new_metadata"); !md.is_null()) {
      if (Status st = CheckMetadata(md, "new_metadata"); !st.ok()) return ErrorResponse(st);
      new_metadata = md;
    }
    if (!Member(*body, "new_configuration").is_null()) {
      return ErrorResponse(NotSupported("new_configuration: changing a collection's configuration is not supported"));
    }
    auto c = registry->Modify(*id, new_name, new_metadata);
    return c.ok() ? Json(nlohmann::json::object()) : ErrorResponse(c.status());
  }
  if (path.size() == 3) {
    static const char* kRecordOps[] = {"add", "upsert", "update", "delete", "get", "query", "count"};
    bool known = false;
    for (const char* op : kRecordOps) known = known || path[2] == op;
    if (!known) {
      return JsonResponse(501, {{"error", "NotImplementedError"},
                                {"message", m + " " + req.path + " is not supported by chromapact"}});
    }
    if ((path[2] == "count") != (m == "GET") || (m != "GET" && m != "POST")) return not_allowed();
    auto id = CollectionId(path[1]);
    if (!id.ok()) return ErrorResponse(id.status());
    auto c = registry->GetById(*id);
    if (!c.ok()) return ErrorResponse(c.status());
    return Records(req, *c, path[2]);
  }
  return JsonResponse(501, {{"error", "NotImplementedError"},
                            {"message", m + " " + req.path + " is not supported by chromapact"}});
}

}  // namespace chromapact::api
