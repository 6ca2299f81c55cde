// Get / Query / Count: include columns, limit/offset, where filters, Chroma's column-of-lists shape and
// REST JSON, and a differential test of query against exact brute force on random data.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "unit/store/store_test_util.h"

namespace chromapact::store {
namespace {
using testutil::MakeBatch;
using testutil::OpenOrDie;

// Exact top-k ids of `query` among records i (ids "id<i>") for which keep(i) holds.
std::vector<std::string> BruteTopK(const std::vector<float>& data, size_t n, size_t dim, Space space,
                                   const float* query, size_t k, const std::function<bool(size_t)>& keep) {
  std::vector<std::pair<float, size_t>> all;
  for (size_t i = 0; i < n; ++i) {
    if (keep(i)) all.push_back({Distance(space, query, data.data() + i * dim, dim), i});
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back("id" + std::to_string(all[i].second));
  return out;
}

TEST(QueryTest, GetIncludeLimitOffsetAndFilters) {
  auto store = OpenOrDie(chromapact::testing::MakeTempDir("query"));
  ASSERT_TRUE(store->CreateCollection("docs", {}).ok());
  RecordBatch b = MakeBatch(0, 20, 3, 5);
  ASSERT_TRUE(store->Add("docs", b).ok());
  GetRequest r;
  r.limit = 5;
  r.offset = 2;
  auto g = store->Get("docs", r);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->ids, (std::vector<std::string>{"id2", "id3", "id4", "id5", "id6"}));
  EXPECT_FALSE(g->embeddings.has_value());
  ASSERT_TRUE(g->documents && g->metadatas);
  EXPECT_EQ((*g->documents)[0], "doc 2");
  EXPECT_EQ((*g->metadatas)[0], nlohmann::json({{"i", 2}, {"even", true}, {"s", "s2"}}));

  GetRequest f;
  f.where = {{"i", {{"$gte", 15}}}};
  f.include = kIncludeEmbeddings;
  g = store->Get("docs", f);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->ids, (std::vector<std::string>{"id15", "id16", "id17", "id18", "id19"}));
  EXPECT_EQ((*g->embeddings)[0], std::vector<float>(b.embeddings.begin() + 45, b.embeddings.begin() + 48));
  EXPECT_FALSE(g->documents.has_value());

  GetRequest d;
  d.where_document = {{"$contains", "doc 1"}};
  d.ids = std::vector<std::string>{"id1", "id12", "id3", "nope"};
  g = store->Get("docs", d);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->ids, (std::vector<std::string>{"id1", "id12"}));

  nlohmann::json j = ToJson(*g);
  EXPECT_EQ(j["ids"], nlohmann::json({"id1", "id12"}));
  EXPECT_TRUE(j["embeddings"].is_null());
  EXPECT_TRUE(j["uris"].is_null());
  EXPECT_EQ(j["documents"], nlohmann::json({"doc 1", "doc 12"}));
  EXPECT_EQ(j["include"], nlohmann::json({"documents", "metadatas"}));
  EXPECT_EQ(*store->Count("docs"), 20u);
  EXPECT_EQ(store->Count("none").status().code(), StatusCode::kNotFound);
}

TEST(QueryTest, QueryShapeDistancesAndValidation) {
  auto store = OpenOrDie(chromapact::testing::MakeTempDir("query"));
  CollectionOptions o;
  o.hnsw.space = Space::kCosine;
  ASSERT_TRUE(store->CreateCollection("docs", o).ok());
  RecordBatch b;
  b.ids = {"a", "b", "c"};
  b.embeddings = {1, 0, 0, 1, 0.1f, 0, 0, 0, 2};
  b.documents = {std::string("A"), std::string("B"), std::nullopt};
  ASSERT_TRUE(store->Add("docs", b).ok());
  QueryRequest q;
  q.query_embeddings = {1, 0, 0, 0, 0, 1};
  q.n_results = 2;
  q.include = kDefaultQueryInclude | kIncludeEmbeddings;
  auto r = store->Query("docs", q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->ids.size(), 2u);
  EXPECT_EQ(r->ids[0], (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->ids[1][0], "c");
  EXPECT_NEAR((*r->distances)[0][0], 0.0f, 1e-6);
  EXPECT_NEAR((*r->distances)[0][1], 1.0f - 1.0f / std::sqrt(1.01f), 1e-5);
  EXPECT_EQ((*r->embeddings)[1][0], (std::vector<float>{0, 0, 2}));  // original, not normalised
  EXPECT_EQ((*r->documents)[0][1], "B");
  EXPECT_FALSE((*r->documents)[1][0].has_value());
  nlohmann::json j = ToJson(*r);
  EXPECT_EQ(j["include"], nlohmann::json({"documents", "metadatas", "embeddings", "distances"}));
  EXPECT_EQ(j["embeddings"][0][1], nlohmann::json({1, 0.1, 0}));  // float32 printed shortest
  EXPECT_EQ(j["metadatas"][0], nlohmann::json({nullptr, nullptr}));

  q.n_results = 10;  // more than there are: all three
  r = store->Query("docs", q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ids[0].size(), 3u);
  q.query_embeddings = {1, 0};
  EXPECT_EQ(store->Query("docs", q).status().code(), StatusCode::kInvalidArgument);
  q.query_embeddings = {1, 0, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EQ(store->Query("docs", q).status().code(), StatusCode::kInvalidArgument);
  q.query_embeddings = {1, 0, 0};
  q.n_results = 0;
  EXPECT_EQ(store->Query("docs", q).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseInclude(nlohmann::json{"documents", "bogus"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseInclude(nlohmann::json{"embeddings", "distances", "uris"}), kIncludeEmbeddings | kIncludeDistances);
}

// Brute-force paths must equal exact top-k; the unfiltered HNSW path (2000 records > threshold) needs
// recall >= 0.95; a broad filter (> threshold matches) goes through HNSW with a functor.
TEST(QueryTest, DifferentialAgainstExactBruteForce) {
  constexpr size_t kN = 2000, kDim = 32, kK = 10, kQueries = 20;
  for (Space space : {Space::kL2, Space::kCosine, Space::kIp}) {
    auto store = OpenOrDie(chromapact::testing::MakeTempDir("query"));
    CollectionOptions o;
    o.hnsw.space = space;
    ASSERT_TRUE(store->CreateCollection("rand", o).ok());
    RecordBatch b = MakeBatch(0, kN, kDim, 42);
    ASSERT_TRUE(store->Add("rand", b).ok());
    const std::vector<float> queries = testutil::RandomVectors(kQueries, kDim, 7);
    struct Case {
      nlohmann::json where;
      std::function<bool(size_t)> keep;
      bool exact;
    };
    std::vector<Case> cases = {
        {nullptr, [](size_t) { return true; }, false},
        {{{"i", {{"$lt", 300}}}}, [](size_t i) { return i < 300; }, true},              // selective
        {{{"even", true}}, [](size_t i) { return i % 2 == 0; }, true},                  // 1000 = threshold
        {{{"i", {{"$gte", 500}}}}, [](size_t i) { return i >= 500; }, false},           // broad: HNSW + functor
    };
    for (const Case& c : cases) {
      QueryRequest q;
      q.query_embeddings = queries;
      q.n_results = kK;
      q.where = c.where;
      q.include = kIncludeDistances;
      auto r = store->Query("rand", q);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      size_t hits = 0;
      for (size_t qi = 0; qi < kQueries; ++qi) {
        auto expect = BruteTopK(b.embeddings, kN, kDim, space, queries.data() + qi * kDim, kK, c.keep);
        ASSERT_EQ(r->ids[qi].size(), kK);
        for (const auto& id : r->ids[qi]) {
          size_t i = std::stoul(id.substr(2));
          EXPECT_TRUE(c.keep(i)) << id << " does not match " << c.where.dump();
        }
        if (c.exact) {
          EXPECT_EQ(r->ids[qi], expect) << SpaceName(space) << " " << c.where.dump();
        }
        std::set<std::string> got(r->ids[qi].begin(), r->ids[qi].end());
        for (const auto& id : expect) hits += got.count(id);
        EXPECT_TRUE(std::is_sorted((*r->distances)[qi].begin(), (*r->distances)[qi].end()));
      }
      double recall = static_cast<double>(hits) / (kQueries * kK);
      EXPECT_GE(recall, c.exact ? 1.0 : 0.95) << SpaceName(space) << " " << c.where.dump();
    }
  }
}

}  // namespace
}  // namespace chromapact::store
