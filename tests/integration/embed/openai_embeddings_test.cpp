// OpenAIEmbeddings over real HTTP against scripts/lib/embeddings_server.py (tests/support/
// embeddings_server.h): batches split by count and by bytes (the server's /stats shows each request's
// size), answers in reverse order still land by index, retries on 429 and 500 then success, giving up
// after max_attempts, a refused connection, 401 for a wrong or missing key and no retry, a dimension
// mismatch, and the whole configuration through the environment.
#include "chromapact/embed/openai_embeddings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/embeddings_server.h"

namespace chromapact::embed {
namespace {

using testing::EmbeddingsServer;

std::unique_ptr<EmbeddingsServer> StartServer(const std::vector<std::string>& args) {
  auto s = EmbeddingsServer::Start(args);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

OpenAIEmbeddingOptions Opts(const EmbeddingsServer& server, uint32_t dim) {
  OpenAIEmbeddingOptions o;
  o.base_url = server.base_url();
  o.model = "local-hash";
  o.dimension = dim;
  o.base_delay_ms = 1;  // retries in these tests wait at most a few ms
  o.cap_delay_ms = 5;
  return o;
}

std::unique_ptr<OpenAIEmbeddings> Make(const OpenAIEmbeddingOptions& o, std::vector<int64_t>* slept = nullptr) {
  auto e = OpenAIEmbeddings::Create(o, [slept](int64_t ms) {
    if (slept) slept->push_back(ms);
  });
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

std::vector<int> IntList(const nlohmann::json& j) { return j.get<std::vector<int>>(); }

std::vector<int> Statuses(const nlohmann::json& stats) {
  std::vector<int> out;
  for (const auto& r : stats["requests"]) out.push_back(r["status"].get<int>());
  return out;
}

std::vector<std::string> Texts(int n) {
  std::vector<std::string> t;
  for (int i = 0; i < n; ++i) t.push_back("text number " + std::to_string(i) + " about topic " + std::to_string(i % 3));
  return t;
}

float Dot(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t k = 0; k < d; ++k) s += a[k] * b[k];
  return s;
}

TEST(OpenAIEmbeddingsServerTest, BatchesSplitByCountAndBytesAndRowsFollowTheInputs) {
  auto server = StartServer({"--dimension", "16", "--reverse"});
  ASSERT_NE(server, nullptr);
  OpenAIEmbeddingOptions o = Opts(*server, 16);
  o.max_batch = 3;
  auto e = Make(o);
  ASSERT_NE(e, nullptr);
  const std::vector<std::string> texts = Texts(8);
  auto all = e->Embed(texts);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 8u * 16u);
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(IntList((*stats)["input_counts"]), (std::vector<int>{3, 3, 2}));
  EXPECT_EQ(e->stats().batches, 3u);

  // Row i is texts[i]'s vector whatever batch it travelled in: embedded alone it is the same.
  for (size_t i = 0; i < texts.size(); ++i) {
    auto one = e->Embed({texts[i]});
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    EXPECT_EQ(std::vector<float>(all->begin() + static_cast<std::ptrdiff_t>(i * 16),
                                 all->begin() + static_cast<std::ptrdiff_t>((i + 1) * 16)),
              *one)
        << "row " << i;
    EXPECT_NEAR(Dot(one->data(), one->data(), 16), 1.0f, 1e-5f) << "L2-normalised";
  }

  // The byte bound: each text is 27 bytes; at most 64 bytes per request = 2 texts.
  ASSERT_TRUE(server->ResetStats().ok());
  o.max_batch = 2048;
  o.max_batch_bytes = 64;
  auto by_bytes = Make(o);
  ASSERT_TRUE(by_bytes->Embed(Texts(5)).ok());
  stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(IntList((*stats)["input_counts"]), (std::vector<int>{2, 2, 1}));
}

TEST(OpenAIEmbeddingsServerTest, AServerBatchLimitBelowOursIsAClearNonRetriedError) {
  auto server = StartServer({"--dimension", "8", "--max-batch", "2"});
  ASSERT_NE(server, nullptr);
  auto e = Make(Opts(*server, 8));
  auto r = e->Embed(Texts(3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("HTTP 400"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("more than the maximum of 2"), std::string::npos) << r.status().message();
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(Statuses(*stats), (std::vector<int>{400}));
}

TEST(OpenAIEmbeddingsServerTest, RetriesThrottlingThenSucceeds) {
  auto server = StartServer({"--dimension", "8", "--fail-first", "2", "--fail-status", "429"});
  ASSERT_NE(server, nullptr);
  std::vector<int64_t> slept;
  auto e = Make(Opts(*server, 8), &slept);
  auto r = e->Embed(Texts(2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 16u);
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(Statuses(*stats), (std::vector<int>{429, 429, 200}));
  EXPECT_EQ(slept.size(), 2u);
  EXPECT_EQ(e->stats().retries, 2u);
}

TEST(OpenAIEmbeddingsServerTest, RetriesServerErrorsThenSucceeds) {
  auto server = StartServer({"--dimension", "8", "--fail-first", "3", "--fail-status", "500"});
  ASSERT_NE(server, nullptr);
  OpenAIEmbeddingOptions o = Opts(*server, 8);
  o.max_attempts = 4;
  auto e = Make(o);
  auto r = e->Embed(Texts(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(Statuses(*stats), (std::vector<int>{500, 500, 500, 200}));
}

TEST(OpenAIEmbeddingsServerTest, GivesUpAfterMaxAttemptsNamingThem) {
  auto server = StartServer({"--dimension", "8", "--fail-first", "100", "--fail-status", "500"});
  ASSERT_NE(server, nullptr);
  OpenAIEmbeddingOptions o = Opts(*server, 8);
  o.max_attempts = 3;
  auto e = Make(o);
  auto r = e->Embed(Texts(4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("after 3 attempts"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("HTTP 500: injected failure"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(server->base_url() + "/embeddings"), std::string::npos) << r.status().message();
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(Statuses(*stats), (std::vector<int>{500, 500, 500}));
}

TEST(OpenAIEmbeddingsServerTest, ARefusedConnectionIsRetriedThenUnavailable) {
  int port = 0;
  {
    auto server = StartServer({"--dimension", "8"});
    ASSERT_NE(server, nullptr);
    port = server->port();
  }  // stopped: nothing listens there now
  OpenAIEmbeddingOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.model = "m";
  o.dimension = 8;
  o.max_attempts = 2;
  std::vector<int64_t> slept;
  auto e = Make(o, &slept);
  auto r = e->Embed({"x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("after 2 attempts"), std::string::npos) << r.status().message();
  EXPECT_EQ(slept.size(), 1u);
}

TEST(OpenAIEmbeddingsServerTest, WrongOrMissingKeyIs401AndNotRetried) {
  auto server = StartServer({"--dimension", "8", "--api-key", "right-key"});
  ASSERT_NE(server, nullptr);
  OpenAIEmbeddingOptions o = Opts(*server, 8);
  o.api_key = "wrong-key";
  auto wrong = Make(o);
  auto r = wrong->Embed({"x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_NE(r.status().message().find("HTTP 401: Incorrect API key provided"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().ToString().find("wrong-key"), std::string::npos) << "the key leaked into the message";
  o.api_key = "";
  EXPECT_EQ(Make(o)->Embed({"x"}).status().code(), StatusCode::kUnauthenticated);
  o.api_key = "right-key";
  EXPECT_TRUE(Make(o)->Embed({"x"}).ok());
  o.api_key_header = ApiKeyHeader::kApiKey;  // Azure's header: the server takes either
  EXPECT_TRUE(Make(o)->Embed({"x"}).ok());
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(Statuses(*stats), (std::vector<int>{401, 401, 200, 200}));
}

TEST(OpenAIEmbeddingsServerTest, DimensionMismatchNamesTheIndexAndBothDimensions) {
  auto server = StartServer({"--dimension", "8"});
  ASSERT_NE(server, nullptr);
  auto e = Make(Opts(*server, 16));
  auto r = e->Embed(Texts(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("data[0].embedding (input "), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("expected dimension 16"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("got 8"), std::string::npos) << r.status().message();
}

TEST(OpenAIEmbeddingsServerTest, ConfiguredFromTheEnvironment) {
  auto server = StartServer({"--dimension", "12", "--api-key", "env-key"});
  ASSERT_NE(server, nullptr);
  setenv("CHROMAPACT_EMBEDDING_URL", server->base_url().c_str(), 1);
  setenv("CHROMAPACT_EMBEDDING_MODEL", "local-hash", 1);
  setenv("CHROMAPACT_EMBEDDING_DIMENSION", "12", 1);
  setenv("CHROMAPACT_EMBEDDING_API_KEY", "env-key", 1);
  setenv("CHROMAPACT_EMBEDDING_MAX_BATCH", "2", 1);
  auto f = EmbeddingFunctionFromEnv();
  for (const char* v : {"CHROMAPACT_EMBEDDING_URL", "CHROMAPACT_EMBEDDING_MODEL", "CHROMAPACT_EMBEDDING_DIMENSION",
                        "CHROMAPACT_EMBEDDING_API_KEY", "CHROMAPACT_EMBEDDING_MAX_BATCH"}) {
    unsetenv(v);
  }
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_NE(f->get(), nullptr);
  auto r = (*f)->Embed(Texts(5));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 60u);
  auto stats = server->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(IntList((*stats)["input_counts"]), (std::vector<int>{2, 2, 1}));
}

}  // namespace
}  // namespace chromapact::embed
