// Texts as well as vectors, end to end against moto_server (signature checking on) and
// scripts/lib/embeddings_server.py: the producer embeds documents sent without embeddings (add,
// upsert with some rows embedded by the client, update re-embedding a changed document), the
// compactor publishes them, and the QueryService answers query_texts by embedding them: the record
// whose document was queried is the top hit at distance 0. Also: the errors (a record with neither
// an embedding nor a document, no embedding function configured, the collection's dimension, the
// provider down, Chroma's "exactly one of query_embeddings / query_texts"), each writing nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chromapact/embed/openai_embeddings.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "support/embeddings_server.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr uint32_t kTextDim = 64;

const std::vector<std::string> kDocs = {
    "the quick brown fox jumps over the lazy dog",
    "serverless vector search on aws lambda",
    "chocolate cake recipe with dark cocoa",
    "hnsw graphs make nearest neighbour search fast",
    "sqlite stores the metadata of every record",
};

class EmbeddingsPipelineTest : public PipelineMotoTest {
 protected:
  static void SetUpTestSuite() {
    StartMoto();
    auto s = testing::EmbeddingsServer::Start({"--dimension", std::to_string(kTextDim)});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }
  static void TearDownTestSuite() {
    server_.reset();
    PipelineMotoTest::TearDownTestSuite();
  }

  void SetUp() override {
    PipelineMotoTest::SetUp();
    ASSERT_NE(server_, nullptr);
    embedder_ = MakeEmbedder(server_->base_url(), kTextDim);
    ASSERT_NE(embedder_, nullptr);
    clock_.Set(SystemClock::Default()->NowMs());
  }

  static std::unique_ptr<embed::OpenAIEmbeddings> MakeEmbedder(const std::string& url, uint32_t dim,
                                                               int max_attempts = 2) {
    embed::OpenAIEmbeddingOptions o;
    o.base_url = url;
    o.model = "local-hash";
    o.dimension = dim;
    o.max_attempts = max_attempts;
    o.base_delay_ms = 1;
    o.cap_delay_ms = 5;
    auto e = embed::OpenAIEmbeddings::Create(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }

  // Parses `event` and produces it through the real producer into a one-shard collection.
  Result<ProduceResult> ProduceEvent(Seams* seams, const nlohmann::json& event, embed::EmbeddingFunction* ef) {
    auto req = ParseProduceRequest(event, "");
    if (!req.ok()) return req.status();
    ProducerOptions opts;
    opts.producer_id = "embeddings-test";
    opts.embedding_function = ef;
    DimensionRegistry dims(seams->kv.get());
    return Produce(seams->kv.get(), seams->objects.get(), seams->queue.get(), &dims, *req, opts);
  }

  // One compaction cycle of shard 0 of `collection` with the queue's triggers.
  void Compact(Seams* seams, const std::string& collection, const std::string& tag) {
    Compactor compactor(seams->kv.get(), seams->objects.get(), seams->queue.get(), &clock_, Options(tag, 60000));
    CycleResult r = compactor.RunCycle({collection, 0}, ReceiveAll(seams->queue.get(), 10));
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_GT(r.new_version, 0);
  }

  // A QueryService with the pointer table and cache it borrows.
  struct Query {
    std::unique_ptr<PointerTable> pointers;
    std::unique_ptr<PointerCache> cache;
    std::unique_ptr<QueryService> service;
    Result<nlohmann::json> Handle(const nlohmann::json& request) { return service->Handle(request); }
  };
  // A QueryService over `seams` with `ef` (may be null), reading the pointer on every request.
  std::unique_ptr<Query> Service(Seams* seams, embed::EmbeddingFunction* ef) {
    auto q = std::make_unique<Query>();
    q->pointers = std::make_unique<PointerTable>(seams->kv.get(), &clock_);
    q->cache = std::make_unique<PointerCache>(q->pointers.get(), &clock_, 0);
    QueryServiceOptions o;
    o.cache_dir = testing::MakeTempDir("embeddings-query");
    o.embedding_function = ef;
    q->service = std::make_unique<QueryService>(seams->objects.get(), q->cache.get(), o);
    return q;
  }

  size_t DeltaObjects(Seams* seams, const std::string& collection) {
    auto listed = seams->objects->List("deltas/" + collection + "/");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    return listed.ok() ? listed->size() : 0;
  }

  std::vector<float> EmbedOne(const std::string& text) {
    auto r = embedder_->Embed({text});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<float>();
  }

  static inline std::unique_ptr<testing::EmbeddingsServer> server_;
  std::unique_ptr<embed::OpenAIEmbeddings> embedder_;
  ManualClock clock_{0};
};

TEST_F(EmbeddingsPipelineTest, DocumentsOnlyWriteThenQueryByTextFindsTheDocument) {
  const std::string coll = "texts";
  Seams seams = NewSeams(CreateFifoQueue("embed-texts"));
  nlohmann::json ids = nlohmann::json::array(), metas = nlohmann::json::array();
  for (size_t i = 0; i < kDocs.size(); ++i) {
    ids.push_back("d" + std::to_string(i));
    metas.push_back({{"i", i}});
  }
  auto ack = ProduceEvent(&seams, {{"collection", coll}, {"operation", "add"}, {"ids", ids}, {"documents", kDocs},
                                   {"metadatas", metas}},
                          embedder_.get());
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->count, kDocs.size());
  Compact(&seams, coll, "embed-texts");

  auto qs = Service(&seams, embedder_.get());
  // The stored embeddings are the documents' embeddings.
  auto got = qs->Handle({{"collection", coll}, {"action", "get"}, {"ids", {"d0", "d3"}}, {"include", {"embeddings"}}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ((*got)["ids"].size(), 2u);
  for (size_t j = 0; j < 2; ++j) {
    const std::string id = (*got)["ids"][j];
    const std::vector<float> want = EmbedOne(kDocs[id == "d0" ? 0 : 3]);
    EXPECT_EQ((*got)["embeddings"][j].get<std::vector<float>>(), want) << id;
  }

  // Every document, queried by its own text, is its own top hit at distance 0.
  auto all = qs->Handle({{"collection", coll}, {"query_texts", kDocs}, {"n_results", 2}});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ((*all)["ids"].size(), kDocs.size());
  for (size_t i = 0; i < kDocs.size(); ++i) {
    EXPECT_EQ((*all)["ids"][i][0], "d" + std::to_string(i)) << (*all).dump();
    EXPECT_NEAR((*all)["distances"][i][0].get<double>(), 0.0, 1e-5);
    EXPECT_EQ((*all)["documents"][i][0], kDocs[i]);
  }
  // Texts sharing words with one document find it; a single string is one query.
  auto cake = qs->Handle({{"collection", coll}, {"query_texts", "dark chocolate cake"}, {"n_results", 1}});
  ASSERT_TRUE(cake.ok()) << cake.status().ToString();
  EXPECT_EQ((*cake)["ids"], nlohmann::json::array({{"d2"}})) << cake->dump();
  auto lambda = qs->Handle({{"collection", coll},
                            {"query_texts", {"vector search on lambda"}},
                            {"where", {{"i", {{"$ne", 1}}}}},
                            {"n_results", 1}});
  ASSERT_TRUE(lambda.ok()) << lambda.status().ToString();
  EXPECT_EQ((*lambda)["ids"], nlohmann::json::array({{"d3"}})) << "where still filters: " << lambda->dump();

  // Query errors, on the committed collection.
  auto both = qs->Handle({{"collection", coll}, {"query_texts", {"x"}}, {"query_embeddings", {EmbedOne("x")}}});
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(both.status().message().find("You must provide one of query_embeddings, query_texts"), std::string::npos)
      << both.status().ToString();
  auto neither = qs->Handle({{"collection", coll}, {"n_results", 1}});
  EXPECT_EQ(neither.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(neither.status().message().find("You must provide one of"), std::string::npos) << neither.status().ToString();
  auto not_string = qs->Handle({{"collection", coll}, {"query_texts", {"ok", 7}}});
  EXPECT_EQ(not_string.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_string.status().message().find("query_texts[1]: expected a string"), std::string::npos)
      << not_string.status().ToString();
  EXPECT_EQ(qs->Handle({{"collection", coll}, {"query_texts", nlohmann::json::array()}}).status().code(),
            StatusCode::kInvalidArgument);
  // A query of twice the collection's dimension is refused, not read as two queries.
  std::vector<float> twice = EmbedOne("x");
  twice.insert(twice.end(), twice.begin(), twice.end());
  auto doubled = qs->Handle({{"collection", coll}, {"query_embeddings", {twice}}});
  EXPECT_EQ(doubled.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(doubled.status().message().find("Collection expecting embedding with dimension of 64, got 128"),
            std::string::npos)
      << doubled.status().ToString();

  // No embedding function: query_texts says what to configure; query_embeddings still work.
  auto bare = Service(&seams, nullptr);
  auto unconfigured = bare->Handle({{"collection", coll}, {"query_texts", {"cake"}}});
  EXPECT_EQ(unconfigured.status().code(), StatusCode::kPreconditionFailed) << unconfigured.status().ToString();
  EXPECT_NE(unconfigured.status().message().find("query_texts: no embedding function configured: set "
                                                 "CHROMAPACT_EMBEDDING_URL"),
            std::string::npos)
      << unconfigured.status().message();
  auto by_vector = bare->Handle({{"collection", coll}, {"query_embeddings", {EmbedOne(kDocs[4])}}, {"n_results", 1}});
  ASSERT_TRUE(by_vector.ok()) << by_vector.status().ToString();
  EXPECT_EQ((*by_vector)["ids"][0][0], "d4");

  // An embedding function of another dimension than the collection's.
  auto server32 = testing::EmbeddingsServer::Start({"--dimension", "32"});
  ASSERT_TRUE(server32.ok()) << server32.status().ToString();
  auto small = MakeEmbedder((*server32)->base_url(), 32);
  auto wrong_dim = Service(&seams, small.get())->Handle({{"collection", coll}, {"query_texts", {"cake"}}});
  EXPECT_EQ(wrong_dim.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_dim.status().message().find("Collection expecting embedding with dimension of 64, got 32"),
            std::string::npos)
      << wrong_dim.status().ToString();
}

TEST_F(EmbeddingsPipelineTest, MixedUpsertAndUpdateReembedDocuments) {
  const std::string coll = "mixed";
  Seams seams = NewSeams(CreateFifoQueue("embed-mixed"));
  const std::vector<float> given = EmbedOne("a vector the client computed itself");
  // m0 gives its embedding, m1 only a document, m2 an embedding and a document (kept as given).
  auto ack = ProduceEvent(&seams,
                          {{"collection", coll},
                           {"operation", "upsert"},
                           {"ids", {"m0", "m1", "m2"}},
                           {"embeddings", {given, nullptr, given}},
                           {"documents", {nullptr, "first text of m1", "text not embedded"}}},
                          embedder_.get());
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  // Update: m1's document changes, so does its embedding (as Chroma's client re-embeds it); m0
  // gets a metadata only.
  ack = ProduceEvent(&seams,
                     {{"collection", coll},
                      {"operation", "update"},
                      {"ids", {"m1", "m0"}},
                      {"documents", {"second text about dark chocolate", nullptr}},
                      {"metadatas", {nullptr, {{"k", 1}}}}},
                     embedder_.get());
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  Compact(&seams, coll, "embed-mixed");

  auto qs = Service(&seams, embedder_.get());
  auto got = qs->Handle({{"collection", coll},
                         {"action", "get"},
                         {"ids", {"m0", "m1", "m2"}},
                         {"include", {"embeddings", "documents", "metadatas"}}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::map<std::string, size_t> at;
  for (size_t j = 0; j < (*got)["ids"].size(); ++j) at[(*got)["ids"][j]] = j;
  ASSERT_EQ(at.size(), 3u) << got->dump();
  auto emb = [&](const std::string& id) { return (*got)["embeddings"][at[id]].get<std::vector<float>>(); };
  EXPECT_EQ(emb("m0"), given);
  EXPECT_EQ(emb("m2"), given);
  EXPECT_EQ(emb("m1"), EmbedOne("second text about dark chocolate"));
  EXPECT_EQ((*got)["documents"][at["m1"]], "second text about dark chocolate");
  EXPECT_EQ((*got)["metadatas"][at["m0"]], nlohmann::json({{"k", 1}}));
  auto top = qs->Handle({{"collection", coll}, {"query_texts", {"dark chocolate"}}, {"n_results", 1}});
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  EXPECT_EQ((*top)["ids"][0][0], "m1");
}

TEST_F(EmbeddingsPipelineTest, WriteErrorsNameTheProblemAndWriteNothing) {
  Seams seams = NewSeams(CreateFifoQueue("embed-errors"));
  auto stats_before = server_->Stats();
  ASSERT_TRUE(stats_before.ok());

  // A record with neither an embedding nor a document.
  auto neither = ProduceEvent(
      &seams, {{"collection", "err-a"}, {"operation", "add"}, {"ids", {"a", "b"}}, {"documents", {"text", nullptr}}},
      embedder_.get());
  EXPECT_EQ(neither.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(neither.status().message().find("ids[1] ('b'): add needs an embedding or a document to embed"),
            std::string::npos)
      << neither.status().ToString();
  auto stats_after = server_->Stats();
  ASSERT_TRUE(stats_after.ok());
  EXPECT_EQ((*stats_after)["requests"].size(), (*stats_before)["requests"].size()) << "nothing was embedded";

  // Documents only, no embedding function configured.
  auto unconfigured = ProduceEvent(
      &seams, {{"collection", "err-b"}, {"operation", "upsert"}, {"ids", {"a"}}, {"documents", {"text"}}}, nullptr);
  EXPECT_EQ(unconfigured.status().code(), StatusCode::kPreconditionFailed) << unconfigured.status().ToString();
  EXPECT_NE(unconfigured.status().message().find("documents: no embedding function configured: set "
                                                 "CHROMAPACT_EMBEDDING_URL"),
            std::string::npos)
      << unconfigured.status().message();

  // The collection already has dimension 4: documents embedded to 64 are refused.
  auto four = ProduceEvent(&seams,
                           {{"collection", "err-c"}, {"operation", "add"}, {"ids", {"v"}}, {"embeddings", {{1, 2, 3, 4}}}},
                           embedder_.get());
  ASSERT_TRUE(four.ok()) << four.status().ToString();
  auto dim = ProduceEvent(
      &seams, {{"collection", "err-c"}, {"operation", "add"}, {"ids", {"t"}}, {"documents", {"text"}}}, embedder_.get());
  EXPECT_EQ(dim.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dim.status().message().find("Collection expecting embedding with dimension of 4, got 64"), std::string::npos)
      << dim.status().ToString();
  // Client embeddings of another dimension than the function's, in one request.
  auto mixed_dims = ProduceEvent(&seams,
                                 {{"collection", "err-d"},
                                  {"operation", "upsert"},
                                  {"ids", {"x", "y"}},
                                  {"embeddings", {{1, 2, 3, 4}, nullptr}},
                                  {"documents", {nullptr, "text"}}},
                                 embedder_.get());
  EXPECT_EQ(mixed_dims.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mixed_dims.status().message().find("embeddings[0]: dimension 4, but the embedding function"),
            std::string::npos)
      << mixed_dims.status().ToString();

  // The provider keeps failing: the write fails naming the step, after the retries.
  auto down = testing::EmbeddingsServer::Start({"--dimension", "64", "--fail-first", "100"});
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  auto failing = MakeEmbedder((*down)->base_url(), 64, 2);
  auto unavailable = ProduceEvent(
      &seams, {{"collection", "err-e"}, {"operation", "add"}, {"ids", {"a"}}, {"documents", {"text"}}}, failing.get());
  EXPECT_EQ(unavailable.status().code(), StatusCode::kUnavailable) << unavailable.status().ToString();
  EXPECT_NE(unavailable.status().message().find("documents: embed with local-hash at "), std::string::npos)
      << unavailable.status().message();
  EXPECT_NE(unavailable.status().message().find("after 2 attempts"), std::string::npos)
      << unavailable.status().message();

  for (const char* coll : {"err-a", "err-b", "err-d", "err-e"}) {
    EXPECT_EQ(DeltaObjects(&seams, coll), 0u) << coll;
    auto last = LastSequence(seams.kv.get(), {coll, 0});
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_EQ(*last, 0u) << coll;
  }
  EXPECT_EQ(DeltaObjects(&seams, "err-c"), 1u);  // only the 4-dimensional write
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
