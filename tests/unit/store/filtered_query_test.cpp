// Randomised differential test of filtered get/query through the Store facade (store.h): random
// records with random metadata and documents, random `where` / `where_document` filters of varied
// selectivity (down to 1-5 matches); Get with the filter returns exactly the matching set, and
// Query's top-k equals exact brute force over the matching set (ids and distances). The matching
// set comes from the in-memory reference evaluator (filter_fixture.h), not from SQL.
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "chromapact/store/store.h"
#include "filter_fixture.h"
#include "support/paths.h"

namespace chromapact::store::testing {
namespace {

constexpr size_t kDim = 8;
constexpr size_t kRecords = 1500;  // above kBruteForceThreshold for unselective filters

struct Data {
  std::vector<Rec> recs;
  std::vector<float> vecs;  // kRecords x kDim
};

Data MakeData(std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::uniform_int_distribution<int> pct(1, 100);
  Data d;
  static const std::vector<std::string> kWords = {"alpha", "beta", "gamma", "delta", "foo_bar", "100%"};
  for (size_t n = 0; n < kRecords; ++n) {
    Rec r{"id" + std::to_string(n), json::object(), std::nullopt};
    r.metadata["u"] = static_cast<int64_t>(n);                    // unique: very selective filters
    r.metadata["g"] = static_cast<int64_t>(n % 10);               // 10% groups
    r.metadata["f"] = static_cast<double>(n % 7) + 0.5;          // float
    if (pct(rng) <= 50) r.metadata["b"] = pct(rng) <= 50;        // bool, often missing
    r.metadata["s"] = kWords[n % kWords.size()];
    if (pct(rng) <= 90) r.document = kWords[n % 5] + " " + kWords[(n / 5) % kWords.size()] + " #" + std::to_string(n);
    d.recs.push_back(std::move(r));
    for (size_t k = 0; k < kDim; ++k) d.vecs.push_back(u(rng));
  }
  return d;
}

json RandomWhere(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> pick(0, 8);
  std::uniform_int_distribution<int64_t> id(0, static_cast<int64_t>(n) - 1);
  switch (pick(rng)) {
    case 0: return {{"u", id(rng)}};                                                          // 1 match
    case 1: return {{"u", {{"$in", {id(rng), id(rng), id(rng), id(rng), id(rng)}}}}};          // <= 5
    case 2: { int64_t lo = id(rng); return {{"$and", {{{"u", {{"$gte", lo}}}}, {{"u", {{"$lt", lo + 3}}}}}}}; }
    case 3: return {{"g", static_cast<int64_t>(id(rng) % 10)}};                               // ~10%
    case 4: return {{"g", {{"$ne", static_cast<int64_t>(id(rng) % 10)}}}};                    // ~90%
    case 5: return {{"f", {{"$lt", 2.0}}}};                                                   // ~2/7
    case 6: return {{"b", true}};
    case 7: return {{"$or", {{{"s", "gamma"}}, {{"u", {{"$lt", 20}}}}}}};
    default: return nullptr;
  }
}

json RandomDoc(std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, 5);
  switch (pick(rng)) {
    case 0: return {{"$contains", "alpha"}};
    case 1: return {{"$not_contains", "beta"}};
    case 2: return {{"$regex", "#1[0-9]$"}};
    default: return nullptr;
  }
}

TEST(FilteredQueryTest, GetAndQueryEqualBruteForceOverTheMatchingSet) {
  std::mt19937 rng(7);
  Data data = MakeData(rng);
  std::string dir = chromapact::testing::MakeTempDir("filtered_query");
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CollectionOptions opts;
  opts.dimension = kDim;
  ASSERT_TRUE((*store)->CreateCollection("filtered", opts).ok());
  RecordBatch batch;
  for (const auto& r : data.recs) {
    batch.ids.push_back(r.id);
    batch.documents.push_back(r.document);
    batch.metadatas.push_back(r.metadata);
  }
  batch.embeddings = data.vecs;
  ASSERT_TRUE((*store)->Add("filtered", batch).ok());

  size_t tiny = 0, exact_checked = 0, approx_checked = 0;
  for (int t = 0; t < 80; ++t) {
    json where = RandomWhere(rng, kRecords);
    json doc = t % 3 == 0 ? RandomDoc(rng) : json(nullptr);
    auto want = RefSelect(data.recs, where, doc);  // sorted ids
    tiny += !want.empty() && want.size() <= 5;
    GetRequest g;
    g.where = where;
    g.where_document = doc;
    g.include = 0;
    auto got = (*store)->Get("filtered", g);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto got_ids = got->ids;
    // Storage (insertion) order: ascending record number.
    EXPECT_TRUE(std::is_sorted(got_ids.begin(), got_ids.end(), [](const std::string& a, const std::string& b) {
      return std::stoul(a.substr(2)) < std::stoul(b.substr(2));
    })) << where.dump();
    std::sort(got_ids.begin(), got_ids.end());
    ASSERT_EQ(got_ids, want) << where.dump() << " " << doc.dump();

    // Brute force over the matching set.
    std::vector<float> q(kDim);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (auto& x : q) x = u(rng);
    std::vector<std::pair<float, std::string>> exact;
    for (const auto& id : want) {
      size_t row = std::stoul(id.substr(2));
      exact.emplace_back(Distance(Space::kL2, q.data(), &data.vecs[row * kDim], kDim), id);
    }
    std::sort(exact.begin(), exact.end());
    QueryRequest qr;
    qr.query_embeddings = q;
    qr.n_results = 10;
    qr.where = where;
    qr.where_document = doc;
    qr.include = kIncludeDistances;
    auto res = (*store)->Query("filtered", qr);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    size_t k = std::min<size_t>(10, exact.size());
    ASSERT_EQ(res->ids.size(), 1u);
    ASSERT_TRUE(res->distances.has_value());
    ASSERT_EQ(res->ids[0].size(), k) << where.dump() << " " << doc.dump();
    if (want.size() <= std::max<size_t>(kBruteForceThreshold, 10 * qr.n_results)) {
      ++exact_checked;
      for (size_t i = 0; i < k; ++i) {
        EXPECT_EQ(res->ids[0][i], exact[i].second) << where.dump() << " " << doc.dump() << " rank " << i;
        EXPECT_NEAR((*res->distances)[0][i], exact[i].first, 1e-4f) << where.dump() << " rank " << i;
      }
    } else {
      // HNSW with a filter functor: every hit matches, its distance is right, order ascending,
      // and recall against brute force is high.
      ++approx_checked;
      size_t found = 0;
      for (size_t i = 0; i < k; ++i) {
        const std::string& id = res->ids[0][i];
        ASSERT_TRUE(std::binary_search(want.begin(), want.end(), id)) << id << " does not match " << where.dump();
        size_t row = std::stoul(id.substr(2));
        EXPECT_NEAR((*res->distances)[0][i], Distance(Space::kL2, q.data(), &data.vecs[row * kDim], kDim), 1e-4f);
        if (i) {
          EXPECT_LE((*res->distances)[0][i - 1], (*res->distances)[0][i]);
        }
        for (size_t j = 0; j < k; ++j) found += exact[j].second == id;
      }
      EXPECT_GE(found, k * 8 / 10) << "recall " << found << "/" << k << " for " << where.dump();
    }
  }
  EXPECT_GT(exact_checked, 20u);
  EXPECT_GT(approx_checked, 0u);
  EXPECT_GT(tiny, 5u);  // very selective filters were exercised
}

}  // namespace
}  // namespace chromapact::store::testing
