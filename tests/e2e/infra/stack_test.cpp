// infra/ against moto_server with signature checking on: infra/deploy creates the stack from
// infra/template.yaml (CREATE_COMPLETE) and prints its outputs; the bootstraps, each under
// chromapact-emulator with credentials of ITS OWN role from the stack (sts:AssumeRole), run the flow
// producer -> queue -> compactor (fed by the emulator's SQS poller) -> query on the stack's bucket,
// queue and table, read from the outputs, and the API function answers the Chroma REST API's
// Function URL events (create, add, count, query, list, modify, delete) while the compactor compacts
// what it wrote; and each role is refused what it must not do. The API's Function URL itself is not
// deployed: moto 5.2.1's CloudFormation does not implement AWS::Lambda::Url (infra/deploy passes
// ApiFunctionUrlEnabled=false), so the emulator's Invoke endpoint stands in for it.
//
// moto (tests/e2e/infra/moto_iam_launcher.py) is stock moto 5.2.1 plus the raw-URI signature fix,
// with DynamoDB authorized against the table ARN and the policies' conditions (dynamodb:LeadingKeys,
// s3:prefix, s3:if-none-match) evaluated by our model of IAM (moto ignores them); see the launcher's
// docstring and docs/deploy.md "What is verified".
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/http.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/shard_id.h"
#include "stack_fixture.h"
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;
using Env = std::vector<std::pair<std::string, std::string>>;

constexpr char kStack[] = "cpstack";
constexpr int kDim = 8;
// Variables of the test's own environment that must not reach the aws CLI or a bootstrap.
const std::vector<std::string> kAwsVars = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",  "AWS_ENDPOINT_URL_S3",   "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"};

class StackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!OnPath("aws")) {
      skip_ = "the aws CLI is not on PATH (infra/deploy needs it)";
      return;
    }
    setenv("CHROMAPACT_MOTO_LAUNCHER", (SourceDir() + "/tests/e2e/infra/moto_iam_launcher.py").c_str(), 1);
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    dir_ = new std::string(MakeTempDir("stack"));
    // Deploy while moto does not check yet (then the STS calls below need no trust evaluation,
    // which moto cannot do for a Service principal); the bootstraps' calls are all checked.
    deploy_ = new ProcessResult(
        RunProcess({"bash", SourceDir() + "/infra/deploy", "--stack-name", kStack, "--param", "Shards=2",
                    "--outputs-json", *dir_ + "/outputs.json", "--outputs-env", *dir_ + "/outputs.env"},
                   {{"AWS_ENDPOINT_URL", moto_->endpoint()},
                    {"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                    {"AWS_SECRET_ACCESS_KEY", "not-checked-before-auth"},
                    {"AWS_REGION", "us-east-1"},
                    {"AWS_DEFAULT_REGION", "us-east-1"}},
                   kAwsVars, *dir_ + "/deploy.log", std::chrono::seconds(180)));
    ASSERT_EQ(deploy_->exit_code, 0) << deploy_->output;
    outputs_ = new json(json::parse(ReadFile(*dir_ + "/outputs.json"), nullptr, false));
    ASSERT_TRUE(outputs_->is_object()) << ReadFile(*dir_ + "/outputs.json");
    // moto's Lambda API cannot be signature-checked with the aws CLI (its query string fails the
    // check), so the event source is listed before checking is on.
    esm_ = new ProcessResult(RunProcess({"aws", "lambda", "list-event-source-mappings", "--function-name",
                                         Out("CompactorFunctionName"), "--output", "json"},
                                        {{"AWS_ENDPOINT_URL", moto_->endpoint()},
                                         {"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                                         {"AWS_SECRET_ACCESS_KEY", "not-checked-before-auth"},
                                         {"AWS_DEFAULT_REGION", "us-east-1"}},
                                        kAwsVars, *dir_ + "/esm.json", std::chrono::seconds(60)));
    api_fn_ = new ProcessResult(RunProcess({"aws", "lambda", "get-function-configuration", "--function-name",
                                            Out("ApiFunctionName"), "--output", "json"},
                                           {{"AWS_ENDPOINT_URL", moto_->endpoint()},
                                            {"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                                            {"AWS_SECRET_ACCESS_KEY", "not-checked-before-auth"},
                                            {"AWS_DEFAULT_REGION", "us-east-1"}},
                                           kAwsVars, *dir_ + "/api-function.json", std::chrono::seconds(60)));
    const aws::Credentials setup{"AKIAIOSFODNN7EXAMPLE", "not-checked-before-auth", ""};
    roles_ = new std::map<std::string, aws::Credentials>();
    for (const std::string fn : {"Producer", "Compactor", "Query", "Api"}) {
      auto c = AssumeExistingRole(moto_->endpoint(), setup, Out(fn + "RoleArn"), fn + "-session");
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      (*roles_)[fn] = *c;
    }
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = new aws::Credentials(*admin);
    ASSERT_TRUE(moto_->EnableAuth().ok());
  }
  static void TearDownTestSuite() {
    moto_.reset();
    delete deploy_;
    delete esm_;
    delete api_fn_;
    delete outputs_;
    delete roles_;
    delete admin_;
    delete dir_;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(outputs_, nullptr) << "the stack was not deployed (see the suite set-up failure)";
    ASSERT_NE(esm_, nullptr);
    ASSERT_NE(api_fn_, nullptr);
    ASSERT_NE(admin_, nullptr);
  }

  static std::string Out(const std::string& key) {
    return outputs_ != nullptr && outputs_->contains(key) ? (*outputs_)[key].get<std::string>() : "";
  }
  static const aws::Credentials& Role(const std::string& fn) { return roles_->at(fn); }
  static aws::ClientConfig Config(const aws::Credentials& c) { return moto_->Config(c); }

  // A bootstrap under chromapact-emulator with `creds` and the stack's configuration (as the
  // template's Environment gives it on Lambda).
  std::unique_ptr<EmulatorProcess> StartFunction(const std::string& fn, const aws::Credentials& creds,
                                                 const Env& vars, std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--bootstrap",     BuildDir() + "/lambdas/" + fn + "/bootstrap",
                                     "--timeout",       "60",
                                     "--function-name", std::string(kStack) + "-" + fn};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    Env env = {{"AWS_ACCESS_KEY_ID", creds.access_key_id},
               {"AWS_SECRET_ACCESS_KEY", creds.secret_access_key},
               {"AWS_SESSION_TOKEN", creds.session_token},
               {"AWS_REGION", Out("Region")},
               {"AWS_ENDPOINT_URL", moto_->endpoint()},
               {"AWS_ENDPOINT_URL_S3", ""},
               {"AWS_ENDPOINT_URL_SQS", ""},
               {"AWS_ENDPOINT_URL_DYNAMODB", ""},
               {"CHROMAPACT_COLLECTION", Out("CollectionName")},
               {"CHROMAPACT_SHARDS", Out("Shards")},
               {"CHROMAPACT_CACHE_DIR", MakeTempDir("stack-" + fn)},
               {"CHROMAPACT_LOG_LEVEL", "warn"}};
    env.insert(env.end(), vars.begin(), vars.end());
    auto emu = std::make_unique<EmulatorProcess>(args, env);
    EXPECT_TRUE(emu->ok()) << fn << ": " << emu->error();
    return emu;
  }

  // POSTs `event` to the emulator's invoke endpoint; the answer's JSON (or a string naming the failure).
  static json Invoke(const EmulatorProcess& emu, const json& event, std::string* function_error = nullptr) {
    aws::HttpClient http;
    aws::HttpRequest req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(emu.invoke_port()) +
              "/2015-03-31/functions/function/invocations";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = event.dump();
    req.timeout_ms = 90000;
    auto resp = http.Send(req);
    if (!resp.ok()) return json("invoke failed: " + resp.status().ToString());
    if (function_error != nullptr) *function_error = resp->Header("x-amz-function-error");
    return json::parse(resp->body, nullptr, false);
  }

  static std::vector<float> Vec(int i) {
    std::vector<float> v(kDim, 0.0f);
    v[i % kDim] = 1.0f + static_cast<float>(i);
    v[(i * 3 + 1) % kDim] += 0.5f;
    return v;
  }

  static std::string skip_;
  static std::unique_ptr<MotoServer> moto_;
  static std::string* dir_;
  static ProcessResult* deploy_;
  static ProcessResult* esm_;
  static ProcessResult* api_fn_;
  static json* outputs_;
  static std::map<std::string, aws::Credentials>* roles_;
  static aws::Credentials* admin_;
};

std::string StackTest::skip_;
std::unique_ptr<MotoServer> StackTest::moto_;
std::string* StackTest::dir_ = nullptr;
ProcessResult* StackTest::deploy_ = nullptr;
ProcessResult* StackTest::esm_ = nullptr;
ProcessResult* StackTest::api_fn_ = nullptr;
json* StackTest::outputs_ = nullptr;
std::map<std::string, aws::Credentials>* StackTest::roles_ = nullptr;
aws::Credentials* StackTest::admin_ = nullptr;

TEST_F(StackTest, DeployCreatesTheStackAndPrintsItsOutputs) {
  EXPECT_NE(deploy_->output.find("stack cpstack is CREATE_COMPLETE"), std::string::npos) << deploy_->output;
  for (const char* key :
       {"BucketName", "QueueUrl", "QueueArn", "DeadLetterQueueUrl", "DeadLetterQueueArn", "TableName",
        "TableArn", "ProducerRoleArn", "CompactorRoleArn", "QueryRoleArn", "ApiRoleArn", "ProducerRepositoryUri",
        "CompactorRepositoryUri", "QueryRepositoryUri", "ApiRepositoryUri", "ProducerFunctionName",
        "CompactorFunctionName", "QueryFunctionName", "ApiFunctionName", "ApiFunctionArn", "DashboardName"}) {
    EXPECT_FALSE(Out(key).empty()) << key << " missing from " << outputs_->dump();
    // infra/deploy prints each output as KEY=VALUE on stdout too.
    EXPECT_NE(deploy_->output.find(std::string(key) + "=" + Out(key)), std::string::npos) << key;
  }
  EXPECT_EQ(Out("CollectionName"), "docs");
  EXPECT_EQ(Out("Shards"), "2");  // --param Shards=2 reached the stack
  const std::string env_file = ReadFile(*dir_ + "/outputs.env");
  EXPECT_NE(env_file.find("CHROMAPACT_BUCKET=" + Out("BucketName") + "\n"), std::string::npos) << env_file;
  EXPECT_NE(env_file.find("CHROMAPACT_QUEUE_URL=" + Out("QueueUrl") + "\n"), std::string::npos) << env_file;
  EXPECT_NE(env_file.find("CHROMAPACT_TABLE=" + Out("TableName") + "\n"), std::string::npos) << env_file;
  EXPECT_NE(env_file.find("CHROMAPACT_DLQ_URL=" + Out("DeadLetterQueueUrl") + "\n"), std::string::npos) << env_file;

  // The resources behind the outputs exist with the template's settings.
  aws::SqsClient sqs(Config(*admin_));
  auto q = sqs.GetQueueAttributes(Out("QueueUrl"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ((*q)["FifoQueue"], "true");
  EXPECT_EQ((*q)["VisibilityTimeout"], "900");  // = CompactorTimeoutSeconds
  EXPECT_EQ((*q)["MessageRetentionPeriod"], "345600");
  const json redrive = json::parse((*q)["RedrivePolicy"], nullptr, false);
  ASSERT_TRUE(redrive.is_object()) << (*q)["RedrivePolicy"];
  EXPECT_EQ(redrive.value("deadLetterTargetArn", ""), Out("DeadLetterQueueArn"));
  const json& receives = redrive["maxReceiveCount"];  // a number or a string, depending on who wrote it
  EXPECT_TRUE(receives == 3 || receives == "3") << redrive.dump();
  auto dlq = sqs.GetQueueAttributes(Out("DeadLetterQueueUrl"));
  ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
  EXPECT_EQ((*dlq)["MessageRetentionPeriod"], "1209600");

  aws::DynamoDbClient ddb(Config(*admin_));
  auto table = ddb.DescribeTable(Out("TableName"));
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->partition_key, "pk");
  EXPECT_TRUE(table->sort_key.empty());
  EXPECT_EQ(table->arn, Out("TableArn"));

  aws::S3Client s3(Config(*admin_));
  aws::S3ListRequest list;
  list.bucket = Out("BucketName");
  EXPECT_TRUE(s3.ListObjectsV2(list).ok());

  // The compactor's event source exists, disabled (infra/deploy's local parameters, docs/aws-notes.md §3).
  const ProcessResult& esm = *esm_;
  ASSERT_EQ(esm.exit_code, 0) << esm.output;
  const json mappings = json::parse(esm.output, nullptr, false);
  ASSERT_TRUE(mappings.is_object()) << esm.output;
  ASSERT_EQ(mappings["EventSourceMappings"].size(), 1u) << esm.output;
  const json& m = mappings["EventSourceMappings"][0];
  EXPECT_EQ(m.value("EventSourceArn", ""), Out("QueueArn"));
  EXPECT_EQ(m.value("State", ""), "Disabled");
  EXPECT_EQ(m["FunctionResponseTypes"], json::array({"ReportBatchItemFailures"}));

  // The API function exists with its own role and the stack's configuration. Its Function URL does
  // not: moto 5.2.1's CloudFormation has no AWS::Lambda::Url (it would skip the resource, and an
  // output reading its FunctionUrl fails the whole create), so infra/deploy turns it off against
  // moto and there is no ApiUrl output; the URL is checked as template text (template_test.cpp).
  ASSERT_EQ(api_fn_->exit_code, 0) << api_fn_->output;
  const json api_fn = json::parse(api_fn_->output, nullptr, false);
  ASSERT_TRUE(api_fn.is_object()) << api_fn_->output;
  EXPECT_EQ(api_fn.value("Role", ""), Out("ApiRoleArn"));
  // moto keeps a Number parameter's value as a JSON number (Lambda itself has only strings).
  auto var = [&](const std::string& name) {
    const json& v = api_fn["Environment"]["Variables"][name];
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  EXPECT_EQ(var("CHROMAPACT_BUCKET"), Out("BucketName"));
  EXPECT_EQ(var("CHROMAPACT_TABLE"), Out("TableName"));
  EXPECT_EQ(var("CHROMAPACT_QUEUE_URL"), Out("QueueUrl"));
  EXPECT_EQ(var("CHROMAPACT_SHARDS"), "2");
  EXPECT_EQ(var("CHROMAPACT_TAIL_TTL_MS"), "0");
  EXPECT_FALSE(outputs_->contains("ApiUrl")) << "moto created a Function URL after all: " << outputs_->dump();
}

TEST_F(StackTest, ProducerCompactorQueryRunOnTheStacksResourcesWithTheirOwnRoles) {
  const Env storage = {{"CHROMAPACT_BUCKET", Out("BucketName")}};
  auto producer = StartFunction("producer", Role("Producer"),
                                {storage[0],
                                 {"CHROMAPACT_QUEUE_URL", Out("QueueUrl")},
                                 {"CHROMAPACT_TABLE", Out("TableName")}});
  auto compactor = StartFunction("compactor", Role("Compactor"),
                                 {storage[0],
                                  {"CHROMAPACT_QUEUE_URL", Out("QueueUrl")},
                                  {"CHROMAPACT_TABLE", Out("TableName")},
                                  {"CHROMAPACT_DLQ_URL", Out("DeadLetterQueueUrl")}},
                                 {"--sqs-queue-url", Out("QueueUrl"), "--sqs-wait-seconds", "1", "--sqs-batch-size", "10"});
  auto query =
      StartFunction("query", Role("Query"),
                    {storage[0], {"CHROMAPACT_TABLE", Out("TableName")}, {"CHROMAPACT_POINTER_TTL_MS", "0"}});
  ASSERT_TRUE(producer->ok() && compactor->ok() && query->ok());

  constexpr int kN = 24;
  json add = {{"operation", "upsert"},
              {"ids", json::array()},
              {"embeddings", json::array()},
              {"documents", json::array()},
              {"metadatas", json::array()}};
  for (int i = 0; i < kN; ++i) {
    add["ids"].push_back("id-" + std::to_string(i));
    add["embeddings"].push_back(Vec(i));
    add["documents"].push_back("document " + std::to_string(i));
    add["metadatas"].push_back({{"i", i}, {"even", i % 2 == 0}});
  }
  std::string fn_error;
  json put = Invoke(*producer, add, &fn_error);
  ASSERT_TRUE(fn_error.empty()) << put.dump() << "\n" << producer->Log();
  ASSERT_TRUE(put.is_object() && put.contains("delta_keys")) << put.dump();
  EXPECT_EQ(put["delta_keys"].size(), 2u) << put.dump();  // 24 ids over 2 shards touch both
  EXPECT_EQ(put.value("count", 0), kN);

  auto count = [&] {
    json c = Invoke(*query, {{"action", "count"}});
    return c.is_object() ? c.value("count", -1) : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return count() == kN; }, std::chrono::seconds(45)))
      << "count " << count() << "\ncompactor log:\n"
      << compactor->Log() << "\nquery log:\n"
      << query->Log();

  for (int i : {0, 7, 13, 23}) {
    json r = Invoke(*query, {{"query_embeddings", json::array({Vec(i)})},
                             {"n_results", 1},
                             {"include", json::array({"documents", "distances", "metadatas"})}});
    ASSERT_TRUE(r.is_object() && r.contains("ids")) << r.dump();
    EXPECT_EQ(r["ids"][0][0], "id-" + std::to_string(i)) << r.dump();
    EXPECT_EQ(r["documents"][0][0], "document " + std::to_string(i));
    EXPECT_NEAR(r["distances"][0][0].get<double>(), 0.0, 1e-6);
  }

  // A later delete travels the same path; the queue ends up empty (every message applied).
  json del = {{"operation", "delete"}, {"ids", json::array({"id-0", "id-1", "id-2"})}};
  put = Invoke(*producer, del, &fn_error);
  ASSERT_TRUE(fn_error.empty()) << put.dump();
  ASSERT_TRUE(WaitFor([&] { return count() == kN - 3; }, std::chrono::seconds(45))) << "count " << count();
  json r = Invoke(*query, {{"query_embeddings", json::array({Vec(0)})}, {"n_results", kN}});
  ASSERT_TRUE(r.is_object() && r.contains("ids")) << r.dump();
  EXPECT_EQ(r["ids"][0].size(), static_cast<size_t>(kN - 3));
  for (const auto& id : r["ids"][0]) EXPECT_NE(id, "id-0");
  aws::SqsClient sqs(Config(*admin_));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto a = sqs.GetQueueAttributes(Out("QueueUrl"));
        return a.ok() && (*a)["ApproximateNumberOfMessages"] == "0" &&
               (*a)["ApproximateNumberOfMessagesNotVisible"] == "0";
      },
      std::chrono::seconds(20)));
  auto dlq = sqs.GetQueueAttributes(Out("DeadLetterQueueUrl"));  // nothing skipped, nothing failed
  ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
  EXPECT_EQ((*dlq)["ApproximateNumberOfMessages"], "0");
  // No call was refused on the way (the waits above would hide a refusal the retries got past).
  for (const auto* fn : {producer.get(), compactor.get(), query.get()}) {
    EXPECT_EQ(fn->Log().find("AccessDenied"), std::string::npos) << fn->Log();
  }
}

// A Function URL event (payload format 2.0) as Lambda builds it for `method` `path`, with a JSON body
// sent as text, or base64-encoded as Lambda does for some content types.
json UrlEvent(const std::string& method, const std::string& path, const json& body = nullptr,
              bool base64 = false) {
  json e = {{"version", "2.0"},
            {"routeKey", "$default"},
            {"rawPath", path},
            {"rawQueryString", ""},
            {"headers", {{"content-type", "application/json"}, {"host", "abcdefghij.lambda-url.us-east-1.on.aws"}}},
            {"requestContext",
             {{"accountId", "123456789012"},
              {"apiId", "abcdefghij"},
              {"domainName", "abcdefghij.lambda-url.us-east-1.on.aws"},
              {"http", {{"method", method}, {"path", path}, {"protocol", "HTTP/1.1"}, {"sourceIp", "127.0.0.1"}}},
              {"requestId", "r"},
              {"routeKey", "$default"},
              {"stage", "$default"}}},
            {"isBase64Encoded", base64}};
  if (!body.is_null()) e["body"] = base64 ? Base64Encode(body.dump()) : body.dump();
  return e;
}

TEST_F(StackTest, ApiServesChromaRestCallsWithItsOwnRoleAndTheCompactorCompactsThem) {
  auto api = StartFunction("api", Role("Api"),
                           {{"CHROMAPACT_BUCKET", Out("BucketName")},
                            {"CHROMAPACT_QUEUE_URL", Out("QueueUrl")},
                            {"CHROMAPACT_TABLE", Out("TableName")},
                            {"CHROMAPACT_POINTER_TTL_MS", "0"}});
  auto compactor = StartFunction("compactor", Role("Compactor"),
                                 {{"CHROMAPACT_BUCKET", Out("BucketName")},
                                  {"CHROMAPACT_QUEUE_URL", Out("QueueUrl")},
                                  {"CHROMAPACT_TABLE", Out("TableName")},
                                  {"CHROMAPACT_DLQ_URL", Out("DeadLetterQueueUrl")}},
                                 {"--sqs-queue-url", Out("QueueUrl"), "--sqs-wait-seconds", "1", "--sqs-batch-size", "10"});
  ASSERT_TRUE(api->ok() && compactor->ok());
  // One HTTP exchange through the function: {status, body as JSON}.
  auto call = [&](const json& event) -> std::pair<int, json> {
    std::string fn_error;
    json r = Invoke(*api, event, &fn_error);
    EXPECT_TRUE(fn_error.empty()) << "function error " << fn_error << ": " << r.dump() << "\n" << api->Log();
    if (!r.is_object() || !r.contains("statusCode") || !r["body"].is_string()) return {-1, r};
    EXPECT_EQ(r["headers"].value("content-type", ""), "application/json");
    EXPECT_EQ(r["isBase64Encoded"], false);
    return {r["statusCode"].get<int>(), json::parse(r["body"].get<std::string>(), nullptr, false)};
  };
  const std::string db = "/api/v2/tenants/default_tenant/databases/default_database";

  auto [hb_status, hb] = call(UrlEvent("GET", "/api/v2/heartbeat"));
  EXPECT_EQ(hb_status, 200) << hb.dump();
  auto [bad_status, bad] = call(json{{"rawPath", "/api/v2/heartbeat"}});  // no requestContext.http.method
  EXPECT_EQ(bad_status, 400) << bad.dump();
  EXPECT_NE(bad.value("message", "").find("requestContext"), std::string::npos) << bad.dump();

  auto [created_status, created] = call(UrlEvent(
      "POST", db + "/collections",
      {{"name", "api-docs"},
       {"metadata", {{"team", "search"}}},
       {"configuration", {{"hnsw", {{"space", "cosine"}}}}}}));
  ASSERT_EQ(created_status, 200) << created.dump() << "\n" << api->Log();
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty()) << created.dump();

  constexpr int kN = 16;
  json add = {{"ids", json::array()}, {"embeddings", json::array()}, {"documents", json::array()},
              {"metadatas", json::array()}};
  for (int i = 0; i < kN; ++i) {
    add["ids"].push_back("a-" + std::to_string(i));
    add["embeddings"].push_back(Vec(i));
    add["documents"].push_back("api document " + std::to_string(i));
    add["metadatas"].push_back({{"i", i}});
  }
  auto [add_status, added] = call(UrlEvent("POST", db + "/collections/" + id + "/add", add, /*base64=*/true));
  ASSERT_GE(add_status, 200) << added.dump() << "\n" << api->Log();
  ASSERT_LT(add_status, 300) << added.dump() << "\n" << api->Log();

  // Read after write, before any compaction: the log past the (absent) version.
  auto [count_status, count] = call(UrlEvent("GET", db + "/collections/" + id + "/count"));
  EXPECT_EQ(count_status, 200) << count.dump() << "\n" << api->Log();
  EXPECT_EQ(count, kN);

  // The compactor (its own role) compacts both shards of the API's collection, created with a
  // configuration it reads from COLL# (stored under the collection's UUID).
  aws::DynamoDbClient admin_ddb(Config(*admin_));
  auto has_pointer = [&](int shard) {
    aws::GetItemRequest g;
    g.table = Out("TableName");
    g.key = {{"pk", aws::AttributeValue::S(pipeline::PointerKey({id, shard}))}};
    auto item = admin_ddb.GetItem(g);
    return item.ok() && item->item.has_value();
  };
  EXPECT_TRUE(WaitFor([&] { return has_pointer(0) && has_pointer(1); }, std::chrono::seconds(45)))
      << "compactor log:\n" << compactor->Log();

  // Reads from the versions now (snapshots/ through the API's role).
  auto [q_status, q] = call(UrlEvent("POST", db + "/collections/" + id + "/query",
                                     {{"query_embeddings", json::array({Vec(5)})},
                                      {"n_results", 1},
                                      {"include", json::array({"documents", "distances"})}}));
  ASSERT_EQ(q_status, 200) << q.dump() << "\n" << api->Log();
  EXPECT_EQ(q["ids"][0][0], "a-5") << q.dump();
  EXPECT_EQ(q["documents"][0][0], "api document 5") << q.dump();
  auto [c2_status, c2] = call(UrlEvent("GET", db + "/collections/" + id + "/count"));
  EXPECT_EQ(c2, kN) << c2.dump();

  auto [list_status, list] = call(UrlEvent("GET", db + "/collections"));
  EXPECT_EQ(list_status, 200) << list.dump();
  bool listed = false;
  for (const auto& c : list) listed = listed || c.value("id", "") == id;
  EXPECT_TRUE(listed) << list.dump();
  auto [mod_status, modified] = call(UrlEvent("PUT", db + "/collections/" + id, {{"new_metadata", {{"team", "b"}}}}));
  EXPECT_EQ(mod_status, 200) << modified.dump() << "\n" << api->Log();
  auto [get_status, got] = call(UrlEvent("GET", db + "/collections/api-docs"));
  EXPECT_EQ(get_status, 200) << got.dump();
  EXPECT_EQ(got["metadata"], json({{"team", "b"}})) << got.dump();
  auto [del_status, deleted] = call(UrlEvent("DELETE", db + "/collections/api-docs"));
  EXPECT_EQ(del_status, 200) << deleted.dump() << "\n" << api->Log();
  auto [gone_status, gone] = call(UrlEvent("GET", db + "/collections/api-docs"));
  EXPECT_EQ(gone_status, 404) << gone.dump();
  EXPECT_EQ(gone.value("error", ""), "NotFoundError") << gone.dump();
  // No AccessDenied anywhere on the way (an IAM refusal would answer 403 AuthorizationError).
  EXPECT_EQ(api->Log().find("AccessDenied"), std::string::npos) << api->Log();
  EXPECT_EQ(compactor->Log().find("AccessDenied"), std::string::npos) << compactor->Log();
}

// Expects `st` to be IAM's refusal (moto answers AccessDenied; kPermissionDenied), naming `what`.
#define EXPECT_DENIED(st, what) \
  EXPECT_EQ((st).code(), StatusCode::kPermissionDenied) << (what) << ": " << (st).ToString()
#define EXPECT_ALLOWED(st, what) EXPECT_TRUE((st).ok()) << (what) << ": " << (st).ToString()

TEST_F(StackTest, EachRoleIsRefusedWhatItsFunctionMustNotDo) {
  const std::string bucket = Out("BucketName");
  const std::string table = Out("TableName");
  const pipeline::ShardId shard{"iam", 0};
  // Objects and items to aim at, written by the admin: log entry 1 of shard iam#0, a snapshot file,
  // a pointer, and a second table.
  aws::S3Client admin_s3(Config(*admin_));
  ASSERT_TRUE(admin_s3.PutObject(bucket, "snapshots/iam/0/1-w/manifest.json", "{}").ok());
  ASSERT_TRUE(admin_s3.PutObject(bucket, pipeline::LogKey(shard, 1), "x").ok());
  aws::DynamoDbClient admin_ddb(Config(*admin_));
  aws::PutItemRequest ptr;
  ptr.table = table;
  ptr.item = {{"pk", aws::AttributeValue::S("PTR#iam#0")}, {"version", aws::AttributeValue::N(int64_t{1})}};
  ASSERT_TRUE(admin_ddb.PutItem(ptr).ok());
  aws::CreateTableRequest other;
  other.table = "unrelated-table";
  other.partition_key = "pk";
  ASSERT_TRUE(admin_ddb.CreateTable(other).ok());

  auto get_item = [&](const aws::Credentials& c, const std::string& t, const std::string& pk) {
    aws::DynamoDbClient ddb(Config(c));
    aws::GetItemRequest g;
    g.table = t;
    g.key = {{"pk", aws::AttributeValue::S(pk)}};
    return ddb.GetItem(g).status();
  };
  auto put_item = [&](const aws::Credentials& c, const std::string& t, const std::string& pk) {
    aws::DynamoDbClient ddb(Config(c));
    aws::PutItemRequest p;
    p.table = t;
    p.item = {{"pk", aws::AttributeValue::S(pk)}, {"version", aws::AttributeValue::N(int64_t{99})}};
    return ddb.PutItem(p).status();
  };
  auto update_item = [&](const aws::Credentials& c, const std::string& t, const std::string& pk) {
    aws::DynamoDbClient ddb(Config(c));
    aws::UpdateItemRequest u;
    u.table = t;
    u.key = {{"pk", aws::AttributeValue::S(pk)}};
    u.update_expression = "SET #v = :v";
    u.expr.names = {{"#v", "version"}};
    u.expr.values = {{":v", aws::AttributeValue::N(int64_t{2})}};
    return ddb.UpdateItem(u).status();
  };
  auto delete_item = [&](const aws::Credentials& c, const std::string& pk) {
    aws::DynamoDbClient ddb(Config(c));
    aws::DeleteItemRequest d;
    d.table = table;
    d.key = {{"pk", aws::AttributeValue::S(pk)}};
    return ddb.DeleteItem(d).status();
  };
  // A plain PUT, or a create-only one (If-None-Match: *) as the log's writers send.
  auto put_object = [&](const aws::Credentials& c, const std::string& key, bool create_only = false) {
    aws::S3Client s3(Config(c));
    aws::S3PutOptions o;
    o.if_none_match_any = create_only;
    return s3.PutObject(bucket, key, "probe", o).status();
  };
  auto get_object = [&](const aws::Credentials& c, const std::string& key) {
    aws::S3Client s3(Config(c));
    return s3.GetObject(bucket, key).status();
  };
  auto head_object = [&](const aws::Credentials& c, const std::string& key) {
    aws::S3Client s3(Config(c));
    return s3.HeadObject(bucket, key).status();
  };
  // The keys one ListObjectsV2 page under `prefix` ("" = no prefix parameter) shows, or its error.
  auto list = [&](const aws::Credentials& c, const std::string& prefix, std::vector<std::string>* keys = nullptr) {
    aws::S3Client s3(Config(c));
    aws::S3ListRequest l;
    l.bucket = bucket;
    l.prefix = prefix;
    auto page = s3.ListObjectsV2(l);
    if (page.ok() && keys != nullptr) {
      for (const auto& o : page->objects) keys->push_back(o.key);
    }
    return page.status();
  };
  auto send = [&](const aws::Credentials& c, const std::string& queue_url) {
    aws::SqsClient sqs(Config(c));
    aws::SendMessageRequest m;
    m.queue_url = queue_url;
    m.body = "{}";
    m.message_group_id = "iam#0";
    m.message_deduplication_id = "iam-probe";
    return sqs.SendMessage(m).status();
  };
  auto receive = [&](const aws::Credentials& c) {
    aws::SqsClient sqs(Config(c));
    aws::ReceiveMessageRequest r;
    r.queue_url = Out("QueueUrl");
    return sqs.ReceiveMessage(r).status();
  };
  const std::string queue = Out("QueueUrl");
  const std::string dlq = Out("DeadLetterQueueUrl");
  const std::string seq_key = pipeline::SequenceKey(shard);
  const std::string coll_key = pipeline::CollectionKey(shard.collection);

  const aws::Credentials& producer = Role("Producer");
  // Appends: a sequence number, the collection's dimension, a create-only log entry, a trigger.
  EXPECT_ALLOWED(update_item(producer, table, seq_key), "producer UpdateItem SEQ#");
  EXPECT_ALLOWED(update_item(producer, table, coll_key), "producer UpdateItem COLL#");
  // Registers a collection on its first write (collection_resolver.h).
  EXPECT_ALLOWED(get_item(producer, table, "NAME#default_tenant/default_database/iam"), "producer GetItem NAME#");
  EXPECT_ALLOWED(put_item(producer, table, "NAME#default_tenant/default_database/iam-p"), "producer PutItem NAME#");
  EXPECT_ALLOWED(get_item(producer, table, coll_key), "producer GetItem COLL#");
  EXPECT_DENIED(put_item(producer, table, coll_key), "producer PutItem COLL#");
  EXPECT_ALLOWED(put_object(producer, pipeline::LogKey(shard, 2), true), "producer PutObject deltas/ create-only");
  EXPECT_ALLOWED(send(producer, queue), "producer SendMessage");
  EXPECT_EQ(put_object(producer, pipeline::LogKey(shard, 1), true).code(), StatusCode::kPreconditionFailed)
      << "producer replaced log entry 1";
  EXPECT_DENIED(put_object(producer, pipeline::LogKey(shard, 3)), "producer PutObject deltas/ without If-None-Match");
  EXPECT_DENIED(put_object(producer, "snapshots/iam/0/1-w/manifest.json", true), "producer PutObject snapshots/");
  EXPECT_DENIED(get_object(producer, "snapshots/iam/0/1-w/manifest.json"), "producer GetObject snapshots/");
  EXPECT_DENIED(get_object(producer, pipeline::LogKey(shard, 1)), "producer GetObject deltas/");
  EXPECT_DENIED(list(producer, pipeline::LogPrefix(shard)), "producer ListBucket deltas/");
  EXPECT_DENIED(update_item(producer, table, pipeline::LeaseKey(shard)), "producer UpdateItem lease");
  EXPECT_DENIED(update_item(producer, table, "PTR#iam#0"), "producer UpdateItem pointer");
  EXPECT_DENIED(update_item(producer, "unrelated-table", seq_key), "producer UpdateItem in another table");
  EXPECT_DENIED(put_item(producer, table, seq_key), "producer PutItem SEQ# (only UpdateItem)");
  EXPECT_DENIED(get_item(producer, table, seq_key), "producer GetItem SEQ#");
  EXPECT_DENIED(put_item(producer, table, "PTR#iam#0"), "producer PutItem pointer");
  EXPECT_DENIED(get_item(producer, table, "PTR#iam#0"), "producer GetItem pointer");
  EXPECT_DENIED(delete_item(producer, seq_key), "producer DeleteItem SEQ#");
  EXPECT_DENIED(receive(producer), "producer ReceiveMessage");
  EXPECT_DENIED(send(producer, dlq), "producer SendMessage to the DLQ");

  const aws::Credentials& query = Role("Query");
  std::vector<std::string> seen_by_query;
  EXPECT_ALLOWED(get_object(query, "snapshots/iam/0/1-w/manifest.json"), "query GetObject snapshots/");
  EXPECT_ALLOWED(get_object(query, pipeline::LogKey(shard, 1)), "query GetObject deltas/ (the log tail)");
  EXPECT_ALLOWED(list(query, pipeline::LogPrefix(shard), &seen_by_query), "query ListBucket deltas/");
  EXPECT_EQ(seen_by_query, (std::vector<std::string>{pipeline::LogKey(shard, 1), pipeline::LogKey(shard, 2)}));
  EXPECT_ALLOWED(get_item(query, table, "PTR#iam#0"), "query GetItem pointer");
  EXPECT_ALLOWED(get_item(query, table, coll_key), "query GetItem COLL# (the collection's configuration)");
  EXPECT_DENIED(update_item(query, table, coll_key), "query UpdateItem COLL#");
  EXPECT_ALLOWED(get_item(query, table, "NAME#default_tenant/default_database/iam"), "query GetItem NAME#");
  EXPECT_DENIED(put_item(query, table, "NAME#default_tenant/default_database/iam"), "query PutItem NAME#");
  EXPECT_DENIED(list(query, "snapshots/"), "query ListBucket snapshots/ (s3:prefix)");
  EXPECT_DENIED(list(query, ""), "query ListBucket without a prefix (s3:prefix)");
  EXPECT_DENIED(get_item(query, table, "LOCK#iam#0"), "query GetItem lease (LeadingKeys PTR#*)");
  EXPECT_DENIED(get_item(query, table, seq_key), "query GetItem SEQ# (LeadingKeys PTR#*)");
  EXPECT_DENIED(put_object(query, "snapshots/iam/0/2-w/manifest.json"), "query PutObject snapshots/");
  EXPECT_DENIED(put_object(query, pipeline::LogKey(shard, 5), true), "query PutObject deltas/ create-only");
  EXPECT_DENIED(put_object(query, pipeline::LogKey(shard, 5)), "query PutObject deltas/");
  EXPECT_DENIED(put_item(query, table, "PTR#iam#0"), "query PutItem pointer");
  EXPECT_DENIED(update_item(query, table, "PTR#iam#0"), "query UpdateItem pointer");
  EXPECT_DENIED(update_item(query, table, seq_key), "query UpdateItem SEQ#");
  EXPECT_DENIED(delete_item(query, "PTR#iam#0"), "query DeleteItem pointer");
  EXPECT_DENIED(send(query, queue), "query SendMessage");
  aws::S3Client query_s3(Config(query));
  auto deleted = query_s3.DeleteObjects(bucket, {"snapshots/iam/0/1-w/manifest.json", pipeline::LogKey(shard, 1)});
  if (deleted.ok()) {  // S3 refuses per key (Errors/AccessDenied); either way nothing may be gone
    EXPECT_TRUE(deleted->deleted.empty())
        << "query DeleteObjects deleted " << deleted->deleted.size() << " key(s)";
  } else {
    EXPECT_DENIED(deleted.status(), "query DeleteObjects");
  }
  EXPECT_TRUE(admin_s3.HeadObject(bucket, "snapshots/iam/0/1-w/manifest.json").ok())
      << "query deleted a snapshot";
  EXPECT_TRUE(admin_s3.HeadObject(bucket, pipeline::LogKey(shard, 1)).ok()) << "query deleted a log entry";

  const aws::Credentials& api = Role("Api");
  const pipeline::ShardId api_shard{"iam", 1};  // its own log, so the others' listings stay as they are
  // The producer's writes, the query's reads, the registry and the collection's configuration.
  EXPECT_ALLOWED(update_item(api, table, seq_key), "api UpdateItem SEQ#");
  EXPECT_ALLOWED(update_item(api, table, coll_key), "api UpdateItem COLL#");
  EXPECT_ALLOWED(get_item(api, table, coll_key), "api GetItem COLL#");
  EXPECT_ALLOWED(get_item(api, table, "PTR#iam#0"), "api GetItem pointer");
  for (const std::string key : {"NAME#default_tenant/default_database/iam", "ID#00000000-0000-4000-8000-00000000000a",
                                "DB#default_tenant/default_database-iam"}) {
    EXPECT_ALLOWED(put_item(api, table, key), "api PutItem " + key);
    EXPECT_ALLOWED(get_item(api, table, key), "api GetItem " + key);
    EXPECT_ALLOWED(update_item(api, table, key), "api UpdateItem " + key);
    EXPECT_ALLOWED(delete_item(api, key), "api DeleteItem " + key);
  }
  EXPECT_ALLOWED(put_object(api, pipeline::LogKey(api_shard, 1), true), "api PutObject deltas/ create-only");
  EXPECT_ALLOWED(send(api, queue), "api SendMessage");
  EXPECT_ALLOWED(get_object(api, "snapshots/iam/0/1-w/manifest.json"), "api GetObject snapshots/");
  EXPECT_ALLOWED(get_object(api, pipeline::LogKey(shard, 1)), "api GetObject deltas/");
  EXPECT_ALLOWED(list(api, pipeline::LogPrefix(api_shard)), "api ListBucket deltas/");
  EXPECT_EQ(put_object(api, pipeline::LogKey(api_shard, 1), true).code(), StatusCode::kPreconditionFailed)
      << "api replaced log entry 1";
  EXPECT_DENIED(put_object(api, pipeline::LogKey(api_shard, 2)), "api PutObject deltas/ without If-None-Match");
  EXPECT_DENIED(put_object(api, "snapshots/iam/0/3-w/manifest.json"), "api PutObject snapshots/");
  EXPECT_DENIED(list(api, "snapshots/"), "api ListBucket snapshots/ (s3:prefix)");
  EXPECT_DENIED(list(api, ""), "api ListBucket without a prefix (s3:prefix)");
  EXPECT_DENIED(put_item(api, table, "PTR#iam#0"), "api PutItem pointer");
  EXPECT_DENIED(update_item(api, table, "PTR#iam#0"), "api UpdateItem pointer");
  EXPECT_DENIED(delete_item(api, "PTR#iam#0"), "api DeleteItem pointer");
  EXPECT_DENIED(get_item(api, table, "LOCK#iam#0"), "api GetItem lease");
  EXPECT_DENIED(put_item(api, table, "LOCK#iam#0"), "api PutItem lease");
  EXPECT_DENIED(get_item(api, table, seq_key), "api GetItem SEQ#");
  EXPECT_DENIED(put_item(api, table, coll_key), "api PutItem COLL# (only UpdateItem)");
  EXPECT_DENIED(delete_item(api, coll_key), "api DeleteItem COLL#");
  EXPECT_DENIED(put_item(api, table, "CONFIG#iam"), "api PutItem unrelated item");
  EXPECT_DENIED(get_item(api, "unrelated-table", "NAME#default_tenant/default_database/iam"),
                "api GetItem in another table");
  EXPECT_DENIED(send(api, dlq), "api SendMessage to the DLQ");
  EXPECT_DENIED(receive(api), "api ReceiveMessage");

  const aws::Credentials& compactor = Role("Compactor");
  std::vector<std::string> seen_by_compactor;
  EXPECT_ALLOWED(put_item(compactor, table, "LOCK#iam#0"), "compactor PutItem lease");
  EXPECT_ALLOWED(update_item(compactor, table, "PTR#iam#0"), "compactor UpdateItem pointer");
  EXPECT_ALLOWED(list(compactor, pipeline::LogPrefix(shard), &seen_by_compactor), "compactor ListBucket deltas/");
  EXPECT_EQ(seen_by_compactor, (std::vector<std::string>{pipeline::LogKey(shard, 1), pipeline::LogKey(shard, 2)}));
  EXPECT_ALLOWED(get_object(compactor, pipeline::LogKey(shard, 1)), "compactor GetObject deltas/");
  EXPECT_ALLOWED(put_object(compactor, pipeline::LogKey(shard, 3), true),
                 "compactor PutObject deltas/ create-only (a void marker)");
  EXPECT_EQ(put_object(compactor, pipeline::LogKey(shard, 2), true).code(), StatusCode::kPreconditionFailed)
      << "compactor replaced log entry 2";
  EXPECT_ALLOWED(put_object(compactor, "snapshots/iam/0/2-w/manifest.json"), "compactor PutObject snapshots/");
  EXPECT_ALLOWED(send(compactor, queue), "compactor SendMessage (re-arm)");
  EXPECT_ALLOWED(send(compactor, dlq), "compactor SendMessage to the DLQ (skipped entries)");
  EXPECT_ALLOWED(receive(compactor), "compactor ReceiveMessage (event source)");
  EXPECT_DENIED(put_object(compactor, pipeline::LogKey(shard, 4)), "compactor PutObject deltas/ without If-None-Match");
  EXPECT_DENIED(put_object(compactor, "other/x"), "compactor PutObject outside its prefixes");
  EXPECT_DENIED(list(compactor, "snapshots/"), "compactor ListBucket snapshots/ (s3:prefix)");
  EXPECT_DENIED(list(compactor, ""), "compactor ListBucket without a prefix (s3:prefix)");
  EXPECT_DENIED(update_item(compactor, table, seq_key), "compactor UpdateItem SEQ# (LeadingKeys)");
  EXPECT_DENIED(update_item(compactor, table, coll_key), "compactor UpdateItem COLL# (LeadingKeys)");
  EXPECT_ALLOWED(get_item(compactor, table, coll_key), "compactor GetItem COLL# (the collection's configuration)");
  EXPECT_DENIED(put_item(compactor, table, coll_key), "compactor PutItem COLL#");
  EXPECT_DENIED(get_item(compactor, table, seq_key), "compactor GetItem SEQ# (LeadingKeys)");
  EXPECT_DENIED(put_item(compactor, table, "CONFIG#iam"), "compactor PutItem unrelated item (LeadingKeys)");
  EXPECT_DENIED(get_item(compactor, table, "CONFIG#iam"), "compactor GetItem unrelated item (LeadingKeys)");
  EXPECT_DENIED(delete_item(compactor, "USER#1"), "compactor DeleteItem unrelated item");
  EXPECT_DENIED(delete_item(compactor, "LOCK#iam#0"), "compactor DeleteItem (release never deletes the lease)");
  EXPECT_DENIED(put_item(compactor, "unrelated-table", "LOCK#iam#0"), "compactor PutItem in another table");
  EXPECT_DENIED(get_item(compactor, "unrelated-table", "PTR#iam#0"), "compactor GetItem in another table");

  // A missing key answers 404 only to a caller that may list it (launcher, fix 3; our model of S3):
  // under the log prefix the roles may list, yes; under snapshots/ they get 403 as on AWS.
  EXPECT_EQ(head_object(compactor, pipeline::LogKey(shard, 9)).code(), StatusCode::kNotFound);
  EXPECT_DENIED(head_object(compactor, "snapshots/iam/0/9-w/manifest.json"), "compactor HEAD missing snapshot key");
  EXPECT_EQ(head_object(*admin_, "snapshots/iam/0/9-w/manifest.json").code(), StatusCode::kNotFound);

  // The admin still sees the pointer the producer and query could not move: version 2 from the
  // compactor's allowed update, not 99.
  aws::GetItemRequest g;
  g.table = table;
  g.key = {{"pk", aws::AttributeValue::S("PTR#iam#0")}};
  auto item = admin_ddb.GetItem(g);
  ASSERT_TRUE(item.ok() && item->item.has_value()) << item.status().ToString();
  EXPECT_EQ(item->item->at("version").ToJson().dump(), R"({"N":"2"})");
}

}  // namespace
}  // namespace chromapact::testing
