// Persist directories written by real Chroma 1.5.9 (../shared/chroma/fixtures) read back completely:
// HNSW folder + log tail replay past max_seq_id[VECTOR] (chroma-1.5.9-1200) and log only
// (chroma-1.5.9-50). Expectations come from the fixture's own log rows and its documented contents
// (docs, cosine, records id<i> with document "document number <i>", metadata i/f/s/b; id3 deleted).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "unit/store/store_test_util.h"

namespace chromapact::store {
namespace {
namespace fs = std::filesystem;
using testutil::OpenOrDie;
using testutil::Rows;

struct LogRow {
  int op;
  std::vector<float> vec;
  nlohmann::json md;
};

std::vector<float> FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::vector<float> v(bytes.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * 4);  // memcpy from/to null is UB even for 0 bytes
  return v;
}

// Last log row per id.
std::map<std::string, LogRow> LastLogRows(const std::string& dir) {
  std::map<std::string, LogRow> out;
  for (const std::string& row : Rows(dir, "SELECT id, operation, hex(vector), metadata FROM embeddings_queue ORDER BY seq_id")) {
    size_t a = row.find('|'), b = row.find('|', a + 1), c = row.find('|', b + 1);
    LogRow r;
    r.op = std::stoi(row.substr(a + 1, b - a - 1));
    r.vec = FromHex(row.substr(b + 1, c - b - 1));
    r.md = nlohmann::json::parse(row.substr(c + 1));
    out[row.substr(0, a)] = r;
  }
  return out;
}

void CheckFixture(Store* store, const std::string& dir, size_t expected_live) {
  auto info = store->GetCollection("docs");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hnsw.space, Space::kCosine);
  EXPECT_EQ(*info->dimension, 8u);
  EXPECT_EQ(info->metadata, nlohmann::json({{"owner", "test"}}));
  EXPECT_EQ(*store->Count("docs"), expected_live);
  GetRequest all;
  all.include = kIncludeEmbeddings | kIncludeDocuments | kIncludeMetadatas;
  auto g = store->Get("docs", all);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->ids.size(), expected_live);
  std::map<std::string, LogRow> log = LastLogRows(dir);
  size_t from_log = 0;
  for (size_t r = 0; r < g->ids.size(); ++r) {
    const std::string& id = g->ids[r];
    ASSERT_NE(id, "id3");  // deleted
    const int i = std::stoi(id.substr(2));
    EXPECT_EQ((*g->documents)[r], "document number " + std::to_string(i)) << id;
    const nlohmann::json& md = (*g->metadatas)[r];
    EXPECT_EQ(md["i"], i) << id;
    EXPECT_EQ(md["s"], "s" + std::to_string(i)) << id;
    EXPECT_EQ(md["b"], i % 2 == 0) << id;
    EXPECT_DOUBLE_EQ(md["f"].get<double>(), i * 0.5) << id;
    const auto& emb = (*g->embeddings)[r];
    ASSERT_EQ(emb.size(), 8u);
    auto it = log.find(id);
    if (it != log.end() && it->second.op == 0) {
      ++from_log;
      for (size_t d = 0; d < 8; ++d) EXPECT_NEAR(emb[d], it->second.vec[d], 1e-5f) << id;
      nlohmann::json expect_md = it->second.md;
      expect_md.erase("chroma:document");
      EXPECT_EQ(md, expect_md) << id;
    }
  }
  EXPECT_GT(from_log, 0u);
  // Every record finds itself first (HNSW-loaded and log-replayed ones alike).
  for (size_t r = 0; r < g->ids.size(); r += 97) {
    QueryRequest q;
    q.query_embeddings = (*g->embeddings)[r];
    q.n_results = 3;
    auto res = store->Query("docs", q);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->ids[0][0], g->ids[r]);
    EXPECT_NEAR((*res->distances)[0][0], 0.0f, 1e-5f);
  }
}

class FixturesTest : public ::testing::TestWithParam<std::pair<const char*, size_t>> {};

TEST_P(FixturesTest, ReadOnlyReadsEveryLiveRecord) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = shared + "/chroma/fixtures/" + GetParam().first;
  OpenOptions ro;
  ro.read_only = true;
  auto store = OpenOrDie(dir, ro);
  ASSERT_NE(store, nullptr);
  CheckFixture(store.get(), dir, GetParam().second);
  OpenOptions imm;
  imm.immutable = true;
  auto frozen = OpenOrDie(dir, imm);
  ASSERT_NE(frozen, nullptr);
  EXPECT_EQ(*frozen->Count("docs"), GetParam().second);
}

TEST_P(FixturesTest, ReadWriteCopyAcceptsWritesAndPersists) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = chromapact::testing::MakeTempDir("fixture");
  fs::copy(shared + "/chroma/fixtures/" + GetParam().first, dir, fs::copy_options::recursive);
  {
    auto store = OpenOrDie(dir);
    ASSERT_NE(store, nullptr);
    CheckFixture(store.get(), dir, GetParam().second);
    RecordBatch b;
    b.ids = {"id3"};  // re-add the deleted one
    b.embeddings = {1, 2, 3, 4, 5, 6, 7, 8};
    b.documents = {std::string("document number 3")};
    b.metadatas = {{{"i", 3}, {"s", "s3"}, {"b", false}, {"f", 1.5}}};
    ASSERT_TRUE(store->Add("docs", b).ok());
    ASSERT_TRUE(store->Persist().ok());
  }
  auto info_rows = Rows(dir, "SELECT s.scope, m.seq_id FROM max_seq_id m JOIN segments s ON s.id = m.segment_id "
                             "ORDER BY s.scope");
  const std::string last = Rows(dir, "SELECT max(seq_id) FROM embeddings_queue")[0];
  EXPECT_EQ(info_rows, (std::vector<std::string>{"METADATA|" + last, "VECTOR|" + last}));
  OpenOptions ro;
  ro.read_only = true;
  auto reader = OpenOrDie(dir, ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(*reader->Count("docs"), GetParam().second + 1);
  GetRequest one;
  one.ids = std::vector<std::string>{"id3"};
  one.include = kIncludeEmbeddings;
  auto g = reader->Get("docs", one);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->ids.size(), 1u);
  for (size_t d = 0; d < 8; ++d) EXPECT_NEAR((*g->embeddings)[0][d], d + 1.0f, 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Chroma159, FixturesTest,
                         ::testing::Values(std::make_pair("chroma-1.5.9-1200", size_t{1199}),
                                           std::make_pair("chroma-1.5.9-50", size_t{49})),
                         [](const auto& info) { return "n" + std::string(info.param.first).substr(13); });

}  // namespace
}  // namespace chromapact::store
