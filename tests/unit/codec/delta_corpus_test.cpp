// The fuzz seed corpus fuzz/codec/delta_corpus/: every seed decodes (so the fuzzer starts from valid
// files of every operation). With CP_WRITE_DELTA_CORPUS=1 the seeds are (re)written first.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chromapact/codec/delta.h"
#include "delta_testing.h"
#include "support/paths.h"

namespace chromapact::codec {
namespace {

std::string CorpusDir() {
  return chromapact::testing::SourceDir() + "/fuzz/codec/delta_corpus";
}

std::string GzipText(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void WriteSeeds() {
  std::filesystem::create_directories(CorpusDir());
  auto put = [](const std::string& name, const std::string& bytes) {
    std::ofstream(CorpusDir() + "/" + name, std::ios::binary) << bytes;
  };
  put("add.cpd", *EncodeDelta(testing::MakeDelta(DeltaOp::kAdd, 4, 3)));
  put("upsert_bare.cpd", *EncodeDelta(testing::MakeDelta(DeltaOp::kUpsert, 2, 8, false, false)));
  Delta u = testing::MakeDelta(DeltaOp::kUpdate, 3, 2);
  u.records.embedding_given = {1, 0, 1};
  u.records.embeddings[2] = u.records.embeddings[3] = 0.0f;
  u.records.documents[1] = std::nullopt;
  u.records.metadatas[0] = nlohmann::json{{"gone", nullptr}};
  u.records.metadatas[2] = nullptr;
  put("update_mask.cpd", *EncodeDelta(u));
  put("delete.cpd", *EncodeDelta(testing::MakeDelta(DeltaOp::kDelete, 3, 0, false, false)));
  put("python.json.gz", GzipText(R"({"ids": ["a", "b"], "embeddings": [[0.5, 1], [2, -3]], )"
                                 R"("metadatas": [{"k": "v", "n": 1}, null], "documents": ["x", null]})"));
}

TEST(DeltaCorpusTest, EverySeedDecodes) {
  if (std::getenv("CP_WRITE_DELTA_CORPUS")) WriteSeeds();
  size_t seeds = 0, total = 0;
  for (const auto& e : std::filesystem::directory_iterator(CorpusDir())) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    total += bytes.size();
    ++seeds;
    if (LooksLikeNativeDelta(bytes)) {
      EXPECT_TRUE(DecodeDelta(bytes).ok()) << e.path();
    } else {
      DeltaMeta meta;
      meta.collection = "fuzz";
      meta.delta_id = testing::kTestUlid;
      EXPECT_TRUE(DecodeJsonGzDelta(bytes, meta).ok()) << e.path();
    }
  }
  EXPECT_GE(seeds, 5u);
  EXPECT_LT(total, 20u << 10);
}

}  // namespace
}  // namespace chromapact::codec
