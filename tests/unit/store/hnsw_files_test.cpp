// HNSW segment folders: our Save/Load round trip, Chroma 1.5.9's fixture folders, and damaged files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "chromapact/store/hnsw_segment.h"
#include "support/paths.h"

namespace chromapact::store {
namespace {

namespace fs = std::filesystem;

const char* kFixture1200 = "/chroma/fixtures/chroma-1.5.9-1200";
const char* kSegment1200 = "8940f579-2fa4-4c85-9928-b7afb9f526f7";
const char* kFixture50 = "/chroma/fixtures/chroma-1.5.9-50";
const char* kSegment50 = "c3ab591e-b540-4d28-b92d-116863c1b92b";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<float> RandomVectors(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n * dim);
  for (auto& x : v) x = dist(rng);
  return v;
}

HnswParams ParamsFor(Space space) {
  HnswParams p;
  p.space = space;
  return p;
}

// A segment with inserts, updates and deletes.
std::unique_ptr<HnswSegment> Build(Space space, size_t n, size_t dim) {
  auto seg = std::move(HnswSegment::Create(dim, ParamsFor(space))).value();
  const auto data = RandomVectors(n, dim, 11);
  for (size_t i = 0; i < n; ++i) EXPECT_TRUE(seg->Upsert("id" + std::to_string(i), &data[i * dim]).ok());
  const auto upd = RandomVectors(n, dim, 12);
  for (size_t i = 0; i < n; i += 5) EXPECT_TRUE(seg->Upsert("id" + std::to_string(i), &upd[i * dim]).ok());
  for (size_t i = 3; i < n; i += 9) EXPECT_TRUE(seg->Delete("id" + std::to_string(i)).ok());
  return seg;
}

HnswFolderBytes ReadFolder(const std::string& dir) {
  HnswFolderBytes f;
  f.header = ReadAll(dir + "/header.bin");
  f.data_level0 = ReadAll(dir + "/data_level0.bin");
  f.length = ReadAll(dir + "/length.bin");
  f.link_lists = ReadAll(dir + "/link_lists.bin");
  f.has_pickle = fs::exists(dir + "/index_metadata.pickle");
  if (f.has_pickle) f.pickle = ReadAll(dir + "/index_metadata.pickle");
  return f;
}

class HnswFilesSpaceTest : public ::testing::TestWithParam<Space> {};

TEST_P(HnswFilesSpaceTest, SaveLoadRoundTrip) {
  const Space space = GetParam();
  const size_t n = 300, dim = 12;
  auto seg = Build(space, n, dim);
  const std::string dir = chromapact::testing::MakeTempDir("hnsw-roundtrip");
  ASSERT_TRUE(seg->Save(dir).ok());

  // Layout: 100-byte header, full-capacity level 0 and norms.
  const size_t record = 4 + 4 * 32 + 4 * dim + 8;
  EXPECT_EQ(fs::file_size(dir + "/header.bin"), 100u);
  EXPECT_EQ(seg->capacity(), 512u);
  EXPECT_EQ(fs::file_size(dir + "/data_level0.bin"), seg->capacity() * record);
  EXPECT_EQ(fs::file_size(dir + "/length.bin"), seg->capacity() * 4);
  for (const char* name : kHnswFileNames) EXPECT_FALSE(fs::exists(dir + "/" + name + ".tmp"));

  auto loaded = HnswSegment::Load(dir, dim, ParamsFor(space));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto& back = *loaded;
  EXPECT_EQ(back->size(), seg->size());
  EXPECT_EQ(back->record_count(), seg->record_count());
  EXPECT_EQ(back->capacity(), seg->capacity());
  EXPECT_EQ(back->total_elements_added(), seg->total_elements_added());
  size_t visited = 0;
  seg->ForEach([&](const std::string& id, const float* v) {
    ++visited;
    ASSERT_TRUE(back->Contains(id)) << id;
    EXPECT_EQ(*back->Label(id), *seg->Label(id));
    auto got = *back->Get(id);
    for (size_t d = 0; d < dim; ++d) EXPECT_NEAR(got[d], v[d], 1e-5f * (1 + std::fabs(v[d])));
  });
  EXPECT_EQ(visited, seg->size());
  EXPECT_FALSE(back->Contains("id3"));  // deleted before the save

  // Same graph, same answers.
  const auto qs = RandomVectors(20, dim, 99);
  for (size_t q = 0; q < 20; ++q) {
    auto a = seg->Search(&qs[q * dim], 10, nullptr);
    auto b = back->Search(&qs[q * dim], 10, nullptr);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id);
      EXPECT_FLOAT_EQ(a[i].distance, b[i].distance);
    }
  }
  // Saving what was loaded gives the same bytes.
  const HnswFolderBytes first = seg->Serialize();
  const HnswFolderBytes second = back->Serialize();
  EXPECT_TRUE(first.header == second.header);
  EXPECT_TRUE(first.data_level0 == second.data_level0);
  EXPECT_TRUE(first.length == second.length);
  EXPECT_TRUE(first.link_lists == second.link_lists);
  EXPECT_TRUE(first.pickle == second.pickle);

  // The loaded index keeps working: new ids continue the label sequence, updates keep labels.
  const auto extra = RandomVectors(2, dim, 5);
  ASSERT_TRUE(back->Upsert("new", &extra[0]).ok());
  EXPECT_EQ(*back->Label("new"), seg->total_elements_added() + 1);
  ASSERT_TRUE(back->Upsert("id1", &extra[dim]).ok());
  EXPECT_EQ(*back->Label("id1"), *seg->Label("id1"));
  std::string best;
  float best_d = 1e30f;
  back->ForEach([&](const std::string& id, const float* v) {
    const float d = Distance(space, &extra[dim], v, dim);
    if (d < best_d) best_d = d, best = id;
  });
  if (space != Space::kIp) {
    EXPECT_EQ(best, "id1");
  }  // ip is not a metric: a point need not be its own best
  auto hit = back->Search(&extra[dim], 1, nullptr);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].id, best);
}

INSTANTIATE_TEST_SUITE_P(Spaces, HnswFilesSpaceTest, ::testing::Values(Space::kL2, Space::kCosine, Space::kIp),
                         [](const auto& info) { return std::string(SpaceName(info.param)); });

TEST(HnswFilesTest, EmptyIndexAndMissingPickle) {
  auto seg = std::move(HnswSegment::Create(4, HnswParams())).value();
  const std::string dir = chromapact::testing::MakeTempDir("hnsw-empty");
  ASSERT_TRUE(seg->Save(dir).ok());
  auto back = HnswSegment::Load(dir, 4, HnswParams());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->size(), 0u);
  EXPECT_TRUE((*back)->Search(std::vector<float>(4, 1.0f).data(), 3, nullptr).empty());
  // Without the pickle a full index is an empty one (Chroma backfills it from the log).
  auto full = Build(Space::kL2, 50, 4);
  ASSERT_TRUE(full->Save(dir).ok());
  fs::remove(dir + "/index_metadata.pickle");
  back = HnswSegment::Load(dir, 4, HnswParams());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)->size(), 0u);
  EXPECT_EQ(HnswSegment::Load(dir + "/nope", 4, HnswParams()).status().code(), StatusCode::kIOError);
}

// The log's vector for each id still in Chroma 1.5.9's embeddings_queue.
std::map<std::string, std::vector<float>> LogVectors(const std::string& db_path) {
  std::map<std::string, std::vector<float>> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, vector FROM embeddings_queue WHERE vector IS NOT NULL ORDER BY seq_id", -1, &st,
                     nullptr);
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    const char* id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const int n = sqlite3_column_bytes(st, 1);
    std::vector<float> v(n / 4);
    std::memcpy(v.data(), sqlite3_column_blob(st, 1), v.size() * 4);
    out[id] = v;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST(HnswFilesTest, LoadsChroma159Folder) {
  CP_REQUIRE_SHARED(shared);
  const std::string root = shared + kFixture1200;
  const std::string dir = root + "/" + kSegment1200;
  auto loaded = HnswSegment::Load(dir, 8, ParamsFor(Space::kCosine));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto& seg = *loaded;
  EXPECT_EQ(seg->size(), 1000u);
  EXPECT_EQ(seg->record_count(), 1000u);
  EXPECT_EQ(seg->capacity(), 1024u);
  EXPECT_EQ(seg->total_elements_added(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(seg->Contains("id" + std::to_string(i))) << i;

  // Un-normalised vectors equal the log's for every id the purged log still holds.
  const auto log = LogVectors(root + "/chroma.sqlite3");
  ASSERT_FALSE(log.empty());
  size_t compared = 0;
  for (const auto& kv : log) {
    if (!seg->Contains(kv.first)) continue;
    auto got = *seg->Get(kv.first);
    ASSERT_EQ(got.size(), kv.second.size());
    for (size_t d = 0; d < got.size(); ++d) EXPECT_NEAR(got[d], kv.second[d], 1e-5) << kv.first << "[" << d << "]";
    ++compared;
  }
  EXPECT_GE(compared, 1u);

  // Every element finds itself; the stored vector has unit norm and length.bin restores the scale.
  size_t self_found = 0;
  seg->ForEach([&](const std::string& id, const float* v) {
    auto hits = seg->Search(v, 1, nullptr);
    if (!hits.empty() && hits[0].id == id) ++self_found;
  });
  EXPECT_GE(self_found, 990u);

  // Re-serialising reproduces Chroma's bytes: the header exactly, level 0 / norms / link lists for the
  // 1000 records (Chroma's files hold only those), and the pickle's content.
  const HnswFolderBytes ours = seg->Serialize();
  const HnswFolderBytes theirs = ReadFolder(dir);
  EXPECT_TRUE(ours.header == theirs.header);
  EXPECT_TRUE(ours.link_lists == theirs.link_lists);
  EXPECT_TRUE(ours.data_level0.substr(0, theirs.data_level0.size()) == theirs.data_level0);
  EXPECT_TRUE(ours.length.substr(0, theirs.length.size()) == theirs.length);
  EXPECT_EQ(ours.data_level0.size(), 1024u * (4 + 4 * 32 + 4 * 8 + 8));

  // Upsert on top of Chroma's graph.
  const float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(seg->Upsert("id1000", v).ok());
  EXPECT_EQ(*seg->Label("id1000"), 1001u);
  EXPECT_EQ(seg->Search(v, 1, nullptr)[0].id, "id1000");
}

TEST(HnswFilesTest, LoadsChroma159FolderWithoutPickleAsEmpty) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = shared + kFixture50 + "/" + kSegment50;
  ASSERT_TRUE(fs::exists(dir + "/header.bin"));
  ASSERT_FALSE(fs::exists(dir + "/index_metadata.pickle"));
  auto loaded = HnswSegment::Load(dir, 8, ParamsFor(Space::kCosine));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 0u);
  // Our empty index writes the same header Chroma wrote for its empty one.
  auto empty = std::move(HnswSegment::Create(8, ParamsFor(Space::kCosine))).value();
  EXPECT_TRUE(empty->Serialize().header == ReadAll(dir + "/header.bin"));
  EXPECT_EQ(empty->Serialize().data_level0.size(), fs::file_size(dir + "/data_level0.bin"));
}

// Damage: each file cut at many offsets, wrong versions and sizes, broken links.
class HnswDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seg_ = Build(Space::kCosine, 120, 6);
    good_ = seg_->Serialize();
    ASSERT_TRUE(HnswSegment::LoadFromBytes(good_, 6, ParamsFor(Space::kCosine)).ok());
  }
  StatusCode LoadCode(const HnswFolderBytes& f, size_t dim = 6) {
    auto r = HnswSegment::LoadFromBytes(f, dim, ParamsFor(Space::kCosine));
    if (r.ok()) {
      // Whatever loads must be usable.
      std::vector<float> q(dim, 0.5f);
      (*r)->Search(q.data(), 5, nullptr);
      return StatusCode::kOk;
    }
    return r.status().code();
  }
  std::unique_ptr<HnswSegment> seg_;
  HnswFolderBytes good_;
};

TEST_F(HnswDamageTest, TruncationAtManyOffsets) {
  const size_t record = 4 + 4 * 32 + 4 * 6 + 8;
  const size_t cur = seg_->record_count();
  struct Part {
    std::string HnswFolderBytes::*field;
    size_t required;  // bytes a reader needs
  } parts[] = {{&HnswFolderBytes::header, 100},
               {&HnswFolderBytes::data_level0, cur * record},
               {&HnswFolderBytes::length, cur * 4},
               {&HnswFolderBytes::link_lists, good_.link_lists.size()},
               {&HnswFolderBytes::pickle, good_.pickle.size()}};
  size_t cases = 0;
  for (const auto& part : parts) {
    const std::string& full = good_.*part.field;
    for (size_t cut = 0; cut < full.size(); cut += (cut < 256 ? 1 : 97)) {
      HnswFolderBytes f = good_;
      (f.*part.field).resize(cut);
      const StatusCode c = LoadCode(f);
      if (cut < part.required) {
        EXPECT_EQ(c, StatusCode::kCorruption) << "cut at " << cut << " of " << full.size();
      } else {
        EXPECT_EQ(c, StatusCode::kOk) << "cut at " << cut << " beyond the required " << part.required;
      }
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000u);
}

TEST_F(HnswDamageTest, HeaderAndLinkErrors) {
  HnswFolderBytes f = good_;
  f.header[0] = 2;
  EXPECT_EQ(LoadCode(f), StatusCode::kNotSupported);

  auto r = HnswSegment::LoadFromBytes(good_, 7, ParamsFor(Space::kCosine));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("dim 7"), std::string::npos) << r.status().ToString();

  f = good_;
  const uint32_t bad_ep = 100000;
  std::memcpy(&f.header[56], &bad_ep, 4);
  EXPECT_EQ(LoadCode(f), StatusCode::kCorruption);

  f = good_;
  const uint64_t huge = uint64_t{1} << 60;
  std::memcpy(&f.header[20], &huge, 8);  // cur_element_count
  EXPECT_EQ(LoadCode(f), StatusCode::kCorruption);

  f = good_;
  std::memcpy(&f.header[12], &huge, 8);  // max_elements: capacity falls back to Chroma's rule
  EXPECT_EQ(LoadCode(f), StatusCode::kOk);

  f = good_;
  const uint32_t far = 99999;
  std::memcpy(&f.data_level0[4], &far, 4);  // first level-0 neighbour of record 0
  EXPECT_EQ(LoadCode(f), StatusCode::kCorruption);

  f = good_;
  f.data_level0[0] = static_cast<char>(0xff);  // neighbour count > maxM0
  f.data_level0[1] = 0;
  EXPECT_EQ(LoadCode(f), StatusCode::kCorruption);

  f = good_;
  f.pickle = "not a pickle";
  EXPECT_EQ(LoadCode(f), StatusCode::kCorruption);
}

TEST_F(HnswDamageTest, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(1234);
  std::string HnswFolderBytes::*fields[] = {&HnswFolderBytes::header, &HnswFolderBytes::data_level0,
                                            &HnswFolderBytes::link_lists, &HnswFolderBytes::pickle};
  size_t rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    HnswFolderBytes f = good_;
    std::string& part = f.*fields[rng() % 4];
    for (int k = 0; k < 3; ++k) part[rng() % part.size()] = static_cast<char>(rng());
    if (LoadCode(f) != StatusCode::kOk) ++rejected;
  }
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace chromapact::store

namespace chromapact::store {
namespace {

// The fuzz seeds are folders written by python3-hnswlib (an independent writer of the same layout,
// see fuzz/store/make_corpus.py): every one must load, with its deleted labels absent.
TEST(HnswFilesTest, LoadsFuzzSeedsWrittenByPythonHnswlib) {
  const std::string dir = chromapact::testing::SourceDir() + "/fuzz/store/hnsw_files_corpus";
  size_t seeds = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string in = ReadAll(e.path().string());
    ASSERT_GE(in.size(), 10u);
    HnswParams params;
    params.space = static_cast<Space>(in[0] % 3);
    const size_t dim = 1 + static_cast<uint8_t>(in[1]) % 16;
    HnswFolderBytes f;
    size_t pos = 10;
    std::string* parts[4] = {&f.header, &f.data_level0, &f.link_lists, &f.length};
    for (int i = 0; i < 4; ++i) {
      uint16_t len;
      std::memcpy(&len, in.data() + 2 + 2 * i, 2);
      *parts[i] = in.substr(pos, len);
      pos += len;
    }
    f.pickle = in.substr(pos);
    f.has_pickle = true;
    auto seg = HnswSegment::LoadFromBytes(f, dim, params);
    ASSERT_TRUE(seg.ok()) << e.path() << ": " << seg.status().ToString();
    const size_t records = (*seg)->record_count();
    EXPECT_GT((*seg)->size(), 0u);
    EXPECT_EQ((*seg)->size() + (e.path().filename() == "l2_16" ? 0 : e.path().filename() == "ip_12" ? 1 : 2),
              records);
    // Each stored vector is found as its own nearest neighbour (l2/cosine).
    if (params.space != Space::kIp) {
      (*seg)->ForEach([&](const std::string& id, const float* v) {
        auto hits = (*seg)->Search(v, 1, nullptr);
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0].id, id);
      });
    }
    ++seeds;
  }
  EXPECT_EQ(seeds, 3u);
}

}  // namespace
}  // namespace chromapact::store
