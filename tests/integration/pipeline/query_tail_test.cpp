// The query service reading the log past the committed versions (query_service.h read_log_tail),
// against moto_server with signature checking on, writes through the real producer and versions
// committed by the real compactor. What it must answer is Chroma's semantics applied in the order
// the writes were acknowledged (fixture::Model), never the compactor's output: writes are visible
// before any compaction; a hole ends what is readable; min_log_positions waits for a position
// (bounded) and fails with kTimeout past the wait; entries the compactor skips are skipped; a
// version committed later answers the same; and a newer version that the tail already covers is not
// downloaded, while a rolled-back pointer is.
#include "chromapact/pipeline/query_service.h"

#include <gtest/gtest.h>

#include "chromapact/pipeline/pointer_cache.h"
#include "support/pipeline_fixture.h"
#include "support/query_records.h"

namespace chromapact::pipeline::fixture {
namespace {

class QueryTailTest : public PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    seams_ = NewSeams(CreateFifoQueue("qt-" + std::to_string(++n_)));
    pointers_ = std::make_unique<PointerTable>(seams_.kv.get(), &clock_);
    cache_ = std::make_unique<PointerCache>(pointers_.get(), &clock_, 0);
  }
  std::unique_ptr<QueryService> Service(const std::string& coll, int shards, bool tail = true,
                                        int64_t keep_version_ms = QueryServiceOptions{}.keep_version_ms) {
    QueryServiceOptions o;
    o.keep_version_ms = keep_version_ms;
    o.cache_dir = testing::MakeTempDir("qt-cache");
    o.shards = shards;
    o.default_collection = coll;
    o.read_log_tail = tail;
    o.tail_ttl_ms = 0;  // list on every request
    o.min_position_wait_ms = 300;
    return std::make_unique<QueryService>(seams_.objects.get(), cache_.get(), o);
  }
  void Compact(const std::string& coll, int shards) {
    for (int s = 0; s < shards; ++s) {
      Compactor c(seams_.kv.get(), seams_.objects.get(), seams_.queue.get(), &clock_, Options("qt", 60000));
      CycleResult r = c.RunCycle({coll, s}, {});
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    }
  }
  // Acknowledged write through the producer; returns its log positions.
  std::vector<LogPosition> Write(const std::string& coll, const Op& op, Model* model, int shards) {
    auto ack = fixture::Write(seams_.kv.get(), seams_.objects.get(), seams_.queue.get(), coll, op, model, shards);
    EXPECT_TRUE(ack.ok()) << ack.status().ToString();
    return ack.ok() ? ack->log_positions : std::vector<LogPosition>{};
  }
  // Every record the service answers for `coll`, by id.
  static std::map<std::string, ModelRecord> GetAll(QueryService* qs, nlohmann::json extra = nlohmann::json::object()) {
    auto got = GetRecords(qs, std::move(extra));
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::map<std::string, ModelRecord>{};
  }

  static inline int n_ = 0;
  ManualClock clock_{1'700'000'000'000};
  Seams seams_;
  std::unique_ptr<PointerTable> pointers_;
  std::unique_ptr<PointerCache> cache_;
};

TEST_F(QueryTailTest, AcknowledgedWritesAreVisibleBeforeCompaction) {
  const std::string coll = "qt-visible";
  Model model;
  Write(coll, Op(codec::DeltaOp::kUpsert, {"a", "b", "c", "d", "e", "f"}, 1), &model, 2);
  Compact(coll, 2);
  const auto committed = model.Live();

  // After the versions: every kind of write, none compacted.
  Op update(codec::DeltaOp::kUpdate, {"a", "missing"}, 2);
  update.embedding = false;
  update.null_keys = {"m1"};
  Write(coll, update, &model, 2);
  Write(coll, Op(codec::DeltaOp::kDelete, {"b", "nobody"}), &model, 2);
  Write(coll, Op(codec::DeltaOp::kAdd, {"c", "g"}, 3), &model, 2);  // c exists: ignored
  Write(coll, Op(codec::DeltaOp::kUpsert, {"d", "h"}, 4), &model, 2);
  const auto live = model.Live();
  ASSERT_NE(live, committed);

  auto qs = Service(coll, 2);
  EXPECT_EQ(GetAll(qs.get()), live);
  EXPECT_GT(qs->last_stats().tail_applied, 0u);
  auto count = qs->Handle({{"action", "count"}});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ((*count)["count"], live.size());
  // Each live record's own vector finds it first (exact at this size), across both shards.
  for (const auto& [id, rec] : live) {
    auto q = qs->Handle({{"query_embeddings", {rec.embedding}}, {"n_results", 1}});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ((*q)["ids"][0][0], id);
  }
  // A where filter sees the tail's metadata (h was written with seed 4).
  auto w = qs->Handle({{"action", "get"}, {"where", {{"seed", 4}}}});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->at("ids").size(), 2u) << w->dump();  // d and h

  // Without the tail: the committed versions only.
  auto versions_only = Service(coll, 2, false);
  EXPECT_EQ(GetAll(versions_only.get()), committed);

  // Once compacted, the same answer, and nothing left to read past the versions.
  Compact(coll, 2);
  EXPECT_EQ(GetAll(qs.get()), live);
  EXPECT_EQ(qs->last_stats().tail_applied, 0u);
  EXPECT_EQ(GetAll(versions_only.get()), live);
}

TEST_F(QueryTailTest, AHoleEndsWhatIsReadableAndMinLogPositionWaitsBounded) {
  const std::string coll = "qt-hole";
  const ShardId shard{coll, 0};
  Model model;
  Write(coll, Op(codec::DeltaOp::kUpsert, {"x"}, 1), &model, 1);
  Compact(coll, 1);
  // A producer that took a number and has not written yet: a hole, then a later write.
  auto hole = NextSequence(seams_.kv.get(), shard);
  ASSERT_TRUE(hole.ok());
  Model after_hole = model;
  const Op late(codec::DeltaOp::kUpsert, {"late"}, 2);
  const auto later = Write(coll, Op(codec::DeltaOp::kUpsert, {"y"}, 3), &after_hole, 1);
  ASSERT_EQ(later.size(), 1u);
  ASSERT_EQ(later[0].log_position, *hole + 1);

  auto qs = Service(coll, 1);
  EXPECT_EQ(GetAll(qs.get()), model.Live()) << "nothing past the hole is readable";
  auto waited = qs->Handle({{"action", "count"}, {"min_log_positions", {{{"shard", 0}, {"log_position", *hole + 1}}}}});
  EXPECT_EQ(waited.status().code(), StatusCode::kTimeout) << waited.status().ToString();
  EXPECT_NE(waited.status().message().find("readable to log position " + std::to_string(*hole - 1)), std::string::npos)
      << waited.status().ToString();

  // The late delta lands in the hole (create-only, as its producer would write it).
  auto put = seams_.objects->Put(LogKey(shard, *hole), EncodeOp(shard, late), {true, "", "application/octet-stream"});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  Model all;
  auto at = [](uint64_t pos) {
    ProduceResult r;
    r.log_positions = {{0, pos}};
    return r;
  };
  all.Acknowledged(Op(codec::DeltaOp::kUpsert, {"x"}, 1), at(1), 1);
  all.Acknowledged(late, at(*hole), 1);
  all.Acknowledged(Op(codec::DeltaOp::kUpsert, {"y"}, 3), at(*hole + 1), 1);
  EXPECT_EQ(GetAll(qs.get(), {{"min_log_position", *hole + 1}}), all.Live());

  // Bad requests name the field.
  auto two = Service(coll, 2);
  EXPECT_EQ(two->Handle({{"action", "count"}, {"min_log_position", 1}}).status().code(), StatusCode::kInvalidArgument);
  auto out_of_range = qs->Handle({{"action", "count"}, {"min_log_positions", {{{"shard", 3}, {"log_position", 1}}}}});
  EXPECT_EQ(out_of_range.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.status().message().find("min_log_positions[0].shard"), std::string::npos);
  // A `where` nested 200000 levels deep is refused before anything copies (recurses into) it.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  nlohmann::json request = {{"action", "get"}};
  request["where"] = nlohmann::json::parse(deep);
  auto refused = qs->Handle(request);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("nested deeper than"), std::string::npos) << refused.status().ToString();
}

TEST_F(QueryTailTest, EntriesTheCompactorSkipsAreSkippedAndTheVersionAgrees) {
  const std::string coll = "qt-skip";
  const ShardId shard{coll, 0};
  Model model;
  Write(coll, Op(codec::DeltaOp::kUpsert, {"p", "q"}, 1), &model, 1);
  Compact(coll, 1);
  // A damaged delta, a delta of another shard, and a void marker, between acknowledged writes.
  auto damaged = NextSequence(seams_.kv.get(), shard);
  ASSERT_TRUE(damaged.ok());
  ASSERT_TRUE(seams_.objects->Put(LogKey(shard, *damaged), "not a delta at all", {true, "", "application/octet-stream"}).ok());
  auto foreign = NextSequence(seams_.kv.get(), shard);
  ASSERT_TRUE(foreign.ok());
  ASSERT_TRUE(seams_.objects
                  ->Put(LogKey(shard, *foreign), EncodeOp({coll, 1}, Op(codec::DeltaOp::kUpsert, {"z"}, 9)),
                        {true, "", "application/octet-stream"})
                  .ok());
  auto voided = NextSequence(seams_.kv.get(), shard);
  ASSERT_TRUE(voided.ok());
  ASSERT_TRUE(seams_.objects->Put(LogKey(shard, *voided), EncodeVoidMarker(*voided, "test", "t", 1), {true, "", "text/plain"}).ok());
  Write(coll, Op(codec::DeltaOp::kUpsert, {"q", "r"}, 2), &model, 1);

  auto qs = Service(coll, 1);
  EXPECT_EQ(GetAll(qs.get()), model.Live());
  Compact(coll, 1);
  auto versions_only = Service(coll, 1, false);
  EXPECT_EQ(GetAll(versions_only.get()), model.Live());
  EXPECT_EQ(GetAll(qs.get()), model.Live());
}

// keep_version_ms: the pointer moves to a version the tail has already read past, so the service
// goes on answering from the version it has (no download, no reopen); with keep_version_ms 0 the
// same move is fetched; a rollback (a version behind the one served) is fetched, and its log past
// it read again. Every answer is the model's.
TEST_F(QueryTailTest, ANewerVersionTheTailCoversIsNotFetchedButARollbackIs) {
  const std::string coll = "qt-covered";
  const ShardId shard{coll, 0};
  Model model;
  Write(coll, Op(codec::DeltaOp::kUpsert, {"a", "b", "c"}, 1), &model, 1);
  Compact(coll, 1);
  auto v1 = pointers_->Read(shard);
  ASSERT_TRUE(v1.ok() && v1->has_value());
  auto qs = Service(coll, 1);
  auto fetch_all = Service(coll, 1, true, 0);
  EXPECT_EQ(GetAll(qs.get()), model.Live());
  EXPECT_EQ(qs->last_stats().snapshots_fetched, 1);
  EXPECT_EQ(GetAll(fetch_all.get()), model.Live());

  Write(coll, Op(codec::DeltaOp::kUpsert, {"b", "d"}, 2), &model, 1);
  Write(coll, Op(codec::DeltaOp::kDelete, {"a"}), &model, 1);
  EXPECT_EQ(GetAll(qs.get()), model.Live());
  EXPECT_EQ(qs->last_stats().tail_applied, 2u);
  Compact(coll, 1);  // version 2 holds exactly what qs has read
  Write(coll, Op(codec::DeltaOp::kUpsert, {"e", "c"}, 3), &model, 1);  // and one entry past it
  EXPECT_EQ(GetAll(qs.get()), model.Live());
  EXPECT_EQ(qs->last_stats().snapshots_fetched, 0);
  EXPECT_EQ(qs->last_stats().versions_covered, 1);
  EXPECT_EQ(qs->last_stats().versions_max, 2);
  EXPECT_EQ(qs->last_stats().tail_applied, 1u);
  EXPECT_EQ(GetAll(fetch_all.get()), model.Live());
  EXPECT_EQ(fetch_all->last_stats().snapshots_fetched, 1);
  EXPECT_EQ(fetch_all->last_stats().versions_covered, 0);

  // A service that opened version 2 sees a rollback to version 1's manifest (a CAS to version 3,
  // as `chromapact rollback` does): behind what it serves, so fetched, and the log past it read again.
  auto qs2 = Service(coll, 1);
  EXPECT_EQ(GetAll(qs2.get()), model.Live());
  EXPECT_EQ(qs2->last_stats().snapshots_fetched, 1);
  auto now = pointers_->Read(shard);
  ASSERT_TRUE(now.ok() && now->has_value());
  auto rolled = pointers_->CompareAndSwap(shard, (*now)->version, (*v1)->manifest_key, 0);
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(GetAll(qs2.get()), model.Live());
  EXPECT_EQ(qs2->last_stats().snapshots_fetched, 1);
  EXPECT_EQ(qs2->last_stats().versions_covered, 0);
  EXPECT_EQ(qs2->last_stats().tail_applied, 3u);  // the three entries past version 1, again
  // qs never left version 1: the pointer now names the version it serves.
  EXPECT_EQ(GetAll(qs.get()), model.Live());
  EXPECT_EQ(qs->last_stats().snapshots_fetched, 0);
  EXPECT_EQ(qs->last_stats().versions_covered, 0);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
