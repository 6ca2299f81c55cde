// QueryService against moto_server (S3 + DynamoDB, signature checking on): snapshots published by
// hand (Store write + Persist + PublishSnapshot + pointer Create/CAS) are answered in Chroma's
// shapes, merged over shards (top-k equal to brute force over all records), with get/count/limit/
// offset across shards; write actions are refused; a moved pointer is picked up once the pointer
// cache's max age has passed, and not before.
#include "chromapact/pipeline/query_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/snapshot.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "support/pipeline_fixture.h"
#include "support/paths.h"

namespace chromapact::pipeline {
namespace {

using testing::MakeTempDir;
using fixture::kBucket;
using fixture::kTable;
constexpr int kDim = 8;

struct Rec {
  std::string id;
  std::vector<float> emb;
  int i = 0;
};

std::vector<Rec> MakeRecords(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.id = "r" + std::to_string(i);
    r.i = i;
    for (int k = 0; k < kDim; ++k) r.emb.push_back(u(rng));
    out.push_back(std::move(r));
  }
  return out;
}

class QueryServiceTest : public fixture::PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    objects_ = NewS3ObjectStore(std::make_unique<aws::S3Client>(Config()), kBucket);
    kv_ = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(Config()), kTable);
    pointers_ = std::make_unique<PointerTable>(kv_.get(), &clock_);
  }

  // Writes `recs` into a fresh persist dir as collection `coll`, publishes it as `version` of
  // `shard` and moves the pointer there (create for version 1, CAS otherwise).
  void Publish(const ShardId& shard, int64_t version, const std::vector<Rec>& recs) {
    const std::string dir = MakeTempDir("qs-pub");
    {
      auto st = store::Store::Open(dir);
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      store::CollectionOptions co;
      co.dimension = kDim;
      ASSERT_TRUE((*st)->CreateCollection(shard.collection, co).ok());
      store::RecordBatch b;
      for (const Rec& r : recs) {
        b.ids.push_back(r.id);
        b.embeddings.insert(b.embeddings.end(), r.emb.begin(), r.emb.end());
        b.documents.push_back("document " + std::to_string(r.i));
        b.metadatas.push_back({{"i", r.i}, {"parity", r.i % 2 == 0 ? "even" : "odd"}});
      }
      if (!recs.empty()) {
        ASSERT_TRUE((*st)->Upsert(shard.collection, b).ok());
      }
      ASSERT_TRUE((*st)->Persist().ok());
    }
    codec::Manifest m;
    m.collection = shard.collection;
    m.shard = static_cast<uint32_t>(shard.shard);
    m.version = static_cast<uint64_t>(version);
    if (version > 1) m.parent_version = static_cast<uint64_t>(version - 1);
    m.record_count = recs.size();
    m.dimension = kDim;
    m.created_at_ms = clock_.NowMs();
    m.writer_id = "test-" + std::to_string(version);
    auto pub = PublishSnapshot(objects_.get(), shard, dir, &m);
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    auto ptr = version == 1 ? pointers_->Create(shard, 1, pub->manifest_key, 0)
                            : pointers_->CompareAndSwap(shard, version - 1, pub->manifest_key, 0);
    ASSERT_TRUE(ptr.ok()) << ptr.status().ToString();
  }

  ManualClock clock_{1764000000000};
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<PointerTable> pointers_;
};

float L2(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

TEST_F(QueryServiceTest, TwoShardsMergeTopKGetAndCount) {
  const std::string coll = "merged";
  const std::vector<Rec> all = MakeRecords(160, 7);
  std::vector<Rec> per_shard[2];
  for (const Rec& r : all) per_shard[ShardForId(r.id, 2)].push_back(r);
  ASSERT_FALSE(per_shard[0].empty());
  ASSERT_FALSE(per_shard[1].empty());
  Publish({coll, 0}, 1, per_shard[0]);
  Publish({coll, 1}, 1, per_shard[1]);

  PointerCache cache(pointers_.get(), &clock_, 1000);
  QueryServiceOptions opts;
  opts.cache_dir = MakeTempDir("qs-cache");
  opts.shards = 2;
  opts.default_collection = coll;
  QueryService qs(objects_.get(), &cache, opts);

  auto count = qs.Handle({{"action", "count"}});
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ((*count)["count"], 160);
  EXPECT_EQ(qs.last_stats().snapshots_fetched, 2);

  const std::vector<Rec> queries = MakeRecords(3, 99);
  nlohmann::json qe = nlohmann::json::array();
  for (const Rec& q : queries) qe.push_back(q.emb);
  auto res = qs.Handle({{"collection", coll}, {"query_embeddings", qe}, {"n_results", 7}});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(qs.last_stats().snapshots_fetched, 0);  // cached stores reused
  ASSERT_EQ((*res)["ids"].size(), 3u);
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    std::vector<std::pair<float, std::string>> brute;
    for (const Rec& r : all) brute.emplace_back(L2(queries[qi].emb, r.emb), r.id);
    std::sort(brute.begin(), brute.end());
    ASSERT_EQ((*res)["ids"][qi].size(), 7u);
    for (size_t j = 0; j < 7; ++j) {
      EXPECT_EQ((*res)["ids"][qi][j], brute[j].second) << "query " << qi << " rank " << j;
      EXPECT_NEAR((*res)["distances"][qi][j].get<double>(), brute[j].first, 1e-4 * (1 + brute[j].first));
      const int i = std::stoi(brute[j].second.substr(1));
      EXPECT_EQ((*res)["documents"][qi][j], "document " + std::to_string(i));
      EXPECT_EQ((*res)["metadatas"][qi][j]["i"], i);
    }
  }
  EXPECT_TRUE((*res)["embeddings"].is_null());

  // A filter over both shards: only even records, nearest first; distances excluded.
  auto filtered = qs.Handle({{"query_embeddings", qe[0]},
                             {"n_results", 4},
                             {"where", {{"parity", "even"}}},
                             {"include", {"metadatas"}}});
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  std::vector<std::pair<float, std::string>> even;
  for (const Rec& r : all) {
    if (r.i % 2 == 0) even.emplace_back(L2(queries[0].emb, r.emb), r.id);
  }
  std::sort(even.begin(), even.end());
  ASSERT_EQ((*filtered)["ids"][0].size(), 4u);
  for (size_t j = 0; j < 4; ++j) EXPECT_EQ((*filtered)["ids"][0][j], even[j].second);
  EXPECT_TRUE((*filtered)["distances"].is_null());
  EXPECT_TRUE((*filtered)["documents"].is_null());

  // Get: ids from both shards; where + limit/offset across the concatenation.
  auto got = qs.Handle({{"action", "get"}, {"ids", {"r3", "r10", "r11", "nope"}}, {"include", {"documents"}}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<std::string> got_ids = (*got)["ids"].get<std::vector<std::string>>();
  std::sort(got_ids.begin(), got_ids.end());
  EXPECT_EQ(got_ids, (std::vector<std::string>{"r10", "r11", "r3"}));
  auto page_all = qs.Handle({{"action", "get"}, {"where", {{"i", {{"$lt", 40}}}}}, {"include", nlohmann::json::array()}});
  ASSERT_TRUE(page_all.ok()) << page_all.status().ToString();
  ASSERT_EQ((*page_all)["ids"].size(), 40u);
  auto page = qs.Handle({{"action", "get"}, {"where", {{"i", {{"$lt", 40}}}}}, {"limit", 15}, {"offset", 20}});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ((*page)["ids"].size(), 15u);
  for (size_t j = 0; j < 15; ++j) EXPECT_EQ((*page)["ids"][j], (*page_all)["ids"][20 + j]);
  EXPECT_EQ((*page)["metadatas"].size(), 15u);
}

TEST_F(QueryServiceTest, RefusesWritesAndBadRequests) {
  Publish({"refuse", 0}, 1, MakeRecords(5, 1));
  PointerCache cache(pointers_.get(), &clock_, 1000);
  QueryServiceOptions opts;
  opts.cache_dir = MakeTempDir("qs-cache");
  QueryService qs(objects_.get(), &cache, opts);
  EXPECT_EQ(qs.Handle({{"collection", "refuse"}, {"action", "upsert"}, {"ids", {"a"}}}).status().code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(qs.Handle({{"collection", "refuse"}, {"operation", "delete"}, {"ids", {"a"}}}).status().code(),
            StatusCode::kNotSupported);
  // No embedding function configured: query_texts is refused naming what to set
  // (embeddings_test covers query_texts with one).
  auto texts = qs.Handle({{"collection", "refuse"}, {"query_texts", {"hello"}}});
  EXPECT_EQ(texts.status().code(), StatusCode::kPreconditionFailed) << texts.status().ToString();
  EXPECT_NE(texts.status().message().find("query_texts"), std::string::npos);
  EXPECT_NE(texts.status().message().find("CHROMAPACT_EMBEDDING_URL"), std::string::npos);
  auto n0 = qs.Handle({{"collection", "refuse"}, {"query_embeddings", {{1, 2, 3, 4, 5, 6, 7, 8}}}, {"n_results", 0}});
  EXPECT_NE(n0.status().message().find("n_results"), std::string::npos) << n0.status().ToString();
  auto dim = qs.Handle({{"collection", "refuse"}, {"query_embeddings", {{1, 2, 3}}}});
  EXPECT_EQ(dim.status().code(), StatusCode::kInvalidArgument) << dim.status().ToString();
  EXPECT_EQ(qs.Handle({{"collection", "refuse"}, {"action", "drop"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(qs.Handle({{"collection", "nothing-here"}, {"action", "count"}}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(qs.Handle({{"action", "count"}}).status().code(), StatusCode::kInvalidArgument);  // no collection
  auto ok = qs.Handle({{"collection", "refuse"}, {"action", "count"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["count"], 5);
}

TEST_F(QueryServiceTest, PointerMoveIsSeenAfterTheMaxAge) {
  const ShardId shard{"moving", 0};
  const std::vector<Rec> recs = MakeRecords(30, 3);
  Publish(shard, 1, std::vector<Rec>(recs.begin(), recs.begin() + 10));
  PointerCache cache(pointers_.get(), &clock_, 1000);
  QueryServiceOptions opts;
  opts.cache_dir = MakeTempDir("qs-cache");
  QueryService qs(objects_.get(), &cache, opts);
  auto c1 = qs.Handle({{"collection", "moving"}, {"action", "count"}});
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  EXPECT_EQ((*c1)["count"], 10);
  EXPECT_EQ(qs.last_stats().versions_max, 1);

  Publish(shard, 2, recs);
  clock_.Advance(500);  // within the max age: the old version still answers
  auto c2 = qs.Handle({{"collection", "moving"}, {"action", "count"}});
  ASSERT_TRUE(c2.ok()) << c2.status().ToString();
  EXPECT_EQ((*c2)["count"], 10);
  EXPECT_EQ(qs.last_stats().snapshots_fetched, 0);

  clock_.Advance(501);
  auto c3 = qs.Handle({{"collection", "moving"}, {"action", "count"}});
  ASSERT_TRUE(c3.ok()) << c3.status().ToString();
  EXPECT_EQ((*c3)["count"], 30);
  EXPECT_EQ(qs.last_stats().snapshots_fetched, 1);
  EXPECT_EQ(qs.last_stats().versions_max, 2);
  auto q = qs.Handle({{"collection", "moving"}, {"query_embeddings", {recs[25].emb}}, {"n_results", 1}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ((*q)["ids"][0][0], recs[25].id);
  EXPECT_NEAR((*q)["distances"][0][0].get<double>(), 0.0, 1e-6);
}

}  // namespace
}  // namespace chromapact::pipeline
