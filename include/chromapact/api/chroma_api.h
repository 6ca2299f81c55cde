// Chroma's REST API v2, as the official clients call it (npm `chromadb` 3.x, Python
// `chromadb.HttpClient`; routes from Chroma 1.5.9's rust/frontend/src/server.rs), over chromapact:
// collections from the registry (pipeline/collection_registry.h), writes through the producer path
// (pipeline/producer.h: durable in the shard's log before the answer), reads through the query
// service (pipeline/query_service.h: committed versions + the log past them). One handler, served
// by the Function URL function (lambdas/api) and by `chromapact serve`. Reference: docs/rest-api.md.
//
// Routes (all answers JSON; {tenant}/{database} are path segments):
//   GET  /api/v2/heartbeat                   {"nanosecond heartbeat": n}
//   GET  /api/v2/version                     "1.0.0"
//   GET  /api/v2/pre-flight-checks           {"max_batch_size", "supports_base64_encoding": true}
//   GET  /api/v2/auth/identity               {"user_id": "", "tenant", "databases": [...]}
//   GET  /api/v2/tenants/{t}                 {"name"}
//   GET  /api/v2/tenants/{t}/databases[/{d}] the database(s) {"id", "name", "tenant"}
//   under /api/v2/tenants/{t}/databases/{d}:
//   GET  /collections_count                  n
//   GET  /collections?limit&offset           [Collection]
//   POST /collections                        {name, configuration?, metadata?, get_or_create?}
//   GET  /collections/{name}                 Collection
//   GET  /collections/by-id/{id}             Collection
//   PUT  /collections/{id}                   {new_name?, new_metadata?} -> {}
//   DELETE /collections/{name}               {}
//   GET  /collections/{id}/count             n
//   POST /collections/{id}/add|upsert|update {ids, embeddings?, documents?, metadatas?, uris?} -> {}
//   POST /collections/{id}/delete            {ids?, where?, where_document?, limit?} -> {"deleted": n}
//                                            (limit: only with where / where_document, as Chroma)
//   POST /collections/{id}/get               {ids?, where?, where_document?, limit?, offset?, include?}
//   POST /collections/{id}/query             {query_embeddings, n_results?, where?, ..., include?}
// Anything else: 404 {"error": "NotFoundError"} for an unknown path, 405 for a known path with
// another method, 501 {"error": "NotImplementedError"} for Chroma routes chromapact does not serve
// (tenants/databases creation, fork, search, functions, attached functions).
//
// Errors are Chroma's JSON {"error": <name>, "message": <text>} with Chroma's status codes:
// 400 InvalidArgumentError (malformed body, wrong types, missing ids, dimension mismatch, NaN,
// oversize batch, unknown where operator), 404 NotFoundError (unknown collection / tenant /
// database), 409 UniqueConstraintError (create of an existing name), 413 for a body over
// max_body_bytes, 429 / 503 / 504 for throttling, unavailability and timeouts of the AWS services,
// 500 InternalError otherwise. A write that fails before it is acknowledged wrote nothing that
// applies (producer.h), except a multi-shard write failing midway, whose error says so.
//
// Read after write: every write this handler acknowledged raises the log position its later reads
// wait for (QueryService min_log_positions), so a client's `add` then `count` through one process
// sees the add; across processes (Function URL sandboxes) reads see every acknowledged write that
// is not behind another writer's unfinished one (the query lists the log past its version).
//
// Not thread-safe: one per thread (the local server serialises requests).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "chromapact/api/http_message.h"
#include "chromapact/embed/embedding_function.h"
#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/query_service.h"
#include "chromapact/pipeline/queue.h"

namespace chromapact::api {

struct ChromaApiOptions {
  int shards = 1;  // CHROMAPACT_SHARDS: shards of collections created here
  // pre-flight max_batch_size (CHROMAPACT_API_MAX_BATCH_SIZE): records per add / upsert / update /
  // delete-by-ids. Sized for Lambda's 6 MB synchronous payload: 500 x 1536-d base64 embeddings.
  int max_batch_size = 500;
  size_t max_body_bytes = 6 * 1024 * 1024;  // larger bodies: 413
  std::string producer_id = "chromapact-api";  // recorded in the deltas' headers
  embed::EmbeddingFunction* embedding_function = nullptr;  // borrowed; for documents without vectors
};

// The services a ChromaApi uses, all borrowed (they must outlive it).
struct ChromaApiServices {
  pipeline::KvStore* kv = nullptr;  // sequence numbers (producer.h)
  pipeline::ObjectStore* objects = nullptr;
  pipeline::Queue* queue = nullptr;
  pipeline::DimensionRegistry* dimensions = nullptr;
  pipeline::CollectionRegistry* collections = nullptr;
  pipeline::QueryService* reads = nullptr;
};

class ChromaApi {
 public:
  ChromaApi(ChromaApiServices services, ChromaApiOptions options);

  // Answers one request; never throws. Every answer has a JSON body.
  HttpResponse Handle(const HttpRequest& request);

 private:
  ChromaApiServices s_;
  ChromaApiOptions options_;
  // storage#shard -> highest log position acknowledged by this handler (read after write).
  std::map<std::string, uint64_t> acknowledged_;
  friend class ChromaApiRoutes;
};

// Chroma's error JSON and status code for a Status (the mapping above).
HttpResponse ErrorResponse(const Status& status);

}  // namespace chromapact::api
