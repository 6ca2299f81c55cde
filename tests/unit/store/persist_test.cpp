// Persist and reopen: the Chroma 1.5.9 layout on disk (HNSW folder, max_seq_id of both segments, log
// kept), identical results after write -> close -> reopen (read-write, read-only, immutable), log
// replay when a writer did not persist, purge keeping the last row, and foreign files refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "unit/store/store_test_util.h"

namespace chromapact::store {
namespace {
namespace fs = std::filesystem;
using testutil::MakeBatch;
using testutil::OpenOrDie;
using testutil::Rows;

QueryResult QueryAll(Store* s, const std::vector<float>& queries) {
  QueryRequest q;
  q.query_embeddings = queries;
  q.n_results = 7;
  q.where = {{"even", false}};
  q.include = kDefaultQueryInclude | kIncludeEmbeddings;
  auto r = s->Query("docs", q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : QueryResult{};
}

TEST(PersistTest, RoundTripGivesIdenticalResults) {
  const std::string dir = chromapact::testing::MakeTempDir("persist");
  const std::vector<float> queries = testutil::RandomVectors(3, 16, 99);
  nlohmann::json before_get, before_query;
  CollectionInfo info;
  {
    auto store = OpenOrDie(dir);
    CollectionOptions o;
    o.hnsw.space = Space::kCosine;
    info = *store->CreateCollection("docs", o);
    ASSERT_TRUE(store->Add("docs", MakeBatch(0, 300, 16, 1)).ok());
    ASSERT_TRUE(store->Delete("docs", std::vector<std::string>{"id5", "id6"}).ok());
    ASSERT_TRUE(store->Persist().ok());
    GetRequest all;
    all.include = kIncludeEmbeddings | kIncludeDocuments | kIncludeMetadatas;
    before_get = ToJson(*store->Get("docs", all));
    before_query = ToJson(QueryAll(store.get(), queries));
  }
  const fs::path folder = fs::path(dir) / info.vector_segment_id;
  for (const char* f : kHnswFileNames) EXPECT_TRUE(fs::exists(folder / f)) << f;
  const std::string last = Rows(dir, "SELECT max(seq_id) FROM embeddings_queue")[0];
  EXPECT_EQ(last, "302");
  EXPECT_EQ(Rows(dir, "SELECT seq_id FROM max_seq_id ORDER BY segment_id = '" + info.vector_segment_id + "'"),
            (std::vector<std::string>{last, last}));
  EXPECT_EQ(Rows(dir, "SELECT typeof(seq_id) FROM max_seq_id"), (std::vector<std::string>{"integer", "integer"}));
  EXPECT_EQ(Rows(dir, "SELECT count(*) FROM embeddings_queue"), std::vector<std::string>{"302"});  // log kept

  OpenOptions ro;
  ro.read_only = true;
  OpenOptions imm;
  imm.immutable = true;
  for (const OpenOptions& opt : {OpenOptions{}, ro, imm}) {
    auto store = OpenOrDie(dir, opt);
    ASSERT_NE(store, nullptr);
    GetRequest all;
    all.include = kIncludeEmbeddings | kIncludeDocuments | kIncludeMetadatas;
    EXPECT_EQ(ToJson(*store->Get("docs", all)), before_get);
    EXPECT_EQ(ToJson(QueryAll(store.get(), queries)), before_query);
  }
}

TEST(PersistTest, UnpersistedWritesAreReplayedFromTheLog) {
  const std::string dir = chromapact::testing::MakeTempDir("persist");
  RecordBatch first = MakeBatch(0, 50, 8, 2);
  {
    auto store = OpenOrDie(dir);
    ASSERT_TRUE(store->CreateCollection("docs", {}).ok());
    ASSERT_TRUE(store->Add("docs", first).ok());
    ASSERT_TRUE(store->Persist().ok());
    RecordBatch more = MakeBatch(50, 10, 8, 3);
    ASSERT_TRUE(store->Add("docs", more).ok());
    RecordBatch upd;
    upd.ids = {"id0"};
    upd.embeddings = std::vector<float>(8, 0.5f);
    ASSERT_TRUE(store->Update("docs", upd).ok());
    ASSERT_TRUE(store->Delete("docs", std::vector<std::string>{"id1"}).ok());
    // no Persist: max_seq_id[VECTOR] stays at 50, the HNSW folder holds 50 records
  }
  OpenOptions ro;
  ro.read_only = true;
  auto store = OpenOrDie(dir, ro);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Count("docs"), 59u);
  GetRequest g;
  g.ids = std::vector<std::string>{"id0", "id1", "id59"};
  g.include = kIncludeEmbeddings;
  auto r = store->Get("docs", g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ids, (std::vector<std::string>{"id0", "id59"}));
  EXPECT_EQ((*r->embeddings)[0], std::vector<float>(8, 0.5f));
  QueryRequest q;
  q.query_embeddings = std::vector<float>(8, 0.5f);
  q.n_results = 1;
  EXPECT_EQ(store->Query("docs", q)->ids[0][0], "id0");
}

TEST(PersistTest, ReadOnlyReaderCatchesUpMetadataInMemoryOnly) {
  // A log-only writer (Chroma's documented "log-only write"): rows in embeddings_queue, no segment data.
  const std::string dir = chromapact::testing::MakeTempDir("persist");
  CollectionInfo info;
  {
    auto store = OpenOrDie(dir);
    info = *store->CreateCollection("docs", {});
    ASSERT_TRUE(store->Add("docs", MakeBatch(0, 5, 4, 1)).ok());
  }
  ASSERT_EQ(Rows(dir, "SELECT count(*) FROM embeddings"), std::vector<std::string>{"5"});
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir + "/" + kSqliteFileName).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM embedding_metadata; DELETE FROM embedding_fulltext_search; "
                               "DELETE FROM embeddings; DELETE FROM max_seq_id;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  OpenOptions ro;
  ro.read_only = true;
  auto reader = OpenOrDie(dir, ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(*reader->Count("docs"), 5u);
  GetRequest w;
  w.where = {{"s", "s3"}};
  EXPECT_EQ(reader->Get("docs", w)->ids, std::vector<std::string>{"id3"});
  EXPECT_EQ(Rows(dir, "SELECT count(*) FROM embeddings"), std::vector<std::string>{"0"});  // disk untouched
  auto writer = OpenOrDie(dir);  // read-write catches up on disk, as Chroma's backfill does
  EXPECT_EQ(Rows(dir, "SELECT count(*) FROM embeddings"), std::vector<std::string>{"5"});
}

TEST(PersistTest, PurgeKeepsTheRowAtTheMinimum) {
  const std::string dir = chromapact::testing::MakeTempDir("persist");
  auto store = OpenOrDie(dir);
  ASSERT_TRUE(store->CreateCollection("docs", {}).ok());
  ASSERT_TRUE(store->Add("docs", MakeBatch(0, 20, 4, 1)).ok());
  PersistOptions p;
  p.purge_log = true;
  ASSERT_TRUE(store->Persist(p).ok());
  EXPECT_EQ(Rows(dir, "SELECT seq_id FROM embeddings_queue"), std::vector<std::string>{"20"});
  auto again = OpenOrDie(dir);
  EXPECT_EQ(*again->Count("docs"), 20u);
  EXPECT_EQ(*again->LastSeqId(), 20);
}

TEST(PersistTest, MissingAndForeignDirectories) {
  const std::string dir = chromapact::testing::MakeTempDir("persist");
  OpenOptions ro;
  ro.read_only = true;
  EXPECT_EQ(Store::Open(dir + "/absent", ro).status().code(), StatusCode::kNotFound);
  OpenOptions no_create;
  no_create.create_if_missing = false;
  EXPECT_EQ(Store::Open(dir + "/absent", no_create).status().code(), StatusCode::kNotFound);
  fs::create_directories(dir + "/foreign");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir + "/foreign/" + kSqliteFileName).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(Store::Open(dir + "/foreign", ro).status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(Store::Open(dir + "/foreign").status().code(), StatusCode::kNotSupported);
  fs::create_directories(dir + "/junk");
  { std::ofstream(dir + "/junk/" + kSqliteFileName) << std::string(8192, 'j'); }
  auto junk = Store::Open(dir + "/junk", ro);
  EXPECT_FALSE(junk.ok());
  EXPECT_TRUE(junk.status().code() == StatusCode::kCorruption || junk.status().code() == StatusCode::kNotSupported)
      << junk.status().ToString();
}

}  // namespace
}  // namespace chromapact::store

namespace chromapact::store {
namespace {

// The files under `dir`'s HNSW folders, with their bytes.
std::map<std::string, std::string> HnswFiles(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().parent_path() == fs::path(dir)) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().lexically_relative(dir).string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return out;
}

TEST(PersistTest, AMinorPersistLeavesTheHnswFilesAndTheTailIsReplayed) {
  const std::string dir = chromapact::testing::MakeTempDir("persist-minor");
  {
    auto store = OpenOrDie(dir);
    ASSERT_TRUE(store->CreateCollection("docs", {}).ok());
    ASSERT_TRUE(store->Add("docs", MakeBatch(0, 40, 8, 2)).ok());
    EXPECT_EQ(*store->VectorTailRecords("docs"), 40u);
    ASSERT_TRUE(store->Persist().ok());
    EXPECT_EQ(*store->VectorTailRecords("docs"), 0u);
  }
  const auto base = HnswFiles(dir);
  ASSERT_FALSE(base.empty());
  {
    auto store = OpenOrDie(dir);
    ASSERT_TRUE(store->Add("docs", MakeBatch(40, 6, 8, 3)).ok());
    ASSERT_TRUE(store->Delete("docs", std::vector<std::string>{"id2"}).ok());
    EXPECT_EQ(*store->VectorTailRecords("docs"), 7u);
    PersistOptions minor;
    minor.vectors = false;
    minor.purge_log = true;
    minor.vacuum = true;
    ASSERT_TRUE(store->Persist(minor).ok());
    EXPECT_EQ(*store->VectorTailRecords("docs"), 7u);
    EXPECT_EQ(store->VectorTailRecords("nope").status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(HnswFiles(dir), base) << "a minor persist must not touch the HNSW files";
  // The purge kept the tail: 7 log rows past the base (and the base's own last row).
  EXPECT_EQ(Rows(dir, "SELECT count(*) FROM embeddings_queue WHERE seq_id > 40"), std::vector<std::string>{"7"});
  OpenOptions ro;
  ro.read_only = true;
  ro.immutable = true;
  auto store = OpenOrDie(dir, ro);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Count("docs"), 45u);
  EXPECT_EQ(*store->VectorTailRecords("docs"), 7u);
  const RecordBatch added = MakeBatch(40, 6, 8, 3);
  QueryRequest q;
  q.query_embeddings = std::vector<float>(added.embeddings.begin() + 8 * 5, added.embeddings.begin() + 8 * 6);
  q.n_results = 1;
  EXPECT_EQ(store->Query("docs", q)->ids[0][0], "id45");  // a tail record, found through the index
  GetRequest g;
  g.ids = std::vector<std::string>{"id2"};
  EXPECT_TRUE(store->Get("docs", g)->ids.empty());
  // A major persist then writes the tail into the files.
  store.reset();
  {
    auto rw = OpenOrDie(dir);
    ASSERT_TRUE(rw->Persist().ok());
    EXPECT_EQ(*rw->VectorTailRecords("docs"), 0u);
  }
  EXPECT_NE(HnswFiles(dir), base);
}

}  // namespace
}  // namespace chromapact::store

namespace chromapact::store {
namespace {

TEST(PersistTest, DeferredVectorsAreLoadedOnlyByAMajorPersist) {
  const std::string dir = chromapact::testing::MakeTempDir("persist-defer");
  {
    auto store = OpenOrDie(dir);
    ASSERT_TRUE(store->CreateCollection("docs", {}).ok());
    ASSERT_TRUE(store->Add("docs", MakeBatch(0, 30, 8, 2)).ok());
    ASSERT_TRUE(store->Persist().ok());
  }
  const auto base = HnswFiles(dir);
  OpenOptions defer;
  defer.defer_vectors = true;
  {  // minor: writes through the log and metadata only; the files stay
    auto store = OpenOrDie(dir, defer);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Add("docs", MakeBatch(30, 4, 8, 3)).ok());
    ASSERT_TRUE(store->Delete("docs", std::vector<std::string>{"id0"}).ok());
    RecordBatch wrong = MakeBatch(40, 1, 5, 4);  // dimension 5: refused without the index loaded
    EXPECT_EQ(store->Add("docs", wrong).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(*store->Count("docs"), 33u);
    EXPECT_EQ(*store->VectorTailRecords("docs"), 5u);
    QueryRequest q;
    q.query_embeddings = std::vector<float>(8, 0.1f);
    EXPECT_EQ(store->Query("docs", q).status().code(), StatusCode::kNotSupported);
    PersistOptions minor;
    minor.vectors = false;
    ASSERT_TRUE(store->Persist(minor).ok());
  }
  EXPECT_EQ(HnswFiles(dir), base);
  {  // major: the base is loaded, the tail (this session's writes and the earlier one's) replayed
    auto store = OpenOrDie(dir, defer);
    ASSERT_TRUE(store->Upsert("docs", MakeBatch(34, 2, 8, 5)).ok());
    EXPECT_EQ(*store->VectorTailRecords("docs"), 7u);
    ASSERT_TRUE(store->Persist().ok());
    EXPECT_EQ(*store->VectorTailRecords("docs"), 0u);
  }
  EXPECT_NE(HnswFiles(dir), base);
  // The files now hold every record: a reader that replays nothing finds the newest one.
  EXPECT_EQ(Rows(dir, "SELECT count(*) FROM max_seq_id WHERE seq_id = (SELECT max(seq_id) FROM embeddings_queue)"),
            std::vector<std::string>{"2"});
  OpenOptions ro;
  ro.read_only = true;
  auto store = OpenOrDie(dir, ro);
  EXPECT_EQ(*store->Count("docs"), 35u);
  const RecordBatch last = MakeBatch(34, 2, 8, 5);
  QueryRequest q;
  q.query_embeddings = std::vector<float>(last.embeddings.begin() + 8, last.embeddings.end());
  q.n_results = 1;
  EXPECT_EQ(store->Query("docs", q)->ids[0][0], "id35");
  GetRequest g;
  g.ids = std::vector<std::string>{"id0", "id33"};
  EXPECT_EQ(store->Get("docs", g)->ids, std::vector<std::string>{"id33"});
}

}  // namespace
}  // namespace chromapact::store
