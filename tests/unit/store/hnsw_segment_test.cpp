// HnswSegment in memory: upsert/get/delete semantics, labels, each distance space, recall vs brute force,
// filtered search.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chromapact/store/hnsw_segment.h"

namespace chromapact::store {
namespace {

std::vector<float> RandomVectors(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n * dim);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::string Id(size_t i) { return "id" + std::to_string(i); }

std::unique_ptr<HnswSegment> MakeSegment(size_t dim, Space space) {
  HnswParams p;
  p.space = space;
  auto r = HnswSegment::Create(dim, p);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// Exact top-k ids by Chroma's distance.
std::vector<std::string> BruteForce(Space space, const std::vector<float>& data, size_t dim, const float* q, size_t k,
                                    const std::function<bool(size_t)>& keep) {
  std::vector<std::pair<float, size_t>> all;
  for (size_t i = 0; i < data.size() / dim; ++i) {
    if (keep(i)) all.emplace_back(Distance(space, q, &data[i * dim], dim), i);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(Id(all[i].second));
  return out;
}

TEST(HnswSegmentTest, CreateRejectsBadParams) {
  HnswParams p;
  EXPECT_EQ(HnswSegment::Create(0, p).status().code(), StatusCode::kInvalidArgument);
  p.M = 1;
  EXPECT_EQ(HnswSegment::Create(4, p).status().code(), StatusCode::kInvalidArgument);
}

TEST(HnswSegmentTest, SpaceNamesRoundTrip) {
  for (Space s : {Space::kL2, Space::kCosine, Space::kIp}) {
    auto parsed = ParseSpace(SpaceName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = ParseSpace("euclid");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("euclid"), std::string::npos);
}

TEST(HnswSegmentTest, DistanceDefinitions) {
  const float a[2] = {3, 4}, b[2] = {6, 8}, c[2] = {1, 0};
  EXPECT_FLOAT_EQ(Distance(Space::kL2, a, b, 2), 9 + 16);
  EXPECT_NEAR(Distance(Space::kCosine, a, b, 2), 0.0f, 1e-6);
  EXPECT_NEAR(Distance(Space::kCosine, a, c, 2), 1.0f - 0.6f, 1e-6);
  EXPECT_FLOAT_EQ(Distance(Space::kIp, a, c, 2), 1.0f - 3.0f);
}

TEST(HnswSegmentTest, UpsertGetDeleteAndLabels) {
  auto seg = MakeSegment(3, Space::kL2);
  const float v1[3] = {1, 2, 3}, v2[3] = {4, 5, 6}, v3[3] = {7, 8, 9};
  ASSERT_TRUE(seg->Upsert("a", v1).ok());
  ASSERT_TRUE(seg->Upsert("b", v2).ok());
  EXPECT_EQ(seg->size(), 2u);
  EXPECT_EQ(*seg->Label("a"), 1u);
  EXPECT_EQ(*seg->Label("b"), 2u);
  EXPECT_EQ(*seg->Get("b"), std::vector<float>({4, 5, 6}));

  // Update keeps the label and the slot.
  ASSERT_TRUE(seg->Upsert("a", v3).ok());
  EXPECT_EQ(*seg->Label("a"), 1u);
  EXPECT_EQ(seg->record_count(), 2u);
  EXPECT_EQ(*seg->Get("a"), std::vector<float>({7, 8, 9}));

  ASSERT_TRUE(seg->Delete("a").ok());
  EXPECT_FALSE(seg->Contains("a"));
  EXPECT_EQ(seg->Get("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(seg->Delete("a").code(), StatusCode::kNotFound);
  EXPECT_EQ(seg->size(), 1u);
  // A deleted id that comes back is a new element with the next label.
  ASSERT_TRUE(seg->Upsert("a", v1).ok());
  EXPECT_EQ(*seg->Label("a"), 3u);
  EXPECT_EQ(seg->record_count(), 3u);
  EXPECT_EQ(seg->total_elements_added(), 3u);

  std::vector<std::string> order;
  seg->ForEach([&](const std::string& id, const float*) { order.push_back(id); });
  EXPECT_EQ(order, std::vector<std::string>({"b", "a"}));  // label order

  auto hits = seg->Search(v1, 5, nullptr);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, "a");
  EXPECT_FLOAT_EQ(hits[0].distance, 0.0f);
}

TEST(HnswSegmentTest, RejectsEmptyIdAndNonFinite) {
  auto seg = MakeSegment(2, Space::kL2);
  const float ok[2] = {1, 1};
  const float bad[2] = {1, std::nanf("")};
  EXPECT_EQ(seg->Upsert("", ok).code(), StatusCode::kInvalidArgument);
  Status s = seg->Upsert("x", bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("embedding[1]"), std::string::npos) << s.message();
  EXPECT_EQ(seg->size(), 0u);
}

TEST(HnswSegmentTest, GrowsCapacityLikeChroma) {
  auto seg = MakeSegment(2, Space::kL2);
  EXPECT_EQ(seg->capacity(), 100u);
  const auto data = RandomVectors(130, 2, 7);
  for (size_t i = 0; i < 101; ++i) ASSERT_TRUE(seg->Upsert(Id(i), &data[i * 2]).ok());
  EXPECT_EQ(seg->capacity(), 128u);
  ASSERT_TRUE(seg->Reserve(1000).ok());
  EXPECT_EQ(seg->capacity(), 1024u);
  for (size_t i = 0; i < 101; ++i) EXPECT_EQ(*seg->Get(Id(i)), std::vector<float>(&data[i * 2], &data[i * 2 + 2]));
}

TEST(HnswSegmentTest, CosineGetReturnsOriginalScale) {
  auto seg = MakeSegment(3, Space::kCosine);
  const float v[3] = {3, 0, 4};
  ASSERT_TRUE(seg->Upsert("v", v).ok());
  auto got = *seg->Get("v");
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], v[i], 1e-5);
  const float q[3] = {6, 0, 8};
  auto hits = seg->Search(q, 1, nullptr);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0].distance, 0.0f, 1e-6);
}

class HnswRecallTest : public ::testing::TestWithParam<Space> {};

TEST_P(HnswRecallTest, RecallAgainstBruteForceWithDeletesAndFilter) {
  const Space space = GetParam();
  const size_t n = 2000, dim = 16, k = 10, queries = 50;
  const auto data = RandomVectors(n, dim, 42);
  const auto qs = RandomVectors(queries, dim, 43);
  auto seg = MakeSegment(dim, space);
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(seg->Upsert(Id(i), &data[i * dim]).ok());
  std::set<size_t> deleted;
  for (size_t i = 0; i < n; i += 7) {
    ASSERT_TRUE(seg->Delete(Id(i)).ok());
    deleted.insert(i);
  }
  auto live = [&](size_t i) { return deleted.count(i) == 0; };
  size_t found = 0, total = 0;
  for (size_t q = 0; q < queries; ++q) {
    auto exact = BruteForce(space, data, dim, &qs[q * dim], k, live);
    auto hits = seg->Search(&qs[q * dim], k, nullptr);
    ASSERT_EQ(hits.size(), k);
    for (size_t i = 1; i < hits.size(); ++i) EXPECT_LE(hits[i - 1].distance, hits[i].distance);
    for (const auto& h : hits) {
      EXPECT_FALSE(deleted.count(std::stoul(h.id.substr(2)))) << h.id << " was deleted";
      EXPECT_NEAR(h.distance, Distance(space, &qs[q * dim], &data[std::stoul(h.id.substr(2)) * dim], dim), 1e-4);
    }
    std::set<std::string> got;
    for (const auto& h : hits) got.insert(h.id);
    for (const auto& e : exact) found += got.count(e);
    total += exact.size();
  }
  EXPECT_GE(static_cast<double>(found) / total, 0.95) << found << "/" << total;

  // Filter: only ids divisible by 3 (and live) are candidates; compare with brute force on that set.
  std::function<bool(const std::string&)> filter = [](const std::string& id) {
    return std::stoul(id.substr(2)) % 3 == 0;
  };
  found = total = 0;
  for (size_t q = 0; q < queries; ++q) {
    auto exact = BruteForce(space, data, dim, &qs[q * dim], k, [&](size_t i) { return live(i) && i % 3 == 0; });
    auto hits = seg->Search(&qs[q * dim], k, &filter);
    ASSERT_EQ(hits.size(), k);
    std::set<std::string> got;
    for (const auto& h : hits) {
      EXPECT_TRUE(filter(h.id)) << h.id;
      got.insert(h.id);
    }
    for (const auto& e : exact) found += got.count(e);
    total += exact.size();
  }
  EXPECT_GE(static_cast<double>(found) / total, 0.95) << found << "/" << total;

  // A filter matching 3 ids returns exactly those.
  std::function<bool(const std::string&)> tiny = [](const std::string& id) {
    return id == "id1" || id == "id2" || id == "id3";
  };
  auto hits = seg->Search(&qs[0], k, &tiny);
  std::set<std::string> got;
  for (const auto& h : hits) got.insert(h.id);
  EXPECT_EQ(got, std::set<std::string>({"id1", "id2", "id3"}));
}

INSTANTIATE_TEST_SUITE_P(Spaces, HnswRecallTest, ::testing::Values(Space::kL2, Space::kCosine, Space::kIp),
                         [](const auto& info) { return std::string(SpaceName(info.param)); });

}  // namespace
}  // namespace chromapact::store
