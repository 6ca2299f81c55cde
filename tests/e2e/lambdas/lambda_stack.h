// The whole local stack for end-to-end tests of the three real bootstraps (issue 5 item 5): one
// moto_server with signature checking on (an IAM admin's keys), a bucket, a FIFO delta queue with a
// FIFO DLQ (RedrivePolicy maxReceiveCount 2, short visibility timeout), a DynamoDB lease/pointer
// table, and three `chromapact-emulator` processes on 127.0.0.1 running build/lambdas/{producer,
// compactor,query}/bootstrap; the compactor's emulator is its SQS event source (--sqs-queue-url).
// Helpers invoke a function over HTTP (Lambda's Invoke path) and poll with deadlines.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../runtime/emulator_process.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/pipeline/shard_id.h"
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::testing {

inline constexpr const char* kStackBucket = "cp-e2e-lambdas";
inline constexpr const char* kStackTable = "cp-e2e-lambdas-leases";
inline constexpr int kStackShards = 2;
// Visibility timeout of the delta queue (s): how soon a failed or crashed batch is delivered again.
// It must exceed the lease TTL below with margin, or a redelivery after a crash finds the dead
// compactor's lease still held, fails, and spends its last receive before the DLQ.
inline constexpr int kStackVisibilityS = 6;
inline constexpr int kStackLeaseTtlMs = 3000;
inline constexpr int kStackMaxReceiveCount = 2;
inline constexpr const char* kCrashStep = "compactor.uploaded";  // pipeline::kCompactStepUploaded

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
    // Drain off (CHROMAPACT_DRAIN_BUDGET_MS=0): each cycle applies exactly its SQS event's records, so
    // the receive counts the redrive policy sees are the poller's alone.
    compactor_ = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath("compactor"), "--timeout", "30",
                                 "--sqs-queue-url", queue_url_, "--sqs-wait-seconds", "1"},
        with({{"CHROMAPACT_CACHE_DIR", dir_ + "/compactor"},
              {"CHROMAPACT_LEASE_TTL_MS", std::to_string(kStackLeaseTtlMs)},
              {"CHROMAPACT_DRAIN_BUDGET_MS", "0"},
              {"CHROMAPACT_CRASH_AT", kCrashStep},
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

  // The query function's count of `collection`; nullopt while it has no snapshot (or on any error).
  static std::optional<int64_t> Count(const std::string& collection) {
    const InvokeReply r = Query({{"collection", collection}, {"action", "count"}});
    if (!r.ok() || !r.json.is_object() || !r.json.contains("count")) return std::nullopt;
    return r.json["count"].get<int64_t>();
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

  static std::unique_ptr<MotoServer> moto_;
  static std::optional<aws::Credentials> admin_;
  static std::string queue_url_, dlq_url_, dir_, crash_file_;
  static std::unique_ptr<EmulatorProcess> producer_, compactor_, query_;
  std::unique_ptr<aws::SqsClient> sqs_;
  std::unique_ptr<aws::S3Client> s3_;
};

inline std::unique_ptr<MotoServer> LambdaStackTest::moto_;
inline std::optional<aws::Credentials> LambdaStackTest::admin_;
inline std::string LambdaStackTest::queue_url_, LambdaStackTest::dlq_url_, LambdaStackTest::dir_,
    LambdaStackTest::crash_file_;
inline std::unique_ptr<EmulatorProcess> LambdaStackTest::producer_, LambdaStackTest::compactor_,
    LambdaStackTest::query_;

}  // namespace chromapact::testing
