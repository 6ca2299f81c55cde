// Records: add/upsert/update/delete semantics of Chroma 1.x, the embeddings_queue log rows, the
// metadata segment rows, and validation errors naming the record / key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "chromapact/crypto.h"
#include "unit/store/store_test_util.h"

namespace chromapact::store {
namespace {
using testutil::MakeBatch;
using testutil::OpenOrDie;
using testutil::Rows;

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = chromapact::testing::MakeTempDir("records");
    store_ = OpenOrDie(dir_);
    ASSERT_NE(store_, nullptr);
    auto info = store_->CreateCollection("docs", {});
    ASSERT_TRUE(info.ok());
    info_ = *info;
  }
  GetResult GetAll(unsigned include = kDefaultGetInclude | kIncludeEmbeddings) {
    GetRequest r;
    r.include = include;
    auto g = store_->Get("docs", r);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : GetResult{};
  }
  std::string dir_;
  std::unique_ptr<Store> store_;
  CollectionInfo info_;
};

TEST_F(RecordsTest, AddWritesLogMetadataSegmentAndSetsDimension) {
  RecordBatch b = MakeBatch(0, 3, 4, 7);
  ASSERT_TRUE(store_->Add("docs", b).ok());
  EXPECT_EQ(*store_->GetCollection("docs")->dimension, 4u);
  EXPECT_EQ(Rows(dir_, "SELECT dimension FROM collections"), std::vector<std::string>{"4"});
  auto log = Rows(dir_, "SELECT seq_id, operation, topic, id, hex(vector), encoding, metadata FROM embeddings_queue "
                        "ORDER BY seq_id");
  ASSERT_EQ(log.size(), 3u);
  std::string bytes(reinterpret_cast<const char*>(b.embeddings.data()), 4 * sizeof(float));
  std::string hex = HexEncode(bytes);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(log[0], "1|0|persistent://default/default/" + info_.id + "|id0|" + hex +
                        R"(|FLOAT32|{"chroma:document":"doc 0","even":true,"i":0,"s":"s0"})");
  EXPECT_EQ(Rows(dir_, "SELECT e.embedding_id, e.seq_id, m.key, m.string_value, m.int_value, m.float_value, "
                       "m.bool_value FROM embeddings e JOIN embedding_metadata m ON m.id = e.id WHERE e.embedding_id "
                       "= 'id1' ORDER BY m.key"),
            (std::vector<std::string>{"id1|2|chroma:document|doc 1|NULL|NULL|NULL", "id1|2|even|NULL|NULL|NULL|0",
                                      "id1|2|i|NULL|1|NULL|NULL", "id1|2|s|s1|NULL|NULL|NULL"}));
  EXPECT_EQ(Rows(dir_, "SELECT rowid, string_value FROM embedding_fulltext_search ORDER BY rowid"),
            (std::vector<std::string>{"1|doc 0", "2|doc 1", "3|doc 2"}));
  EXPECT_EQ(Rows(dir_, "SELECT seq_id FROM max_seq_id WHERE segment_id = '" + info_.metadata_segment_id + "'"),
            std::vector<std::string>{"3"});
  EXPECT_EQ(*store_->Count("docs"), 3u);
  EXPECT_EQ(*store_->LastSeqId(), 3);
}

TEST_F(RecordsTest, AddOfExistingIdIsIgnoredUpsertMergesUpdateIsPartial) {
  ASSERT_TRUE(store_->Add("docs", MakeBatch(0, 3, 4, 1)).ok());
  RecordBatch again = MakeBatch(1, 3, 4, 2);  // id1, id2 exist; id3 is new
  again.documents[0] = "changed";
  ASSERT_TRUE(store_->Add("docs", again).ok());
  GetResult g = GetAll();
  ASSERT_EQ(g.ids, (std::vector<std::string>{"id0", "id1", "id2", "id3"}));
  EXPECT_EQ((*g.documents)[1], "doc 1");  // ignored
  EXPECT_EQ((*g.embeddings)[3], std::vector<float>(again.embeddings.begin() + 8, again.embeddings.end()));

  // Upsert: existing id1 changes vector, document and merges metadata; id9 is inserted.
  RecordBatch up;
  up.ids = {"id1", "id9"};
  up.embeddings = {1, 2, 3, 4, 5, 6, 7, 8};
  up.documents = {std::string("upserted"), std::nullopt};
  up.metadatas = {{{"i", 100}, {"new", "x"}}, nullptr};
  ASSERT_TRUE(store_->Upsert("docs", up).ok());
  // Update: id0 metadata only (null deletes key "s"), id2 document only, id3 embedding only, idX ignored.
  RecordBatch upd;
  upd.ids = {"id0", "id2", "idX"};
  upd.documents = {std::nullopt, std::string("doc two"), std::string("nope")};
  upd.metadatas = {{{"s", nullptr}, {"f", 0.25}}, nullptr, {{"k", 1}}};
  ASSERT_TRUE(store_->Update("docs", upd).ok());
  RecordBatch upd_vec;
  upd_vec.ids = {"id3"};
  upd_vec.embeddings = {9, 9, 9, 9};
  ASSERT_TRUE(store_->Update("docs", upd_vec).ok());

  g = GetAll();
  ASSERT_EQ(g.ids, (std::vector<std::string>{"id0", "id1", "id2", "id3", "id9"}));
  const auto& md = *g.metadatas;
  const auto& docs = *g.documents;
  EXPECT_EQ(md[0], nlohmann::json({{"i", 0}, {"even", true}, {"f", 0.25}}));
  EXPECT_EQ(docs[0], "doc 0");
  EXPECT_EQ(md[1], nlohmann::json({{"i", 100}, {"even", false}, {"s", "s1"}, {"new", "x"}}));
  EXPECT_EQ(docs[1], "upserted");
  EXPECT_EQ((*g.embeddings)[1], (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(docs[2], "doc two");
  EXPECT_EQ((*g.embeddings)[3], (std::vector<float>{9, 9, 9, 9}));
  EXPECT_EQ(docs[3], "doc 3");
  EXPECT_TRUE(md[4].is_null());
  EXPECT_FALSE(docs[4].has_value());
  EXPECT_EQ((*g.embeddings)[4], (std::vector<float>{5, 6, 7, 8}));
  EXPECT_EQ(Rows(dir_, "SELECT operation, metadata FROM embeddings_queue WHERE id = 'id0' ORDER BY seq_id DESC LIMIT 1"),
            std::vector<std::string>{R"(1|{"f":0.25,"s":null})"});
}

TEST_F(RecordsTest, DeleteByIdsAndByWhere) {
  ASSERT_TRUE(store_->Add("docs", MakeBatch(0, 10, 4, 3)).ok());
  auto n = store_->Delete("docs", std::vector<std::string>{"id1", "id2", "missing"});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  n = store_->Delete("docs", std::nullopt, nlohmann::json{{"even", true}});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4u);  // id0 id4 id6 id8 (id2 is gone already)
  GetResult g = GetAll(0);
  EXPECT_EQ(g.ids, (std::vector<std::string>{"id3", "id5", "id7", "id9"}));
  EXPECT_EQ(store_->Delete("docs", std::nullopt).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Rows(dir_, "SELECT operation, vector IS NULL, encoding IS NULL, metadata FROM embeddings_queue WHERE "
                       "id = 'id1'"
                       " AND operation = 3"),
            std::vector<std::string>{"3|1|1|{}"});
  EXPECT_EQ(Rows(dir_, "SELECT count(*) FROM embedding_fulltext_search"), std::vector<std::string>{"4"});
  EXPECT_EQ(Rows(dir_, "SELECT count(DISTINCT id) FROM embedding_metadata"), std::vector<std::string>{"4"});
}

TEST_F(RecordsTest, ValidationErrorsNameTheRecordOrKey) {
  ASSERT_TRUE(store_->Add("docs", MakeBatch(0, 2, 4, 3)).ok());
  auto expect_invalid = [&](const RecordBatch& b, const std::string& needle) {
    Status s = store_->Add("docs", b);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.ToString() << " lacks " << needle;
  };
  RecordBatch b = MakeBatch(10, 3, 5, 1);
  expect_invalid(b, "expected dimension 4, got 5");
  b = MakeBatch(10, 3, 4, 1);
  b.embeddings[2 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
  expect_invalid(b, "record 2");
  b = MakeBatch(10, 3, 4, 1);
  b.embeddings[4] = std::numeric_limits<float>::infinity();
  expect_invalid(b, "record 1");
  b = MakeBatch(10, 3, 4, 1);
  b.ids[2] = "id10";
  expect_invalid(b, "duplicate id 'id10'");
  b.ids[2] = "";
  expect_invalid(b, "record 2 has an empty id");
  b = MakeBatch(10, 3, 4, 1);
  b.metadatas[1]["bad"] = nlohmann::json::object();
  expect_invalid(b, "record 1: metadata key 'bad'");
  b = MakeBatch(10, 3, 4, 1);
  b.metadatas[2]["list"] = {1, "a"};
  expect_invalid(b, "record 2: metadata key 'list': list elements must all have one type");
  b = MakeBatch(10, 3, 4, 1);
  b.metadatas[1]["list"] = {1, {1}};
  expect_invalid(b, "record 1: metadata key 'list': list element 1");
  b = MakeBatch(10, 3, 4, 1);
  b.metadatas[0]["chroma:document"] = "x";
  expect_invalid(b, "reserved");
  b = MakeBatch(10, 3, 4, 1);
  b.documents.pop_back();
  expect_invalid(b, "documents: 2 entries for 3 ids");
  b = MakeBatch(10, 3, 4, 1);
  b.embeddings.clear();
  expect_invalid(b, "embeddings: required");
  EXPECT_EQ(store_->Add("nope", MakeBatch(0, 1, 4, 1)).code(), StatusCode::kNotFound);
  // Nothing of the rejected batches reached the log or the segments.
  EXPECT_EQ(*store_->Count("docs"), 2u);
  EXPECT_EQ(*store_->LastSeqId(), 2);
}

TEST_F(RecordsTest, ListMetadataGoesToTheArrayTable) {
  RecordBatch b = MakeBatch(0, 2, 4, 3);
  b.metadatas[0] = {{"tags", {"x", "y"}}, {"n", {1, 2, 3}}, {"k", 1}};
  b.metadatas[1] = {{"fl", {1.5, 2.0}}, {"bs", {true}}, {"e", nlohmann::json::array()}};
  ASSERT_TRUE(store_->Add("docs", b).ok());
  // As real Chroma 1.5.9 stores them: one row per element; the scalar stays in embedding_metadata.
  EXPECT_EQ(Rows(dir_, "SELECT id, key, string_value, int_value, float_value, bool_value FROM "
                       "embedding_metadata_array ORDER BY id, key, rowid"),
            (std::vector<std::string>{"1|n|NULL|1|NULL|NULL", "1|n|NULL|2|NULL|NULL", "1|n|NULL|3|NULL|NULL",
                                      "1|tags|x|NULL|NULL|NULL", "1|tags|y|NULL|NULL|NULL", "2|bs|NULL|NULL|NULL|1",
                                      "2|fl|NULL|NULL|1.5|NULL", "2|fl|NULL|NULL|2.0|NULL"}));
  GetResult g = GetAll(kIncludeMetadatas);
  EXPECT_EQ((*g.metadatas)[0], nlohmann::json({{"tags", {"x", "y"}}, {"n", {1, 2, 3}}, {"k", 1}}));
  EXPECT_EQ((*g.metadatas)[1], nlohmann::json({{"fl", {1.5, 2.0}}, {"bs", {true}}}));
  RecordBatch upd;
  upd.ids = {"id0"};
  upd.metadatas = {{{"tags", "scalar now"}, {"n", nullptr}}};
  ASSERT_TRUE(store_->Update("docs", upd).ok());
  g = GetAll(kIncludeMetadatas);
  EXPECT_EQ((*g.metadatas)[0], nlohmann::json({{"tags", "scalar now"}, {"k", 1}}));
  EXPECT_EQ(Rows(dir_, "SELECT count(*) FROM embedding_metadata_array WHERE id = 1"), std::vector<std::string>{"0"});
}

TEST_F(RecordsTest, ReadOnlyStoreRejectsWrites) {
  ASSERT_TRUE(store_->Add("docs", MakeBatch(0, 2, 4, 3)).ok());
  OpenOptions ro;
  ro.read_only = true;
  auto reader = OpenOrDie(dir_, ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->Add("docs", MakeBatch(5, 1, 4, 1)).code(), StatusCode::kNotSupported);
  EXPECT_EQ(reader->Delete("docs", std::vector<std::string>{"id0"}).status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(reader->CreateCollection("other", {}).status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(reader->Persist().code(), StatusCode::kNotSupported);
  EXPECT_EQ(*reader->Count("docs"), 2u);
}

}  // namespace
}  // namespace chromapact::store
