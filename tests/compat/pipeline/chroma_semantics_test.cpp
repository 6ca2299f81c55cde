// The same random sequence of writes (every operation kind, support/op_generator.h) goes to real
// Chroma 1.5.9 (the oracle, over REST) and through chromapact's producer -> log -> compactor (moto
// with signature checking on), cycles interleaved with the writes. Then `get` of every id must
// agree three ways: chromapact's snapshot = Chroma = the test model (fixture::Model), so the model
// the randomized fault test trusts is itself checked against Chroma. Prints its seed; reproduce with
// CHROMAPACT_SEED. Skips with a reason when ../shared (the oracle) is absent.
#include <cmath>
#include <cstdlib>
#include <random>

#include "compat/store/oracle.h"
#include "support/op_generator.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

using chromapact::testing::ChromaOracle;

constexpr int kOps = 160;
constexpr int kIdSpace = 12;

// The REST body Chroma's client would send for `op` (raw REST: metadata nulls are kept).
nlohmann::json ChromaBody(const Op& op) {
  nlohmann::json body = {{"ids", op.ids}};
  if (op.op == codec::DeltaOp::kDelete) return body;
  nlohmann::json emb = nlohmann::json::array(), docs = nlohmann::json::array(), metas = nlohmann::json::array();
  for (const auto& id : op.ids) {
    emb.push_back(EmbeddingFor(id, op.seed));
    docs.push_back(DocumentFor(id, op.seed));
    metas.push_back(SentMetadata(op, id));
  }
  body["embeddings"] = op.embedding ? emb : nlohmann::json(nullptr);
  body["documents"] = op.document ? docs : nlohmann::json(nullptr);
  body["metadatas"] = op.metadata ? metas : nlohmann::json(nullptr);
  return body;
}

const char* Route(codec::DeltaOp op) {
  switch (op) {
    case codec::DeltaOp::kAdd: return "/add";
    case codec::DeltaOp::kUpsert: return "/upsert";
    case codec::DeltaOp::kUpdate: return "/update";
    case codec::DeltaOp::kDelete: return "/delete";
  }
  return "";
}

// Chroma's `get` of every id as id -> record.
std::map<std::string, ModelRecord> ChromaRecords(ChromaOracle& chroma, const std::string& base) {
  std::vector<std::string> all;
  for (int i = 0; i < kIdSpace; ++i) all.push_back("id" + std::to_string(i));
  nlohmann::json got = chroma.Call("POST", base + "/get",
                                   {{"ids", all}, {"include", {"embeddings", "documents", "metadatas"}}});
  std::map<std::string, ModelRecord> out;
  for (size_t i = 0; i < got["ids"].size(); ++i) {
    ModelRecord r;
    for (const auto& v : got["embeddings"][i]) r.embedding.push_back(v.get<float>());
    if (!got["documents"][i].is_null()) r.document = got["documents"][i].get<std::string>();
    r.metadata = got["metadatas"][i];
    out[got["ids"][i].get<std::string>()] = r;
  }
  return out;
}

void ExpectSameRecords(const std::map<std::string, ModelRecord>& want, const std::map<std::string, ModelRecord>& got,
                       const char* what) {
  for (const auto& [id, w] : want) {
    auto it = got.find(id);
    if (it == got.end()) {
      ADD_FAILURE() << what << ": " << id << " missing";
      continue;
    }
    ASSERT_EQ(it->second.embedding.size(), w.embedding.size()) << what << ": " << id;
    for (size_t k = 0; k < w.embedding.size(); ++k) {
      EXPECT_NEAR(it->second.embedding[k], w.embedding[k], 1e-6) << what << ": " << id << " embedding[" << k << "]";
    }
    EXPECT_EQ(it->second.document, w.document) << what << ": " << id << " document";
    EXPECT_EQ(it->second.metadata, w.metadata) << what << ": " << id << " metadata";
  }
  for (const auto& [id, g] : got) EXPECT_TRUE(want.count(id)) << what << ": unexpected " << id;
}

class ChromaSemanticsTest : public PipelineMotoTest {};

TEST_F(ChromaSemanticsTest, LogAppliedInOrderAgreesWithRealChromaAndTheModel) {
  CP_REQUIRE_SHARED(shared);
  const char* env = std::getenv("CHROMAPACT_SEED");
  const uint64_t seed = env && *env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("CHROMAPACT_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  ChromaOracle chroma(shared, testing::MakeTempDir("oracle-semantics"));
  ASSERT_TRUE(chroma.ok()) << chroma.error();
  nlohmann::json created = chroma.Call("POST", "/collections", {{"name", "semantics"}});
  ASSERT_TRUE(created.is_object() && created.contains("id")) << created.dump();
  const std::string base = "/collections/" + created["id"].get<std::string>();

  const ShardId shard{"semantics", 0};
  Seams seams = NewSeams(CreateFifoQueue("semantics"));
  Compactor compactor(seams.kv.get(), seams.objects.get(), seams.queue.get(), SystemClock::Default(),
                      Options("semantics", 60000));
  Model model;
  std::map<std::string, int> kinds;
  for (int i = 0; i < kOps; ++i) {
    // The first writes add every id, so that later ops meet existing records as often as absent ones.
    Op op = i < 3 ? Op(codec::DeltaOp::kAdd, {}, i + 1) : RandomOp(rng, kIdSpace, i + 1);
    if (i < 3) {
      for (int k = i; k < kIdSpace; k += 3) op.ids.push_back("id" + std::to_string(k));
    }
    ++kinds[codec::DeltaOpName(op.op)];
    chroma.Call("POST", base + Route(op.op), ChromaBody(op));
    ASSERT_NE(Produce(&seams, shard, op, &model), 0u) << "write " << i;
    if (i % 25 == 24) {
      CycleResult r = compactor.RunCycle(shard, {});
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    }
  }
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  for (const auto& [kind, n] : kinds) std::printf("%s: %d writes\n", kind.c_str(), n);

  const auto from_chroma = ChromaRecords(chroma, base);
  const auto from_model = model.Live();
  {
    SCOPED_TRACE("the model against real Chroma");
    ExpectSameRecords(from_chroma, from_model, "model");
  }
  {
    SCOPED_TRACE("chromapact's snapshot against real Chroma");
    ExpectSnapshotEquals(&seams, SystemClock::Default(), shard, from_chroma);
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
