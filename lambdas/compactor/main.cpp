// The compactor bootstrap (docs/design/log.md): env -> pipeline::Compactor -> runtime loop.
// Events:
//   SQS event {"Records": [...]}: triggers (delta_message.h) grouped by shard, one cycle per shard in
//     order of first appearance (pipeline/compactor_event.h); answers {"batchItemFailures":
//     [{"itemIdentifier": messageId}]} with FIFO's partial-batch rule;
//   EventBridge scheduled event {"source": "aws.events", "detail-type": "Scheduled Event", ...}:
//     a cycle for every shard of $CHROMAPACT_COLLECTION (catches shards whose trigger was lost);
//   {"action": "compact", "collection"?: name}: the same for that collection. Both answer
//     {"cycles": [{"shard", "status", "version", "log_position", "applied", "skipped", "rearmed"}]}.
// Log entries a cycle skips (deltas that can never apply) are reported to $CHROMAPACT_DLQ_URL when set
// (one message each), else through their triggers' batchItemFailures (docs/design/log.md).
// Every cycle stops applying $CHROMAPACT_COMMIT_MARGIN_MS before the invocation's deadline (at most
// half the remaining time), commits what it has and re-arms the shard for the rest.
// Bad events get a typed error result, never a crash.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <memory>
#include <thread>
#include <vector>

#include "../common/crash_point.h"
#include "../common/env.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/compactor_event.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store_s3.h"
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
  std::string dlq_url;  // CHROMAPACT_DLQ_URL: where skipped log entries are reported (optional)
  int shards = 1;
  pipeline::LeaseWait lease_wait;  // CHROMAPACT_LEASE_WAIT_MS
  int64_t commit_margin_ms = 30000;  // CHROMAPACT_COMMIT_MARGIN_MS
  pipeline::CompactorOptions compactor;
};

Result<Config> LoadConfig() {
  Config c;
  CP_ASSIGN_OR_RETURN(c.bucket, lambdas::EnvRequired("CHROMAPACT_BUCKET"));
  CP_ASSIGN_OR_RETURN(c.queue_url, lambdas::EnvRequired("CHROMAPACT_QUEUE_URL"));
  CP_ASSIGN_OR_RETURN(c.table, lambdas::EnvRequired("CHROMAPACT_TABLE"));
  c.default_collection = lambdas::EnvOr("CHROMAPACT_COLLECTION", "");
  c.dlq_url = lambdas::EnvOr("CHROMAPACT_DLQ_URL", "");
  CP_ASSIGN_OR_RETURN(int64_t shards, lambdas::EnvInt("CHROMAPACT_SHARDS", 1, 1, 1024));
  c.shards = static_cast<int>(shards);
  CP_ASSIGN_OR_RETURN(c.compactor.lease.ttl_ms, lambdas::EnvInt("CHROMAPACT_LEASE_TTL_MS", 60000, 1000, 3600000));
  CP_ASSIGN_OR_RETURN(c.lease_wait.wait_ms, lambdas::EnvInt("CHROMAPACT_LEASE_WAIT_MS", 30000, 0, 900000));
  CP_ASSIGN_OR_RETURN(c.commit_margin_ms, lambdas::EnvInt("CHROMAPACT_COMMIT_MARGIN_MS", 30000, 0, 900000));
  CP_ASSIGN_OR_RETURN(c.compactor.hole_timeout_ms,
                      lambdas::EnvInt("CHROMAPACT_HOLE_TIMEOUT_MS", 30000, 0, 3600000));
  CP_ASSIGN_OR_RETURN(int64_t max_deltas, lambdas::EnvInt("CHROMAPACT_MAX_DELTAS", 1000, 1, 1000000));
  c.compactor.max_deltas = static_cast<size_t>(max_deltas);
  CP_ASSIGN_OR_RETURN(int64_t max_records,
                      lambdas::EnvInt("CHROMAPACT_MAX_RECORDS", 1000000, 1, int64_t{1} << 40));
  c.compactor.max_records = static_cast<uint64_t>(max_records);
  CP_ASSIGN_OR_RETURN(int64_t major_records, lambdas::EnvInt("CHROMAPACT_MAJOR_TAIL_RECORDS", 1000, 0, int64_t{1} << 40));
  c.compactor.major_tail_records = static_cast<uint64_t>(major_records);
  CP_ASSIGN_OR_RETURN(c.compactor.major_tail_age_ms,
                      lambdas::EnvInt("CHROMAPACT_MAJOR_TAIL_AGE_MS", 15 * 60 * 1000, 0, int64_t{1} << 40));
  CP_ASSIGN_OR_RETURN(int64_t chunk_bytes, lambdas::EnvInt("CHROMAPACT_CHUNK_BYTES",
                                                           static_cast<int64_t>(pipeline::kDefaultChunkBytes), 0,
                                                           int64_t{1} << 30));
  if (chunk_bytes % 4096 != 0) {
    return InvalidArgument("CHROMAPACT_CHUNK_BYTES: " + std::to_string(chunk_bytes) + " is not a multiple of 4096");
  }
  c.compactor.chunk_bytes = static_cast<uint64_t>(chunk_bytes);
  c.compactor.step_hook = lambdas::CrashHookFromEnvironment();  // test-only; none unless CHROMAPACT_CRASH_AT
  c.compactor.work_dir = lambdas::EnvOr("CHROMAPACT_CACHE_DIR", "/tmp/chromapact") + "/compactor";
  CP_ASSIGN_OR_RETURN(std::string ulid, codec::NewUlid());
  c.compactor.writer_id = "compactor-" + ulid;  // one per sandbox; cycles add their own ULID
  return c;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

nlohmann::json CycleJson(const pipeline::ShardId& shard, const pipeline::CycleResult& r) {
  return {{"shard", shard.ToString()},
          {"status", r.status.ok() ? std::string("OK") : r.status.ToString()},
          {"version", r.new_version},
          {"log_position", r.log_position},
          {"applied", r.applied},
          {"major", r.major},
          {"bytes_uploaded", r.bytes_uploaded},
          {"bytes_snapshot", r.bytes_snapshot},
          {"skipped", r.skipped.size()},
          {"rearmed", r.rearmed}};
}

// Steady-clock ms by which a cycle stops applying: the invocation's deadline less the commit margin
// (at most half the remaining time).
int64_t ApplyDeadline(const runtime::Context& ctx, int64_t margin_ms) {
  const int64_t remaining = ctx.RemainingTimeMs();
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return now + std::max<int64_t>(remaining - std::min(margin_ms, remaining / 2), 1);
}

void EmitMetrics(const pipeline::ShardId& shard, const pipeline::CycleResult& r) {
  runtime::MetricsLogger metrics;
  (void)metrics.SetDimension("Function", "compactor");
  (void)metrics.SetDimension("Collection", shard.collection);
  (void)metrics.Put(runtime::kCompactionDuration, static_cast<double>(r.phases.total_ms));
  (void)metrics.Put(runtime::kDeltasProcessed, static_cast<double>(r.applied));
  (void)metrics.Put("DeltasSkipped", static_cast<double>(r.skipped.size()), runtime::MetricUnit::kCount);
  (void)metrics.SetProperty("dead_lettered", r.dead_lettered);
  (void)metrics.Put(runtime::kBytesUploaded, static_cast<double>(r.bytes_uploaded));
  (void)metrics.Put(runtime::kLockAcquisitionFailed,
                    r.status.code() == StatusCode::kPreconditionFailed && r.fence == 0 ? 1.0 : 0.0);
  (void)metrics.SetProperty("shard", shard.shard);
  (void)metrics.SetProperty("version", r.new_version);
  (void)metrics.SetProperty("log_position", r.log_position);
  for (const auto& sk : r.skipped) {
    runtime::LogError("log entry skipped", {{"shard", shard.ToString()}, {"log_position", sk.log_position},
                                            {"reason", sk.reason}});
  }
  metrics.Flush();
}

}  // namespace

int main() {
  runtime::InitLogging();
  auto config = LoadConfig();
  auto s3 = config.ok() ? aws::S3Client::FromEnvironment() : Result<std::unique_ptr<aws::S3Client>>(config.status());
  auto sqs = s3.ok() ? aws::SqsClient::FromEnvironment() : Result<std::unique_ptr<aws::SqsClient>>(s3.status());
  auto ddb = sqs.ok() ? aws::DynamoDbClient::FromEnvironment()
                      : Result<std::unique_ptr<aws::DynamoDbClient>>(sqs.status());
  if (!ddb.ok()) {
    (void)runtime::ReportInitError({"InitError", "compactor configuration: " + ddb.status().ToString(), {}});
    return 1;
  }
  auto objects = pipeline::NewS3ObjectStore(std::move(s3).value(), config->bucket);
  aws::SqsClient* sqs_client = sqs->get();
  auto queue = pipeline::NewSqsQueue(std::move(sqs).value(), config->queue_url);
  std::unique_ptr<pipeline::Queue> dead_letters;
  if (!config->dlq_url.empty()) {
    dead_letters = pipeline::NewSqsQueue(sqs_client, config->dlq_url);  // the same client, one thread
    config->compactor.dead_letters = dead_letters.get();
  }
  auto kv = pipeline::NewDynamoKvStore(std::move(ddb).value(), config->table);
  pipeline::SystemClock clock;
  pipeline::Compactor compactor(kv.get(), objects.get(), queue.get(), &clock, config->compactor);

  auto on_wait = [](const pipeline::ShardId& shard) {
    return [shard](int attempt, const Status& st) {
      runtime::LogInfo("lease held; waiting", {{"shard", shard.ToString()}, {"attempt", attempt}, {"status", st.ToString()}});
    };
  };
  // `wait`: the schedule does not wait for a held lease (that shard is being compacted, and waiting
  // would stack schedule invocations up against the function's reserved concurrency, which the SQS
  // event source shares); an operator's {"action": "compact"} does.
  auto compact_all = [&](const std::string& collection, const runtime::Context& ctx,
                         const pipeline::LeaseWait& wait) -> runtime::HandlerResult {
    if (collection.empty()) {
      return lambdas::Fail(InvalidArgument("collection: missing (and CHROMAPACT_COLLECTION is not set)"));
    }
    Status valid = pipeline::ValidateShardId({collection, 0});
    if (!valid.ok()) return lambdas::Fail(valid);
    nlohmann::json cycles = nlohmann::json::array();
    for (int s = 0; s < config->shards; ++s) {
      const pipeline::ShardId shard{collection, s};
      pipeline::CycleResult r = pipeline::RunCycleWaitingForLease(
          &compactor, shard, {}, ApplyDeadline(ctx, config->commit_margin_ms), wait, on_wait(shard));
      EmitMetrics(shard, r);
      cycles.push_back(CycleJson(shard, r));
    }
    return runtime::HandlerResult::Success(nlohmann::json{{"cycles", cycles}}.dump());
  };

  auto handler = [&](const std::string& event, const runtime::Context& ctx) -> runtime::HandlerResult {
    auto json = lambdas::ParseEvent(event);
    if (!json.ok()) return lambdas::Fail(json.status());
    const nlohmann::json& e = *json;
    if (!e.is_object()) return lambdas::Fail(InvalidArgument("event: expected a JSON object"));
    if (auto recs = e.find("Records"); recs != e.end()) {
      auto batch = pipeline::ParseSqsRecords(*recs);
      if (!batch.ok()) return lambdas::Fail(batch.status());
      std::vector<pipeline::MessageFailure> bad;
      std::set<std::string> failed;
      // The margin a cycle keeps for persist + upload + commit, as ApplyDeadline computes it.
      const int64_t margin_ms = std::min(config->commit_margin_ms, ctx.RemainingTimeMs() / 2);
      for (const pipeline::ShardBatch& sb : pipeline::GroupByShard(*batch, &bad)) {
        if (ctx.RemainingTimeMs() < margin_ms) {
          // Too little time left to apply and commit (earlier shards of the batch used it): hand
          // this shard's triggers on rather than overrun the invocation.
          for (auto& f : compactor.HandOff(sb.shard, sb.messages, Aborted("compactor: invocation time spent"))) {
            failed.insert(std::move(f.message_id));
          }
          runtime::LogInfo("no time left; triggers handed off", {{"shard", sb.shard.ToString()}});
          continue;
        }
        pipeline::CycleResult r = pipeline::RunCycleWaitingForLease(
            &compactor, sb.shard, sb.messages, ApplyDeadline(ctx, config->commit_margin_ms), config->lease_wait,
            on_wait(sb.shard));
        const bool handed_off = r.status.code() == StatusCode::kPreconditionFailed && r.fence == 0;
        if (handed_off) {
          runtime::LogInfo("lease held; triggers handed off", {{"shard", sb.shard.ToString()},
                                                                {"not_handed_off", r.failures.size()}});
        } else if (!r.status.ok()) {
          runtime::LogWarn("cycle failed", {{"shard", sb.shard.ToString()}, {"status", r.status.ToString()}});
        }
        EmitMetrics(sb.shard, r);
        for (std::string& id : r.BatchItemFailures()) failed.insert(std::move(id));
      }
      for (const auto& f : bad) {
        runtime::LogWarn("not a trigger message", {{"messageId", f.message_id}, {"status", f.status.ToString()}});
        failed.insert(f.message_id);
      }
      nlohmann::json items = nlohmann::json::array();
      for (const std::string& id : pipeline::FifoBatchItemFailures(*batch, failed)) {
        items.push_back({{"itemIdentifier", id}});
      }
      return runtime::HandlerResult::Success(nlohmann::json{{"batchItemFailures", items}}.dump());
    }
    if (Str(e, "source") == "aws.events" || Str(e, "detail-type") == "Scheduled Event") {
      return compact_all(config->default_collection, ctx, pipeline::LeaseWait{0, 1, 1});
    }
    if (auto a = e.find("action"); a != e.end()) {
      if (!a->is_string() || a->get<std::string>() != "compact") {
        return lambdas::Fail(InvalidArgument("action: expected \"compact\", got " + a->dump()));
      }
      std::string coll = config->default_collection;
      if (auto c = e.find("collection"); c != e.end() && !c->is_null()) {
        if (!c->is_string()) return lambdas::Fail(InvalidArgument("collection: expected a string"));
        coll = c->get<std::string>();
      }
      return compact_all(coll, ctx, config->lease_wait);
    }
    return lambdas::Fail(InvalidArgument(
        "event: expected an SQS event (Records), an EventBridge scheduled event or {\"action\": \"compact\"}"));
  };
  Status st = runtime::RunHandler(handler);
  if (!st.ok()) {
    runtime::LogError("runtime loop ended", {{"status", st.ToString()}});
    return 1;
  }
  return 0;
}
