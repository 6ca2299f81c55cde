// The four fully static bootstraps (-DCHROMAPACT_STATIC=ON, scripts/build-static) run through the
// real chromapact-emulator of this (dynamic) build against moto_server with signature checking on:
// the producer appends a delta to the shard's log (sequence number from DynamoDB) and sends its
// trigger, the compactor commits it as version 1 at log position 1, the query answers count /
// nearest neighbour from that snapshot; malformed events get typed errors; the API answers Chroma
// REST calls as Function URL events (create a collection, add, count, a malformed event: 400). Before
// that, each file is checked to be a static ELF (no PT_INTERP, no PT_DYNAMIC) and stripped (no
// .symtab), so the run cannot be using the system's shared libraries.
//
// Where the static bootstraps are: $CHROMAPACT_STATIC_BUILD_DIR (scripts/test sets it and builds
// them first; then a missing bootstrap fails the test), else <source>/build-static (when absent the
// tests skip with the reason).
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../runtime/emulator_process.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/http.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/pipeline/shard_id.h"
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;

constexpr const char* kBucket = "cp-static";
constexpr const char* kTable = "cp-static-state";
constexpr const char* kCollection = "docs";
const char* const kFunctions[] = {"producer", "compactor", "query", "api"};

struct StaticDir {
  std::string dir;
  bool required = false;  // $CHROMAPACT_STATIC_BUILD_DIR was set: missing bootstraps are a failure
};

StaticDir StaticBuildDir() {
  const char* env = std::getenv("CHROMAPACT_STATIC_BUILD_DIR");
  if (env != nullptr && *env != '\0') return {env, true};
  return {SourceDir() + "/build-static", false};
}

std::string BootstrapPath(const std::string& function) {
  return StaticBuildDir().dir + "/lambdas/" + function + "/bootstrap";
}

bool IsFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Skips (or fails, when the static build dir was named explicitly) unless all four exist.
#define CP_REQUIRE_STATIC_BOOTSTRAPS()                                                                   \
  do {                                                                                                   \
    const StaticDir sd = StaticBuildDir();                                                               \
    for (const char* f : kFunctions) {                                                                   \
      if (IsFile(BootstrapPath(f))) continue;                                                            \
      if (sd.required) FAIL() << "CHROMAPACT_STATIC_BUILD_DIR is set but " << BootstrapPath(f) << " is missing"; \
      GTEST_SKIP() << "no static bootstraps in " << sd.dir << " (run scripts/build-static)";            \
    }                                                                                                    \
  } while (0)

struct ElfFacts {
  std::string error;  // non-empty when the file is not a readable ELF64
  bool has_interp = false;
  bool has_dynamic = false;
  bool has_symtab = false;
  uint16_t type = 0;
};

ElfFacts ReadElf(const std::string& path) {
  ElfFacts f;
  const std::string data = ReadFile(path);
  if (data.size() < sizeof(Elf64_Ehdr) || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0 ||
      data[EI_CLASS] != ELFCLASS64) {
    f.error = path + ": not an ELF64 file";
    return f;
  }
  Elf64_Ehdr eh;
  std::memcpy(&eh, data.data(), sizeof(eh));
  f.type = eh.e_type;
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    const size_t off = eh.e_phoff + i * eh.e_phentsize;
    if (off + sizeof(Elf64_Phdr) > data.size()) {
      f.error = path + ": program header " + std::to_string(i) + " out of the file";
      return f;
    }
    Elf64_Phdr ph;
    std::memcpy(&ph, data.data() + off, sizeof(ph));
    f.has_interp = f.has_interp || ph.p_type == PT_INTERP;
    f.has_dynamic = f.has_dynamic || ph.p_type == PT_DYNAMIC;
  }
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    const size_t off = eh.e_shoff + i * eh.e_shentsize;
    if (off + sizeof(Elf64_Shdr) > data.size()) {
      f.error = path + ": section header " + std::to_string(i) + " out of the file";
      return f;
    }
    Elf64_Shdr sh;
    std::memcpy(&sh, data.data() + off, sizeof(sh));
    f.has_symtab = f.has_symtab || sh.sh_type == SHT_SYMTAB;
  }
  return f;
}

TEST(StaticBootstrapsTest, AreStaticStrippedExecutables) {
  CP_REQUIRE_STATIC_BOOTSTRAPS();
  for (const char* fn : kFunctions) {
    const ElfFacts f = ReadElf(BootstrapPath(fn));
    ASSERT_EQ(f.error, "");
    EXPECT_EQ(f.type, ET_EXEC) << fn << ": expected a non-PIE static executable";
    EXPECT_FALSE(f.has_interp) << fn << ": has a program interpreter (dynamically linked)";
    EXPECT_FALSE(f.has_dynamic) << fn << ": has a dynamic section";
    EXPECT_FALSE(f.has_symtab) << fn << ": not stripped";
  }
  // The dynamic build's bootstrap, read the same way, does have an interpreter: the check can fail.
  const std::string dynamic = BuildDir() + "/lambdas/query/bootstrap";
  if (IsFile(dynamic)) {
    EXPECT_TRUE(ReadElf(dynamic).has_interp) << dynamic;
  }
}

struct Answer {
  int status = 0;
  std::string function_error;  // X-Amz-Function-Error
  json body;
};

Answer Invoke(const EmulatorProcess& emu, const json& event) {
  aws::HttpClient http;
  aws::HttpRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(emu.invoke_port()) + "/2015-03-31/functions/function/invocations";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = event.dump();
  req.timeout_ms = 60000;
  auto r = http.Send(req);
  Answer a;
  if (!r.ok()) {
    a.status = -1;
    a.body = r.status().ToString();
    return a;
  }
  a.status = r->status;
  a.function_error = r->Header("x-amz-function-error");
  a.body = json::parse(r->body, nullptr, false);
  return a;
}

class StaticPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CP_REQUIRE_STATIC_BOOTSTRAPS();
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = *admin;
    aws::S3Client s3(moto_->Config(*admin_));
    ASSERT_TRUE(s3.CreateBucket(kBucket).ok());
    aws::DynamoDbClient ddb(moto_->Config(*admin_));
    aws::CreateTableRequest table;
    table.table = kTable;
    table.partition_key = pipeline::kPartitionKey;
    ASSERT_TRUE(ddb.CreateTable(table).ok());
    aws::SqsClient sqs(moto_->Config(*admin_));
    auto url = sqs.CreateQueue("cp-static-deltas.fifo", {{"FifoQueue", "true"}});
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    queue_url_ = *url;
    ASSERT_TRUE(moto_->EnableAuth().ok());
    cache_dir_ = MakeTempDir("static-cache");
  }

  // An emulator around the static bootstrap of `function`, configured for this moto.
  std::unique_ptr<EmulatorProcess> Start(const std::string& function) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"AWS_ACCESS_KEY_ID", admin_->access_key_id},
        {"AWS_SECRET_ACCESS_KEY", admin_->secret_access_key},
        {"AWS_SESSION_TOKEN", ""},
        {"AWS_REGION", "us-east-1"},
        {"AWS_ENDPOINT_URL", moto_->endpoint()},
        {"CHROMAPACT_BUCKET", kBucket},
        {"CHROMAPACT_TABLE", kTable},
        {"CHROMAPACT_QUEUE_URL", queue_url_},
        {"CHROMAPACT_CACHE_DIR", cache_dir_ + "/" + function},
        {"CHROMAPACT_POINTER_TTL_MS", "0"},
        {"CHROMAPACT_LOG_LEVEL", "error"}};
    auto emu = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", BootstrapPath(function), "--function-name", function, "--timeout",
                                 "60"},
        env);
    return emu;
  }

  std::unique_ptr<MotoServer> moto_;
  std::optional<aws::Credentials> admin_;
  std::string queue_url_;
  std::string cache_dir_;
};

TEST_F(StaticPipelineTest, ProduceCompactQueryThroughTheEmulator) {
  auto producer = Start("producer");
  auto compactor = Start("compactor");
  auto query = Start("query");
  ASSERT_TRUE(producer->ok()) << producer->error();
  ASSERT_TRUE(compactor->ok()) << compactor->error();
  ASSERT_TRUE(query->ok()) << query->error();

  const std::vector<std::vector<float>> embeddings = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.5f, 0.5f, 0}};
  const json batch = {{"collection", kCollection},
                      {"operation", "add"},
                      {"ids", {"a", "b", "c", "d"}},
                      {"embeddings", embeddings},
                      {"documents", {"alpha", "beta", "gamma", "delta"}},
                      {"metadatas", json::array({{{"n", 1}}, {{"n", 2}}, {{"n", 3}}, {{"n", 4}}})}};
  const Answer produced = Invoke(*producer, batch);
  ASSERT_EQ(produced.status, 200) << produced.body.dump() << "\n" << producer->Log();
  ASSERT_EQ(produced.function_error, "") << produced.body.dump();
  EXPECT_EQ(produced.body["count"], 4) << produced.body.dump();
  // The first entry of the shard's log: sequence number 1 from the table, at its log key.
  ASSERT_EQ(produced.body["delta_keys"].size(), 1u) << produced.body.dump();
  const std::string key = produced.body["delta_keys"][0].get<std::string>();
  EXPECT_EQ(key, std::string("deltas/") + kCollection + "/0/00000000000000000001.cpd") << key;
  EXPECT_EQ(produced.body["log_positions"], json::parse(R"([{"shard": 0, "log_position": 1}])"))
      << produced.body.dump();
  aws::S3Client s3(moto_->Config(*admin_));
  EXPECT_TRUE(s3.HeadObject(kBucket, key).ok()) << key;

  // A malformed batch, and one of another dimension than the collection's: typed errors naming the
  // field, nothing written.
  json bad = batch;
  bad["operation"] = "explode";
  const Answer rejected = Invoke(*producer, bad);
  ASSERT_EQ(rejected.status, 200) << rejected.body.dump();
  EXPECT_EQ(rejected.function_error, "Unhandled");
  EXPECT_EQ(rejected.body.value("errorType", ""), "InvalidArgument") << rejected.body.dump();
  EXPECT_NE(rejected.body.value("errorMessage", "").find("operation"), std::string::npos) << rejected.body.dump();
  const Answer other_dim =
      Invoke(*producer, {{"collection", kCollection}, {"ids", {"e"}}, {"embeddings", {{1, 2}}}});
  EXPECT_EQ(other_dim.body.value("errorType", ""), "InvalidArgument") << other_dim.body.dump();
  EXPECT_NE(other_dim.body.value("errorMessage", "").find("expecting embedding with dimension of 3, got 2"),
            std::string::npos)
      << other_dim.body.dump();
  EXPECT_FALSE(
      s3.HeadObject(kBucket, std::string("deltas/") + kCollection + "/0/00000000000000000002.cpd").ok());

  const Answer compacted = Invoke(*compactor, {{"action", "compact"}, {"collection", kCollection}});
  ASSERT_EQ(compacted.status, 200) << compacted.body.dump() << "\n" << compactor->Log();
  ASSERT_EQ(compacted.function_error, "") << compacted.body.dump() << "\n" << compactor->Log();
  ASSERT_EQ(compacted.body["cycles"].size(), 1u) << compacted.body.dump();
  const json& cycle = compacted.body["cycles"][0];
  EXPECT_EQ(cycle["status"], "OK") << cycle.dump();
  EXPECT_EQ(cycle["version"], 1) << cycle.dump();
  EXPECT_EQ(cycle["applied"], 1) << cycle.dump();
  EXPECT_EQ(cycle["log_position"], 1) << cycle.dump();
  EXPECT_EQ(cycle["skipped"], 0) << cycle.dump();
  EXPECT_EQ(cycle["rearmed"], false) << cycle.dump();
  const Answer bad_action = Invoke(*compactor, {{"action", "explode"}});
  EXPECT_EQ(bad_action.function_error, "Unhandled");
  EXPECT_EQ(bad_action.body.value("errorType", ""), "InvalidArgument") << bad_action.body.dump();

  const Answer count = Invoke(*query, {{"action", "count"}, {"collection", kCollection}});
  ASSERT_EQ(count.status, 200) << count.body.dump() << "\n" << query->Log();
  ASSERT_EQ(count.function_error, "") << count.body.dump() << "\n" << query->Log();
  EXPECT_EQ(count.body["count"], 4) << count.body.dump();
  const Answer nearest = Invoke(*query, {{"collection", kCollection},
                                         {"query_embeddings", {{0.0, 0.9, 0.1}}},
                                         {"n_results", 2},
                                         {"include", {"documents", "distances"}}});
  ASSERT_EQ(nearest.function_error, "") << nearest.body.dump();
  ASSERT_EQ(nearest.body["ids"].size(), 1u) << nearest.body.dump();
  EXPECT_EQ(nearest.body["ids"][0], json({"b", "d"})) << nearest.body.dump();
  EXPECT_EQ(nearest.body["documents"][0][0], "beta") << nearest.body.dump();
  const Answer write = Invoke(*query, {{"action", "add"}, {"collection", kCollection}});
  EXPECT_EQ(write.function_error, "Unhandled");
  EXPECT_EQ(write.body.value("errorType", ""), "NotSupported") << write.body.dump();
}

// A Function URL event (payload format 2.0) for `method` `path` with a JSON body as text.
json UrlEvent(const std::string& method, const std::string& path, const json& body = nullptr) {
  json e = {{"version", "2.0"},
            {"rawPath", path},
            {"rawQueryString", ""},
            {"headers", {{"content-type", "application/json"}}},
            {"requestContext", {{"http", {{"method", method}, {"path", path}}}}},
            {"isBase64Encoded", false}};
  if (!body.is_null()) e["body"] = body.dump();
  return e;
}

TEST_F(StaticPipelineTest, ApiAnswersChromaRestCallsThroughTheEmulator) {
  auto api = Start("api");
  ASSERT_TRUE(api->ok()) << api->error();
  // {HTTP status, body as JSON} of one Function URL exchange; the invocation itself always succeeds.
  auto call = [&](const json& event) -> std::pair<int, json> {
    const Answer a = Invoke(*api, event);
    EXPECT_EQ(a.status, 200) << a.body.dump() << "\n" << api->Log();
    EXPECT_EQ(a.function_error, "") << a.body.dump() << "\n" << api->Log();
    if (!a.body.is_object() || !a.body.contains("statusCode") || !a.body["body"].is_string()) return {-1, a.body};
    EXPECT_EQ(a.body["headers"].value("content-type", ""), "application/json") << a.body.dump();
    return {a.body["statusCode"].get<int>(), json::parse(a.body["body"].get<std::string>(), nullptr, false)};
  };
  const std::string db = "/api/v2/tenants/default_tenant/databases/default_database";
  const auto [hb_status, hb] = call(UrlEvent("GET", "/api/v2/heartbeat"));
  EXPECT_EQ(hb_status, 200) << hb.dump();
  EXPECT_TRUE(hb.contains("nanosecond heartbeat")) << hb.dump();
  const auto [created_status, created] = call(UrlEvent("POST", db + "/collections", {{"name", "static-api"}}));
  ASSERT_EQ(created_status, 200) << created.dump() << "\n" << api->Log();
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty()) << created.dump();
  const auto [add_status, added] =
      call(UrlEvent("POST", db + "/collections/" + id + "/add",
                    {{"ids", {"x", "y"}}, {"embeddings", {{1, 0}, {0, 1}}}, {"documents", {"ex", "why"}}}));
  EXPECT_GE(add_status, 200) << added.dump() << "\n" << api->Log();
  EXPECT_LT(add_status, 300) << added.dump() << "\n" << api->Log();
  const auto [count_status, count] = call(UrlEvent("GET", db + "/collections/" + id + "/count"));
  EXPECT_EQ(count_status, 200) << count.dump() << "\n" << api->Log();
  EXPECT_EQ(count, 2) << count.dump();  // read after write: the log, before any compaction
  // Not a Function URL event: an HTTP 400 in Chroma's error shape, not a function error.
  const auto [bad_status, bad] =
      call(json{{"rawPath", "/api/v2/heartbeat"}, {"requestContext", {{"http", json::object()}}}});
  EXPECT_EQ(bad_status, 400) << bad.dump();
  EXPECT_EQ(bad.value("error", ""), "InvalidArgumentError") << bad.dump();
  EXPECT_NE(bad.value("message", "").find("requestContext.http.method"), std::string::npos) << bad.dump();
}

}  // namespace
}  // namespace chromapact::testing
