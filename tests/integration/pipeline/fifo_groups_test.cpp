// Issue 4 FIFO throughput defect: SQS FIFO delivers no message of a group while another message of
// that group is in flight, so with one group per shard a compaction cycle could drain at most one
// ReceiveMessage (10 messages) of its shard. The producer now spreads a shard's deltas over
// MessageGroupFor groups ("<coll>#<shard>#<k>", k = hash(delta ULID) % G). Against moto_server
// (signature checking on, group locking as real SQS): with the default 16 groups one cycle drains
// and commits more than 10 messages of one shard; with G = 1 (the old rule) it drains exactly 10;
// follow-up cycles drain the rest and the snapshot holds every record.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "chromapact/pipeline/producer.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int kDeltas = 40;

TEST(MessageGroupForTest, NamesTheShardAndSpreadsDeltaIdsOverAllGroups) {
  const ShardId shard{"docs", 3};
  // FNV-1a 64 of no bytes is the offset basis 0xcbf29ce484222325: 5 modulo 16.
  EXPECT_EQ(MessageGroupFor(shard, "", 16), "docs#3#5");
  EXPECT_EQ(MessageGroupFor(shard, "01JABCDEFGHJKMNPQRSTVWXYZ0", 1), "docs#3#0");
  codec::UlidGenerator ulids;
  std::map<std::string, int> counts;
  for (int i = 0; i < 1600; ++i) {
    const std::string id = *ulids.Next();
    const std::string g = MessageGroupFor(shard, id, kDefaultMessageGroups);
    EXPECT_EQ(g, MessageGroupFor(shard, id, kDefaultMessageGroups)) << "not stable for " << id;
    ASSERT_EQ(g.rfind("docs#3#", 0), 0u) << g;
    ++counts[g];
  }
  ASSERT_EQ(counts.size(), static_cast<size_t>(kDefaultMessageGroups));
  for (const auto& [g, c] : counts) EXPECT_GT(c, 40) << g;  // 100 expected per group
}

class FifoGroupsTest : public PipelineMotoTest {
 protected:
  // Options for a collection of kDim-dimensional records.
  static CompactorOptions DimOptions(const std::string& tag) {
    CompactorOptions o = Options(tag, 60000);
    o.collection.dimension = kDim;
    return o;
  }

  // kDeltas producer requests of one record each into one shard; returns the model.
  static std::map<std::string, ModelRecord> ProduceMany(Seams* seams, const std::string& collection, int groups) {
    std::map<std::string, ModelRecord> live;
    ProducerOptions opts;
    opts.message_groups = groups;
    opts.now_ms = kT0;
    for (int i = 0; i < kDeltas; ++i) {
      const std::string id = "id-" + std::to_string(i);
      ProduceRequest req;
      req.collection = collection;
      req.op = codec::DeltaOp::kUpsert;
      ModelRecord rec = RecordFor(id, i);
      req.records.ids = {id};
      req.records.embeddings = rec.embedding;
      req.records.documents = {rec.document};
      req.records.metadatas = {rec.metadata};
      auto res = pipeline::Produce(seams->objects.get(), seams->queue.get(), req, opts);
      EXPECT_TRUE(res.ok()) << res.status().ToString();
      live[id] = rec;
    }
    return live;
  }
};

TEST_F(FifoGroupsTest, OneCycleDrainsMoreThanTenMessagesOfOneShard) {
  const ShardId shard{"groups16", 0};
  Seams seams = NewSeams(CreateFifoQueue("groups16"));
  const auto live = ProduceMany(&seams, shard.collection, kDefaultMessageGroups);
  ManualClock clock(kT0);
  Compactor compactor(seams.kv.get(), seams.objects.get(), seams.queue.get(), &clock, DimOptions("groups16"));

  CycleResult first = compactor.RunCycle(shard, {});
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_GT(first.applied_message_ids.size(), 10u) << "one cycle is capped at one ReceiveMessage";
  EXPECT_EQ(first.applied_delta_ids.size(), first.applied_message_ids.size());
  EXPECT_EQ(first.new_version, 1);

  // The rest (messages of groups locked by the first cycle's in-flight ones) in later cycles.
  size_t applied = first.applied_message_ids.size();
  for (int cycle = 0; cycle < kDeltas && applied < static_cast<size_t>(kDeltas); ++cycle) {
    CycleResult r = compactor.RunCycle(shard, {});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_FALSE(r.applied_message_ids.empty()) << "a cycle drained nothing with messages left";
    applied += r.applied_message_ids.size();
  }
  EXPECT_EQ(applied, static_cast<size_t>(kDeltas));
  EXPECT_TRUE(ReceiveAll(seams.queue.get()).empty());
  ExpectSnapshotEquals(&seams, &clock, shard, live);
}

TEST_F(FifoGroupsTest, WithOneGroupPerShardACycleDrainsOnlyOneReceive) {
  const ShardId shard{"groups1", 0};
  Seams seams = NewSeams(CreateFifoQueue("groups1"));
  ProduceMany(&seams, shard.collection, 1);
  ManualClock clock(kT0);
  Compactor compactor(seams.kv.get(), seams.objects.get(), seams.queue.get(), &clock, DimOptions("groups1"));
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.applied_message_ids.size(), 10u);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
