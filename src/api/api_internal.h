// Internal to the REST handler: the routes of chroma_api.h, split by what they act on.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/api/chroma_api.h"

namespace chromapact::api {

// JSON answer with `status`.
HttpResponse JsonResponse(int status, const nlohmann::json& body);

// The body as a JSON object; Python's explicit nulls are kept (callers treat null as absent).
// Errors: kInvalidArgument "body: ..." (not JSON, not an object, nested too deep).
Result<nlohmann::json> ParseBody(const HttpRequest& request);

// The routes. `path` is the part after /api/v2/tenants/{t}/databases/{d}/ split at '/'.
class ChromaApiRoutes {
 public:
  explicit ChromaApiRoutes(ChromaApi& api) : api_(api) {}
  HttpResponse Collections(const HttpRequest& req, const std::string& tenant, const std::string& database,
                           const std::vector<std::string>& path);
  HttpResponse Records(const HttpRequest& req, const pipeline::CollectionInfo& collection, const std::string& op);

 private:
  // {ids, embeddings?, documents?, metadatas?, uris?} -> one produce request, acknowledged.
  Status Write(const pipeline::CollectionInfo& c, const std::string& op, const nlohmann::json& body);
  Result<nlohmann::json> Delete(const pipeline::CollectionInfo& c, const nlohmann::json& body);
  // A read through the query service, waiting for this handler's acknowledged writes.
  Result<nlohmann::json> Read(const pipeline::CollectionInfo& c, const std::string& action, nlohmann::json body);
  Status Produce(const pipeline::CollectionInfo& c, const nlohmann::json& event);
  ChromaApi& api_;
};

}  // namespace chromapact::api
