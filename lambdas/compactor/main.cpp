// The compactor bootstrap (DESIGN.md §1, §4): runs pipeline::Compactor cycles.
// Events:
//   SQS event {"Records": [{"messageId", "receiptHandle", "body", "attributes": {...}}, ...]}: the
//     records are grouped by shard (their delta_message.h body) and one cycle runs per shard, in
//     order of first appearance; answers {"batchItemFailures": [{"itemIdentifier": messageId}]}
//     (records whose body is not a delta message fail there; the rest still commit);
//   EventBridge scheduled event {"source": "aws.events", "detail-type": "Scheduled Event", ...}:
//     a drain-only cycle for every shard of $CHROMAPACT_COLLECTION;
//   {"action": "compact", "collection"?: name}: the same for that collection (default
//     $CHROMAPACT_COLLECTION). Both answer {"cycles": [{"shard", "status", "version", "applied",
//     "failed"}]}.
// A cycle that finds the shard's lease held by another compactor waits it out (RunCycleWaitingForLease,
// $CHROMAPACT_LEASE_WAIT_MS) rather than fail its messages at once.
// Bad events get a typed error result, never a crash.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <random>
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
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/runtime/logging.h"
#include "chromapact/runtime/metrics.h"
#include "chromapact/runtime/run_handler.h"

namespace {

using namespace chromapact;  // NOLINT (main file)

struct Config {
  std::string bucket, queue_url, table, default_collection;
  int shards = 1;
  int64_t lease_wait_ms = 30000;  // CHROMAPACT_LEASE_WAIT_MS
  pipeline::CompactorOptions compactor;
};

Result<Config> LoadConfig() {
  Config c;
  CP_ASSIGN_OR_RETURN(c.bucket, lambdas::EnvRequired("CHROMAPACT_BUCKET"));
  CP_ASSIGN_OR_RETURN(c.queue_url, lambdas::EnvRequired("CHROMAPACT_QUEUE_URL"));
  CP_ASSIGN_OR_RETURN(c.table, lambdas::EnvRequired("CHROMAPACT_TABLE"));
  c.default_collection = lambdas::EnvOr("CHROMAPACT_COLLECTION", "");
  CP_ASSIGN_OR_RETURN(int64_t shards, lambdas::EnvInt("CHROMAPACT_SHARDS", 1, 1, 1024));
  c.shards = static_cast<int>(shards);
  CP_ASSIGN_OR_RETURN(c.compactor.lease.ttl_ms, lambdas::EnvInt("CHROMAPACT_LEASE_TTL_MS", 60000, 1000, 3600000));
  CP_ASSIGN_OR_RETURN(c.lease_wait_ms, lambdas::EnvInt("CHROMAPACT_LEASE_WAIT_MS", 30000, 0, 900000));
  CP_ASSIGN_OR_RETURN(c.compactor.drain_budget_ms, lambdas::EnvInt("CHROMAPACT_DRAIN_BUDGET_MS", 2000, 0, 900000));
  CP_ASSIGN_OR_RETURN(int64_t drain_visibility, lambdas::EnvInt("CHROMAPACT_DRAIN_VISIBILITY_S", 300, 1, 43200));
  c.compactor.visibility_seconds = static_cast<int>(drain_visibility);
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

// An SQS event record as the Queue seam's message. Errors: kInvalidArgument naming the key.
Result<pipeline::QueueMessage> ToQueueMessage(const nlohmann::json& r, size_t i) {
  const std::string where = "Records[" + std::to_string(i) + "]";
  if (!r.is_object()) return InvalidArgument(where + ": expected an object");
  pipeline::QueueMessage m;
  m.message_id = Str(r, "messageId");
  m.receipt_handle = Str(r, "receiptHandle");
  m.body = Str(r, "body");
  if (m.message_id.empty()) return InvalidArgument(where + ".messageId: missing or not a string");
  if (m.receipt_handle.empty()) return InvalidArgument(where + ".receiptHandle: missing or not a string");
  if (auto a = r.find("attributes"); a != r.end() && a->is_object()) {
    m.group_id = Str(*a, "MessageGroupId");
    const std::string rc = Str(*a, "ApproximateReceiveCount");
    const std::string ts = Str(*a, "SentTimestamp");
    m.receive_count = rc.empty() ? 1 : std::atoi(rc.c_str());
    m.sent_at_ms = ts.empty() ? 0 : std::atoll(ts.c_str());
  }
  return m;
}

nlohmann::json CycleJson(const pipeline::ShardId& shard, const pipeline::CycleResult& r) {
  return {{"shard", shard.ToString()},
          {"status", r.status.ok() ? std::string("OK") : r.status.ToString()},
          {"version", r.new_version},
          {"applied", r.applied_message_ids.size()},
          {"failed", r.failures.size()}};
}

// One cycle for `shard`. While another compactor holds the shard's lease (kPreconditionFailed from
// the lease step: nothing was done, fence 0), waits and tries again — 100 ms doubling to 1 s — for
// at most `wait_ms` and at most half of the invocation's remaining time. Failing at once instead
// would hand the messages back to SQS, and every such receive counts towards the DLQ's
// maxReceiveCount although nothing is wrong with them (SQS ESM runs concurrent invocations, one per
// message group, so contention is normal). A waiting cycle logs each attempt it lost.
pipeline::CycleResult RunCycleWaitingForLease(pipeline::Compactor& compactor, const pipeline::ShardId& shard,
                                              const std::vector<pipeline::QueueMessage>& messages,
                                              const runtime::Context& ctx, int64_t wait_ms) {
  using Steady = std::chrono::steady_clock;
  const int64_t budget_ms = std::min(wait_ms, ctx.RemainingTimeMs() / 2);
  const Steady::time_point until = Steady::now() + std::chrono::milliseconds(std::max<int64_t>(budget_ms, 0));
  std::chrono::milliseconds pause(100);
  for (int attempt = 1;; ++attempt) {
    pipeline::CycleResult r = compactor.RunCycle(shard, messages);
    const bool lease_held = r.status.code() == StatusCode::kPreconditionFailed && r.fence == 0;
    if (!lease_held || Steady::now() + pause > until) return r;
    runtime::LogInfo("lease held; waiting", {{"shard", shard.ToString()},
                                             {"attempt", attempt},
                                             {"status", r.status.ToString()}});
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

void EmitMetrics(const pipeline::ShardId& shard, const pipeline::CycleResult& r) {
  runtime::MetricsLogger metrics;
  (void)metrics.SetDimension("Function", "compactor");
  (void)metrics.SetDimension("Collection", shard.collection);
  (void)metrics.Put(runtime::kCompactionDuration, static_cast<double>(r.phases.total_ms));
  (void)metrics.Put(runtime::kDeltasProcessed, static_cast<double>(r.applied_delta_ids.size()));
  (void)metrics.Put(runtime::kBytesUploaded, static_cast<double>(r.bytes_uploaded));
  (void)metrics.Put(runtime::kLockAcquisitionFailed,
                    r.status.code() == StatusCode::kPreconditionFailed && r.fence == 0 ? 1.0 : 0.0);
  (void)metrics.SetProperty("shard", shard.shard);
  (void)metrics.SetProperty("version", r.new_version);
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
  auto queue = pipeline::NewSqsQueue(std::move(sqs).value(), config->queue_url);
  auto kv = pipeline::NewDynamoKvStore(std::move(ddb).value(), config->table);
  pipeline::SystemClock clock;
  pipeline::Compactor compactor(kv.get(), objects.get(), queue.get(), &clock, config->compactor);

  auto compact_all = [&](const std::string& collection, const runtime::Context& ctx) -> runtime::HandlerResult {
    if (collection.empty()) {
      return lambdas::Fail(InvalidArgument("collection: missing (and CHROMAPACT_COLLECTION is not set)"));
    }
    Status valid = pipeline::ValidateShardId({collection, 0});
    if (!valid.ok()) return lambdas::Fail(valid);
    nlohmann::json cycles = nlohmann::json::array();
    for (int s = 0; s < config->shards; ++s) {
      const pipeline::ShardId shard{collection, s};
      pipeline::CycleResult r = RunCycleWaitingForLease(compactor, shard, {}, ctx, config->lease_wait_ms);
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
      if (!recs->is_array()) return lambdas::Fail(InvalidArgument("Records: expected a list"));
      std::vector<std::string> failures;
      std::vector<pipeline::ShardId> order;
      std::map<std::string, std::vector<pipeline::QueueMessage>> by_shard;
      for (size_t i = 0; i < recs->size(); ++i) {
        auto m = ToQueueMessage((*recs)[i], i);
        if (!m.ok()) return lambdas::Fail(m.status());
        auto dm = pipeline::ParseDeltaMessage(m->body);
        if (!dm.ok()) {
          runtime::LogWarn("not a delta message", {{"messageId", m->message_id}, {"status", dm.status().ToString()}});
          failures.push_back(m->message_id);
          continue;
        }
        const std::string key = dm->shard.ToString();
        if (by_shard.count(key) == 0) order.push_back(dm->shard);
        by_shard[key].push_back(std::move(m).value());
      }
      for (const pipeline::ShardId& shard : order) {
        pipeline::CycleResult r =
            RunCycleWaitingForLease(compactor, shard, by_shard[shard.ToString()], ctx, config->lease_wait_ms);
        if (!r.status.ok()) runtime::LogWarn("cycle failed", {{"shard", shard.ToString()}, {"status", r.status.ToString()}});
        EmitMetrics(shard, r);
        for (std::string& id : r.BatchItemFailures()) failures.push_back(std::move(id));
      }
      nlohmann::json items = nlohmann::json::array();
      for (const std::string& id : failures) items.push_back({{"itemIdentifier", id}});
      return runtime::HandlerResult::Success(nlohmann::json{{"batchItemFailures", items}}.dump());
    }
    if (Str(e, "source") == "aws.events" || Str(e, "detail-type") == "Scheduled Event") {
      return compact_all(config->default_collection, ctx);
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
      return compact_all(coll, ctx);
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
