// Content-addressed snapshot chunks (pipeline/snapshot.h) against moto_server: a version uploads
// only the chunks S3 does not have (dedup within the version and against its parent), a reader
// rebuilds changed files from the chunks it already has and downloads the rest, and every chunk is
// checked against its name. The sizes and counts asserted are computed here from the files' bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "chromapact/crypto.h"
#include "chromapact/pipeline/snapshot.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

class SnapshotChunksTest : public CompactorTestBase {};

constexpr uint64_t kChunk = 4096;

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string Page(char fill, size_t n = kChunk) { return std::string(n, fill); }

TEST_F(SnapshotChunksTest, UploadsAndDownloadsOnlyNewChunks) {
  const ShardId shard{"chunked", 0};
  const std::string src = testing::MakeTempDir("chunks-src");
  // chroma.sqlite3: pages a b c + a short tail; data_level0.bin: two zero pages and page a again.
  WriteBytes(src + "/chroma.sqlite3", Page('a') + Page('b') + Page('c') + "tail");
  WriteBytes(src + "/seg/data_level0.bin", Page('\0') + Page('\0') + Page('a'));
  const std::set<std::string> distinct = {Sha256Hex(Page('a')), Sha256Hex(Page('b')), Sha256Hex(Page('c')),
                                          Sha256Hex("tail"), Sha256Hex(Page('\0'))};
  PublishOptions opts;
  opts.chunk_bytes = kChunk;
  codec::Manifest m1;
  m1.version = 1;
  m1.log_position = 3;
  m1.base_log_position = 3;
  m1.writer_id = "w1";
  auto p1 = PublishSnapshot(objects(), shard, src, &m1, opts);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->objects, distinct.size());
  EXPECT_EQ(p1->chunks_reused, 7u - distinct.size());
  EXPECT_EQ(p1->bytes_total, 3 * kChunk + 4 + 3 * kChunk);
  EXPECT_EQ(m1.chunk_bytes, kChunk);
  ASSERT_EQ(m1.files.size(), 2u);
  EXPECT_EQ(m1.files[0].chunks.size(), 4u);
  auto stored = objects()->List(ChunkPrefix(shard));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), distinct.size());
  for (const auto& o : *stored) EXPECT_EQ(distinct.count(o.key.substr(ChunkPrefix(shard).size())), 1u) << o.key;

  // v2 changes one page of chroma.sqlite3: one chunk PUT, the rest known from the parent.
  WriteBytes(src + "/chroma.sqlite3", Page('a') + Page('B') + Page('c') + "tail");
  codec::Manifest m2;
  m2.version = 2;
  m2.parent_version = 1;
  m2.log_position = 4;
  m2.base_log_position = 3;
  m2.writer_id = "w2";
  opts.known = &m1;
  auto p2 = PublishSnapshot(objects(), shard, src, &m2, opts);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  EXPECT_EQ(p2->objects, 1u);
  auto manifest2 = objects()->Get(p2->manifest_key);
  ASSERT_TRUE(manifest2.ok());
  EXPECT_EQ(p2->bytes, kChunk + manifest2->size());

  // A reader with v1 builds v2 from three local chunks and one download.
  const std::string cache = testing::MakeTempDir("chunks-cache");
  FetchStats st;
  auto f1 = FetchSnapshot(objects(), p1->manifest_key, cache, &st);
  ASSERT_TRUE(f1.ok()) << f1.status().ToString();
  EXPECT_EQ(st.chunks_fetched, distinct.size());
  EXPECT_EQ(st.files_fetched, 2u);
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f1).ok());
  auto f2 = FetchSnapshot(objects(), p2->manifest_key, cache, &st);
  ASSERT_TRUE(f2.ok()) << f2.status().ToString();
  EXPECT_EQ(st.chunks_fetched, 1u);
  EXPECT_EQ(st.chunks_reused, 3u);
  EXPECT_EQ(st.files_fetched, 1u);
  EXPECT_EQ(st.files_reused, 1u);
  EXPECT_EQ(st.bytes_fetched, kChunk + manifest2->size());
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f2).ok());
  std::ifstream in(cache + "/chroma.sqlite3", std::ios::binary);
  const std::string rebuilt((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rebuilt, Page('a') + Page('B') + Page('c') + "tail");
  // Back to v1 from v2: page b is nowhere local any more and comes from S3 again.
  ASSERT_TRUE(FetchSnapshot(objects(), p1->manifest_key, cache, &st).ok());
  EXPECT_EQ(st.chunks_fetched, 1u);
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f1).ok());
}

TEST_F(SnapshotChunksTest, DamagedOrMissingChunksAreErrorsNamingThem) {
  const ShardId shard{"chunkbad", 0};
  const std::string src = testing::MakeTempDir("chunkbad-src");
  WriteBytes(src + "/chroma.sqlite3", Page('x') + Page('y'));
  PublishOptions opts;
  opts.chunk_bytes = kChunk;
  codec::Manifest m;
  m.version = 1;
  m.writer_id = "w";
  auto p = PublishSnapshot(objects(), shard, src, &m, opts);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string y = ChunkKey(shard, Sha256Hex(Page('y')));
  ASSERT_TRUE(objects()->Delete({y}).ok());
  ASSERT_TRUE(objects()->Put(y, Page('z')).ok());  // same size, other bytes
  auto bad = FetchSnapshot(objects(), p->manifest_key, testing::MakeTempDir("chunkbad-a"));
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find(y), std::string::npos) << bad.status().message();
  ASSERT_TRUE(objects()->Delete({y}).ok());
  auto missing = FetchSnapshot(objects(), p->manifest_key, testing::MakeTempDir("chunkbad-b"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find(y), std::string::npos) << missing.status().message();
  // A publish that finds the chunk stored with another size refuses (its name is not its bytes).
  ASSERT_TRUE(objects()->Put(y, "short").ok());
  codec::Manifest again;
  again.version = 2;
  again.writer_id = "w2";
  auto refused = PublishSnapshot(objects(), shard, src, &again, opts);
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists) << refused.status().ToString();
  // A leftover .part from an interrupted fetch is never used as a chunk source.
  ASSERT_TRUE(objects()->Delete({y}).ok());
  ASSERT_TRUE(objects()->Put(y, Page('y')).ok());
  const std::string dir = testing::MakeTempDir("chunkbad-c");
  WriteBytes(dir + "/chroma.sqlite3.part", Page('q') + Page('q'));
  auto good = FetchSnapshot(objects(), p->manifest_key, dir);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(codec::VerifyDirectory(dir, *good).ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/chroma.sqlite3.part"));
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
