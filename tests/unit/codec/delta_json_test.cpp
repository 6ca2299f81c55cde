// The Python producers' embeddings.json.gz, gzipped here with zlib as gzip.compress() would.
#include <gtest/gtest.h>
#include <zlib.h>

#include "chromapact/codec/delta.h"
#include "delta_testing.h"

namespace chromapact::codec {
namespace {

std::string Gzip(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);  // +16 = gzip wrapper
  std::string out(deflateBound(&zs, text.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

DeltaMeta Meta() {
  DeltaMeta m;
  m.collection = "receipts";
  m.shard = 1;
  m.delta_id = testing::kTestUlid;
  m.producer_id = "python";
  m.op = DeltaOp::kDelete;  // ignored: the Python shape is always an upsert
  return m;
}

// As seed 003's save_embeddings_delta writes it (json.dumps of a dict of lists).
const char* kPythonJson =
    R"({"ids": ["IMAGE#1#LINE#1", "IMAGE#1#LINE#2"], "embeddings": [[0.1, -0.2, 3], [1e-3, 0.0, -4.5]],)"
    R"( "metadatas": [{"image_id": "1", "line_id": 1, "confidence": 0.98, "is_noise": false}, null],)"
    R"( "documents": ["TOTAL 12.00", null]})";

TEST(DeltaJsonTest, ReadsGzippedPythonDelta) {
  auto d = DecodeJsonGzDelta(Gzip(kPythonJson), Meta());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->meta.op, DeltaOp::kUpsert);
  EXPECT_EQ(d->meta.collection, "receipts");
  EXPECT_EQ(d->meta.dimension, 3u);
  EXPECT_EQ(d->records.ids, (std::vector<std::string>{"IMAGE#1#LINE#1", "IMAGE#1#LINE#2"}));
  EXPECT_EQ(d->records.embeddings, (std::vector<float>{0.1f, -0.2f, 3.0f, 1e-3f, 0.0f, -4.5f}));
  EXPECT_EQ(d->records.metadatas[0]["line_id"], 1);
  EXPECT_EQ(d->records.metadatas[0]["is_noise"], false);
  EXPECT_TRUE(d->records.metadatas[1].is_null());
  EXPECT_EQ(*d->records.documents[0], "TOTAL 12.00");
  EXPECT_FALSE(d->records.documents[1].has_value());
  // And it re-encodes natively unchanged.
  auto bytes = EncodeDelta(*d);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeDelta(*bytes);
  ASSERT_TRUE(back.ok());
  testing::ExpectSameDelta(*d, *back);
}

TEST(DeltaJsonTest, PlainJsonAndMissingColumns) {
  auto d = DecodeJsonGzDelta(R"({"ids": ["a"], "embeddings": [[1, 2]]})", Meta());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->records.documents.empty());
  EXPECT_TRUE(d->records.metadatas.empty());
  d = DecodeJsonGzDelta(R"({"ids": ["a"], "embeddings": [[1, 2]], "documents": null, "metadatas": null})",
                        Meta());
  ASSERT_TRUE(d.ok());
}

void ExpectError(const std::string& json, StatusCode code, const std::string& text, DeltaOptions o = {}) {
  auto d = DecodeJsonGzDelta(Gzip(json), Meta(), o);
  EXPECT_EQ(d.status().code(), code) << d.status().ToString();
  EXPECT_NE(d.status().message().find(text), std::string::npos)
      << d.status().ToString() << "\nwanted: " << text;
}

TEST(DeltaJsonTest, ShapeErrorsNameTheKeyAndIndex) {
  ExpectError(R"({"embeddings": []})", StatusCode::kInvalidArgument, "ids: missing or not a list");
  ExpectError(R"({"ids": ["a", 2], "embeddings": [[1], [2]]})", StatusCode::kInvalidArgument,
              "ids[1]: must be a string");
  ExpectError(R"({"ids": ["a", "b"], "embeddings": [[1, 2], [3]]})", StatusCode::kInvalidArgument,
              "embeddings[1]: 1 values, embeddings[0] has 2");
  ExpectError(R"({"ids": ["a"], "embeddings": [[1, "x"]]})", StatusCode::kInvalidArgument,
              "embeddings[0][1]: not a number");
  ExpectError(R"({"ids": ["a"], "embeddings": [[1e39]]})", StatusCode::kInvalidArgument,
              "embeddings[0][0]: not finite as float32");
  ExpectError(R"({"ids": ["a", "b"], "embeddings": [[1], [2]], "documents": ["x"]})",
              StatusCode::kInvalidArgument, "documents: 1 entries for 2 ids");
  ExpectError(R"({"ids": ["a"], "embeddings": [[1]], "documents": [3]})", StatusCode::kInvalidArgument,
              "documents[0]: must be a string or null");
  ExpectError(R"({"ids": ["a"], "embeddings": [[1]], "metadatas": [[1]]})", StatusCode::kInvalidArgument,
              "metadatas[0]: must be an object or null");
  ExpectError(R"({"ids": ["a"], "embeddings": [[1]], "metadatas": [{"k": [1]}]})",
              StatusCode::kInvalidArgument,
              "metadatas[0][\"k\"]: value must be str, int, float or bool (got array)");
  ExpectError(R"({"ids": ["a", "a"], "embeddings": [[1], [2]]})", StatusCode::kInvalidArgument,
              "ids[1]: duplicate of ids[0]");
  ExpectError(R"({"ids": ["a"]})", StatusCode::kInvalidArgument, "embeddings: required for upsert");
  ExpectError(R"({"ids": ["a"], "embeddings": [[NaN]]})", StatusCode::kCorruption, "not valid JSON");
  ExpectError(R"([1, 2])", StatusCode::kCorruption, "top level is not an object");
}

TEST(DeltaJsonTest, DamagedGzipAndZipBombs) {
  std::string gz = Gzip(kPythonJson);
  auto d = DecodeJsonGzDelta(gz.substr(0, gz.size() / 2), Meta());
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption) << d.status().ToString();
  std::string flipped = gz;
  flipped[gz.size() - 6] ^= 0x10;  // inside the CRC-32 of the gzip trailer
  EXPECT_EQ(DecodeJsonGzDelta(flipped, Meta()).status().code(), StatusCode::kCorruption);
  DeltaOptions o;
  o.limits.max_payload_bytes = 1 << 20;
  std::string bomb = R"({"ids": [")" + std::string(4 << 20, 'a') + R"("]})";
  ExpectError(bomb, StatusCode::kResourceExhausted, "passes the limit of 1048576 bytes", o);
}

}  // namespace
}  // namespace chromapact::codec
