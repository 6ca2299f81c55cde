// Snapshot manifest (format 3, format 2 still read): JSON round trip with log_position + skipped +
// chunks + base, validation naming the field, format 1 refused, hashing a real directory (whole and
// in chunks), verification, diff, FindSkipped.
#include "chromapact/codec/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chromapact/crypto.h"
#include "support/paths.h"

namespace chromapact::codec {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

Manifest Sample() {
  Manifest m;
  m.collection = "docs";
  m.shard = 2;
  m.version = 7;
  m.parent_version = 6;
  m.chunk_bytes = 4096;
  m.files = {{"chroma.sqlite3", 3, Sha256Hex("abc"), {Sha256Hex("abc")}}, {"seg/data_level0.bin", 0, Sha256Hex(""), {}}};
  m.base_log_position = 40;
  m.base_created_at_ms = 1764585000000;
  m.record_count = 1000;
  m.dimension = 384;
  m.log_position = 42;
  m.skipped = {{5, "corrupt: CRC-32C mismatch"}, {17, "dimension 3, expected 384"}};
  m.created_at_ms = 1764585600000;
  m.writer_id = "compactor-1";
  return m;
}

TEST(ManifestTest, RoundTripAndShape) {
  Manifest m = Sample();
  auto text = EncodeManifest(m);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["format_version"], 3);
  EXPECT_EQ(j["chunk_bytes"], 4096);
  EXPECT_EQ(j["files"][0]["chunks"], nlohmann::json::array({Sha256Hex("abc")}));
  EXPECT_EQ(j["base_log_position"], 40);
  EXPECT_EQ(j["log_position"], 42);
  EXPECT_EQ(j["skipped"][1], (nlohmann::json{{"log_position", 17}, {"reason", "dimension 3, expected 384"}}));
  EXPECT_FALSE(j.contains("applied_delta_ids"));
  // The documented key order (manifest.h), so that manifests diff readably.
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(*text);
  for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"format_version", "collection", "shard", "version", "parent_version",
                                            "chunk_bytes", "files", "record_count", "dimension", "log_position",
                                            "base_log_position", "base_created_at_ms", "skipped", "created_at_ms",
                                            "writer_id"}));
  EXPECT_EQ(j["files"][1]["path"], "seg/data_level0.bin");
  EXPECT_EQ(j["files"][0]["sha256"], Sha256Hex("abc"));
  EXPECT_EQ(j["parent_version"], 6);
  auto back = DecodeManifest(*text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->collection, "docs");
  EXPECT_EQ(back->shard, 2u);
  EXPECT_EQ(back->version, 7u);
  EXPECT_EQ(back->parent_version, std::optional<uint64_t>(6));
  EXPECT_EQ(back->files, m.files);
  EXPECT_EQ(back->files[0].chunks, m.files[0].chunks);
  EXPECT_EQ(back->chunk_bytes, 4096u);
  EXPECT_EQ(back->base_log_position, 40u);
  EXPECT_EQ(back->base_created_at_ms, 1764585000000);
  EXPECT_EQ(back->record_count, 1000u);
  EXPECT_EQ(back->dimension, 384u);
  EXPECT_EQ(back->log_position, 42u);
  ASSERT_EQ(back->skipped.size(), 2u);
  EXPECT_EQ(back->skipped[0].log_position, 5u);
  EXPECT_EQ(back->skipped[0].reason, "corrupt: CRC-32C mismatch");
  EXPECT_EQ(back->skipped[1].log_position, 17u);
  EXPECT_EQ(back->created_at_ms, m.created_at_ms);
  EXPECT_EQ(back->writer_id, "compactor-1");

  m.parent_version.reset();
  m.version = 1;
  text = EncodeManifest(m);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(nlohmann::json::parse(*text)["parent_version"].is_null());
  back = DecodeManifest(*text);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->parent_version.has_value());

  // A version with nothing applied yet: position 0, no skipped entries.
  m.log_position = 0;
  m.base_log_position = 0;
  m.skipped.clear();
  text = EncodeManifest(m);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_TRUE(nlohmann::json::parse(*text)["skipped"].is_array());
  back = DecodeManifest(*text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->log_position, 0u);
  EXPECT_TRUE(back->skipped.empty());
}

TEST(ManifestTest, UnknownKeysAreIgnoredForForwardCompatibility) {
  auto j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["files"][0]["mode"] = "0644";
  j["tail"] = {{"seq", 5}};
  EXPECT_TRUE(DecodeManifest(j.dump()).ok());
}

TEST(ManifestTest, Format2IsReadAsAWholeVersion) {
  // What the compactors before chunks wrote: no chunk_bytes / chunks / base_*.
  Manifest m = Sample();
  m.format_version = 2;
  m.chunk_bytes = 0;
  for (auto& f : m.files) f.chunks.clear();
  auto text = EncodeManifest(m);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto j = nlohmann::json::parse(*text);
  EXPECT_FALSE(j.contains("chunk_bytes"));
  EXPECT_FALSE(j.contains("base_log_position"));
  EXPECT_FALSE(j["files"][0].contains("chunks"));
  auto back = DecodeManifest(*text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->format_version, 2);
  EXPECT_EQ(back->chunk_bytes, 0u);
  EXPECT_EQ(back->base_log_position, 42u);  // its HNSW files held the whole version
  EXPECT_EQ(back->base_created_at_ms, m.created_at_ms);
  // Format 3 without chunks is refused when a file lacks its chunk list.
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["files"][0].erase("chunks");
  auto r = DecodeManifest(j.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("files[0]"), std::string::npos) << r.status().ToString();
}

TEST(ManifestTest, HashFileInChunks) {
  const std::string dir = chromapact::testing::MakeTempDir("manifest-chunks");
  // 2.5 chunks of 4096: chunks are the SHA-256 of bytes [0,4096), [4096,8192), [8192,10240).
  std::string bytes;
  for (int i = 0; i < 10240; ++i) bytes.push_back(static_cast<char>((i * 7) % 251));
  WriteFile(dir + "/f.bin", bytes);
  WriteFile(dir + "/empty", "");
  auto f = HashFile(dir + "/f.bin", 4096);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->size, 10240u);
  EXPECT_EQ(f->sha256, Sha256Hex(bytes));
  EXPECT_EQ(f->chunks, (std::vector<std::string>{Sha256Hex(bytes.substr(0, 4096)), Sha256Hex(bytes.substr(4096, 4096)),
                                                 Sha256Hex(bytes.substr(8192))}));
  // A chunk size above the 1 MiB read block still hashes whole chunks.
  auto big = HashFile(dir + "/f.bin", 8u << 20);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->chunks, (std::vector<std::string>{Sha256Hex(bytes)}));
  auto files = HashDirectoryFiles(dir, 4096);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "empty");
  EXPECT_TRUE((*files)[0].chunks.empty());
  EXPECT_EQ((*files)[1].chunks, f->chunks);
  EXPECT_TRUE(HashDirectoryFiles(dir)->at(1).chunks.empty());
  EXPECT_EQ(HashFile(dir + "/nope", 4096).status().code(), StatusCode::kIOError);
}

void ExpectInvalid(const Manifest& m, StatusCode code, const std::string& text) {
  Status st = ValidateManifest(m);
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find(text), std::string::npos) << st.message() << "\nwanted: " << text;
  EXPECT_FALSE(EncodeManifest(m).ok());
}

TEST(ManifestTest, ValidationNamesTheField) {
  Manifest m = Sample();
  m.files[1].sha256 = Sha256Hex("x").substr(1);
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[1].sha256: expected 64 lowercase hex digits");
  m = Sample();
  m.files[1].path = "../etc/passwd";
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[1].path: empty, \".\" or \"..\" segment");
  m.files[1].path = "/abs";
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[1].path: must be relative");
  m.files[1].path = "a//b";
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[1].path: empty");
  m = Sample();
  std::swap(m.files[0], m.files[1]);
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[1].path: not sorted");
  m = Sample();
  m.parent_version = 7;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "parent_version: 7 is not below version 7");
  // skipped: positions in 1..log_position, sorted, unique.
  m = Sample();
  m.skipped.push_back({17, "again"});
  ExpectInvalid(m, StatusCode::kInvalidArgument, "skipped[2].log_position: not sorted or duplicate");
  m.skipped.back().log_position = 9;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "skipped[2].log_position: not sorted or duplicate");
  m.skipped.back().log_position = 43;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "skipped[2].log_position: 43 not in 1..42");
  m.skipped.back().log_position = 42;  // the last applied entry may itself be a skipped one
  EXPECT_TRUE(ValidateManifest(m).ok());
  m = Sample();
  m.skipped[0].log_position = 0;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "skipped[0].log_position: 0 not in 1..42");
  m = Sample();
  m.writer_id.clear();
  ExpectInvalid(m, StatusCode::kInvalidArgument, "writer_id: must not be empty");
  m = Sample();
  m.version = 0;
  m.parent_version.reset();
  ExpectInvalid(m, StatusCode::kInvalidArgument, "version: must be >= 1");
  m = Sample();
  m.format_version = 1;
  ExpectInvalid(m, StatusCode::kNotSupported, "format_version 1");
  m.format_version = 4;
  ExpectInvalid(m, StatusCode::kNotSupported, "format_version 4");
  m = Sample();
  m.chunk_bytes = 1000;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "chunk_bytes: 1000 is not a multiple of 4096");
  m = Sample();
  m.files[0].chunks.push_back(Sha256Hex("x"));
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[0].chunks: 2 listed, 1 expected");
  m = Sample();
  m.files[0].chunks[0] = "ABC";
  ExpectInvalid(m, StatusCode::kInvalidArgument, "files[0].chunks[0]: expected 64 lowercase hex");
  m = Sample();
  m.base_log_position = 43;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "base_log_position: 43 is past log_position 42");
  m = Sample();
  m.format_version = 2;
  ExpectInvalid(m, StatusCode::kInvalidArgument, "chunk_bytes: format_version 2 has no chunks");
}

TEST(ManifestTest, DecodeErrors) {
  EXPECT_EQ(DecodeManifest("{").status().code(), StatusCode::kCorruption);
  Result<Manifest> r = DecodeManifest("[]");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  auto j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["format_version"] = 9;
  EXPECT_EQ(DecodeManifest(j.dump()).status().code(), StatusCode::kNotSupported);
  // A format 1 manifest (before the ordered log: applied_delta_ids, no log_position) is not read:
  // a reader that guessed position 0 for it would apply the whole log again on top of it.
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["format_version"] = 1;
  j.erase("log_position");
  j.erase("skipped");
  j["applied_delta_ids"] = {"01JDZQ8K3M4N5P6Q7R8S9T0VWX"};
  r = DecodeManifest(j.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported) << r.status().ToString();
  EXPECT_NE(r.status().message().find("format_version 1"), std::string::npos) << r.status().ToString();
  for (const char* key : {"log_position", "skipped"}) {
    j = nlohmann::json::parse(*EncodeManifest(Sample()));
    j.erase(key);
    r = DecodeManifest(j.dump());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << key;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().ToString();
  }
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["skipped"][1]["reason"] = 7;
  r = DecodeManifest(j.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("skipped[1]"), std::string::npos) << r.status().ToString();
  // A stored manifest that fails validation is damaged: kCorruption, naming the field.
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["log_position"] = 10;  // below skipped[1] = 17
  j["base_log_position"] = 10;
  r = DecodeManifest(j.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("skipped[1].log_position"), std::string::npos) << r.status().ToString();
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j.erase("record_count");
  r = DecodeManifest(j.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("missing key \"record_count\""), std::string::npos);
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["files"][1]["size"] = -1;
  r = DecodeManifest(j.dump());
  EXPECT_NE(r.status().message().find("files[1]: manifest: \"size\" has the wrong type"), std::string::npos)
      << r.status().ToString();
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["shard"] = uint64_t{1} << 40;
  EXPECT_EQ(DecodeManifest(j.dump()).status().code(), StatusCode::kCorruption);
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["files"][0]["sha256"] = "XYZ";
  r = DecodeManifest(j.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("files[0].sha256"), std::string::npos);
}

TEST(ManifestTest, HashVerifyAndDiffARealDirectory) {
  std::string v1 = chromapact::testing::MakeTempDir("manifest-v1");
  WriteFile(v1 + "/chroma.sqlite3", "sqlite bytes");
  WriteFile(v1 + "/seg-a/data_level0.bin", std::string(10000, 'x'));
  WriteFile(v1 + "/seg-a/header.bin", "hdr");
  WriteFile(v1 + "/manifest.json", "{}");                                 // skipped
  std::filesystem::create_symlink(v1 + "/chroma.sqlite3", v1 + "/link");  // skipped
  auto files = HashDirectoryFiles(v1);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "chroma.sqlite3");
  EXPECT_EQ((*files)[1].path, "seg-a/data_level0.bin");
  EXPECT_EQ((*files)[1].size, 10000u);
  EXPECT_EQ((*files)[1].sha256, Sha256Hex(std::string(10000, 'x')));

  Manifest m1 = Sample();
  m1.chunk_bytes = 0;
  m1.files = *files;
  ASSERT_TRUE(ValidateManifest(m1).ok());
  EXPECT_TRUE(VerifyDirectory(v1, m1).ok());

  // v2: sqlite changes, header.bin unchanged, data_level0 removed, a new segment file.
  std::string v2 = chromapact::testing::MakeTempDir("manifest-v2");
  WriteFile(v2 + "/chroma.sqlite3", "sqlite bytes v2");
  WriteFile(v2 + "/seg-a/header.bin", "hdr");
  WriteFile(v2 + "/seg-b/link_lists.bin", "ll");
  Manifest m2 = Sample();
  m2.chunk_bytes = 0;
  m2.version = 8;
  m2.parent_version = 7;
  m2.files = *HashDirectoryFiles(v2);
  ManifestDiff d = DiffManifests(m1, m2);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].path, "seg-b/link_lists.bin");
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].path, "seg-a/data_level0.bin");
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].path, "chroma.sqlite3");
  EXPECT_EQ(d.changed[0].size, 15u);
  ASSERT_EQ(d.unchanged.size(), 1u);
  EXPECT_EQ(d.unchanged[0].path, "seg-a/header.bin");
  EXPECT_EQ(d.bytes_to_fetch(), 15u + 2u);

  // Damage: same size, different bytes -> SHA-256 mismatch; missing file -> kNotFound.
  WriteFile(v1 + "/seg-a/header.bin", "HDR");
  Status st = VerifyDirectory(v1, m1);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("seg-a/header.bin SHA-256 mismatch"), std::string::npos);
  WriteFile(v1 + "/seg-a/header.bin", "hdr!");
  st = VerifyDirectory(v1, m1);
  EXPECT_NE(st.message().find("has 4 bytes, manifest says 3"), std::string::npos) << st.ToString();
  std::filesystem::remove(v1 + "/chroma.sqlite3");
  EXPECT_EQ(VerifyDirectory(v1, m1).code(), StatusCode::kNotFound);
  EXPECT_EQ(HashDirectoryFiles(v1 + "/nope").status().code(), StatusCode::kNotFound);
}

TEST(ManifestTest, FindSkipped) {
  Manifest m = Sample();
  ASSERT_NE(FindSkipped(m, 5), nullptr);
  EXPECT_EQ(FindSkipped(m, 5)->reason, "corrupt: CRC-32C mismatch");
  ASSERT_NE(FindSkipped(m, 17), nullptr);
  EXPECT_EQ(FindSkipped(m, 17)->log_position, 17u);
  for (uint64_t p : {0, 1, 4, 6, 16, 18, 42, 1000}) EXPECT_EQ(FindSkipped(m, p), nullptr) << p;
  m.skipped.clear();
  EXPECT_EQ(FindSkipped(m, 5), nullptr);
  // Many entries: the binary search finds each one and nothing between them.
  m.log_position = 3000;
  for (uint64_t p = 2; p <= 2000; p += 2) m.skipped.push_back({p, "r" + std::to_string(p)});
  ASSERT_TRUE(ValidateManifest(m).ok());
  for (uint64_t p = 1; p <= 2001; ++p) {
    const SkippedEntry* e = FindSkipped(m, p);
    if (p % 2 == 0) {
      ASSERT_NE(e, nullptr) << p;
      EXPECT_EQ(e->reason, "r" + std::to_string(p));
    } else {
      EXPECT_EQ(e, nullptr) << p;
    }
  }
}

}  // namespace
}  // namespace chromapact::codec
