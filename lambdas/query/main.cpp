// The query bootstrap (docs/design/overview.md §1): Chroma-shaped reads ({"action": "query|get|count", ...})
// answered from the committed snapshots and the log past them (pipeline/query_service.h): pointer
// from $CHROMAPACT_TABLE (cached $CHROMAPACT_POINTER_TTL_MS), files from $CHROMAPACT_BUCKET into
// $CHROMAPACT_CACHE_DIR, the log tail listed at most once per $CHROMAPACT_TAIL_TTL_MS (default: the
// pointer's TTL; $CHROMAPACT_READ_LOG_TAIL=0 answers from the versions only), min_log_positions
// waited for up to $CHROMAPACT_MIN_POSITION_WAIT_MS. Read-only: write actions get a "NotSupported" error; bad events a typed
// error, never a crash. With $CHROMAPACT_EMBEDDING_URL set, query_texts are embedded through that
// OpenAI-compatible endpoint (embed/openai_embeddings.h, docs/embeddings.md).
#include <chrono>
#include <memory>

#include "../common/env.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/embed/openai_embeddings.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/collection_resolver.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "chromapact/runtime/logging.h"
#include "chromapact/runtime/metrics.h"
#include "chromapact/runtime/run_handler.h"

namespace {

using namespace chromapact;  // NOLINT (main file)

struct Config {
  std::string bucket, table;
  int64_t pointer_ttl_ms = 1000;
  pipeline::QueryServiceOptions service;
};

Result<Config> LoadConfig() {
  Config c;
  CP_ASSIGN_OR_RETURN(c.bucket, lambdas::EnvRequired("CHROMAPACT_BUCKET"));
  CP_ASSIGN_OR_RETURN(c.table, lambdas::EnvRequired("CHROMAPACT_TABLE"));
  CP_ASSIGN_OR_RETURN(c.pointer_ttl_ms, lambdas::EnvInt("CHROMAPACT_POINTER_TTL_MS", 1000, 0, 86400000));
  CP_ASSIGN_OR_RETURN(int64_t shards, lambdas::EnvInt("CHROMAPACT_SHARDS", 1, 1, 1024));
  c.service.shards = static_cast<int>(shards);
  c.service.cache_dir = lambdas::EnvOr("CHROMAPACT_CACHE_DIR", "/tmp/chromapact") + "/query";
  c.service.default_collection = lambdas::EnvOr("CHROMAPACT_COLLECTION", "");
  CP_ASSIGN_OR_RETURN(int64_t tail, lambdas::EnvInt("CHROMAPACT_READ_LOG_TAIL", 1, 0, 1));
  c.service.read_log_tail = tail == 1;
  CP_ASSIGN_OR_RETURN(c.service.tail_ttl_ms, lambdas::EnvInt("CHROMAPACT_TAIL_TTL_MS", c.pointer_ttl_ms, 0, 86400000));
  CP_ASSIGN_OR_RETURN(c.service.min_position_wait_ms,
                      lambdas::EnvInt("CHROMAPACT_MIN_POSITION_WAIT_MS", 2000, 0, 900000));
  CP_ASSIGN_OR_RETURN(c.service.keep_version_ms, lambdas::EnvInt("CHROMAPACT_KEEP_VERSION_MS", 300000, 0, 3600000));
  return c;
}

}  // namespace

int main() {
  runtime::InitLogging();
  auto config = LoadConfig();
  auto s3 = config.ok() ? aws::S3Client::FromEnvironment() : Result<std::unique_ptr<aws::S3Client>>(config.status());
  auto ddb = s3.ok() ? aws::DynamoDbClient::FromEnvironment()
                     : Result<std::unique_ptr<aws::DynamoDbClient>>(s3.status());
  auto embedder = ddb.ok() ? embed::EmbeddingFunctionFromEnv()
                          : Result<std::unique_ptr<embed::EmbeddingFunction>>(ddb.status());
  if (!embedder.ok()) {
    (void)runtime::ReportInitError({"InitError", "query configuration: " + embedder.status().ToString(), {}});
    return 1;
  }
  if (*embedder) runtime::LogInfo("embedding function", {{"name", (*embedder)->name()}});
  config->service.embedding_function = embedder->get();
  auto objects = pipeline::NewS3ObjectStore(std::move(s3).value(), config->bucket);
  auto kv = pipeline::NewDynamoKvStore(std::move(ddb).value(), config->table);
  pipeline::SystemClock clock;
  pipeline::PointerTable pointers(kv.get(), &clock);
  pipeline::PointerCache cache(&pointers, &clock, config->pointer_ttl_ms);
  config->service.kv = kv.get();  // collection configurations (a log read before the first version)
  pipeline::QueryService service(objects.get(), &cache, config->service);
  pipeline::CollectionRegistry registry(kv.get(), &clock);
  pipeline::CollectionResolver resolver(&registry, &clock, config->service.shards);

  auto handler = [&](const std::string& event, const runtime::Context&) -> runtime::HandlerResult {
    const auto start = std::chrono::steady_clock::now();
    auto json = lambdas::ParseEvent(event);
    if (!json.ok()) return lambdas::Fail(json.status());
    // A Chroma name or UUID from the registry -> its storage key (collection_resolver.h).
    if (Status st = resolver.ResolveEvent(&*json, config->service.default_collection); !st.ok()) {
      return lambdas::Fail(st);
    }
    auto res = service.Handle(*json);
    if (!res.ok()) return lambdas::Fail(res.status());
    runtime::MetricsLogger metrics;
    (void)metrics.SetDimension("Function", "query");
    (void)metrics.Put(runtime::kQueryLatency,
                      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    (void)metrics.Put("SnapshotBytesFetched", static_cast<double>(service.last_stats().bytes_fetched),
                      runtime::MetricUnit::kBytes);
    (void)metrics.Put("LogTailEntriesRead", static_cast<double>(service.last_stats().tail_applied),
                      runtime::MetricUnit::kCount);
    (void)metrics.SetProperty("version", service.last_stats().versions_max);
    metrics.Flush();
    return runtime::HandlerResult::Success(res->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  Status st = runtime::RunHandler(handler);
  if (!st.ok()) {
    runtime::LogError("runtime loop ended", {{"status", st.ToString()}});
    return 1;
  }
  return 0;
}
