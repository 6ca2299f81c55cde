// OpenAIEmbeddings without a real provider: URL and auth-header rules, batch planning, answer
// parsing (order by index, every malformed shape named), Retry-After, HTTP error mapping, option
// checks, the environment, and, against the scripted loopback server (tests/support/scripted_http.h),
// the request's exact shape and the retry waits (injected sleep: nothing really waits).
#include "chromapact/embed/openai_embeddings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "support/scripted_http.h"

namespace chromapact::embed {
namespace {

using testing::ReplyInOrder;
using testing::ScriptedHttpServer;
using testing::ScriptedReply;

nlohmann::json Answer(const std::vector<std::vector<double>>& rows, bool reversed = false) {
  nlohmann::json data = nlohmann::json::array();
  for (size_t i = 0; i < rows.size(); ++i) data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", rows[i]}});
  if (reversed) std::reverse(data.begin(), data.end());
  return {{"object", "list"}, {"data", data}, {"model", "m"}};
}

TEST(EmbeddingsUrlTest, AppendsEmbeddingsBeforeAnyQuery) {
  EXPECT_EQ(EmbeddingsUrl("https://api.openai.com/v1"), "https://api.openai.com/v1/embeddings");
  EXPECT_EQ(EmbeddingsUrl("https://api.openai.com/v1/"), "https://api.openai.com/v1/embeddings");
  EXPECT_EQ(EmbeddingsUrl("http://localhost:11434/v1"), "http://localhost:11434/v1/embeddings");
  EXPECT_EQ(EmbeddingsUrl("https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21"),
            "https://r.openai.azure.com/openai/deployments/d/embeddings?api-version=2024-10-21");
}

TEST(ApiKeyHeaderTest, AzureHostsTakeApiKeyOthersBearer) {
  EXPECT_EQ(ResolveApiKeyHeader("https://api.openai.com/v1", ApiKeyHeader::kAuto), ApiKeyHeader::kBearer);
  EXPECT_EQ(ResolveApiKeyHeader("https://myres.openai.azure.com/openai/v1", ApiKeyHeader::kAuto),
            ApiKeyHeader::kApiKey);
  EXPECT_EQ(ResolveApiKeyHeader("https://MyRes.OpenAI.Azure.com:443/openai/deployments/x?api-version=1",
                                ApiKeyHeader::kAuto),
            ApiKeyHeader::kApiKey);
  EXPECT_EQ(ResolveApiKeyHeader("https://x.cognitiveservices.azure.com/openai/v1", ApiKeyHeader::kAuto),
            ApiKeyHeader::kApiKey);
  // Only the host counts, not a path or a look-alike suffix.
  EXPECT_EQ(ResolveApiKeyHeader("https://proxy.example.com/x.openai.azure.com", ApiKeyHeader::kAuto),
            ApiKeyHeader::kBearer);
  EXPECT_EQ(ResolveApiKeyHeader("https://openai.azure.com.evil.example/v1", ApiKeyHeader::kAuto),
            ApiKeyHeader::kBearer);
  EXPECT_EQ(ResolveApiKeyHeader("https://api.openai.com/v1", ApiKeyHeader::kApiKey), ApiKeyHeader::kApiKey);
}

TEST(PlanBatchesTest, SplitsByCountAndByBytes) {
  std::vector<std::string> texts(7, "abcd");  // 4 bytes each
  using Ranges = std::vector<std::pair<size_t, size_t>>;
  EXPECT_EQ(PlanBatches(texts, 3, 1000), (Ranges{{0, 3}, {3, 6}, {6, 7}}));
  EXPECT_EQ(PlanBatches(texts, 2048, 8), (Ranges{{0, 2}, {2, 4}, {4, 6}, {6, 7}}));
  EXPECT_EQ(PlanBatches(texts, 2, 12), (Ranges{{0, 2}, {2, 4}, {4, 6}, {6, 7}}));
  // A text over the byte bound travels alone; the order is kept.
  std::vector<std::string> mixed = {"a", std::string(50, 'x'), "b", "c"};
  EXPECT_EQ(PlanBatches(mixed, 10, 10), (Ranges{{0, 1}, {1, 2}, {2, 4}}));
  EXPECT_TRUE(PlanBatches({}, 10, 10).empty());
  EXPECT_EQ(PlanBatches(texts, 0, 0).size(), 7u);  // 0 counts as 1
}

TEST(ParseEmbeddingsResponseTest, RowsArePlacedByIndex) {
  auto rows = ParseEmbeddingsResponse(Answer({{1, 2}, {3, 4}, {5, 6}}, /*reversed=*/true), 3, 2);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(ParseEmbeddingsResponseTest, EveryMalformedShapeIsNamed) {
  struct Case {
    std::string name;
    nlohmann::json body;
    StatusCode code;
    std::string expect;
  };
  nlohmann::json ok = Answer({{1, 2}, {3, 4}});
  auto with = [&](const std::function<void(nlohmann::json&)>& f) {
    nlohmann::json b = ok;
    f(b);
    return b;
  };
  const std::vector<Case> cases = {
      {"not an object", nlohmann::json::array(), StatusCode::kCorruption, "answer: expected a JSON object"},
      {"no data", {{"object", "list"}}, StatusCode::kCorruption, "data: missing"},
      {"data not a list", {{"data", 3}}, StatusCode::kCorruption, "data: expected a list"},
      {"too few", Answer({{1, 2}}), StatusCode::kCorruption, "expected 2 embeddings (one per input), got 1"},
      {"entry not object", with([](auto& b) { b["data"][1] = 7; }), StatusCode::kCorruption,
       "data[1]: expected an object"},
      {"missing index", with([](auto& b) { b["data"][1].erase("index"); }), StatusCode::kCorruption,
       "data[1].index: missing"},
      {"index not integer", with([](auto& b) { b["data"][0]["index"] = "0"; }), StatusCode::kCorruption,
       "data[0].index: expected an integer"},
      {"index out of range", with([](auto& b) { b["data"][1]["index"] = 2; }), StatusCode::kCorruption,
       "data[1].index: 2 outside [0, 2)"},
      {"index repeated", with([](auto& b) { b["data"][1]["index"] = 0; }), StatusCode::kCorruption,
       "data[1].index: 0 given twice"},
      {"no embedding", with([](auto& b) { b["data"][0].erase("embedding"); }), StatusCode::kCorruption,
       "data[0].embedding: missing"},
      {"base64", with([](auto& b) { b["data"][0]["embedding"] = "AACAPw=="; }), StatusCode::kCorruption,
       "data[0].embedding: expected a list of numbers, got a string"},
      {"non-number", with([](auto& b) { b["data"][1]["embedding"][1] = "x"; }), StatusCode::kCorruption,
       "data[1].embedding[1]: expected a number, got string"},
      {"null element", with([](auto& b) { b["data"][1]["embedding"][0] = nullptr; }), StatusCode::kCorruption,
       "data[1].embedding[0]: expected a number, got null"},
      {"float32 overflow", with([](auto& b) { b["data"][0]["embedding"][1] = 1e39; }), StatusCode::kCorruption,
       "data[0].embedding[1]: 1e+39 is not finite as float32"},
      {"wrong dimension", with([](auto& b) { b["data"][1]["embedding"] = {1, 2, 3}; }),
       StatusCode::kInvalidArgument, "data[1].embedding (input 11): expected dimension 2"},
  };
  for (const Case& c : cases) {
    auto r = ParseEmbeddingsResponse(c.body, 2, 2, /*first_input=*/10);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.name << ": " << r.status().message();
  }
  auto dim = ParseEmbeddingsResponse(with([](auto& b) { b["data"][1]["embedding"] = {1, 2, 3}; }), 2, 2);
  EXPECT_NE(dim.status().message().find("got 3"), std::string::npos) << dim.status().message();
}

TEST(RetryAfterTest, SecondsMillisecondsAndDates) {
  aws::HttpResponse r;
  EXPECT_FALSE(RetryAfterMs(r, 0).has_value());
  r.headers = {{"retry-after", "3"}};
  EXPECT_EQ(RetryAfterMs(r, 0), 3000);
  r.headers = {{"retry-after-ms", "250"}, {"retry-after", "3"}};
  EXPECT_EQ(RetryAfterMs(r, 0), 250);
  r.headers = {{"retry-after", "garbage"}};
  EXPECT_FALSE(RetryAfterMs(r, 0).has_value());
  // RFC 9110's example date: Fri, 31 Dec 1999 23:59:59 GMT = 946684799 s after the epoch.
  r.headers = {{"retry-after", "Fri, 31 Dec 1999 23:59:59 GMT"}};
  EXPECT_EQ(RetryAfterMs(r, 946684799000 - 5000), 5000);
  EXPECT_EQ(RetryAfterMs(r, 946684799000 + 5000), 0);
}

TEST(EmbeddingsHttpErrorTest, StatusCodesAndTheProvidersMessage) {
  auto err = [](int status, const std::string& body) {
    aws::HttpResponse r;
    r.status = status;
    r.body = body;
    return EmbeddingsHttpError("http://h/v1/embeddings", r);
  };
  Status s = err(401, R"({"error":{"message":"Incorrect API key provided","type":"x","code":"invalid_api_key"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("POST http://h/v1/embeddings: HTTP 401: Incorrect API key provided (invalid_api_key)"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(err(403, "{}").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(err(404, R"({"error":"model 'x' not found"})").code(), StatusCode::kNotFound);
  EXPECT_NE(err(404, R"({"error":"model 'x' not found"})").message().find("model 'x' not found"), std::string::npos);
  EXPECT_EQ(err(408, "").code(), StatusCode::kTimeout);
  EXPECT_EQ(err(413, "too big").code(), StatusCode::kInvalidArgument);
  EXPECT_NE(err(422, R"({"object":"error","message":"bad input"})").message().find("bad input"), std::string::npos);
  EXPECT_EQ(err(429, "").code(), StatusCode::kThrottled);
  EXPECT_EQ(err(500, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(err(503, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(err(409, "").code(), StatusCode::kUnavailable);
  EXPECT_LE(err(400, std::string(5000, 'x')).message().size(), 400u);
  for (int s : {408, 409, 429, 500, 502, 503, 504}) EXPECT_TRUE(IsRetryableEmbeddingsStatus(s)) << s;
  for (int s : {400, 401, 403, 404, 413, 422}) EXPECT_FALSE(IsRetryableEmbeddingsStatus(s)) << s;
}

OpenAIEmbeddingOptions Opts(const std::string& base, uint32_t dim = 2) {
  OpenAIEmbeddingOptions o;
  o.base_url = base;
  o.model = "test-model";
  o.dimension = dim;
  return o;
}

TEST(OpenAIEmbeddingsTest, CreateChecksTheOptions) {
  struct Case {
    std::function<void(OpenAIEmbeddingOptions&)> change;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {[](auto& o) { o.base_url = ""; }, "base_url: empty"},
      {[](auto& o) { o.base_url = "ftp://x/v1"; }, "base_url: expected an http:// or https:// URL"},
      {[](auto& o) { o.base_url = "localhost:11434/v1"; }, "base_url"},
      {[](auto& o) { o.model = ""; }, "model: empty"},
      {[](auto& o) { o.dimension = 0; }, "dimension: must be >= 1"},
      {[](auto& o) { o.max_batch = 0; }, "max_batch: must be >= 1"},
      {[](auto& o) { o.max_batch_bytes = 0; }, "max_batch_bytes"},
      {[](auto& o) { o.max_attempts = 0; }, "max_attempts"},
  };
  for (const Case& c : cases) {
    OpenAIEmbeddingOptions o = Opts("http://127.0.0.1:1/v1");
    c.change(o);
    auto e = OpenAIEmbeddings::Create(o);
    ASSERT_FALSE(e.ok()) << c.expect;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find(c.expect), std::string::npos) << e.status().message();
  }
  auto ok = OpenAIEmbeddings::Create(Opts("http://127.0.0.1:1/v1", 7));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->dimension(), 7u);
  EXPECT_EQ((*ok)->name(), "test-model at http://127.0.0.1:1/v1");
}

TEST(OpenAIEmbeddingsTest, SendsTheOpenAIRequestShapeAndReadsRowsInInputOrder) {
  ScriptedHttpServer server(ReplyInOrder({{200, Answer({{1, 0}, {0, 1}, {0.5, 0.5}}, true).dump(), {}}}));
  OpenAIEmbeddingOptions o = Opts(server.endpoint() + "/v1/");
  o.api_key = "sk-secret-123";
  auto e = OpenAIEmbeddings::Create(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto rows = (*e)->Embed({"alpha", "beta", "gamma"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (std::vector<float>{1, 0, 0, 1, 0.5, 0.5}));
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].head.rfind("POST /v1/embeddings HTTP/1.1\r\n", 0), 0u) << seen[0].head;
  EXPECT_EQ(seen[0].Header("authorization"), "Bearer sk-secret-123");
  EXPECT_EQ(seen[0].Header("api-key"), "");
  EXPECT_EQ(seen[0].Header("content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body),
            nlohmann::json({{"model", "test-model"}, {"input", {"alpha", "beta", "gamma"}}}));
  // Nothing to embed: no request.
  auto none = (*e)->Embed({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ((*e)->stats().inputs, 3u);
  EXPECT_EQ((*e)->stats().attempts, 1u);
}

TEST(OpenAIEmbeddingsTest, ApiKeyHeaderWhenAskedFor) {
  ScriptedHttpServer server(ReplyInOrder({{200, Answer({{1, 0}}).dump(), {}}}));
  OpenAIEmbeddingOptions o = Opts(server.endpoint() + "/openai/deployments/d?api-version=2024-10-21");
  o.api_key = "azure-key";
  o.api_key_header = ApiKeyHeader::kApiKey;
  auto e = OpenAIEmbeddings::Create(o);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->Embed({"x"}).ok());
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/openai/deployments/d/embeddings?api-version=2024-10-21");
  EXPECT_EQ(seen[0].Header("api-key"), "azure-key");
  EXPECT_EQ(seen[0].Header("authorization"), "");
}

TEST(OpenAIEmbeddingsTest, RetryAfterIsHonouredAndBackoffIsJittered) {
  ScriptedReply throttled{429, R"({"error":{"message":"Rate limit reached"}})", {{"Retry-After", "2"}}};
  ScriptedReply busy{503, "overloaded", {}};
  ScriptedHttpServer server(ReplyInOrder({throttled, busy, {200, Answer({{1, 0}}).dump(), {}}}));
  std::vector<int64_t> slept;
  OpenAIEmbeddingOptions o = Opts(server.endpoint() + "/v1");
  o.base_delay_ms = 100;
  o.cap_delay_ms = 1000;
  auto e = OpenAIEmbeddings::Create(o, [&](int64_t ms) { slept.push_back(ms); }, [] { return 0.999999; });
  ASSERT_TRUE(e.ok());
  auto rows = (*e)->Embed({"x"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  // Before retry 1: max(backoff <= 100, Retry-After 2 s); before retry 2: the backoff ceiling 200.
  EXPECT_EQ(slept, (std::vector<int64_t>{2000, 200}));
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ((*e)->stats().retries, 2u);
  EXPECT_EQ((*e)->stats().waited_ms, 2200);
}

TEST(OpenAIEmbeddingsTest, GivesUpAtOnceWhenRetryAfterIsLongerThanTheBound) {
  ScriptedHttpServer server(ReplyInOrder({{429, R"({"error":{"message":"quota"}})", {{"Retry-After", "3600"}}}}));
  std::vector<int64_t> slept;
  OpenAIEmbeddingOptions o = Opts(server.endpoint() + "/v1");
  auto e = OpenAIEmbeddings::Create(o, [&](int64_t ms) { slept.push_back(ms); });
  ASSERT_TRUE(e.ok());
  auto rows = (*e)->Embed({"x"});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kThrottled);
  EXPECT_NE(rows.status().message().find("3600000 ms"), std::string::npos) << rows.status().message();
  EXPECT_TRUE(slept.empty());
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(OpenAIEmbeddingsTest, ClientErrorsAreNotRetriedAndTheKeyNeverShows) {
  ScriptedHttpServer server(ReplyInOrder({{400, R"({"error":{"message":"'input' is invalid"}})", {}}}));
  OpenAIEmbeddingOptions o = Opts(server.endpoint() + "/v1");
  o.api_key = "sk-do-not-print";
  auto e = OpenAIEmbeddings::Create(o, [](int64_t) {});
  ASSERT_TRUE(e.ok());
  auto rows = (*e)->Embed({"x"});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("'input' is invalid"), std::string::npos) << rows.status().message();
  EXPECT_NE(rows.status().message().find("inputs [0, 1)"), std::string::npos) << rows.status().message();
  EXPECT_EQ(rows.status().ToString().find("sk-do-not-print"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(OpenAIEmbeddingsTest, NaNInTheAnswerIsACorruptionNamingIt) {
  // Python's json.dumps writes NaN for a float('nan'): not JSON.
  ScriptedHttpServer server(ReplyInOrder(
      {{200, R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5, NaN]}]})", {}}}));
  auto e = OpenAIEmbeddings::Create(Opts(server.endpoint() + "/v1"), [](int64_t) {});
  ASSERT_TRUE(e.ok());
  auto rows = (*e)->Embed({"x"});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kCorruption);
  EXPECT_NE(rows.status().message().find("NaN"), std::string::npos) << rows.status().message();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(OpenAIEmbeddingsTest, InvalidUtf8InputIsNamed) {
  ScriptedHttpServer server(ReplyInOrder({{200, Answer({{1, 0}, {0, 1}}).dump(), {}}}));
  auto e = OpenAIEmbeddings::Create(Opts(server.endpoint() + "/v1"));
  ASSERT_TRUE(e.ok());
  auto rows = (*e)->Embed({"fine", std::string("bad \xff byte")});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("input 1: not valid UTF-8"), std::string::npos) << rows.status().message();
  EXPECT_TRUE(server.requests().empty());
}

// ---- The environment ---------------------------------------------------------------------------

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    for (const char* v : {"CHROMAPACT_EMBEDDING_URL", "CHROMAPACT_EMBEDDING_MODEL", "CHROMAPACT_EMBEDDING_DIMENSION",
                          "CHROMAPACT_EMBEDDING_API_KEY", "CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN",
                          "CHROMAPACT_EMBEDDING_API_KEY_HEADER", "CHROMAPACT_EMBEDDING_MAX_BATCH",
                          "CHROMAPACT_EMBEDDING_MAX_BATCH_BYTES", "CHROMAPACT_EMBEDDING_MAX_ATTEMPTS",
                          "CHROMAPACT_EMBEDDING_TIMEOUT_MS"}) {
      unsetenv(v);
    }
  }
  static void Set(const char* k, const char* v) { setenv(k, v, 1); }
};

TEST_F(EnvTest, UnsetUrlMeansNoEmbeddingFunction) {
  Set("CHROMAPACT_EMBEDDING_MODEL", "m");  // ignored without the URL
  auto o = EmbeddingOptionsFromEnv();
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_FALSE(o->has_value());
  auto f = EmbeddingFunctionFromEnv();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->get(), nullptr);
}

TEST_F(EnvTest, EveryVariableIsRead) {
  Set("CHROMAPACT_EMBEDDING_URL", "http://localhost:11434/v1");
  Set("CHROMAPACT_EMBEDDING_MODEL", "nomic-embed-text");
  Set("CHROMAPACT_EMBEDDING_DIMENSION", "768");
  Set("CHROMAPACT_EMBEDDING_API_KEY", "k");
  Set("CHROMAPACT_EMBEDDING_API_KEY_HEADER", "api-key");
  Set("CHROMAPACT_EMBEDDING_MAX_BATCH", "64");
  Set("CHROMAPACT_EMBEDDING_MAX_BATCH_BYTES", "1000");
  Set("CHROMAPACT_EMBEDDING_MAX_ATTEMPTS", "2");
  Set("CHROMAPACT_EMBEDDING_TIMEOUT_MS", "1500");
  auto o = EmbeddingOptionsFromEnv();
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE(o->has_value());
  const OpenAIEmbeddingOptions& v = **o;
  EXPECT_EQ(v.base_url, "http://localhost:11434/v1");
  EXPECT_EQ(v.model, "nomic-embed-text");
  EXPECT_EQ(v.dimension, 768u);
  EXPECT_EQ(v.api_key, "k");
  EXPECT_EQ(v.api_key_header, ApiKeyHeader::kApiKey);
  EXPECT_EQ(v.max_batch, 64u);
  EXPECT_EQ(v.max_batch_bytes, 1000u);
  EXPECT_EQ(v.max_attempts, 2);
  EXPECT_EQ(v.timeout_ms, 1500);
  auto f = EmbeddingFunctionFromEnv();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_NE(f->get(), nullptr);
  EXPECT_EQ((*f)->dimension(), 768u);
}

TEST_F(EnvTest, BadConfigurationNamesTheVariable) {
  struct Case {
    std::vector<std::pair<const char*, const char*>> vars;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{{"CHROMAPACT_EMBEDDING_DIMENSION", "8"}}, "CHROMAPACT_EMBEDDING_MODEL: not set"},
      {{{"CHROMAPACT_EMBEDDING_MODEL", "m"}}, "CHROMAPACT_EMBEDDING_DIMENSION: not set"},
      {{{"CHROMAPACT_EMBEDDING_MODEL", "m"}, {"CHROMAPACT_EMBEDDING_DIMENSION", "0"}}, "CHROMAPACT_EMBEDDING_DIMENSION"},
      {{{"CHROMAPACT_EMBEDDING_MODEL", "m"}, {"CHROMAPACT_EMBEDDING_DIMENSION", "8x"}}, "CHROMAPACT_EMBEDDING_DIMENSION"},
      {{{"CHROMAPACT_EMBEDDING_MODEL", "m"}, {"CHROMAPACT_EMBEDDING_DIMENSION", "8"},
        {"CHROMAPACT_EMBEDDING_MAX_BATCH", "4096"}},
       "CHROMAPACT_EMBEDDING_MAX_BATCH: expected an integer in [1, 2048]"},
      {{{"CHROMAPACT_EMBEDDING_MODEL", "m"}, {"CHROMAPACT_EMBEDDING_DIMENSION", "8"},
        {"CHROMAPACT_EMBEDDING_API_KEY_HEADER", "x-key"}},
       "CHROMAPACT_EMBEDDING_API_KEY_HEADER"},
      {{{"CHROMAPACT_EMBEDDING_MODEL", "m"}, {"CHROMAPACT_EMBEDDING_DIMENSION", "8"},
        {"CHROMAPACT_EMBEDDING_API_KEY", "k"}, {"CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN", "arn:x"}},
       "both set"},
  };
  for (const Case& c : cases) {
    Clear();
    Set("CHROMAPACT_EMBEDDING_URL", "http://127.0.0.1:1/v1");
    for (const auto& [k, v] : c.vars) Set(k, v);
    auto o = EmbeddingOptionsFromEnv();
    ASSERT_FALSE(o.ok()) << c.expect;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << o.status().ToString();
    EXPECT_NE(o.status().message().find(c.expect), std::string::npos) << o.status().message();
    EXPECT_EQ(o.status().message().find("\"k\""), std::string::npos);
  }
  Clear();
  Set("CHROMAPACT_EMBEDDING_URL", "not-a-url");
  Set("CHROMAPACT_EMBEDDING_MODEL", "m");
  Set("CHROMAPACT_EMBEDDING_DIMENSION", "8");
  auto f = EmbeddingFunctionFromEnv();
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("base_url"), std::string::npos) << f.status().message();
}

TEST(NotConfiguredTest, SaysWhatToSet) {
  Status s = NotConfigured("query_texts", "query_embeddings");
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message().rfind("query_texts: no embedding function configured: set CHROMAPACT_EMBEDDING_URL", 0), 0u)
      << s.message();
  EXPECT_NE(s.message().find("or send query_embeddings"), std::string::npos);
}

}  // namespace
}  // namespace chromapact::embed
