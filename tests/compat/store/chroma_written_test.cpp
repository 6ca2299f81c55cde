// We read what Chroma writes: real Chroma 1.5.9 (the oracle) starts on an EMPTY directory, its REST
// API v2 creates one collection per space and adds / upserts / updates / deletes records; Chroma is
// then killed (it never flushes HNSW on shutdown, docs/chroma-format.md §3, so vectors past the last
// sync_threshold live only in embeddings_queue) and our read-only Store must return exactly what
// Chroma's own /get and /query returned before the kill. Skips when ../shared is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
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
using chromapact::testing::Row;
using chromapact::testing::Vectors;

constexpr size_t kDim = 12;
constexpr size_t kQueries = 4;
constexpr size_t kK = 10;

struct Case {
  std::string name;
  Space space;
  nlohmann::json create;  // extra create-collection body keys
  size_t n;               // records added
};

nlohmann::json Embeddings(const std::vector<float>& m, size_t from, size_t to) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = from; i < to; ++i) out.push_back(Row(m, kDim, i));
  return out;
}

nlohmann::json Meta(size_t i, uint32_t gen) {
  return {{"s", "str " + std::to_string(i) + "/" + std::to_string(gen)},
          {"i", static_cast<int64_t>(i) * 3 - 100},
          {"f", static_cast<double>(i) * 0.25 + 0.1 + gen},
          {"b", i % 2 == 0},
          {"tag", "t" + std::to_string(i % 5)}};
}

// What Chroma answered before it was stopped, per collection.
struct Seen {
  std::string id;
  nlohmann::json get;    // /get with embeddings, documents, metadatas
  nlohmann::json query;  // /query with distances
  int64_t count = 0;
  std::set<std::string> deleted;
  std::map<std::string, std::vector<float>> sent;  // last embedding we sent per id
};

// Drives Chroma through the writes of one collection; returns what it then answers.
void Write(ChromaOracle& chroma, const Case& c, const std::vector<float>& queries, Seen* seen) {
  nlohmann::json body = c.create;
  body["name"] = c.name;
  nlohmann::json created = chroma.Call("POST", "/collections", body);
  ASSERT_TRUE(created.is_object() && created.contains("id")) << created.dump();
  seen->id = created["id"];
  const std::string base = "/collections/" + seen->id;

  const std::vector<float> data = Vectors(c.n, kDim, 1000u + static_cast<uint32_t>(c.space));
  constexpr size_t kBatch = 50;  // several log writes, so sync_threshold can trip between them
  for (size_t from = 0; from < c.n; from += kBatch) {
    const size_t to = std::min(c.n, from + kBatch);
    nlohmann::json add = {{"ids", nlohmann::json::array()},
                          {"documents", nlohmann::json::array()},
                          {"metadatas", nlohmann::json::array()},
                          {"embeddings", Embeddings(data, from, to)}};
    for (size_t i = from; i < to; ++i) {
      add["ids"].push_back("id" + std::to_string(i));
      add["documents"].push_back("document " + std::to_string(i) + (i % 4 == 0 ? " quux" : ""));
      add["metadatas"].push_back(Meta(i, 0));
      seen->sent["id" + std::to_string(i)] = Row(data, kDim, i);
    }
    chroma.Call("POST", base + "/add", add);
  }

  // Upsert: 10 existing ids (new vector, document, metadata) and 5 new ones.
  const std::vector<float> up = Vectors(15, kDim, 77u + static_cast<uint32_t>(c.space));
  nlohmann::json upsert = {{"ids", nlohmann::json::array()},
                           {"documents", nlohmann::json::array()},
                           {"metadatas", nlohmann::json::array()},
                           {"embeddings", Embeddings(up, 0, 15)}};
  for (size_t j = 0; j < 15; ++j) {
    const size_t i = j < 10 ? 5 + j * 7 : c.n + j;
    const std::string id = "id" + std::to_string(i);
    upsert["ids"].push_back(id);
    upsert["documents"].push_back("upserted " + std::to_string(i));
    upsert["metadatas"].push_back(Meta(i, 1));
    seen->sent[id] = Row(up, kDim, j);
  }
  chroma.Call("POST", base + "/upsert", upsert);

  // Partial updates: metadata only (one key changed, one removed with null, one added), document
  // only, embedding only.
  chroma.Call("POST", base + "/update",
              {{"ids", {"id1", "id2", "id3"}},
               {"metadatas",
                {{{"s", "changed"}, {"i", nullptr}, {"new", 42}},
                 {{"b", true}, {"f", nullptr}},
                 {{"tag", "t9"}, {"x", 1.5}}}}});
  chroma.Call("POST", base + "/update",
              {{"ids", {"id4", "id6"}}, {"documents", {"doc only 4", "doc only 6 quux"}}});
  const std::vector<float> moved = Vectors(2, kDim, 5u + static_cast<uint32_t>(c.space));
  chroma.Call("POST", base + "/update", {{"ids", {"id8", "id9"}}, {"embeddings", Embeddings(moved, 0, 2)}});
  seen->sent["id8"] = Row(moved, kDim, 0);
  seen->sent["id9"] = Row(moved, kDim, 1);

  // Deletes by ids and by where.
  for (const char* id : {"id0", "id10", "id11", "id47", "id99"}) seen->deleted.insert(id);
  chroma.Call("POST", base + "/delete", {{"ids", {"id0", "id10", "id11", "id47", "id99"}}});
  nlohmann::json gone = chroma.Call(
      "POST", base + "/get",
      {{"where", {{"$and", {{{"tag", "t3"}}, {{"b", false}}}}}}, {"include", nlohmann::json::array()}});
  ASSERT_TRUE(gone.is_object());
  for (const auto& id : gone["ids"]) seen->deleted.insert(id.get<std::string>());
  chroma.Call("POST", base + "/delete", {{"where", {{"$and", {{{"tag", "t3"}}, {{"b", false}}}}}}});
  for (const auto& id : seen->deleted) seen->sent.erase(id);

  seen->count = chroma.Call("GET", base + "/count").get<int64_t>();
  seen->get = chroma.Call("POST", base + "/get",
                          {{"include", {"embeddings", "documents", "metadatas"}}, {"limit", 100000}});
  nlohmann::json q = {
      {"n_results", kK}, {"include", {"distances"}}, {"query_embeddings", Embeddings(queries, 0, kQueries)}};
  seen->query = chroma.Call("POST", base + "/query", q);
  ASSERT_TRUE(seen->get.is_object() && seen->query.is_object()) << seen->get.dump() << seen->query.dump();
}

TEST(ChromaWrittenTest, WeReadWhatChromaWrites) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = chromapact::testing::MakeTempDir("chroma_written") + "/chroma";
  // l2 and cosine with sync_threshold 100: part of the vectors is in persisted HNSW files, the rest
  // only in the log. ip keeps the default 1000: no HNSW files at all, everything from the log.
  const std::vector<Case> cases = {
      {"space_l2",
       Space::kL2,
       {{"configuration", {{"hnsw", {{"space", "l2"}, {"sync_threshold", 100}}}}}},
       260},
      {"space_cosine",
       Space::kCosine,
       {{"configuration", {{"hnsw", {{"space", "cosine"}, {"sync_threshold", 100}}}}}},
       260},
      {"space_ip", Space::kIp, {{"metadata", {{"hnsw:space", "ip"}}}}, 180},
  };
  const std::vector<float> queries = Vectors(kQueries, kDim, 4242);
  std::map<std::string, Seen> seen;
  {
    ChromaOracle chroma(shared, dir);
    ASSERT_TRUE(chroma.ok()) << chroma.error();
    for (const Case& c : cases) {
      SCOPED_TRACE(c.name);
      ASSERT_NO_FATAL_FAILURE(Write(chroma, c, queries, &seen[c.name]));
    }
    ASSERT_TRUE(chroma.Stop()) << "chroma did not exit after SIGKILL";
  }

  auto opened =
      Store::Open(dir, OpenOptions{/*read_only=*/true, /*immutable=*/false, /*create_if_missing=*/false});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(*opened);
  auto listed = store->ListCollections();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), cases.size());

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Seen& s = seen[c.name];
    auto info = store->GetCollection(c.name);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->id, s.id);
    EXPECT_EQ(info->hnsw.space, c.space);
    EXPECT_EQ(info->dimension, std::optional<size_t>(kDim));
    // Informational (Chroma's behaviour, not ours): which HNSW files Chroma left behind.
    std::string files;
    for (const char* f :
         {"header.bin", "data_level0.bin", "length.bin", "link_lists.bin", "index_metadata.pickle"}) {
      const std::string path = dir + "/" + info->vector_segment_id + "/" + f;
      files +=
          std::string(" ") + f + "=" + (fs::exists(path) ? std::to_string(fs::file_size(path)) : "absent");
    }
    std::cout << "[info] " << c.name << ": HNSW files after kill:" << files << "\n";

    auto count = store->Count(c.name);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(*count), s.count);

    GetRequest all;
    all.include = kIncludeEmbeddings | kIncludeDocuments | kIncludeMetadatas;
    auto got = store->Get(c.name, all);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const nlohmann::json ours = ToJson(*got);
    const nlohmann::json& theirs = s.get;
    EXPECT_EQ(ours["ids"], theirs["ids"]) << "ids or their order differ";
    std::map<std::string, size_t> pos;
    for (size_t i = 0; i < ours["ids"].size(); ++i) pos[ours["ids"][i]] = i;
    ASSERT_EQ(pos.size(), theirs["ids"].size());
    size_t exact_vectors = 0;
    for (size_t j = 0; j < theirs["ids"].size(); ++j) {
      const std::string id = theirs["ids"][j];
      ASSERT_TRUE(pos.count(id)) << id << " missing from our reader";
      const size_t i = pos[id];
      EXPECT_FALSE(s.deleted.count(id)) << id;
      EXPECT_EQ(ours["documents"][i], theirs["documents"][j]) << id;
      EXPECT_EQ(ours["metadatas"][i], theirs["metadatas"][j]) << id;
      // Exact float32 equality with what Chroma itself returned (cosine: Chroma's own answer, which
      // may be the normalised vector).
      const std::vector<float> mine = (*got->embeddings)[i];
      const std::vector<float> chroma_vec = theirs["embeddings"][j].get<std::vector<float>>();
      EXPECT_EQ(mine, chroma_vec) << id;
      if (mine == s.sent.at(id)) ++exact_vectors;
    }
    for (const auto& id : s.deleted) EXPECT_FALSE(pos.count(id)) << id << " was deleted in Chroma";
    EXPECT_EQ(theirs["ids"].size() + s.deleted.size(), c.n + 5);
    std::cout << "[info] " << c.name << ": " << exact_vectors << "/" << theirs["ids"].size()
              << " vectors bit-equal to what we sent\n";
    if (c.space != Space::kCosine) {
      EXPECT_EQ(exact_vectors, theirs["ids"].size());
    }

    QueryRequest q;
    q.query_embeddings = queries;
    q.n_results = kK;
    q.include = kIncludeDistances;
    auto res = store->Query(c.name, q);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    const nlohmann::json our_q = ToJson(*res);
    EXPECT_EQ(our_q["ids"], s.query["ids"]);
    ExpectFloatsNear(our_q["distances"], s.query["distances"], 1e-4f, "distances");
  }
}

}  // namespace
}  // namespace chromapact::store
