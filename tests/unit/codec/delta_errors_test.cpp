// Validation errors (exact field naming) on write and read; truncation, bit flips and lying lengths.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/delta_reader.h"
#include "chromapact/crypto.h"
#include "delta_testing.h"

namespace chromapact::codec {
namespace {

using testing::MakeDelta;

// Expects ValidateDelta and EncodeDelta to fail with `code` and a message containing `text`.
void ExpectInvalid(const Delta& d, StatusCode code, const std::string& text, const DeltaOptions& o = {}) {
  Status st = ValidateDelta(d, o);
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find(text), std::string::npos)
      << "message: " << st.message() << "\nwanted: " << text;
  EXPECT_EQ(EncodeDelta(d, o).status().code(), code);
}

TEST(DeltaValidationTest, ValidDeltaPasses) {
  EXPECT_TRUE(ValidateDelta(MakeDelta(DeltaOp::kAdd, 3, 2)).ok());
}

TEST(DeltaValidationTest, Ids) {
  Delta d = MakeDelta(DeltaOp::kAdd, 4, 2);
  d.records.ids[2] = "";
  ExpectInvalid(d, StatusCode::kInvalidArgument, "ids[2]: must not be empty");
  d.records.ids[2] = "id-0";
  ExpectInvalid(d, StatusCode::kInvalidArgument, "ids[2]: duplicate of ids[0] (\"id-0\")");
  d.records.ids[2] = "bad\xff";
  ExpectInvalid(d, StatusCode::kInvalidArgument, "ids[2]: not valid UTF-8");
  d.records.ids[2] = std::string(4097, 'x');
  ExpectInvalid(d, StatusCode::kResourceExhausted, "ids[2]: 4097 bytes, limit 4096");
  Delta empty = MakeDelta(DeltaOp::kAdd, 0, 2);
  ExpectInvalid(empty, StatusCode::kInvalidArgument, "ids: a delta needs at least one record");
  DeltaOptions small;
  small.limits.max_records = 3;
  ExpectInvalid(MakeDelta(DeltaOp::kAdd, 4, 2), StatusCode::kResourceExhausted, "ids: 4 records, limit 3",
                small);
}

TEST(DeltaValidationTest, Embeddings) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 4, 3);
  d.records.embeddings[2 * 3 + 1] = std::nanf("");
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embeddings[2][1]: not finite (nan)");
  d.records.embeddings[2 * 3 + 1] = -std::numeric_limits<float>::infinity();
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embeddings[2][1]: not finite (inf)");
  d = MakeDelta(DeltaOp::kUpsert, 4, 3);
  d.records.embeddings.pop_back();
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embeddings: 11 floats, expected 4 x 3");
  d = MakeDelta(DeltaOp::kAdd, 2, 0);
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embeddings: required for add");
  d = MakeDelta(DeltaOp::kUpsert, 2, 3);
  DeltaOptions o;
  o.expected_dimension = 4;
  ExpectInvalid(d, StatusCode::kInvalidArgument, "dimension: delta has 3, collection has 4", o);
  o.expected_dimension.reset();
  o.limits.max_dimension = 2;
  ExpectInvalid(d, StatusCode::kResourceExhausted, "dimension: 3, limit 2", o);
  d.meta.dimension = 0;
  ExpectInvalid(d, StatusCode::kInvalidArgument, "dimension: must be >= 1");
  d = MakeDelta(DeltaOp::kUpdate, 2, 0, true, false);
  d.meta.dimension = 7;
  ExpectInvalid(d, StatusCode::kInvalidArgument, "dimension: must be 0 when no embeddings are given");
  d = MakeDelta(DeltaOp::kUpsert, 2, 3);
  d.records.embedding_given = {1, 0};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embedding_given: allowed only on update");
  d.meta.op = DeltaOp::kUpdate;
  d.records.embedding_given = {0, 0};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embedding_given: no record gives an embedding");
  d.records.embedding_given = {1};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embedding_given: 1 entries for 2 ids");
}

TEST(DeltaValidationTest, DocumentsAndMetadatas) {
  Delta d = MakeDelta(DeltaOp::kUpsert, 3, 2);
  d.records.documents.pop_back();
  ExpectInvalid(d, StatusCode::kInvalidArgument, "documents: 2 entries for 3 ids");
  d = MakeDelta(DeltaOp::kUpsert, 3, 2);
  d.records.documents[1] = std::string("\xc0\x80");  // overlong NUL
  ExpectInvalid(d, StatusCode::kInvalidArgument, "documents[1]: not valid UTF-8");
  DeltaOptions o;
  o.limits.max_document_bytes = 4;
  d = MakeDelta(DeltaOp::kUpsert, 3, 2);
  ExpectInvalid(d, StatusCode::kResourceExhausted, "documents[0]: 5 bytes, limit 4", o);

  d = MakeDelta(DeltaOp::kUpsert, 3, 2);
  d.records.metadatas[2]["tags"] = nlohmann::json::array({"a"});
  ExpectInvalid(d, StatusCode::kInvalidArgument,
                "metadatas[2][\"tags\"]: value must be str, int, float or bool (got array)");
  d.records.metadatas[2] = nlohmann::json{{"nested", {{"a", 1}}}};
  ExpectInvalid(d, StatusCode::kInvalidArgument,
                "metadatas[2][\"nested\"]: value must be str, int, float or bool (got object)");
  d.records.metadatas[2] = nlohmann::json{{"chroma:document", "x"}};
  ExpectInvalid(d, StatusCode::kInvalidArgument,
                "metadatas[2][\"chroma:document\"]: keys starting with \"chroma:\" are reserved");
  d.records.metadatas[2] = nlohmann::json{{"k", nullptr}};
  EXPECT_TRUE(ValidateDelta(d).ok()) << "Chroma takes a null (delete this key) on upsert";
  d.meta.op = DeltaOp::kAdd;
  ExpectInvalid(d, StatusCode::kInvalidArgument,
                "metadatas[2][\"k\"]: null (delete this key) is allowed only on update and upsert");
  d.meta.op = DeltaOp::kUpsert;
  d.records.metadatas[2] = nlohmann::json{{"big", uint64_t{1} << 63}};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "metadatas[2][\"big\"]: integer does not fit in int64");
  d.records.metadatas[2] = nlohmann::json{{"f", std::nan("")}};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "metadatas[2][\"f\"]: float is not finite");
  d.records.metadatas[2] = nlohmann::json::array();
  ExpectInvalid(d, StatusCode::kInvalidArgument, "metadatas[2]: must be an object or null (got array)");
  d.records.metadatas[2] = nlohmann::json{{"", 1}};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "metadatas[2]: empty key");
  d.records.metadatas[2] = nlohmann::json{{"s", "bad\xff"}};
  ExpectInvalid(d, StatusCode::kInvalidArgument, "metadatas[2]: not valid UTF-8");
  o.limits = {};
  o.limits.max_metadata_bytes = 10;
  d.records.metadatas[2] = nlohmann::json{{"long", "xxxxxxxxxx"}};
  ExpectInvalid(d, StatusCode::kResourceExhausted, "metadatas[0]: ", o);
}

TEST(DeltaValidationTest, OperationRulesAndMeta) {
  Delta d = MakeDelta(DeltaOp::kDelete, 2, 0, /*docs=*/true, /*metas=*/false);
  ExpectInvalid(d, StatusCode::kInvalidArgument, "documents: delete carries ids only");
  d = MakeDelta(DeltaOp::kDelete, 2, 3, false, false);
  ExpectInvalid(d, StatusCode::kInvalidArgument, "embeddings: delete carries ids only");
  d = MakeDelta(DeltaOp::kUpdate, 2, 0, false, false);
  ExpectInvalid(d, StatusCode::kInvalidArgument, "update: none of embeddings, documents, metadatas given");
  d = MakeDelta(DeltaOp::kAdd, 2, 2);
  d.meta.delta_id = "not-a-ulid";
  ExpectInvalid(d, StatusCode::kInvalidArgument, "delta_id: a ULID has 26 characters");
  d.meta.delta_id = "01jdzq8k3m4n5p6q7r8s9t0vwx";
  ExpectInvalid(d, StatusCode::kInvalidArgument, "delta_id: character 2 (0x6a)");
  d = MakeDelta(DeltaOp::kAdd, 2, 2);
  d.meta.collection = "";
  ExpectInvalid(d, StatusCode::kInvalidArgument, "collection: must not be empty");
  d.meta.collection = std::string(513, 'c');
  ExpectInvalid(d, StatusCode::kInvalidArgument, "collection: 513 bytes, limit 512");
  d = MakeDelta(DeltaOp::kAdd, 2, 2);
  d.meta.op = static_cast<DeltaOp>(9);
  ExpectInvalid(d, StatusCode::kInvalidArgument, "operation: unknown value 9");
}

TEST(DeltaValidationTest, ReaderAppliesTheLimitsAndDimension) {
  auto bytes = EncodeDelta(MakeDelta(DeltaOp::kUpsert, 10, 4));
  ASSERT_TRUE(bytes.ok());
  DeltaOptions o;
  o.expected_dimension = 5;
  auto r = DecodeDelta(*bytes, o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("dimension: delta has 4, collection has 5"), std::string::npos);
  o = {};
  o.limits.max_records = 9;
  EXPECT_EQ(DecodeDelta(*bytes, o).status().code(), StatusCode::kResourceExhausted);
  o = {};
  o.limits.max_document_bytes = 4;
  r = DecodeDelta(*bytes, o);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("documents[0]: 5 bytes, limit 4"), std::string::npos)
      << r.status().ToString();
  o = {};
  o.limits.max_payload_bytes = 100;
  EXPECT_EQ(DecodeDelta(*bytes, o).status().code(), StatusCode::kResourceExhausted);
}

// Builds a CRC-valid file around a hand-made raw payload, to test the reader's own checks.
std::string ForgeDelta(uint8_t op, uint8_t columns, uint32_t dim, uint32_t count, const std::string& raw,
                       uint64_t raw_size_override = 0) {
  std::string z(compressBound(raw.size()), '\0');
  uLongf zlen = z.size();
  compress(reinterpret_cast<Bytef*>(&z[0]), &zlen, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  z.resize(zlen);
  auto u16 = [](std::string* s, uint16_t v) { s->append(reinterpret_cast<const char*>(&v), 2); };
  auto u32 = [](std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [](std::string* s, uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); };
  std::string f = "CPD1";
  u16(&f, 1);
  f.push_back(static_cast<char>(op));
  f.push_back(static_cast<char>(columns));
  u32(&f, 0);
  u32(&f, dim);
  u32(&f, count);
  u64(&f, 1);
  u64(&f, raw_size_override ? raw_size_override : raw.size());
  u64(&f, z.size());
  f += testing::kTestUlid;
  u16(&f, 1);
  f += "c";
  u16(&f, 0);
  u32(&f, Crc32c(f));
  f += z;
  u32(&f, Crc32c(f));
  f += "CPDE";
  return f;
}

std::string Rec(const std::string& id, uint8_t given, const std::string& rest = "") {
  std::string s;
  uint32_t len = static_cast<uint32_t>(id.size());
  s.append(reinterpret_cast<const char*>(&len), 4);
  s += id;
  s.push_back(static_cast<char>(given));
  return s + rest;
}

void ExpectDecodeError(const std::string& file, StatusCode code, const std::string& text) {
  auto r = DecodeDelta(file);
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(text), std::string::npos)
      << r.status().ToString() << "\nwanted: " << text;
}

TEST(DeltaReaderErrorsTest, ForgedFilesWithValidChecksums) {
  // Sanity: the forger makes readable files.
  EXPECT_TRUE(DecodeDelta(ForgeDelta(4, 0, 0, 2, Rec("a", 0) + Rec("b", 0))).ok());
  ExpectDecodeError(ForgeDelta(4, 0, 0, 2, Rec("a", 0) + Rec("a", 0)), StatusCode::kInvalidArgument,
                    "ids[1]: duplicate of ids[0]");
  // An id length that lies (claims 1 GB) must not allocate it: an error, quickly.
  std::string lying = Rec("a", 0);
  lying[0] = '\0';
  lying[3] = '\x40';
  ExpectDecodeError(ForgeDelta(4, 0, 0, 1, lying), StatusCode::kResourceExhausted,
                    "ids[0]: 1073741824 bytes");
  std::string past = Rec("abc", 0);
  past[0] = 100;
  ExpectDecodeError(ForgeDelta(4, 0, 0, 1, past), StatusCode::kCorruption,
                    "ids[0]: 100 bytes run past the payload");
  ExpectDecodeError(ForgeDelta(4, 0, 0, 1, Rec("a", 2)), StatusCode::kCorruption,
                    "outside the header's columns");
  ExpectDecodeError(ForgeDelta(4, 0, 0, 1, Rec("a", 0) + "xx"), StatusCode::kCorruption,
                    "2 payload bytes left after the last record");
  ExpectDecodeError(ForgeDelta(4, 0, 0, 2, Rec("a", 0), 100), StatusCode::kCorruption, "inflates to 6 bytes");
  ExpectDecodeError(ForgeDelta(4, 0, 0, 2, Rec("abc", 0) + Rec("abc", 0), 12), StatusCode::kCorruption,
                    "inflates past payload_raw_bytes 12");
  ExpectDecodeError(ForgeDelta(4, 0, 0, 2, Rec("a", 0) + Rec("b", 0), 7), StatusCode::kCorruption,
                    "payload_raw_bytes 7 too small for 2 records");
  std::string meta_json = "{not json";
  uint32_t ml = static_cast<uint32_t>(meta_json.size());
  ExpectDecodeError(
      ForgeDelta(3, 4, 0, 1, Rec("a", 4, std::string(reinterpret_cast<const char*>(&ml), 4) + meta_json)),
      StatusCode::kCorruption, "metadatas[0]: not valid JSON");
  meta_json = "[1]";
  ml = 3;
  ExpectDecodeError(
      ForgeDelta(3, 4, 0, 1, Rec("a", 4, std::string(reinterpret_cast<const char*>(&ml), 4) + meta_json)),
      StatusCode::kCorruption, "metadatas[0]: JSON is not an object");
  float nan = std::nanf("");
  ExpectDecodeError(ForgeDelta(2, 1, 1, 1, Rec("a", 1, std::string(reinterpret_cast<const char*>(&nan), 4))),
                    StatusCode::kInvalidArgument, "embeddings[0][0]: not finite (nan)");
  ExpectDecodeError(ForgeDelta(2, 1, 1, 1, Rec("a", 0, "")), StatusCode::kCorruption, "too small");
  ExpectDecodeError(ForgeDelta(7, 0, 0, 1, Rec("a", 0)), StatusCode::kCorruption, "operation byte 7 unknown");
  ExpectDecodeError(ForgeDelta(4, 8, 0, 1, Rec("a", 0)), StatusCode::kCorruption, "unknown column bits 8");
}

TEST(DeltaReaderErrorsTest, MagicVersionAndTrailer) {
  auto bytes = EncodeDelta(MakeDelta(DeltaOp::kAdd, 3, 4));
  ASSERT_TRUE(bytes.ok());
  std::string b = *bytes;
  b[0] = 'X';
  ExpectDecodeError(b, StatusCode::kCorruption, "bad magic");
  ExpectDecodeError("PK\x03\x04 not a delta", StatusCode::kCorruption, "bad magic");
  ExpectDecodeError("", StatusCode::kCorruption, "truncated header");
  b = *bytes;
  b[4] = 2;
  ExpectDecodeError(b, StatusCode::kNotSupported, "format_version 2");
  ExpectDecodeError(*bytes + "x", StatusCode::kCorruption, "bytes after the trailer");
  b = *bytes;
  b[b.size() - 1] = 'X';
  ExpectDecodeError(b, StatusCode::kCorruption, "bad trailer magic");
  b = *bytes;
  b[b.size() - 8] ^= 1;
  ExpectDecodeError(b, StatusCode::kCorruption, "CRC-32C mismatch");
  b = *bytes;
  b[20] ^= 1;  // created_at_ms: only the header CRC can notice
  ExpectDecodeError(b, StatusCode::kCorruption, "header CRC-32C mismatch");
}

TEST(DeltaReaderErrorsTest, EveryTruncationIsAnErrorNotACrash) {
  Delta d = MakeDelta(DeltaOp::kUpdate, 3, 2);
  d.records.embedding_given = {1, 0, 1};
  std::fill_n(&d.records.embeddings[2], 2, 0.0f);
  auto bytes = EncodeDelta(d);
  ASSERT_TRUE(bytes.ok());
  for (size_t len = 0; len < bytes->size(); ++len) {
    auto r = DecodeDelta(std::string_view(bytes->data(), len));
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes decoded";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len << ": " << r.status().ToString();
  }
}

TEST(DeltaReaderErrorsTest, EveryBitFlipIsDetected) {
  auto bytes = EncodeDelta(MakeDelta(DeltaOp::kUpsert, 3, 2));
  ASSERT_TRUE(bytes.ok());
  size_t crc_errors = 0;
  for (size_t pos = 0; pos < bytes->size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = *bytes;
      b[pos] = static_cast<char>(b[pos] ^ (1 << bit));
      auto r = DecodeDelta(b);
      ASSERT_FALSE(r.ok()) << "flip at " << pos << " bit " << bit << " went unnoticed";
      // Version flips are kNotSupported by contract; everything else is corruption.
      if (pos == 4 || pos == 5) {
        EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << pos << ": " << r.status().ToString();
      }
      if (r.status().message().find("CRC-32C mismatch") != std::string::npos) ++crc_errors;
    }
  }
  EXPECT_GT(crc_errors, bytes->size() * 2);  // the rest fail zlib's own checks first
}

}  // namespace
}  // namespace chromapact::codec
