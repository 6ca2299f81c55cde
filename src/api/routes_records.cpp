// Record routes of chroma_api.h: add / upsert / update / delete through the producer path, get /
// query / count through the query service.
#include <cstring>
#include <limits>

#include "api_internal.h"
#include "chromapact/crypto.h"
#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/store/filter.h"

namespace chromapact::api {
namespace {

using pipeline::CollectionInfo;

// One embedding as the client sends it: base64 of little-endian float32 (add / update / upsert with
// supports_base64_encoding) or a list of numbers; null stays null (update: not given).
Result<nlohmann::json> DecodeEmbedding(const nlohmann::json& e, const std::string& key) {
  if (e.is_null() || e.is_array()) return e;
  if (!e.is_string()) return InvalidArgument(key + ": expected a list of numbers or a base64 string");
  auto bytes = Base64Decode(e.get<std::string>());
  if (!bytes.ok()) return InvalidArgument(key + ": not base64");
  if (bytes->size() % 4 != 0) {
    return InvalidArgument(key + ": " + std::to_string(bytes->size()) + " bytes is not a whole number of float32");
  }
  static_assert(std::numeric_limits<float>::is_iec559, "float32 expected");
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < bytes->size(); i += 4) {
    uint32_t u = 0;
    for (int b = 3; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>((*bytes)[i + b]);  // little-endian
    float f = 0;
    std::memcpy(&f, &u, 4);
    out.push_back(f);
  }
  return out;
}

Result<nlohmann::json> DecodeEmbeddings(const nlohmann::json& e, const std::string& key) {
  if (e.is_null()) return e;
  if (!e.is_array()) return InvalidArgument(key + ": expected a list");
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < e.size(); ++i) {
    CP_ASSIGN_OR_RETURN(auto row, DecodeEmbedding(e[i], key + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(row));
  }
  return out;
}

bool Given(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && !it->is_null();
}

// Chroma's empty answers, for a collection nothing was written to yet.
nlohmann::json EmptyAnswer(const std::string& action, const nlohmann::json& body) {
  if (action == "count") return {{"count", 0}};
  auto include = store::ParseInclude(Given(body, "include") ? body["include"]
                                                            : nlohmann::json(nullptr));
  if (action == "get") {
    store::GetResult r;
    r.include = include.ok() && Given(body, "include") ? *include : store::kDefaultGetInclude;
    if (r.include & store::kIncludeEmbeddings) r.embeddings.emplace();
    if (r.include & store::kIncludeDocuments) r.documents.emplace();
    if (r.include & store::kIncludeMetadatas) r.metadatas.emplace();
    return store::ToJson(r);
  }
  store::QueryResult r;
  r.include = include.ok() && Given(body, "include") ? *include : store::kDefaultQueryInclude;
  const size_t q = body["query_embeddings"].size();
  r.ids.resize(q);
  if (r.include & store::kIncludeEmbeddings) r.embeddings.emplace(q);
  if (r.include & store::kIncludeDocuments) r.documents.emplace(q);
  if (r.include & store::kIncludeMetadatas) r.metadatas.emplace(q);
  if (r.include & store::kIncludeDistances) r.distances.emplace(q);
  return store::ToJson(r);
}

}  // namespace

Status ChromaApiRoutes::Produce(const CollectionInfo& c, const nlohmann::json& event) {
  CP_ASSIGN_OR_RETURN(pipeline::ProduceRequest request, pipeline::ParseProduceRequest(event, ""));
  pipeline::ProducerOptions opts;
  opts.shards = api_.options_.shards;
  opts.producer_id = api_.options_.producer_id;
  opts.embedding_function = api_.options_.embedding_function;
  pipeline::ProduceResult appended;
  auto res = pipeline::Produce(api_.s_.kv, api_.s_.objects, api_.s_.queue, api_.s_.dimensions, request, opts,
                               &appended);
  const pipeline::ProduceResult& done = res.ok() ? *res : appended;
  for (const auto& p : done.log_positions) {
    uint64_t& ack = api_.acknowledged_[pipeline::ShardId{c.storage, p.shard}.ToString()];
    ack = std::max(ack, p.log_position);
  }
  // Chroma's wording for a wrong dimension has no field prefix (what the clients show users).
  static const std::string kDimensionPrefix = "embeddings: Collection expecting";
  if (!res.ok() && res.status().message().rfind(kDimensionPrefix, 0) == 0) {
    return Status(res.status().code(), res.status().message().substr(std::string("embeddings: ").size()));
  }
  if (!res.ok() && !appended.log_positions.empty()) {
    return res.status().WithContext("part of this write was appended to the log and will apply (" +
                                    pipeline::ToJson(appended).dump() + ")");
  }
  return res.status();
}

Status ChromaApiRoutes::Write(const CollectionInfo& c, const std::string& op, const nlohmann::json& body) {
  auto ids = body.find("ids");
  if (ids == body.end() || !ids->is_array()) return InvalidArgument("ids: expected a list of strings");
  if (ids->size() > static_cast<size_t>(api_.options_.max_batch_size)) {
    return InvalidArgument("ids: " + std::to_string(ids->size()) + " records is more than max_batch_size " +
                           std::to_string(api_.options_.max_batch_size) + " (pre-flight-checks)");
  }
  if (Given(body, "uris")) {
    for (const auto& u : body["uris"]) {
      if (!u.is_null()) return InvalidArgument("uris: not supported by chromapact (give null)");
    }
  }
  nlohmann::json event = {{"collection", c.storage}, {"operation", op}, {"ids", *ids}};
  if (Given(body, "embeddings")) {
    CP_ASSIGN_OR_RETURN(event["embeddings"], DecodeEmbeddings(body["embeddings"], "embeddings"));
  }
  for (const char* key : {"documents", "metadatas"}) {
    if (Given(body, key)) event[key] = body[key];
  }
  return Produce(c, event);
}

Result<nlohmann::json> ChromaApiRoutes::Read(const CollectionInfo& c, const std::string& action, nlohmann::json body) {
  // Chroma refuses a malformed filter before reading; the store skips a filter that is not an
  // object, and a collection nothing was written to yet has no store to check one against.
  if (Given(body, "where")) CP_RETURN_IF_ERROR(store::CompileWhere(body["where"]).status());
  if (Given(body, "where_document")) {
    CP_RETURN_IF_ERROR(store::CompileWhereDocument(body["where_document"]).status());
  }
  nlohmann::json request = {{"collection", c.storage}, {"action", action}};
  for (const char* key : {"ids", "where", "where_document", "limit", "offset", "include", "n_results"}) {
    if (Given(body, key)) request[key] = body[key];
  }
  if (action == "query") {
    if (!Given(body, "query_embeddings")) {
      return InvalidArgument("query_embeddings: required (chromapact's REST API takes vectors; query_texts are "
                             "embedded by the client's embedding function)");
    }
    CP_ASSIGN_OR_RETURN(request["query_embeddings"], DecodeEmbeddings(body["query_embeddings"], "query_embeddings"));
  }
  nlohmann::json positions = nlohmann::json::array();
  for (int shard = 0; shard < api_.options_.shards; ++shard) {
    auto it = api_.acknowledged_.find(pipeline::ShardId{c.storage, shard}.ToString());
    if (it != api_.acknowledged_.end()) positions.push_back({{"shard", shard}, {"log_position", it->second}});
  }
  if (!positions.empty()) request["min_log_positions"] = positions;
  auto answer = api_.s_.reads->Handle(request);
  if (!answer.ok() && answer.status().code() == StatusCode::kNotFound &&
      answer.status().message().find("no snapshot committed yet") != std::string::npos) {
    answer = EmptyAnswer(action, request);
  }
  // Chroma echoes `include` in the order the request gave it.
  if (answer.ok() && action != "count" && Given(body, "include")) (*answer)["include"] = body["include"];
  return answer;
}

Result<nlohmann::json> ChromaApiRoutes::Delete(const CollectionInfo& c, const nlohmann::json& body) {
  nlohmann::json ids = Given(body, "ids") ? body["ids"] : nlohmann::json(nullptr);
  if (!ids.is_null() && !ids.is_array()) return InvalidArgument("ids: expected a list of strings");
  const bool filtered = Given(body, "where") || Given(body, "where_document");
  // Chroma 1.5.9's `limit`: at most that many of the records the filters match are deleted.
  if (Given(body, "limit") && !filtered) {
    return InvalidArgument("limit: can only be specified when a where clause is provided");
  }
  if (filtered) {
    nlohmann::json get = {{"include", nlohmann::json::array()}};
    for (const char* key : {"ids", "where", "where_document", "limit"}) {
      if (Given(body, key)) get[key] = body[key];
    }
    CP_ASSIGN_OR_RETURN(nlohmann::json matched, Read(c, "get", get));
    ids = matched["ids"];
  } else if (ids.is_null()) {
    return InvalidArgument("delete: give ids, where or where_document");
  } else if (ids.size() > static_cast<size_t>(api_.options_.max_batch_size)) {
    return InvalidArgument("ids: " + std::to_string(ids.size()) + " records is more than max_batch_size " +
                           std::to_string(api_.options_.max_batch_size) + " (pre-flight-checks)");
  }
  const size_t n = ids.size();
  const size_t batch = static_cast<size_t>(std::max(1, api_.options_.max_batch_size));
  for (size_t from = 0; from < n; from += batch) {
    nlohmann::json chunk = nlohmann::json::array();
    for (size_t i = from; i < std::min(n, from + batch); ++i) chunk.push_back(ids[i]);
    CP_RETURN_IF_ERROR(Produce(c, {{"collection", c.storage}, {"operation", "delete"}, {"ids", chunk}}));
  }
  return nlohmann::json{{"deleted", n}};
}

HttpResponse ChromaApiRoutes::Records(const HttpRequest& req, const CollectionInfo& c, const std::string& op) {
  if (op == "count") {
    auto n = Read(c, "count", nlohmann::json::object());
    return n.ok() ? JsonResponse(200, (*n)["count"]) : ErrorResponse(n.status());
  }
  auto body = ParseBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  if (op == "get" || op == "query") {
    auto answer = Read(c, op, std::move(body).value());
    return answer.ok() ? JsonResponse(200, *answer) : ErrorResponse(answer.status());
  }
  if (op == "delete") {
    auto deleted = Delete(c, *body);
    return deleted.ok() ? JsonResponse(200, *deleted) : ErrorResponse(deleted.status());
  }
  Status st = Write(c, op, *body);
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(op == "add" ? 201 : 200, nlohmann::json::object());
}

}  // namespace chromapact::api
