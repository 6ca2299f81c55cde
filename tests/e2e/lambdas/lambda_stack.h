// The whole local stack for end-to-end tests of the three real bootstraps: one
// moto_server with signature checking on (an IAM admin's keys), a bucket, a FIFO trigger queue with a
// FIFO DLQ (RedrivePolicy maxReceiveCount 2, short visibility timeout; the compactor also reports
// skipped log entries there itself, CHROMAPACT_DLQ_URL, as deployed), a DynamoDB table (sequence
// numbers, collection dimensions, leases, pointers), and three `chromapact-emulator` processes on
// 127.0.0.1 running build/lambdas/{producer,compactor,query}/bootstrap; the compactor's emulator is
// its SQS event source (--sqs-queue-url). Helpers invoke a function over HTTP (Lambda's Invoke path),
// check the producer's acknowledgements (log positions increase per shard), read a shard's current
// manifest, and compare the query function's `get` with a model, polling with deadlines.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../runtime/emulator_process.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "support/moto.h"
#include "support/paths.h"
#include "support/pipeline_fixture.h"

namespace chromapact::testing {

inline constexpr const char* kStackBucket = "cp-e2e-lambdas";
inline constexpr const char* kStackTable = "cp-e2e-lambdas-state";
inline constexpr int kStackShards = 2;
// Visibility timeout of the trigger queue (s): how soon a failed batch, or one whose compactor
// process died, is delivered again. Short, so that crash and DLQ tests stay short; a redelivery that
// still finds a dead compactor's lease (TTL below) waits for it (CHROMAPACT_LEASE_WAIT_MS).
inline constexpr int kStackVisibilityS = 3;
inline constexpr int kStackLeaseTtlMs = 2000;
// Long enough to outlast kStackLeaseTtlMs (a crashed compactor's lease), short enough that a lease
// held on purpose makes the compactor hand its triggers off within one visibility timeout.
inline constexpr int kStackLeaseWaitMs = 2500;
inline constexpr int kStackHoleTimeoutMs = 2000;
// A small budget, so that a handful of log entries already makes a cycle stop and re-arm.
inline constexpr int kStackMaxDeltas = 3;
inline constexpr int kStackMaxReceiveCount = 2;

using Live = std::map<std::string, pipeline::fixture::ModelRecord>;

inline std::string BootstrapPath(const std::string& name) {
  return BuildDir() + "/lambdas/" + name + "/bootstrap";
}

// One invocation's answer as the caller of Lambda's Invoke API sees it.
struct InvokeReply {
  int status = 0;              // HTTP status (200 also for function errors, as Lambda)
  std::string function_error;  // X-Amz-Function-Error ("" = success)
  std::string body;
  nlohmann::json json;  // body parsed (discarded when it is not JSON)
  bool ok() const { return status == 200 && function_error.empty(); }
  std::string error_type() const { return json.is_object() ? json.value("errorType", "") : ""; }
  std::string error_message() const { return json.is_object() ? json.value("errorMessage", "") : ""; }
  std::string Describe() const {
    return "HTTP " + std::to_string(status) + " X-Amz-Function-Error=" + function_error +
           " body=" + body.substr(0, 600);
  }
};

// POSTs `body` to the emulator's invoke endpoint.
inline InvokeReply InvokeRaw(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  c.set_connection_timeout(5, 0);
  InvokeReply out;
  auto r = c.Post("/2015-03-31/functions/function/invocations", body, "application/json");
  if (!r) {
    out.body = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.function_error = r->get_header_value("X-Amz-Function-Error");
  out.body = r->body;
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  return out;
}
inline InvokeReply Invoke(int port, const nlohmann::json& event) {
  return InvokeRaw(port, event.dump());
}

class LambdaStackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = *admin;
    ASSERT_TRUE(moto_->EnableAuth().ok());

    aws::S3Client s3(moto_->Config(*admin_));
    ASSERT_TRUE(s3.CreateBucket(kStackBucket).ok());
    aws::DynamoDbClient ddb(moto_->Config(*admin_));
    aws::CreateTableRequest table;
    table.table = kStackTable;
    table.partition_key = pipeline::kPartitionKey;
    ASSERT_TRUE(ddb.CreateTable(table).ok());
    aws::SqsClient sqs(moto_->Config(*admin_));
    auto dlq = sqs.CreateQueue("cp-e2e-dlq.fifo", {{"FifoQueue", "true"}});
    ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
    dlq_url_ = *dlq;
    auto dlq_attrs = sqs.GetQueueAttributes(dlq_url_, {"QueueArn"});
    ASSERT_TRUE(dlq_attrs.ok()) << dlq_attrs.status().ToString();
    const nlohmann::json redrive = {{"deadLetterTargetArn", (*dlq_attrs)["QueueArn"]},
                                    {"maxReceiveCount", std::to_string(kStackMaxReceiveCount)}};
    auto q = sqs.CreateQueue("cp-e2e-deltas.fifo", {{"FifoQueue", "true"},
                                                    {"VisibilityTimeout", std::to_string(kStackVisibilityS)},
                                                    {"RedrivePolicy", redrive.dump()}});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_url_ = *q;

    dir_ = MakeTempDir("e2e-lambdas");
    crash_file_ = dir_ + "/crash.armed";
    const std::vector<std::pair<std::string, std::string>> common = {
        {"AWS_ACCESS_KEY_ID", admin_->access_key_id},
        {"AWS_SECRET_ACCESS_KEY", admin_->secret_access_key},
        {"AWS_SESSION_TOKEN", ""},
        {"AWS_REGION", "us-east-1"},
        {"AWS_ENDPOINT_URL", moto_->endpoint()},
        {"AWS_ENDPOINT_URL_S3", moto_->endpoint()},
        {"AWS_ENDPOINT_URL_SQS", moto_->endpoint()},
        {"AWS_ENDPOINT_URL_DYNAMODB", moto_->endpoint()},
        {"CHROMAPACT_BUCKET", kStackBucket},
        {"CHROMAPACT_TABLE", kStackTable},
        {"CHROMAPACT_QUEUE_URL", queue_url_},
        {"CHROMAPACT_SHARDS", std::to_string(kStackShards)},
        {"CHROMAPACT_COLLECTION", ""},
        {"CHROMAPACT_LOG_LEVEL", "warn"},
    };
    auto with = [&](std::vector<std::pair<std::string, std::string>> extra) {
      auto env = common;
      env.insert(env.end(), extra.begin(), extra.end());
      return env;
    };
    producer_ = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath("producer"), "--timeout", "30"},
        with({{"CHROMAPACT_CACHE_DIR", dir_ + "/producer"}}));
    ASSERT_TRUE(producer_->ok()) << producer_->error();
    // The crash hook exists only with CHROMAPACT_CRASH_AT set; the armed file's first line names the
    // step, so the placeholder below never fires by itself.
    compactor_ = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath("compactor"), "--timeout", "30",
                                 "--sqs-queue-url", queue_url_, "--sqs-wait-seconds", "1"},
        with({{"CHROMAPACT_CACHE_DIR", dir_ + "/compactor"},
              {"CHROMAPACT_LEASE_TTL_MS", std::to_string(kStackLeaseTtlMs)},
              {"CHROMAPACT_LEASE_WAIT_MS", std::to_string(kStackLeaseWaitMs)},
              {"CHROMAPACT_HOLE_TIMEOUT_MS", std::to_string(kStackHoleTimeoutMs)},
              {"CHROMAPACT_MAX_DELTAS", std::to_string(kStackMaxDeltas)},
              {"CHROMAPACT_COMMIT_MARGIN_MS", "5000"},
              {"CHROMAPACT_DLQ_URL", dlq_url_},  // as deployed (infra/template.yaml)
              {"CHROMAPACT_CRASH_AT", "armed-file-names-the-step"},
              {"CHROMAPACT_CRASH_FILE", crash_file_}}));
    ASSERT_TRUE(compactor_->ok()) << compactor_->error();
    query_ = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath("query"), "--timeout", "30"},
        with({{"CHROMAPACT_CACHE_DIR", dir_ + "/query"}, {"CHROMAPACT_POINTER_TTL_MS", "0"}}));
    ASSERT_TRUE(query_->ok()) << query_->error();
  }

  static void TearDownTestSuite() {
    query_.reset();
    compactor_.reset();
    producer_.reset();
    admin_.reset();
    moto_.reset();
  }

  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    ASSERT_TRUE(producer_ && producer_->ok() && compactor_ && compactor_->ok() && query_ && query_->ok());
    sqs_ = std::make_unique<aws::SqsClient>(moto_->Config(*admin_));
    s3_ = std::make_unique<aws::S3Client>(moto_->Config(*admin_));
    objects_ =
        pipeline::NewS3ObjectStore(std::make_unique<aws::S3Client>(moto_->Config(*admin_)), kStackBucket);
    kv_ = pipeline::NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(moto_->Config(*admin_)),
                                     kStackTable);
    queue_ = pipeline::NewSqsQueue(sqs_.get(), queue_url_);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- compactor emulator log (tail) ---\n" << Tail(compactor_->Log(), 6000) << "\n";
    }
  }

  static std::string Tail(const std::string& s, size_t n) {
    return s.size() > n ? s.substr(s.size() - n) : s;
  }

  static InvokeReply Produce(const nlohmann::json& event) { return Invoke(producer_->invoke_port(), event); }
  static InvokeReply Query(const nlohmann::json& event) { return Invoke(query_->invoke_port(), event); }

  // Invokes the producer and checks its acknowledgement: `n` records, one delta key per shard
  // touched, each the log key of its log position, and every position above the last one this
  // process saw acknowledged for that shard (the log's order is the acknowledgement order). Returns
  // the acknowledgement (empty, with a test failure added, when it is not one).
  static pipeline::ProduceResult ProduceOk(const nlohmann::json& event, size_t n) {
    pipeline::ProduceResult ack;
    const InvokeReply r = Produce(event);
    EXPECT_TRUE(r.ok()) << r.Describe();
    if (!r.ok()) return ack;
    const std::string coll = event.at("collection").get<std::string>();
    EXPECT_EQ(r.json.value("count", 0u), n) << r.body;
    const nlohmann::json& keys = r.json["delta_keys"];
    const nlohmann::json& positions = r.json["log_positions"];
    EXPECT_TRUE(keys.is_array() && positions.is_array() && keys.size() == positions.size() && !keys.empty())
        << r.body;
    if (!keys.is_array() || !positions.is_array() || keys.size() != positions.size()) return ack;
    for (size_t i = 0; i < keys.size(); ++i) {
      const pipeline::ShardId shard{coll, positions[i].value("shard", -1)};
      const uint64_t pos = positions[i].value("log_position", uint64_t{0});
      EXPECT_TRUE(shard.shard >= 0 && shard.shard < kStackShards) << r.body;
      EXPECT_EQ(keys[i].get<std::string>(), pipeline::LogKey(shard, pos)) << r.body;
      uint64_t& last = last_position_[shard.ToString()];
      EXPECT_GT(pos, last) << "log positions of " << shard.ToString() << " must increase: " << r.body;
      last = std::max(last, pos);
      ack.delta_keys.push_back(keys[i].get<std::string>());
      ack.log_positions.push_back({shard.shard, pos});
    }
    ack.count = n;
    return ack;
  }
  // Records that the test itself appended `pos` to `shard`'s log (after the producer's positions).
  static void NotePosition(const pipeline::ShardId& shard, uint64_t pos) {
    uint64_t& last = last_position_[shard.ToString()];
    last = std::max(last, pos);
  }

  // The query function's count of `collection`; nullopt while it has no snapshot (or on any error).
  static std::optional<int64_t> Count(const std::string& collection) {
    const InvokeReply r = Query({{"collection", collection}, {"action", "count"}});
    if (!r.ok() || !r.json.is_object() || !r.json.contains("count")) return std::nullopt;
    return r.json["count"].get<int64_t>();
  }

  // What the query function's `get` returns for `collection` (all columns; only `ids` when given),
  // in answer order into `ids_out`; an error text when it answers none.
  static Result<Live> GetAll(const std::string& collection, std::vector<std::string>* ids_out = nullptr,
                             const std::optional<std::vector<std::string>>& ids = std::nullopt) {
    nlohmann::json e = {
        {"collection", collection}, {"action", "get"}, {"include", {"embeddings", "documents", "metadatas"}}};
    if (ids) e["ids"] = *ids;
    const InvokeReply r = Query(e);
    if (!r.ok()) return Unavailable(r.Describe());
    Live m;
    const nlohmann::json& j = r.json;
    for (size_t i = 0; i < j["ids"].size(); ++i) {
      pipeline::fixture::ModelRecord rec;
      for (const auto& x : j["embeddings"][i]) rec.embedding.push_back(x.get<float>());
      if (j["documents"][i].is_string()) rec.document = j["documents"][i].get<std::string>();
      rec.metadata = j["metadatas"][i];
      m[j["ids"][i].get<std::string>()] = rec;
      if (ids_out) ids_out->push_back(j["ids"][i].get<std::string>());
    }
    return m;
  }

  // True when every shard of `collection` has a version whose log_position covers the last
  // position noted for it (NotePosition): the compactor applied every acknowledged write.
  static bool Compacted(const std::string& collection) {
    auto kv = pipeline::NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(moto_->Config(*admin_)), kStackTable);
    aws::S3Client s3(moto_->Config(*admin_));
    pipeline::PointerTable pointers(kv.get(), pipeline::SystemClock::Default());
    for (int s = 0; s < kStackShards; ++s) {
      auto last = last_position_.find(collection + "#" + std::to_string(s));
      if (last == last_position_.end()) continue;
      auto ptr = pointers.Read({collection, s});
      if (!ptr.ok() || !ptr->has_value()) return false;
      auto text = s3.GetObject(kStackBucket, (*ptr)->manifest_key);
      if (!text.ok()) return false;
      auto m = codec::DecodeManifest(text->body);
      if (!m.ok() || m->log_position < last->second) return false;
    }
    return true;
  }

  // Polls the query function until `collection` holds exactly `live` (deadline `timeout`), then
  // until the compactor's versions cover every noted position (the query reads the log past the
  // versions, so it gets there first); then compares once more record by record with readable
  // failures, and checks count.
  static void ExpectEventually(const std::string& collection, const Live& live,
                               std::chrono::seconds timeout) {
    const bool done = WaitFor(
        [&] {
          auto got = GetAll(collection);
          return got.ok() && *got == live;
        },
        timeout);
    EXPECT_TRUE(WaitFor([&] { return Compacted(collection); }, timeout))
        << "collection " << collection << ": the versions do not cover the acknowledged log positions within "
        << timeout.count() << " s";
    std::vector<std::string> ids;
    auto got = GetAll(collection, &ids);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(done) << "collection " << collection << " did not reach the model within " << timeout.count()
                      << " s";
    EXPECT_EQ(ids.size(), live.size()) << "every record exactly once";
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicate ids";
    for (const auto& [id, rec] : live) {
      auto it = got->find(id);
      if (it == got->end()) {
        ADD_FAILURE() << "acknowledged record missing: " << id;
        continue;
      }
      EXPECT_EQ(it->second.embedding, rec.embedding) << id;
      EXPECT_EQ(it->second.document, rec.document) << id;
      EXPECT_EQ(it->second.metadata, rec.metadata) << id;
    }
    for (const auto& [id, rec] : *got) EXPECT_TRUE(live.count(id)) << "unexpected record " << id;
    EXPECT_EQ(Count(collection), static_cast<int64_t>(live.size()));
  }

  // The manifest of the version `shard`'s pointer names; nullopt (with a failure) when none.
  std::optional<codec::Manifest> CurrentManifest(const pipeline::ShardId& shard) {
    pipeline::PointerTable pointers(kv_.get(), pipeline::SystemClock::Default());
    auto ptr = pointers.Read(shard);
    EXPECT_TRUE(ptr.ok() && ptr->has_value()) << shard.ToString() << ": no pointer";
    if (!ptr.ok() || !ptr->has_value()) return std::nullopt;
    auto text = s3_->GetObject(kStackBucket, (*ptr)->manifest_key);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return std::nullopt;
    auto m = codec::DecodeManifest(text->body);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return std::nullopt;
    return *m;
  }

  // Every key under `prefix` in the bucket.
  std::vector<std::string> Keys(const std::string& prefix) {
    aws::S3ListRequest req;
    req.bucket = kStackBucket;
    req.prefix = prefix;
    auto page = s3_->ListAllObjects(req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> keys;
    if (page.ok()) {
      for (const auto& o : page->objects) keys.push_back(o.key);
    }
    return keys;
  }

  // A queue attribute as a number (-1 on error).
  int64_t QueueNumber(const std::string& url, const std::string& name) {
    auto a = sqs_->GetQueueAttributes(url, {name});
    if (!a.ok() || a->count(name) == 0) return -1;
    return std::stoll((*a)[name]);
  }
  // Messages in the queue, visible or in flight.
  int64_t InQueue(const std::string& url) {
    return QueueNumber(url, "ApproximateNumberOfMessages") +
           QueueNumber(url, "ApproximateNumberOfMessagesNotVisible");
  }

  static inline std::unique_ptr<MotoServer> moto_;
  static inline std::optional<aws::Credentials> admin_;
  static inline std::string queue_url_, dlq_url_, dir_, crash_file_;
  static inline std::unique_ptr<EmulatorProcess> producer_, compactor_, query_;
  static inline std::map<std::string, uint64_t> last_position_;  // by ShardId::ToString
  std::unique_ptr<aws::SqsClient> sqs_;
  std::unique_ptr<aws::S3Client> s3_;
  std::unique_ptr<pipeline::ObjectStore> objects_;  // the bucket, as the pipeline sees it
  std::unique_ptr<pipeline::KvStore> kv_;           // the table
  std::unique_ptr<pipeline::Queue> queue_;          // the trigger queue
};

}  // namespace chromapact::testing
