// The filtered query's search paths (filter_search.h, HnswSegment::SearchAllowed / ExactAmong):
// exact search over a slot list equals brute force with Distance() in every space (early abandoning
// included, zero vectors and a zero query too), ties go by list position; HNSW with an allow-list returns
// only allowed records; through the Store, filtered top-10 on a clustered set keeps recall >= 0.95
// against exact search at 1%, 10% and 50% selectivity on either path; a cached allow-list never outlives
// a write that changes the matching set.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chromapact/store/hnsw_segment.h"
#include "chromapact/store/store.h"
#include "store/filter_search.h"
#include "support/paths.h"

namespace chromapact::store {
namespace {

using nlohmann::json;

// n x dim points around `clusters` centres uniform in [-1, 1)^dim, Gaussian noise sigma 0.12.
std::vector<float> Clustered(size_t n, size_t dim, size_t clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::normal_distribution<float> g(0.f, 0.12f);
  std::vector<float> centres(clusters * dim);
  for (float& c : centres) c = u(rng);
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = i % clusters;
    for (size_t d = 0; d < dim; ++d) out[i * dim + d] = centres[c * dim + d] + g(rng);
  }
  return out;
}

// Exact k nearest of `allowed` rows by Distance(), ties by row order: (distance, row).
std::vector<std::pair<float, size_t>> Exact(Space space, const float* q, const std::vector<float>& data, size_t dim,
                                            const std::vector<size_t>& allowed, size_t k) {
  std::vector<std::pair<float, size_t>> all;
  for (size_t r : allowed) all.emplace_back(Distance(space, q, &data[r * dim], dim), r);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  all.resize(std::min(k, all.size()));
  return all;
}

class ExactAmongTest : public ::testing::TestWithParam<Space> {};

TEST_P(ExactAmongTest, EqualsBruteForceOverTheSlotList) {
  const Space space = GetParam();
  constexpr size_t kDim = 200;  // three 64-float blocks and a tail of 8: early abandoning in play
  constexpr size_t kN = 3000;
  std::vector<float> data = Clustered(kN, kDim, 30, 1);
  // A zero embedding (not a unit vector for cosine) and two far outliers.
  std::fill(data.begin() + 5 * kDim, data.begin() + 6 * kDim, 0.f);
  for (size_t d = 0; d < kDim; ++d) data[7 * kDim + d] = 5.f, data[8 * kDim + d] = -4.f;
  HnswParams p;
  p.space = space;
  auto seg = HnswSegment::Create(kDim, p);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ASSERT_TRUE((*seg)->Reserve(kN).ok());
  for (size_t i = 0; i < kN; ++i) ASSERT_TRUE((*seg)->Upsert("r" + std::to_string(i), &data[i * kDim]).ok());

  std::mt19937 rng(2);
  std::vector<float> queries = Clustered(40, kDim, 30, 3);
  std::fill(queries.begin(), queries.begin() + kDim, 0.f);  // query 0: the zero vector
  for (size_t qi = 0; qi < 40; ++qi) {
    const float* q = &queries[qi * kDim];
    // A random subset (always with the zero vector and the outliers), in a shuffled order.
    std::vector<size_t> rows;
    const double keep = qi % 2 ? 0.05 : 0.6;
    for (size_t r = 0; r < kN; ++r) {
      if (r == 5 || r == 7 || r == 8 || std::uniform_real_distribution<double>(0, 1)(rng) < keep) rows.push_back(r);
    }
    std::shuffle(rows.begin(), rows.end(), rng);
    std::vector<uint32_t> slots;
    for (size_t r : rows) {
      auto s = (*seg)->Slot("r" + std::to_string(r));
      ASSERT_TRUE(s.has_value());
      slots.push_back(*s);
    }
    for (size_t k : {size_t{1}, size_t{10}, size_t{37}}) {
      auto got = (*seg)->ExactAmong(q, k, slots.data(), slots.size());
      auto want = Exact(space, q, data, kDim, rows, k);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        const float tol = 1e-5f * std::max(1.f, std::fabs(want[i].first));
        EXPECT_NEAR(got[i].distance, want[i].first, 10 * tol) << "query " << qi << " rank " << i;
        // The same record, unless two distances are equal to float rounding.
        if (got[i].id != "r" + std::to_string(want[i].second)) {
          const size_t row = std::stoul(got[i].id.substr(1));
          EXPECT_NEAR(Distance(space, q, &data[row * kDim], kDim), want[i].first, 10 * tol)
              << "query " << qi << " rank " << i << ": " << got[i].id;
        }
        if (i) {
          EXPECT_LE(got[i - 1].distance, got[i].distance);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Spaces, ExactAmongTest, ::testing::Values(Space::kL2, Space::kCosine, Space::kIp),
                         [](const auto& info) { return std::string(SpaceName(info.param)); });

TEST(ExactAmong, TiesGoByPositionInTheList) {
  constexpr size_t kDim = 130;
  auto seg = HnswSegment::Create(kDim, HnswParams{});
  ASSERT_TRUE(seg.ok());
  std::vector<float> same(kDim, 0.25f), far(kDim, 3.f);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE((*seg)->Upsert("t" + std::to_string(i), i % 3 ? same.data() : far.data()).ok());
  std::vector<uint32_t> slots;
  for (int i = 29; i >= 0; --i) slots.push_back(*(*seg)->Slot("t" + std::to_string(i)));  // reversed
  auto got = (*seg)->ExactAmong(same.data(), 5, slots.data(), slots.size());
  ASSERT_EQ(got.size(), 5u);
  const std::vector<std::string> want = {"t29", "t28", "t26", "t25", "t23"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].id, want[i]);
    EXPECT_EQ(got[i].distance, 0.f);
  }
}

TEST(SearchAllowed, ReturnsOnlyAllowedSlotsAndMatchesTheIdFilter) {
  constexpr size_t kDim = 16, kN = 2000;
  std::vector<float> data = Clustered(kN, kDim, 10, 4);
  auto seg = HnswSegment::Create(kDim, HnswParams{});
  ASSERT_TRUE(seg.ok());
  for (size_t i = 0; i < kN; ++i) ASSERT_TRUE((*seg)->Upsert("r" + std::to_string(i), &data[i * kDim]).ok());
  const uint32_t deleted = *(*seg)->Slot("r3");
  ASSERT_TRUE((*seg)->Delete("r3").ok());  // deleted: never returned even though its bit is set
  EXPECT_FALSE((*seg)->Slot("r3").has_value());
  std::vector<uint64_t> bits(((*seg)->record_count() + 63) / 64, 0);
  bits[deleted / 64] |= uint64_t{1} << (deleted % 64);
  std::set<std::string> allowed;
  for (size_t i = 0; i < kN; i += 7) {
    const uint32_t s = *(*seg)->Slot("r" + std::to_string(i));
    bits[s / 64] |= uint64_t{1} << (s % 64);
    allowed.insert("r" + std::to_string(i));
  }
  std::function<bool(const std::string&)> by_id = [&](const std::string& id) { return allowed.count(id) > 0; };
  for (size_t qi = 0; qi < 20; ++qi) {
    const float* q = &data[(qi * 97 % kN) * kDim];
    auto got = (*seg)->SearchAllowed(q, 10, bits.data());
    auto want = (*seg)->Search(q, 10, &by_id);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, want[i].id);
      EXPECT_EQ(got[i].distance, want[i].distance);
      EXPECT_EQ(allowed.count(got[i].id), 1u) << got[i].id;
    }
  }
}

TEST(BruteForceLimit, GrowsAsTwoThirdsPowerAndCanBeForced) {
  using internal::BruteForceLimit;
  EXPECT_EQ(BruteForceLimit(10, 500), kBruteForceThreshold);
  EXPECT_EQ(BruteForceLimit(500, 500), 5000u);
  EXPECT_NEAR(static_cast<double>(BruteForceLimit(10, 100000)), 12925, 2);
  EXPECT_NEAR(static_cast<double>(BruteForceLimit(10, 1000000)), 60000, 2);
  internal::SetBruteForceThresholdForTesting(0);
  EXPECT_EQ(BruteForceLimit(10, 100000), 0u);
  internal::SetBruteForceThresholdForTesting(std::nullopt);
  EXPECT_NEAR(static_cast<double>(BruteForceLimit(10, 100000)), 12925, 2);
}

// A clustered collection with metadata {"bucket": b}, b uniform in [0, 100) independent of the cluster.
class FilteredStoreTest : public ::testing::Test {
 protected:
  static constexpr size_t kDim = 48, kN = 8000;
  void SetUp() override {
    dir_ = chromapact::testing::MakeTempDir("filtered_search");
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    CollectionOptions o;
    o.dimension = kDim;
    ASSERT_TRUE(store_->CreateCollection("coll", o).ok());
    data_ = Clustered(kN, kDim, 80, 5);
    std::mt19937 rng(6);
    RecordBatch b;
    for (size_t i = 0; i < kN; ++i) {
      bucket_.push_back(static_cast<int>(rng() % 100));
      b.ids.push_back("r" + std::to_string(i));
      b.metadatas.push_back(json{{"bucket", bucket_.back()}});
    }
    b.embeddings = data_;
    ASSERT_TRUE(store_->Add("coll", b).ok());
  }
  void TearDown() override { internal::SetBruteForceThresholdForTesting(std::nullopt); }

  // Recall@10 of Query with {"bucket": {"$lt": pct}} over 40 queries against exact search.
  double Recall(int pct) {
    std::vector<size_t> rows;
    for (size_t i = 0; i < kN; ++i) {
      if (bucket_[i] < pct) rows.push_back(i);
    }
    std::vector<float> queries = Clustered(40, kDim, 80, 7);
    size_t hits = 0, total = 0;
    for (size_t qi = 0; qi < 40; ++qi) {
      const float* q = &queries[qi * kDim];
      QueryRequest r;
      r.query_embeddings.assign(q, q + kDim);
      r.n_results = 10;
      r.where = {{"bucket", {{"$lt", pct}}}};
      r.include = kIncludeDistances;
      auto res = store_->Query("coll", r);
      EXPECT_TRUE(res.ok()) << res.status().ToString();
      if (!res.ok()) return 0;
      std::set<std::string> want;
      for (const auto& [d, row] : Exact(Space::kL2, q, data_, kDim, rows, 10)) want.insert("r" + std::to_string(row));
      for (size_t i = 0; i < res->ids[0].size(); ++i) {
        const std::string& id = res->ids[0][i];
        const size_t row = std::stoul(id.substr(1));
        EXPECT_LT(bucket_[row], pct) << id << " does not match";
        EXPECT_NEAR((*res->distances)[0][i], Distance(Space::kL2, q, &data_[row * kDim], kDim), 1e-3f);
        hits += want.count(id);
      }
      total += want.size();
    }
    return static_cast<double>(hits) / static_cast<double>(total);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::vector<float> data_;
  std::vector<int> bucket_;
};

TEST_F(FilteredStoreTest, RecallAtOneTenAndFiftyPercentOnEitherPath) {
  for (int pct : {1, 10, 50}) {
    EXPECT_GE(Recall(pct), 0.95) << pct << "% with the default rule";
    internal::SetBruteForceThresholdForTesting(0);  // HNSW with the allow-list whatever the size
    EXPECT_GE(Recall(pct), 0.95) << pct << "% through HNSW";
    internal::SetBruteForceThresholdForTesting(SIZE_MAX);  // exact whatever the size
    EXPECT_EQ(Recall(pct), 1.0) << pct << "% exact";
    internal::SetBruteForceThresholdForTesting(std::nullopt);
  }
}

TEST_F(FilteredStoreTest, CachedAllowListFollowsWrites) {
  auto ids_of = [&](const json& where, size_t n) {
    QueryRequest r;
    r.query_embeddings.assign(data_.begin(), data_.begin() + kDim);  // record r0's vector
    r.n_results = n;
    r.where = where;
    r.include = 0;
    auto res = store_->Query("coll", r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? res->ids[0] : std::vector<std::string>{};
  };
  const json where = {{"bucket", 1000}};
  EXPECT_TRUE(ids_of(where, 5).empty());
  // Metadata-only update: r0 now matches; the same filter must see it.
  RecordBatch u;
  u.ids = {"r0"};
  u.metadatas = {json{{"bucket", 1000}}};
  ASSERT_TRUE(store_->Update("coll", u).ok());
  EXPECT_EQ(ids_of(where, 5), std::vector<std::string>{"r0"});
  // A new record that matches.
  RecordBatch a;
  a.ids = {"new"};
  a.embeddings.assign(data_.begin() + kDim, data_.begin() + 2 * kDim);
  a.metadatas = {json{{"bucket", 1000}}};
  ASSERT_TRUE(store_->Add("coll", a).ok());
  auto two = ids_of(where, 5);
  std::sort(two.begin(), two.end());
  EXPECT_EQ(two, (std::vector<std::string>{"new", "r0"}));
  // Deleted: gone from the cached set; an equal filter with its keys in another order agrees.
  ASSERT_TRUE(store_->Delete("coll", std::vector<std::string>{"r0"}, nullptr, nullptr).ok());
  EXPECT_EQ(ids_of(where, 5), std::vector<std::string>{"new"});
  const json both = {{"$and", {{{"bucket", 1000}}, {{"bucket", {{"$gte", 0}}}}}}};
  EXPECT_EQ(ids_of(both, 5), std::vector<std::string>{"new"});
  // Broad filters cached side by side (more than the cache holds) still answer right.
  for (int round = 0; round < 2; ++round) {
    for (int p = 1; p <= 12; ++p) {
      auto got = ids_of({{"bucket", {{"$lt", p}}}}, 3);
      ASSERT_EQ(got.size(), 3u);
      for (const auto& id : got) {
        if (id != "new") {
          EXPECT_LT(bucket_[std::stoul(id.substr(1))], p) << id;
        }
      }
    }
  }
}

TEST_F(FilteredStoreTest, EqualVectorsComeBackInInsertionOrder) {
  RecordBatch b;
  std::vector<float> v(kDim, 9.f);
  for (int i = 0; i < 12; ++i) {
    b.ids.push_back("dup" + std::to_string(i));
    b.metadatas.push_back(json{{"dup", true}});
    b.embeddings.insert(b.embeddings.end(), v.begin(), v.end());
  }
  ASSERT_TRUE(store_->Add("coll", b).ok());
  QueryRequest r;
  r.query_embeddings = v;
  r.n_results = 4;
  r.where = {{"dup", true}};
  auto res = store_->Query("coll", r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->ids[0], (std::vector<std::string>{"dup0", "dup1", "dup2", "dup3"}));
}

}  // namespace
}  // namespace chromapact::store
