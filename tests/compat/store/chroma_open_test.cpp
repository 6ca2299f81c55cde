// Real Chroma 1.5.9 (the oracle: ../shared/tools/chroma-oracle/serve, from Chroma's npm artifact)
// opens a persist directory written by our Store and answers count / get / query / filters like our
// reader does. Skips when ../shared (the oracle launcher) is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "chromapact/store/store.h"
#include "compat/store/oracle.h"
#include "support/paths.h"

namespace chromapact::store {
namespace {
namespace fs = std::filesystem;

using chromapact::testing::ChromaOracle;
using chromapact::testing::ExpectFloatsNear;
using chromapact::testing::Vectors;

TEST(ChromaOpenTest, ChromaReadsWhatWeWrite) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = chromapact::testing::MakeTempDir("chroma_open");
  constexpr size_t kN = 400, kDim = 16;
  const std::vector<float> data = Vectors(kN, kDim, 3);
  std::unique_ptr<Store> store;
  {
    auto opened = Store::Open(dir + "/ours");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
  }
  for (auto [name, space] : {std::pair<const char*, Space>{"cos", Space::kCosine}, {"euclid", Space::kL2}}) {
    CollectionOptions o;
    o.hnsw.space = space;
    o.metadata = {{"owner", "compat"}};
    ASSERT_TRUE(store->CreateCollection(name, o).ok());
    RecordBatch b;
    b.embeddings = data;
    for (size_t i = 0; i < kN; ++i) {
      b.ids.push_back("r" + std::to_string(i));
      b.documents.push_back("text number " + std::to_string(i) + (i % 3 == 0 ? " fizz" : ""));
      b.metadatas.push_back({{"i", static_cast<int64_t>(i)},
                             {"half", i * 0.5},
                             {"odd", i % 2 == 1},
                             {"tag", "t" + std::to_string(i % 5)}});
      if (i % 7 == 0) b.metadatas.back()["list"] = {static_cast<int64_t>(i), static_cast<int64_t>(i + 1)};
    }
    ASSERT_TRUE(store->Add(name, b).ok());
    ASSERT_TRUE(store->Delete(name, std::vector<std::string>{"r1", "r2", "r3"}).ok());
    RecordBatch upd;
    upd.ids = {"r10"};
    upd.metadatas = {{{"tag", nullptr}, {"extra", 7}}};
    upd.documents = {std::string("replaced text")};
    ASSERT_TRUE(store->Update(name, upd).ok());
  }
  ASSERT_TRUE(store->Persist().ok());
  // After the persist, a log tail that only the log holds (Chroma must backfill it).
  RecordBatch tail;
  tail.ids = {"tail1", "tail2"};
  tail.embeddings = Vectors(2, kDim, 11);
  tail.documents = {std::string("tail one"), std::string("tail two")};
  ASSERT_TRUE(store->Add("cos", tail).ok());
  ASSERT_TRUE(store->Delete("euclid", std::vector<std::string>{"r20"}).ok());
  // Persisted as a minor compaction leaves it: chroma.sqlite3 written and purged below the HNSW
  // base, the HNSW files as the major persist above wrote them, the tail only in embeddings_queue.
  PersistOptions minor;
  minor.vectors = false;
  minor.purge_log = true;
  minor.vacuum = true;
  ASSERT_TRUE(store->Persist(minor).ok());
  ASSERT_GT(*store->VectorTailRecords("cos"), 0u);

  fs::copy(dir + "/ours", dir + "/chroma", fs::copy_options::recursive);
  ChromaOracle chroma(shared, dir + "/chroma");
  ASSERT_TRUE(chroma.ok()) << chroma.error();

  nlohmann::json list = chroma.Call("GET", "/collections");
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 2u);
  std::map<std::string, std::string> ids;
  for (const auto& c : list) ids[c["name"]] = c["id"];
  EXPECT_EQ(list[0]["configuration_json"]["hnsw"]["space"].is_string(), true);

  const std::vector<float> queries = Vectors(3, kDim, 77);
  for (const char* name : {"cos", "euclid"}) {
    SCOPED_TRACE(name);
    const std::string base = "/collections/" + ids[name];
    EXPECT_EQ(chroma.Call("GET", base + "/count"), *store->Count(name));

    // get everything with every column
    GetRequest all;
    all.include = kIncludeEmbeddings | kIncludeDocuments | kIncludeMetadatas;
    nlohmann::json ours = ToJson(*store->Get(name, all));
    nlohmann::json theirs = chroma.Call(
        "POST", base + "/get", {{"include", {"embeddings", "documents", "metadatas"}}, {"limit", 10000}});
    ASSERT_TRUE(theirs.is_object());
    std::map<std::string, size_t> pos;
    for (size_t i = 0; i < theirs["ids"].size(); ++i) pos[theirs["ids"][i]] = i;
    ASSERT_EQ(pos.size(), ours["ids"].size());
    for (size_t i = 0; i < ours["ids"].size(); ++i) {
      const std::string id = ours["ids"][i];
      ASSERT_TRUE(pos.count(id)) << id;
      size_t j = pos[id];
      EXPECT_EQ(theirs["documents"][j], ours["documents"][i]) << id;
      EXPECT_EQ(theirs["metadatas"][j], ours["metadatas"][i]) << id;
      ExpectFloatsNear(theirs["embeddings"][j], ours["embeddings"][i], 1e-5f, id);
    }

    // filtered get: where + where_document
    GetRequest f;
    f.where = {{"$and", {{{"odd", true}}, {{"i", {{"$lt", 100}}}}}}};
    f.where_document = {{"$contains", "fizz"}};
    f.include = 0;
    auto our_f = store->Get(name, f);
    ASSERT_TRUE(our_f.ok()) << our_f.status().ToString();
    nlohmann::json their_f = chroma.Call(
        "POST", base + "/get",
        {{"where", f.where}, {"where_document", f.where_document}, {"include", nlohmann::json::array()}});
    std::set<std::string> a(our_f->ids.begin(), our_f->ids.end());
    std::set<std::string> b;
    for (const auto& id : their_f["ids"]) b.insert(id.get<std::string>());
    EXPECT_EQ(a, b);
    EXPECT_FALSE(a.empty());

    // query, unfiltered and filtered
    for (const nlohmann::json& where :
         {nlohmann::json(nullptr), nlohmann::json{{"tag", {{"$in", {"t1", "t4"}}}}}}) {
      QueryRequest q;
      q.query_embeddings = queries;
      q.n_results = 8;
      q.where = where;
      auto our_q = store->Query(name, q);
      ASSERT_TRUE(our_q.ok()) << our_q.status().ToString();
      nlohmann::json body = {{"n_results", 8}, {"include", {"distances", "documents", "metadatas"}}};
      body["query_embeddings"] = nlohmann::json::array();
      for (size_t qi = 0; qi < 3; ++qi) {
        body["query_embeddings"].push_back(
            std::vector<float>(queries.begin() + qi * kDim, queries.begin() + (qi + 1) * kDim));
      }
      if (!where.is_null()) body["where"] = where;
      nlohmann::json their_q = chroma.Call("POST", base + "/query", body);
      ASSERT_TRUE(their_q.is_object()) << their_q.dump();
      nlohmann::json our_j = ToJson(*our_q);
      EXPECT_EQ(their_q["ids"], our_j["ids"]) << where.dump();
      EXPECT_EQ(their_q["documents"], our_j["documents"]);
      EXPECT_EQ(their_q["metadatas"], our_j["metadatas"]);
      ExpectFloatsNear(their_q["distances"], our_j["distances"], 1e-4f, "distances");
    }
  }
}

}  // namespace
}  // namespace chromapact::store
