// Texts through the real bootstraps (lambdas/{producer,compactor,query}/bootstrap under
// chromapact-emulator, moto_server with signature checking on, scripts/lib/embeddings_server.py with
// --api-key): the producer and query functions configured by CHROMAPACT_EMBEDDING_URL / _MODEL /
// _DIMENSION and the key read at init from Secrets Manager (CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN).
// A documents-only add is embedded by the producer, compacted from the queue, and a query by text
// finds each document as its own top hit. A query function without the variables answers
// query_texts with a typed PreconditionFailed naming what to set; one whose secret does not exist
// fails its init.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chromapact/aws/secrets_manager.h"
#include "lambda_stack.h"
#include "support/embeddings_server.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;

constexpr const char* kBucket = "cp-e2e-embed";
constexpr const char* kTable = "cp-e2e-embed-state";
constexpr const char* kKey = "sk-e2e-embeddings";
constexpr int kDim = 48;

const std::vector<std::string> kDocs = {
    "lambda functions scale to zero when idle",
    "a snapshot is published by moving the pointer",
    "sourdough bread needs a long cold proof",
    "the compactor applies the log in sequence order",
};

class EmbeddingsFlowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    const aws::Credentials creds = *admin;
    ASSERT_TRUE(moto_->EnableAuth().ok());
    ASSERT_TRUE(aws::S3Client(moto_->Config(creds)).CreateBucket(kBucket).ok());
    aws::CreateTableRequest table;
    table.table = kTable;
    table.partition_key = pipeline::kPartitionKey;
    ASSERT_TRUE(aws::DynamoDbClient(moto_->Config(creds)).CreateTable(table).ok());
    auto q = aws::SqsClient(moto_->Config(creds)).CreateQueue("cp-e2e-embed.fifo", {{"FifoQueue", "true"}});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    auto secret = aws::SecretsManagerClient(moto_->Config(creds)).CreateSecret(
        "cp-e2e-embedding-key", json({{"api_key", kKey}}).dump());
    ASSERT_TRUE(secret.ok()) << secret.status().ToString();
    auto s = EmbeddingsServer::Start({"--dimension", std::to_string(kDim), "--api-key", kKey});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();

    dir_ = MakeTempDir("e2e-embed");
    common_ = {
        {"AWS_ACCESS_KEY_ID", creds.access_key_id},
        {"AWS_SECRET_ACCESS_KEY", creds.secret_access_key},
        {"AWS_SESSION_TOKEN", ""},
        {"AWS_REGION", "us-east-1"},
        {"AWS_ENDPOINT_URL", moto_->endpoint()},  // S3, SQS, DynamoDB and Secrets Manager
        {"CHROMAPACT_BUCKET", kBucket},
        {"CHROMAPACT_TABLE", kTable},
        {"CHROMAPACT_QUEUE_URL", *q},
        {"CHROMAPACT_SHARDS", "2"},
        {"CHROMAPACT_COLLECTION", ""},
        {"CHROMAPACT_LOG_LEVEL", "warn"},
    };
    const std::vector<std::pair<std::string, std::string>> embedding = {
        {"CHROMAPACT_EMBEDDING_URL", server_->base_url()},
        {"CHROMAPACT_EMBEDDING_MODEL", "local-hash"},
        {"CHROMAPACT_EMBEDDING_DIMENSION", std::to_string(kDim)},
        {"CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN", *secret},
        {"CHROMAPACT_EMBEDDING_MAX_BATCH", "3"},
    };
    producer_ = Start("producer", {{"CHROMAPACT_CACHE_DIR", dir_ + "/producer"}}, embedding);
    compactor_ = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath("compactor"), "--timeout", "30", "--sqs-queue-url", *q,
                                 "--sqs-wait-seconds", "1"},
        With({{"CHROMAPACT_CACHE_DIR", dir_ + "/compactor"}}));
    ASSERT_TRUE(compactor_->ok()) << compactor_->error();
    query_ = Start("query", {{"CHROMAPACT_CACHE_DIR", dir_ + "/query"}, {"CHROMAPACT_POINTER_TTL_MS", "0"}},
                   embedding);
    plain_query_ = Start("query", {{"CHROMAPACT_CACHE_DIR", dir_ + "/plain"}, {"CHROMAPACT_POINTER_TTL_MS", "0"}}, {});
  }
  static void TearDownTestSuite() {
    plain_query_.reset();
    query_.reset();
    compactor_.reset();
    producer_.reset();
    server_.reset();
    moto_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(producer_ && producer_->ok() && compactor_ && compactor_->ok() && query_ && query_->ok() &&
                plain_query_ && plain_query_->ok());
  }

  using Env = std::vector<std::pair<std::string, std::string>>;
  static Env With(const Env& extra) {
    Env env = common_;
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }
  static std::unique_ptr<EmulatorProcess> Start(const std::string& function, Env extra, const Env& embedding) {
    extra.insert(extra.end(), embedding.begin(), embedding.end());
    auto p = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath(function), "--timeout", "30"}, With(extra));
    EXPECT_TRUE(p->ok()) << p->error();
    return p;
  }

  static inline std::unique_ptr<MotoServer> moto_;
  static inline std::unique_ptr<EmbeddingsServer> server_;
  static inline std::string dir_;
  static inline Env common_;
  static inline std::unique_ptr<EmulatorProcess> producer_, compactor_, query_, plain_query_;
};

TEST_F(EmbeddingsFlowTest, DocumentsOnlyWriteIsEmbeddedAndFoundByText) {
  const std::string coll = "e2e-texts";
  json ids = json::array();
  for (size_t i = 0; i < kDocs.size(); ++i) ids.push_back("t" + std::to_string(i));
  const InvokeReply ack = Invoke(producer_->invoke_port(),
                                 {{"collection", coll}, {"operation", "add"}, {"ids", ids}, {"documents", kDocs}});
  ASSERT_TRUE(ack.ok()) << ack.Describe();
  EXPECT_EQ(ack.json.value("count", 0u), kDocs.size()) << ack.body;
  auto stats = server_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)["input_counts"], json::array({3, 1})) << "CHROMAPACT_EMBEDDING_MAX_BATCH=3: " << stats->dump();

  // The compactor runs from the queue: wait until every document is queryable by its own text.
  InvokeReply found;
  const bool done = WaitFor(
      [&] {
        found = Invoke(query_->invoke_port(), {{"collection", coll}, {"query_texts", kDocs}, {"n_results", 1}});
        if (!found.ok() || !found.json.contains("ids")) return false;
        for (size_t i = 0; i < kDocs.size(); ++i) {
          if (found.json["ids"][i] != json::array({"t" + std::to_string(i)})) return false;
        }
        return true;
      },
      std::chrono::seconds(40));
  ASSERT_TRUE(done) << found.Describe() << "\ncompactor log:\n" << compactor_->Log().substr(0, 4000);
  for (size_t i = 0; i < kDocs.size(); ++i) {
    EXPECT_NEAR(found.json["distances"][i][0].get<double>(), 0.0, 1e-5) << found.body;
    EXPECT_EQ(found.json["documents"][i][0], kDocs[i]);
  }
  const InvokeReply bread = Invoke(query_->invoke_port(), {{"collection", coll}, {"query_texts", "cold bread proof"},
                                                           {"n_results", 1}, {"include", {"documents"}}});
  ASSERT_TRUE(bread.ok()) << bread.Describe();
  EXPECT_EQ(bread.json["ids"], json::array({{"t2"}})) << bread.body;

  // Without the variables, query_texts is a typed error naming what to set; vectors still work.
  const InvokeReply plain = Invoke(plain_query_->invoke_port(), {{"collection", coll}, {"query_texts", {"bread"}}});
  EXPECT_EQ(plain.function_error, "Unhandled") << plain.Describe();
  EXPECT_EQ(plain.error_type(), "PreconditionFailed") << plain.Describe();
  EXPECT_NE(plain.error_message().find("CHROMAPACT_EMBEDDING_URL"), std::string::npos) << plain.Describe();
  const InvokeReply both =
      Invoke(query_->invoke_port(),
             {{"collection", coll}, {"query_texts", {"bread"}}, {"query_embeddings", {std::vector<float>(kDim, 0.1f)}}});
  EXPECT_EQ(both.error_type(), "InvalidArgument") << both.Describe();
}

TEST_F(EmbeddingsFlowTest, AMissingSecretFailsTheInitNamingTheVariable) {
  auto broken = Start("query", {{"CHROMAPACT_CACHE_DIR", dir_ + "/broken"}},
                      {{"CHROMAPACT_EMBEDDING_URL", server_->base_url()},
                       {"CHROMAPACT_EMBEDDING_MODEL", "local-hash"},
                       {"CHROMAPACT_EMBEDDING_DIMENSION", std::to_string(kDim)},
                       {"CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN", "no-such-secret"}});
  ASSERT_TRUE(broken->ok()) << broken->error();
  const InvokeReply r = Invoke(broken->invoke_port(), {{"collection", "e2e-texts"}, {"action", "count"}});
  EXPECT_FALSE(r.ok()) << r.Describe();
  EXPECT_EQ(r.error_type(), "InitError") << r.Describe();
  EXPECT_NE(r.body.find("CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN"), std::string::npos) << r.Describe();
}

}  // namespace
}  // namespace chromapact::testing
