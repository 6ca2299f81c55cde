// Chroma 1.5.9's write semantics (docs/chroma-format.md §7), applied by the
// compactor in log order, against moto_server with signature checking on. Every write goes through
// the real producer; the expected records come from the fixture's Model, which states Chroma's rules
// independently of the compactor: add of an existing id is ignored, update of an absent id is
// ignored (nothing created), update / upsert merge metadata and a null value deletes the key, a
// metadata emptied that way reads null, a column a write does not give is kept, delete then add
// starts afresh. The same writes are checked one cycle per write, all in one cycle, and spread
// over the shards of a 3-shard collection.
#include <gtest/gtest.h>

#include "chromapact/pipeline/compactor.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

// Op fields: {op, ids, seed, embedding, document, metadata, null_keys}.
std::vector<Op> Script() {
  return {
      {DeltaOp::kUpsert, {"a", "b", "e"}, 1},
      // add of an existing id: a unchanged; the batch's new id c is added.
      {DeltaOp::kAdd, {"a", "c"}, 2},
      // update of an absent id: nothing created; the batch's existing id b is updated (document).
      Cols({DeltaOp::kUpdate, {"ghost", "b"}, 3}, false, true, false),
      // metadata merge: a's keys from seed 1 ("m1") stay, seed 6's ("m2") are added.
      Cols({DeltaOp::kUpdate, {"a"}, 6}, false, false, true),
      // a null value deletes the key; the others merge.
      Cols({DeltaOp::kUpdate, {"a"}, 7}, false, false, true, {"m1"}),
      // metadata-only update after an upsert: embedding and document stay.
      {DeltaOp::kUpsert, {"d"}, 8},
      Cols({DeltaOp::kUpdate, {"d"}, 9}, false, false, true),
      // upsert of an existing id without document / metadata keeps them, takes the embedding.
      Cols({DeltaOp::kUpsert, {"d"}, 10}, true, false, false),
      // delete then add: b comes back with the new write's content only (no old metadata merged).
      {DeltaOp::kDelete, {"b", "never-existed"}},
      Cols({DeltaOp::kAdd, {"b"}, 14}, true, false, true),
      // every key nulled: the metadata reads null (e's seed-1 keys: seed, id, m1; seed 13 sends m1 too).
      Cols({DeltaOp::kUpdate, {"e"}, 13}, false, false, true, {"seed", "id", "m1"}),
      // upsert merging into a null metadata; update with an embedding only.
      Cols({DeltaOp::kUpsert, {"e", "f"}, 15}, true, true, true, {"m3"}),
      Cols({DeltaOp::kUpdate, {"c", "f"}, 16}, true, false, false),
      // delete of absent ids changes nothing; delete and re-add within the log order.
      {DeltaOp::kDelete, {"ghost"}},
      {DeltaOp::kDelete, {"c"}},
      Cols({DeltaOp::kUpsert, {"c"}, 17}, true, false, true),
  };
}

class CompactorSemanticsTest : public CompactorTestBase {};

// The model itself, checked against the rules it is meant to state (a wrong model would make every
// comparison below vacuous).
TEST(ModelTest, StatesChromasRules) {
  Model model;
  ProduceResult ack;
  uint64_t pos = 0;
  for (const Op& op : Script()) {
    ack.log_positions = {{0, ++pos}};
    model.Acknowledged(op, ack, 1);
  }
  const auto live = model.Live();
  EXPECT_EQ(live.count("ghost"), 0u);
  EXPECT_EQ(live.count("never-existed"), 0u);
  EXPECT_EQ(live.at("a").embedding, EmbeddingFor("a", 1));
  EXPECT_EQ(live.at("a").document, DocumentFor("a", 1));
  EXPECT_EQ(live.at("a").metadata, (nlohmann::json{{"seed", 7}, {"id", "a"}, {"m2", 6}, {"m3", 7}}));
  EXPECT_EQ(live.at("b").document, std::nullopt);
  EXPECT_EQ(live.at("b").metadata, MetadataFor("b", 14));
  EXPECT_EQ(live.at("d").embedding, EmbeddingFor("d", 10));
  EXPECT_EQ(live.at("d").document, DocumentFor("d", 8));
  EXPECT_EQ(live.at("d").metadata, (nlohmann::json{{"seed", 9}, {"id", "d"}, {"m0", 8}, {"m1", 9}}));
  EXPECT_EQ(live.at("c").document, std::nullopt);
  EXPECT_EQ(live.at("c").metadata, MetadataFor("c", 17));
  EXPECT_EQ(live.at("e").embedding, EmbeddingFor("e", 15));
  EXPECT_EQ(live.at("e").metadata, (nlohmann::json{{"seed", 15}, {"id", "e"}}));
  EXPECT_EQ(live.at("f").embedding, EmbeddingFor("f", 16));
  EXPECT_EQ(live.at("f").document, DocumentFor("f", 15));
  EXPECT_EQ(live.size(), 6u);

  // An emptied metadata reads null (before seed 15 merged into it).
  Model upto_e;
  pos = 0;
  for (const Op& op : Script()) {
    ack.log_positions = {{0, ++pos}};
    upto_e.Acknowledged(op, ack, 1);
    if (op.seed == 13) break;
  }
  EXPECT_TRUE(upto_e.Live().at("e").metadata.is_null()) << upto_e.Live().at("e").metadata.dump();
}

TEST_F(CompactorSemanticsTest, OneCyclePerWrite) {
  const ShardId shard{"sem-each", 0};
  auto queue = NewQueue("sem-each");
  Model model;
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("sem-each"));
  uint64_t pos = 0;
  for (const Op& op : Script()) {
    SCOPED_TRACE("write " + std::to_string(pos + 1));
    ASSERT_EQ(Write(queue.get(), shard, op, &model), ++pos);
    CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.log_position, pos);
    EXPECT_EQ(r.applied, 1u);
    ExpectSnapshot(shard, model);
  }
}

TEST_F(CompactorSemanticsTest, AllWritesInOneCycle) {
  const ShardId shard{"sem-all", 0};
  auto queue = NewQueue("sem-all");
  Model model;
  for (const Op& op : Script()) Write(queue.get(), shard, op, &model);
  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("sem-all"));
  // Triggers are not needed: the cycle reads the log, not the queue.
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, Script().size());
  EXPECT_EQ(r.applied, Script().size());
  EXPECT_FALSE(r.rearmed);
  ExpectSnapshot(shard, model);
}

// Each write is split by ShardForId; each shard's log orders its part. Every shard's snapshot holds
// exactly the model's records of that shard.
TEST_F(CompactorSemanticsTest, ThreeShardsEachApplyTheirPartInOrder) {
  const std::string coll = "sem-shards";
  constexpr int kShards = 3;
  auto queue = NewQueue("sem-shards");
  Model model;
  std::map<int, uint64_t> last;  // per shard: the last log position acknowledged
  for (const Op& op : Script()) {
    auto ack = fixture::Write(kv(), objects(), queue.get(), coll, op, &model, kShards);
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    for (const LogPosition& p : ack->log_positions) {
      EXPECT_EQ(p.log_position, last[p.shard] + 1) << "shard " << p.shard << ": positions are gap-free";
      last[p.shard] = p.log_position;
    }
  }
  ASSERT_EQ(last.size(), static_cast<size_t>(kShards)) << "the script does not touch every shard";
  const auto live = model.Live();
  for (int s = 0; s < kShards; ++s) {
    SCOPED_TRACE("shard " + std::to_string(s));
    const ShardId shard{coll, s};
    Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("sem-shards-" + std::to_string(s)));
    CycleResult r = compactor.RunCycle(shard, {});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.log_position, last[s]);
    std::map<std::string, ModelRecord> mine;
    for (const auto& [id, rec] : live) {
      if (ShardForId(id, kShards) == s) mine[id] = rec;
    }
    fixture::ExpectSnapshotEquals(objects(), kv(), &clock_, shard, mine);
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
