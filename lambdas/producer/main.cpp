// The producer bootstrap (docs/design/log.md): a Chroma-shaped write batch -> one delta per shard
// touched, appended to the shard's log under s3://$CHROMAPACT_BUCKET/deltas/ with a sequence number
// from $CHROMAPACT_TABLE, + one trigger each on $CHROMAPACT_QUEUE_URL (pipeline/producer.h).
// Answers {"count": n, "delta_keys": [...], "log_positions": [{"shard", "log_position"}]}; a bad
// event gets a typed error ("InvalidArgument", naming the field and record index), never a crash.
// With $CHROMAPACT_EMBEDDING_URL set, documents sent without embeddings are embedded through that
// OpenAI-compatible endpoint (embed/openai_embeddings.h, docs/embeddings.md).
#include <chrono>
#include <memory>

#include "../common/env.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/embed/openai_embeddings.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/collection_resolver.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "chromapact/runtime/logging.h"
#include "chromapact/runtime/metrics.h"
#include "chromapact/runtime/run_handler.h"

namespace {

using namespace chromapact;  // NOLINT (main file)

struct Config {
  std::string bucket, queue_url, table, default_collection;
  int shards = 1;
};

Result<Config> LoadConfig() {
  Config c;
  CP_ASSIGN_OR_RETURN(c.bucket, lambdas::EnvRequired("CHROMAPACT_BUCKET"));
  CP_ASSIGN_OR_RETURN(c.queue_url, lambdas::EnvRequired("CHROMAPACT_QUEUE_URL"));
  CP_ASSIGN_OR_RETURN(c.table, lambdas::EnvRequired("CHROMAPACT_TABLE"));
  c.default_collection = lambdas::EnvOr("CHROMAPACT_COLLECTION", "");
  CP_ASSIGN_OR_RETURN(int64_t shards, lambdas::EnvInt("CHROMAPACT_SHARDS", 1, 1, 1024));
  c.shards = static_cast<int>(shards);
  return c;
}

}  // namespace

int main() {
  runtime::InitLogging();
  auto config = LoadConfig();
  auto s3 = config.ok() ? aws::S3Client::FromEnvironment() : Result<std::unique_ptr<aws::S3Client>>(config.status());
  auto sqs = s3.ok() ? aws::SqsClient::FromEnvironment() : Result<std::unique_ptr<aws::SqsClient>>(s3.status());
  auto ddb = sqs.ok() ? aws::DynamoDbClient::FromEnvironment()
                      : Result<std::unique_ptr<aws::DynamoDbClient>>(sqs.status());
  auto embedder = ddb.ok() ? embed::EmbeddingFunctionFromEnv()
                          : Result<std::unique_ptr<embed::EmbeddingFunction>>(ddb.status());
  if (!embedder.ok()) {
    (void)runtime::ReportInitError({"InitError", "producer configuration: " + embedder.status().ToString(), {}});
    return 1;
  }
  if (*embedder) runtime::LogInfo("embedding function", {{"name", (*embedder)->name()}});
  auto objects = pipeline::NewS3ObjectStore(std::move(s3).value(), config->bucket);
  auto queue = pipeline::NewSqsQueue(std::move(sqs).value(), config->queue_url);
  auto kv = pipeline::NewDynamoKvStore(std::move(ddb).value(), config->table);
  pipeline::DimensionRegistry dimensions(kv.get());
  pipeline::SystemClock clock;
  pipeline::CollectionRegistry registry(kv.get(), &clock);
  pipeline::CollectionResolver resolver(&registry, &clock, config->shards);

  auto handler = [&](const std::string& event, const runtime::Context& ctx) -> runtime::HandlerResult {
    const auto start = std::chrono::steady_clock::now();
    auto json = lambdas::ParseEvent(event);
    if (!json.ok()) return lambdas::Fail(json.status());
    auto req = pipeline::ParseProduceRequest(*json, config->default_collection);
    if (!req.ok()) return lambdas::Fail(req.status());
    // A Chroma name or UUID from the registry -> its storage key (collection_resolver.h).
    const std::string named = req->collection;
    auto storage = resolver.Resolve(named);
    if (!storage.ok()) return lambdas::Fail(storage.status());
    req->collection = *storage;
    pipeline::ProducerOptions opts;
    opts.shards = config->shards;
    opts.producer_id = ctx.request_id;
    opts.embedding_function = embedder->get();
    auto res = pipeline::Produce(kv.get(), objects.get(), queue.get(), &dimensions, *req, opts);
    if (!res.ok()) {
      runtime::LogWarn("produce failed", {{"collection", req->collection}, {"status", res.status().ToString()}});
      return lambdas::Fail(res.status());
    }
    if (*storage == named) {  // first write to an unregistered name: the clients can find it now
      if (Status reg = resolver.Register(named); !reg.ok()) {
        runtime::LogWarn("collection not registered", {{"collection", named}, {"status", reg.ToString()}});
      }
    }
    runtime::MetricsLogger metrics;
    (void)metrics.SetDimension("Function", "producer");
    (void)metrics.SetDimension("Collection", req->collection);
    (void)metrics.Put(runtime::kBytesUploaded, static_cast<double>(res->bytes));
    (void)metrics.Put("RecordsProduced", static_cast<double>(res->count), runtime::MetricUnit::kCount);
    (void)metrics.Put("ProduceLatency",
                      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
                      runtime::MetricUnit::kMilliseconds);
    metrics.Flush();
    return runtime::HandlerResult::Success(pipeline::ToJson(*res).dump());
  };
  Status st = runtime::RunHandler(handler);
  if (!st.ok()) {
    runtime::LogError("runtime loop ended", {{"status", st.ToString()}});
    return 1;
  }
  return 0;
}
