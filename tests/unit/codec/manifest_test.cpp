// Snapshot manifest: JSON round trip, validation, hashing a real directory, verification, diff.
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
  m.files = {{"chroma.sqlite3", 3, Sha256Hex("abc")}, {"seg/data_level0.bin", 0, Sha256Hex("")}};
  m.record_count = 1000;
  m.dimension = 384;
  m.applied_delta_ids = {"01JDZQ8K3M4N5P6Q7R8S9T0VWX", "01JDZQ8K3M4N5P6Q7R8S9T0VWY"};
  m.created_at_ms = 1764585600000;
  m.writer_id = "compactor-1";
  return m;
}

TEST(ManifestTest, RoundTripAndShape) {
  Manifest m = Sample();
  auto text = EncodeManifest(m);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["format_version"], 1);
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
  EXPECT_EQ(back->record_count, 1000u);
  EXPECT_EQ(back->dimension, 384u);
  EXPECT_EQ(back->applied_delta_ids, m.applied_delta_ids);
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
}

TEST(ManifestTest, UnknownKeysAreIgnoredForForwardCompatibility) {
  auto j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["files"][0]["chunks"] = nlohmann::json::array({"abc"});
  j["tail"] = {{"seq", 5}};
  EXPECT_TRUE(DecodeManifest(j.dump()).ok());
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
  m = Sample();
  m.applied_delta_ids.push_back("01JDZQ8K3M4N5P6Q7R8S9T0VWX");
  ExpectInvalid(m, StatusCode::kInvalidArgument, "applied_delta_ids[2]: not sorted or duplicate");
  m.applied_delta_ids.back() = "nope";
  ExpectInvalid(m, StatusCode::kInvalidArgument, "applied_delta_ids[2]: a ULID has 26 characters");
  m = Sample();
  m.writer_id.clear();
  ExpectInvalid(m, StatusCode::kInvalidArgument, "writer_id: must not be empty");
  m = Sample();
  m.version = 0;
  m.parent_version.reset();
  ExpectInvalid(m, StatusCode::kInvalidArgument, "version: must be >= 1");
  m = Sample();
  m.format_version = 2;
  ExpectInvalid(m, StatusCode::kNotSupported, "format_version 2");
}

TEST(ManifestTest, DecodeErrors) {
  EXPECT_EQ(DecodeManifest("{").status().code(), StatusCode::kCorruption);
  auto j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j["format_version"] = 9;
  EXPECT_EQ(DecodeManifest(j.dump()).status().code(), StatusCode::kNotSupported);
  j = nlohmann::json::parse(*EncodeManifest(Sample()));
  j.erase("record_count");
  auto r = DecodeManifest(j.dump());
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
  m1.files = *files;
  ASSERT_TRUE(ValidateManifest(m1).ok());
  EXPECT_TRUE(VerifyDirectory(v1, m1).ok());

  // v2: sqlite changes, header.bin unchanged, data_level0 removed, a new segment file.
  std::string v2 = chromapact::testing::MakeTempDir("manifest-v2");
  WriteFile(v2 + "/chroma.sqlite3", "sqlite bytes v2");
  WriteFile(v2 + "/seg-a/header.bin", "hdr");
  WriteFile(v2 + "/seg-b/link_lists.bin", "ll");
  Manifest m2 = Sample();
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

TEST(ManifestTest, AppliedDeltaIds) {
  Manifest m = Sample();
  AddAppliedDeltaIds(
      &m, {"01JDZQ8K3M4N5P6Q7R8S9T0VWX", "00000000010000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"});
  EXPECT_EQ(m.applied_delta_ids.size(), 4u);
  EXPECT_TRUE(ValidateManifest(m).ok());
  EXPECT_TRUE(HasAppliedDelta(m, "01JDZQ8K3M4N5P6Q7R8S9T0VWY"));
  EXPECT_FALSE(HasAppliedDelta(m, "01JDZQ8K3M4N5P6Q7R8S9T0VWZ"));
  // "0000000001..." has time 1 ms; the 01JD... ones are in 2024; 7ZZ... is the max time.
  EXPECT_EQ(PruneAppliedDeltaIds(&m, 1000), 1u);
  EXPECT_EQ(m.applied_delta_ids.front(), "01JDZQ8K3M4N5P6Q7R8S9T0VWX");
  EXPECT_EQ(PruneAppliedDeltaIds(&m, 4000000000000), 2u);
  EXPECT_EQ(m.applied_delta_ids, (std::vector<std::string>{"7ZZZZZZZZZZZZZZZZZZZZZZZZZ"}));
}

}  // namespace
}  // namespace chromapact::codec
