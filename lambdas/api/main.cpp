// The API bootstrap: Chroma's REST API v2 (api/chroma_api.h) behind a Lambda Function URL. Each
// invocation is one HTTP request as a payload format 2.0 event (api/function_url.h); the answer is
// the Function URL response {"statusCode", "headers", "body", "isBase64Encoded"}, errors included
// (Chroma's {"error", "message"} with its status code; a malformed event is a 400, never a Lambda
// error). Collections from the registry in $CHROMAPACT_TABLE (pipeline/collection_registry.h),
// writes appended to the shard logs in $CHROMAPACT_BUCKET with triggers on $CHROMAPACT_QUEUE_URL
// (pipeline/producer.h), reads from the committed versions plus the log past them
// (pipeline/query_service.h; the log tail listed at most once per $CHROMAPACT_TAIL_TTL_MS, default 0:
// every read sees every write acknowledged before it, by any sandbox). With $CHROMAPACT_EMBEDDING_URL
// set, documents without embeddings and query_texts are embedded through that endpoint
// (embed/openai_embeddings.h, docs/embeddings.md).
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../common/env.h"
#include "chromapact/api/chroma_api.h"
#include "chromapact/api/function_url.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/embed/openai_embeddings.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "chromapact/runtime/logging.h"
#include "chromapact/runtime/metrics.h"
#include "chromapact/runtime/run_handler.h"

namespace {

using namespace chromapact;  // NOLINT (main file)

struct Config {
  std::string bucket, queue_url, table;
  int64_t pointer_ttl_ms = 1000;
  pipeline::QueryServiceOptions reads;
  api::ChromaApiOptions api;
};

Result<Config> LoadConfig() {
  Config c;
  CP_ASSIGN_OR_RETURN(c.bucket, lambdas::EnvRequired("CHROMAPACT_BUCKET"));
  CP_ASSIGN_OR_RETURN(c.queue_url, lambdas::EnvRequired("CHROMAPACT_QUEUE_URL"));
  CP_ASSIGN_OR_RETURN(c.table, lambdas::EnvRequired("CHROMAPACT_TABLE"));
  CP_ASSIGN_OR_RETURN(int64_t shards, lambdas::EnvInt("CHROMAPACT_SHARDS", 1, 1, 1024));
  c.api.shards = static_cast<int>(shards);
  c.reads.shards = static_cast<int>(shards);
  c.reads.cache_dir = lambdas::EnvOr("CHROMAPACT_CACHE_DIR", "/tmp/chromapact") + "/api";
  c.reads.read_log_tail = true;  // read after write: an acknowledged write is readable at once
  CP_ASSIGN_OR_RETURN(c.pointer_ttl_ms, lambdas::EnvInt("CHROMAPACT_POINTER_TTL_MS", 1000, 0, 86400000));
  CP_ASSIGN_OR_RETURN(c.reads.tail_ttl_ms, lambdas::EnvInt("CHROMAPACT_TAIL_TTL_MS", 0, 0, 86400000));
  CP_ASSIGN_OR_RETURN(c.reads.min_position_wait_ms,
                      lambdas::EnvInt("CHROMAPACT_MIN_POSITION_WAIT_MS", 2000, 0, 900000));
  CP_ASSIGN_OR_RETURN(c.reads.keep_version_ms, lambdas::EnvInt("CHROMAPACT_KEEP_VERSION_MS", 300000, 0, 3600000));
  CP_ASSIGN_OR_RETURN(int64_t batch, lambdas::EnvInt("CHROMAPACT_API_MAX_BATCH_SIZE", 500, 1, 100000));
  c.api.max_batch_size = static_cast<int>(batch);
  return c;
}

// The route of `path` for metrics, with the names and ids in it replaced, e.g.
// "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection}/query"; "other" for a path
// outside /api/v2 or with a word no Chroma route has (a public URL gets scanned: one dimension value
// per random path would be costly).
std::string RouteOf(const std::string& path) {
  static const std::set<std::string> kWords = {"heartbeat",
                                               "version",
                                               "pre-flight-checks",
                                               "healthcheck",
                                               "reset",
                                               "auth",
                                               "identity",
                                               "tenants",
                                               "databases",
                                               "collections",
                                               "collections_count",
                                               "by-id",
                                               "count",
                                               "add",
                                               "upsert",
                                               "update",
                                               "delete",
                                               "get",
                                               "query",
                                               "fork",
                                               "search",
                                               "functions",
                                               "attached_functions"};
  const std::string prefix = "/api/v2";
  if (path.compare(0, prefix.size(), prefix) != 0 ||
      (path.size() > prefix.size() && path[prefix.size()] != '/')) {
    return "other";
  }
  std::vector<std::string> parts;
  size_t i = prefix.size();
  while (i < path.size()) {
    const size_t j = path.find('/', i + 1);
    const std::string seg = path.substr(i + 1, (j == std::string::npos ? path.size() : j) - i - 1);
    if (!seg.empty()) parts.push_back(seg);
    i = j == std::string::npos ? path.size() : j;
  }
  if (parts.size() > 8) return "other";
  std::string route = prefix;
  for (size_t k = 0; k < parts.size(); ++k) {
    const std::string before = k == 0 ? "" : parts[k - 1];
    std::string seg = parts[k];
    if (before == "tenants") {
      seg = "{tenant}";
    } else if (before == "databases") {
      seg = "{database}";
    } else if (before == "by-id") {
      seg = "{id}";
    } else if (before == "collections" && seg != "by-id") {
      seg = "{collection}";
    } else if (kWords.count(seg) == 0) {
      return "other";
    }
    route += "/" + seg;
  }
  return route;
}

// A failure of the service (AWS errors, bugs), not of the request: 5xx except 501, Chroma's answer
// to a route chromapact does not serve.
bool ServerError(int status) { return status >= 500 && status != 501; }

}  // namespace

int main() {
  runtime::InitLogging();
  auto config = LoadConfig();
  auto s3 = config.ok() ? aws::S3Client::FromEnvironment()
                        : Result<std::unique_ptr<aws::S3Client>>(config.status());
  auto sqs =
      s3.ok() ? aws::SqsClient::FromEnvironment() : Result<std::unique_ptr<aws::SqsClient>>(s3.status());
  auto ddb = sqs.ok() ? aws::DynamoDbClient::FromEnvironment()
                      : Result<std::unique_ptr<aws::DynamoDbClient>>(sqs.status());
  auto embedder = ddb.ok() ? embed::EmbeddingFunctionFromEnv()
                           : Result<std::unique_ptr<embed::EmbeddingFunction>>(ddb.status());
  if (!embedder.ok()) {
    (void)runtime::ReportInitError({"InitError", "api configuration: " + embedder.status().ToString(), {}});
    return 1;
  }
  if (*embedder) runtime::LogInfo("embedding function", {{"name", (*embedder)->name()}});
  auto objects = pipeline::NewS3ObjectStore(std::move(s3).value(), config->bucket);
  auto queue = pipeline::NewSqsQueue(std::move(sqs).value(), config->queue_url);
  auto kv = pipeline::NewDynamoKvStore(std::move(ddb).value(), config->table);
  const pipeline::Clock* clock = pipeline::SystemClock::Default();
  pipeline::DimensionRegistry dimensions(kv.get());
  pipeline::CollectionRegistry collections(kv.get(), clock);
  pipeline::PointerTable pointers(kv.get(), clock);
  pipeline::PointerCache pointer_cache(&pointers, clock, config->pointer_ttl_ms);
  config->reads.embedding_function = embedder->get();
  config->reads.kv = kv.get();  // each collection's configuration, for a shard read before its first version
  pipeline::QueryService reads(objects.get(), &pointer_cache, config->reads);
  config->api.embedding_function = embedder->get();
  api::ChromaApi chroma({kv.get(), objects.get(), queue.get(), &dimensions, &collections, &reads},
                        config->api);

  auto handler = [&](const std::string& event, const runtime::Context&) -> runtime::HandlerResult {
    const auto start = std::chrono::steady_clock::now();
    std::string route = "invalid-event";
    api::HttpResponse response;
    auto json = lambdas::ParseEvent(event);
    auto request = json.ok() ? api::ParseFunctionUrlEvent(*json) : Result<api::HttpRequest>(json.status());
    if (!request.ok()) {
      // Not a Function URL event: the caller still gets an HTTP answer (400), not a function error.
      runtime::LogWarn("malformed event", {{"status", request.status().ToString()}});
      response = api::ErrorResponse(request.status());
    } else {
      route = request->method + " " + RouteOf(request->path);
      response = chroma.Handle(*request);
      if (ServerError(response.status)) {
        runtime::LogWarn(
            "request failed",
            {{"route", route}, {"http_status", response.status}, {"body", response.body.substr(0, 2000)}});
      }
    }
    runtime::MetricsLogger metrics;
    (void)metrics.SetDimension("Function", "api");
    (void)metrics.SetDimension("Route", route);
    (void)metrics.Put(
        "RequestLatency",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
        runtime::MetricUnit::kMilliseconds);
    (void)metrics.Put("ServerErrors", ServerError(response.status) ? 1.0 : 0.0, runtime::MetricUnit::kCount);
    (void)metrics.SetProperty("http_status", response.status);
    metrics.Flush();
    return runtime::HandlerResult::Success(
        api::ToFunctionUrlResponse(response).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  Status st = runtime::RunHandler(handler);
  if (!st.ok()) {
    runtime::LogError("runtime loop ended", {{"status", st.ToString()}});
    return 1;
  }
  return 0;
}
