// .cpd round trips for every operation and the streaming reader.
#include "chromapact/codec/delta.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "chromapact/codec/delta_reader.h"
#include "chromapact/crypto.h"
#include "delta_testing.h"
#include "support/paths.h"

namespace chromapact::codec {
namespace {

using testing::ExpectSameDelta;
using testing::MakeDelta;

Delta RoundTrip(const Delta& d, const DeltaOptions& options = {}) {
  auto bytes = EncodeDelta(d, options);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return {};
  auto back = DecodeDelta(*bytes, options);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  return back.ok() ? *back : Delta{};
}

TEST(DeltaTest, AddRoundTripKeepsEveryField) {
  Delta d = MakeDelta(DeltaOp::kAdd, 5, 4);
  ExpectSameDelta(d, RoundTrip(d));
}

TEST(DeltaTest, UpsertWithoutDocumentsAndMetadatas) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 3, 8, /*docs=*/false, /*metas=*/false);
  Delta back = RoundTrip(d);
  ExpectSameDelta(d, back);
  EXPECT_TRUE(back.records.documents.empty());
  EXPECT_TRUE(back.records.metadatas.empty());
}

TEST(DeltaTest, PerRecordAbsentDocumentAndMetadataStayAbsent) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 4, 2);
  d.records.documents[1] = std::nullopt;
  d.records.documents[2] = std::string();  // empty document is a document
  d.records.metadatas[3] = nullptr;
  d.records.metadatas[0] = nlohmann::json::object();  // empty object is given
  Delta back = RoundTrip(d);
  ExpectSameDelta(d, back);
  ASSERT_EQ(back.records.documents.size(), 4u);
  EXPECT_FALSE(back.records.documents[1].has_value());
  ASSERT_TRUE(back.records.documents[2].has_value());
  EXPECT_EQ(*back.records.documents[2], "");
  EXPECT_TRUE(back.records.metadatas[3].is_null());
  EXPECT_TRUE(back.records.metadatas[0].is_object());
}

TEST(DeltaTest, UpdatePartialColumnsAndNullDeletesKey) {
  Delta d = MakeDelta(DeltaOp::kUpdate, 3, 0, /*docs=*/false, /*metas=*/true);
  d.records.metadatas[0] = nlohmann::json{{"gone", nullptr}, {"kept", 1}};
  d.records.metadatas[1] = nullptr;
  Delta back = RoundTrip(d);
  ExpectSameDelta(d, back);
  EXPECT_TRUE(back.records.metadatas[0]["gone"].is_null());
  EXPECT_TRUE(back.records.embeddings.empty());
  EXPECT_EQ(back.meta.dimension, 0u);
}

TEST(DeltaTest, UpdateWithSomeEmbeddingsKeepsThePresenceMask) {
  Delta d = MakeDelta(DeltaOp::kUpdate, 4, 3, /*docs=*/true, /*metas=*/false);
  d.records.embedding_given = {1, 0, 1, 0};
  for (size_t i : {1u, 3u}) std::fill_n(&d.records.embeddings[i * 3], 3, 0.0f);
  Delta back = RoundTrip(d);
  ExpectSameDelta(d, back);
  EXPECT_TRUE(back.records.HasEmbedding(0));
  EXPECT_FALSE(back.records.HasEmbedding(1));

  auto [with, without] = SplitOnEmbeddingGiven(back.records, 3);
  EXPECT_EQ(with.ids, (std::vector<std::string>{"id-0", "id-2"}));
  EXPECT_EQ(with.embeddings.size(), 6u);
  EXPECT_EQ(with.embeddings[3], d.records.embeddings[6]);
  EXPECT_EQ(without.ids, (std::vector<std::string>{"id-1", "id-3"}));
  EXPECT_TRUE(without.embeddings.empty());
  EXPECT_EQ(without.documents.size(), 2u);
  EXPECT_EQ(*without.documents[1], "doc 3");
}

TEST(DeltaTest, DeleteCarriesIdsOnly) {
  Delta d = MakeDelta(DeltaOp::kDelete, 6, 0, false, false);
  Delta back = RoundTrip(d);
  ExpectSameDelta(d, back);
  EXPECT_EQ(back.meta.op, DeltaOp::kDelete);
}

TEST(DeltaTest, UnicodeIdsDocumentsAndKeys) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 3, 2);
  d.records.ids = {"ключ-1", "鍵🙂", "e\xCC\x81"};
  d.records.documents[0] = "Grüße, 世界";
  d.records.metadatas[1] = nlohmann::json{{"città", "Zürich"}, {"emoji", "🙂"}};
  d.meta.collection = "コレクション";
  ExpectSameDelta(d, RoundTrip(d));
}

TEST(DeltaTest, LargeDimensionAndSpecialFloats) {
  Delta d = MakeDelta(DeltaOp::kAdd, 3, 4096, false, false);
  d.records.embeddings[0] = -0.0f;
  d.records.embeddings[1] = 1e-45f;  // denormal
  d.records.embeddings[2] = 3.4028235e38f;
  Delta back = RoundTrip(d);
  ExpectSameDelta(d, back);
  EXPECT_TRUE(std::signbit(back.records.embeddings[0]));
}

TEST(DeltaTest, HeaderLayoutIsAsDocumented) {
  Delta d = MakeDelta(DeltaOp::kUpdate, 2, 4, false, true);
  auto bytes = EncodeDelta(d);
  ASSERT_TRUE(bytes.ok());
  const std::string& b = *bytes;
  EXPECT_EQ(b.substr(0, 4), "CPD1");
  EXPECT_EQ(b[4], 1);
  EXPECT_EQ(b[5], 0);
  EXPECT_EQ(b[6], 3);                                     // update
  EXPECT_EQ(b[7], kColumnEmbeddings | kColumnMetadatas);  // columns
  EXPECT_EQ(static_cast<uint8_t>(b[8]), 3);               // shard
  EXPECT_EQ(static_cast<uint8_t>(b[12]), 4);              // dimension
  EXPECT_EQ(static_cast<uint8_t>(b[16]), 2);              // count
  EXPECT_EQ(b.substr(44, 26), testing::kTestUlid);
  EXPECT_EQ(static_cast<uint8_t>(b[70]), 4);  // "docs"
  EXPECT_EQ(b.substr(72, 4), "docs");
  EXPECT_EQ(static_cast<uint8_t>(b[76]), 13);  // "producer-test"
  const size_t header_bytes = 78 + 4 + 13;
  uint32_t header_crc;
  std::memcpy(&header_crc, b.data() + header_bytes - 4, 4);
  EXPECT_EQ(header_crc, Crc32c(std::string_view(b.data(), header_bytes - 4)));
  uint64_t payload_bytes;
  std::memcpy(&payload_bytes, b.data() + 36, 8);
  EXPECT_EQ(b.size(), header_bytes + payload_bytes + 8);
  uint32_t crc;
  std::memcpy(&crc, b.data() + b.size() - 8, 4);
  EXPECT_EQ(crc, Crc32c(std::string_view(b.data(), b.size() - 8)));
  EXPECT_EQ(b.substr(b.size() - 4), "CPDE");
}

TEST(DeltaTest, CompressesRepetitiveRecords) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 1000, 16);
  std::fill(d.records.embeddings.begin(), d.records.embeddings.end(), 0.5f);
  auto bytes = EncodeDelta(d, {}, 6);  // LZ77 finds the repetition
  ASSERT_TRUE(bytes.ok());
  EXPECT_LT(bytes->size(), 1000u * 16 * 4 / 4);
  auto fast = EncodeDelta(d);  // Huffman only: at least 1 bit per byte, still well below raw
  ASSERT_TRUE(fast.ok());
  auto stored = EncodeDelta(d, {}, 0);
  ASSERT_TRUE(stored.ok());
  EXPECT_LT(fast->size(), stored->size() / 2);
  for (const std::string* b : {&*bytes, &*fast}) {
    auto back = DecodeDelta(*b);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->records.embeddings, d.records.embeddings);
  }
  EXPECT_EQ(EncodeDelta(d, {}, 10).status().code(), StatusCode::kInvalidArgument);
}

TEST(DeltaReaderTest, HeaderWithoutInflatingThenChunks) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 1000, 32);
  d.records.documents[500] = std::nullopt;
  auto bytes = EncodeDelta(d);
  ASSERT_TRUE(bytes.ok());
  // The header alone is enough for Open: the reader must not need the payload.
  const size_t header_bytes = 78 + 4 + 13;
  auto header_only = DeltaReader::Open(MakeMemorySource(std::string_view(bytes->data(), header_bytes)));
  ASSERT_TRUE(header_only.ok()) << header_only.status().ToString();
  EXPECT_EQ((*header_only)->header().count, 1000u);
  EXPECT_EQ((*header_only)->header().meta.collection, "docs");
  EXPECT_EQ((*header_only)->header().total_bytes(), bytes->size());
  DeltaRecords chunk;
  EXPECT_EQ((*header_only)->Next(10, &chunk).status().code(), StatusCode::kCorruption);

  auto reader = DeltaReader::Open(MakeMemorySource(*bytes));
  ASSERT_TRUE(reader.ok());
  Delta joined;
  joined.meta = (*reader)->header().meta;
  size_t chunks = 0;
  while (true) {
    auto n = (*reader)->Next(128, &chunk);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    ++chunks;
    EXPECT_LE(*n, 128u);
    EXPECT_EQ(chunk.documents.size(), *n);
    EXPECT_EQ(chunk.embeddings.size(), *n * 32);
    auto& r = joined.records;
    r.ids.insert(r.ids.end(), chunk.ids.begin(), chunk.ids.end());
    r.embeddings.insert(r.embeddings.end(), chunk.embeddings.begin(), chunk.embeddings.end());
    r.documents.insert(r.documents.end(), chunk.documents.begin(), chunk.documents.end());
    r.metadatas.insert(r.metadatas.end(), chunk.metadatas.begin(), chunk.metadatas.end());
  }
  EXPECT_EQ(chunks, 8u);
  EXPECT_TRUE((*reader)->done());
  EXPECT_EQ((*reader)->records_read(), 1000u);
  ExpectSameDelta(d, joined);
}

TEST(DeltaReaderTest, ReadsFromAFile) {
  Delta d = MakeDelta(DeltaOp::kAdd, 50, 8);
  auto bytes = EncodeDelta(d);
  ASSERT_TRUE(bytes.ok());
  std::string path = chromapact::testing::MakeTempDir("codec") + "/x.cpd";
  std::ofstream(path, std::ios::binary) << *bytes;
  auto src = MakeFileSource(path);
  ASSERT_TRUE(src.ok());
  auto reader = DeltaReader::Open(std::move(*src));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  DeltaRecords all;
  auto n = (*reader)->Next(1000, &all);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 50u);
  EXPECT_EQ(all.ids, d.records.ids);
  EXPECT_EQ(MakeFileSource(path + ".missing").status().code(), StatusCode::kNotFound);
}

TEST(DeltaTest, OperationNames) {
  for (DeltaOp op : {DeltaOp::kAdd, DeltaOp::kUpsert, DeltaOp::kUpdate, DeltaOp::kDelete}) {
    auto parsed = ParseDeltaOp(DeltaOpName(op));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, op);
  }
  EXPECT_EQ(ParseDeltaOp("insert").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chromapact::codec
