// Collections: Chroma 1.x rows (docs/chroma-format.md §3/§6), defaults, names, lifecycle, reopen.
#include <gtest/gtest.h>

#include <filesystem>

#include "unit/store/store_test_util.h"

namespace chromapact::store {
namespace {
using testutil::OpenOrDie;
using testutil::Rows;

TEST(CollectionsTest, CreateWritesChromaRowsWithDefaults) {
  const std::string dir = chromapact::testing::MakeTempDir("collections");
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  CollectionOptions opts;
  opts.metadata = {{"owner", "test"}, {"n", 3}, {"f", 1.5}, {"b", true}};
  opts.dimension = 8;
  auto info = store->CreateCollection("docs", opts);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id.size(), 36u);
  EXPECT_EQ(info->hnsw.space, Space::kL2);
  EXPECT_EQ(info->hnsw.M, 16u);
  EXPECT_EQ(info->hnsw.ef_construction, 100u);
  EXPECT_EQ(info->hnsw.ef_search, 100u);

  EXPECT_EQ(Rows(dir, "SELECT id, name, dimension, database_id, config_json_str, schema_str FROM collections"),
            std::vector<std::string>{info->id + "|docs|8|00000000-0000-0000-0000-000000000000|"
                                     R"({"vector_index":{"hnsw":{"space":"l2","ef_construction":100,"ef_search":100,)"
                                     R"("max_neighbors":16,"resize_factor":1.2,"sync_threshold":1000}},)"
                                     R"("embedding_function":{"type":"legacy"}})"
                                     "|NULL"});
  EXPECT_EQ(Rows(dir, "SELECT id, type, scope, collection FROM segments ORDER BY scope"),
            (std::vector<std::string>{
                info->metadata_segment_id + "|urn:chroma:segment/metadata/sqlite|METADATA|" + info->id,
                info->vector_segment_id + "|urn:chroma:segment/vector/hnsw-local-persisted|VECTOR|" + info->id}));
  EXPECT_EQ(Rows(dir, "SELECT key, str_value, int_value, float_value, bool_value FROM collection_metadata "
                      "ORDER BY key"),
            (std::vector<std::string>{"b|NULL|NULL|NULL|1", "f|NULL|NULL|1.5|NULL", "n|NULL|3|NULL|NULL",
                                      "owner|test|NULL|NULL|NULL"}));
  EXPECT_EQ(Rows(dir, "SELECT * FROM tenants"), std::vector<std::string>{"default_tenant"});
  EXPECT_EQ(Rows(dir, "SELECT config_json_str FROM embeddings_queue_config"),
            std::vector<std::string>{R"({"automatically_purge":true,"_type":"EmbeddingsQueueConfigurationInternal"})"});
}

TEST(CollectionsTest, SpacesAndParamsRoundTripThroughReopen) {
  const std::string dir = chromapact::testing::MakeTempDir("collections");
  {
    auto store = OpenOrDie(dir);
    for (auto [name, space] : {std::pair<const char*, Space>{"c-l2", Space::kL2}, {"c-cos", Space::kCosine},
                               {"c-ip", Space::kIp}}) {
      CollectionOptions o;
      o.hnsw.space = space;
      o.hnsw.M = 8;
      o.hnsw.ef_construction = 50;
      o.hnsw.ef_search = 20;
      ASSERT_TRUE(store->CreateCollection(name, o).ok()) << name;
    }
    EXPECT_EQ(*store->CountCollections(), 3u);
  }
  auto store = OpenOrDie(dir);
  auto list = store->ListCollections();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "c-cos");  // by name
  EXPECT_EQ((*list)[0].hnsw.space, Space::kCosine);
  EXPECT_EQ((*list)[1].hnsw.space, Space::kIp);
  EXPECT_EQ((*list)[2].hnsw.space, Space::kL2);
  for (const auto& c : *list) {
    EXPECT_EQ(c.hnsw.M, 8u);
    EXPECT_EQ(c.hnsw.ef_construction, 50u);
    EXPECT_EQ(c.hnsw.ef_search, 20u);
    EXPECT_FALSE(c.dimension.has_value());
    EXPECT_TRUE(c.metadata.is_null());
  }
}

TEST(CollectionsTest, NamesExistenceAndDelete) {
  const std::string dir = chromapact::testing::MakeTempDir("collections");
  auto store = OpenOrDie(dir);
  for (const char* bad : {"ab", "-abc", "abc-", "a..b", "a b c", "192.168.0.1"}) {
    EXPECT_EQ(store->CreateCollection(bad, {}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto first = store->CreateCollection("my.coll_1", {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(store->CreateCollection("my.coll_1", {}).status().code(), StatusCode::kAlreadyExists);
  auto again = store->CreateCollection("my.coll_1", {}, /*get_or_create=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, first->id);
  CollectionOptions bad_md;
  bad_md.metadata = {{"k", {1, 2}}};
  EXPECT_EQ(store->CreateCollection("other", bad_md).status().code(), StatusCode::kInvalidArgument);
  CollectionOptions bad_m;
  bad_m.hnsw.M = 1;
  EXPECT_EQ(store->CreateCollection("other", bad_m).status().code(), StatusCode::kInvalidArgument);

  // Delete removes rows, the log and the HNSW folder.
  RecordBatch b = testutil::MakeBatch(0, 5, 4, 1);
  ASSERT_TRUE(store->Add("my.coll_1", b).ok());
  ASSERT_TRUE(store->Persist().ok());
  ASSERT_TRUE(std::filesystem::exists(dir + "/" + first->vector_segment_id + "/header.bin"));
  ASSERT_TRUE(store->DeleteCollection("my.coll_1").ok());
  EXPECT_EQ(store->GetCollection("my.coll_1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->DeleteCollection("my.coll_1").code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + first->vector_segment_id));
  for (const char* t : {"collections", "segments", "embeddings", "embedding_metadata", "embeddings_queue",
                        "max_seq_id", "collection_metadata", "embedding_fulltext_search"}) {
    EXPECT_EQ(Rows(dir, std::string("SELECT count(*) FROM ") + t), std::vector<std::string>{"0"}) << t;
  }
  EXPECT_EQ(*store->CountCollections(), 0u);
}

}  // namespace
}  // namespace chromapact::store
