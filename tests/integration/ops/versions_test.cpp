// ops::ListVersions and ops::Rollback against moto_server (signature checking on), with versions
// made by the real compactor from writes through the real producer: the listing reports complete,
// current, unfinished and damaged versions; a rollback moves the pointer by CAS to a retained
// version, reads right after it still see every acknowledged write (the version + the log past it),
// and the next compaction rebuilds a version holding all of them (the Model of pipeline_fixture.h,
// computed independently); rollbacks that would lose something are refused and change nothing.
#include "chromapact/ops/versions.h"

#include <gtest/gtest.h>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "ops_fixture.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

class VersionsTest : public OpsTest {
 protected:
  VersionsTest() : OpsTest(1'765'000'000'000) {}
  // Three compacted versions of `shard`, each after one more write; returns their listing.
  ops::ShardVersions ThreeVersions(const ShardId& shard) {
    Produce(&seams_, shard, Op(codec::DeltaOp::kAdd, {"a", "b", "c"}, 1), &model_);
    Compact(shard);
    Produce(&seams_, shard, Op(codec::DeltaOp::kUpsert, {"b", "d"}, 2), &model_);
    Compact(shard);
    Produce(&seams_, shard, Op(codec::DeltaOp::kDelete, {"a"}), &model_);
    Compact(shard);
    auto sv = ops::ListVersions(seams_.objects.get(), seams_.kv.get(), &clock_, shard);
    EXPECT_TRUE(sv.ok()) << sv.status().ToString();
    return sv.ok() ? *sv : ops::ShardVersions{};
  }
  std::unique_ptr<QueryService> Reader(const std::string& collection) {
    pointers_ = std::make_unique<PointerTable>(seams_.kv.get(), &clock_);
    cache_ = std::make_unique<PointerCache>(pointers_.get(), &clock_, 0);
    QueryServiceOptions o;
    o.cache_dir = testing::MakeTempDir("versions-cache");
    o.default_collection = collection;
    o.tail_ttl_ms = 0;
    return std::make_unique<QueryService>(seams_.objects.get(), cache_.get(), o);
  }
  static std::set<std::string> Ids(QueryService* qs) {
    auto got = qs->Handle({{"action", "get"}, {"include", nlohmann::json::array()}});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    std::set<std::string> ids;
    if (got.ok()) {
      for (const auto& id : (*got)["ids"]) ids.insert(id.get<std::string>());
    }
    return ids;
  }
  static std::set<std::string> Keys(const std::map<std::string, ModelRecord>& live) {
    std::set<std::string> out;
    for (const auto& [id, r] : live) out.insert(id);
    return out;
  }
  std::optional<Pointer> ReadPointer(const ShardId& shard) {
    PointerTable t(seams_.kv.get(), &clock_);
    auto p = t.Read(shard);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : std::nullopt;
  }

  Model model_;
  std::unique_ptr<PointerTable> pointers_;
  std::unique_ptr<PointerCache> cache_;
};

TEST_F(VersionsTest, ListsCompleteCurrentUnfinishedAndDamagedVersions) {
  const ShardId shard{"listed", 0};
  ops::ShardVersions sv = ThreeVersions(shard);
  ASSERT_EQ(sv.versions.size(), 3u);
  ASSERT_TRUE(sv.pointer.has_value());
  for (size_t i = 0; i < 3; ++i) {
    const ops::VersionInfo& v = sv.versions[i];
    EXPECT_EQ(v.version, i + 1);
    EXPECT_FALSE(v.manifest_key.empty());
    EXPECT_TRUE(v.files_present);
    EXPECT_EQ(v.current, i == 2);
    EXPECT_EQ(v.log_position, i + 1);  // one write per version
    EXPECT_EQ(v.objects, 1u);  // the manifest; the files are chunks under chunks/
    EXPECT_GT(v.snapshot_bytes, 0u);
  }
  EXPECT_EQ(sv.versions[0].record_count, 3u);
  EXPECT_EQ(sv.versions[1].record_count, 4u);
  EXPECT_EQ(sv.versions[2].record_count, 3u);
  EXPECT_EQ(sv.versions[2].manifest_key, sv.pointer->manifest_key);
  // An unfinished upload (files, no manifest.json), and a version that lost one of its chunks.
  ASSERT_TRUE(seams_.objects->Put(SnapshotPrefix(shard, 4, "dead") + "chroma.sqlite3", "partial").ok());
  auto text = seams_.objects->Get(sv.versions[0].manifest_key);
  ASSERT_TRUE(text.ok());
  auto m1 = codec::DecodeManifest(*text);
  ASSERT_TRUE(m1.ok());
  ASSERT_FALSE(m1->files.empty());
  ASSERT_FALSE(m1->files[0].chunks.empty());
  ASSERT_TRUE(seams_.objects->Delete({ChunkKey(shard, m1->files[0].chunks[0])}).ok());
  auto again = ops::ListVersions(seams_.objects.get(), seams_.kv.get(), &clock_, shard);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->versions.size(), 4u);
  EXPECT_FALSE(again->versions[0].files_present);
  EXPECT_EQ(again->versions[3].version, 4u);
  EXPECT_EQ(again->versions[3].writer_id, "dead");
  EXPECT_TRUE(again->versions[3].manifest_key.empty());
  EXPECT_EQ(again->versions[3].objects, 1u);
  const nlohmann::json j = ops::ToJson(*again);
  EXPECT_EQ(j["versions"][3]["complete"], false);
  EXPECT_EQ(j["versions"][2]["current"], true);
  EXPECT_EQ(j["pointer"]["version"], 3);
  // Refused: a version with a missing file; the pointer does not move.
  auto refused = ops::Rollback(seams_.objects.get(), seams_.kv.get(), seams_.queue.get(), &clock_, shard,
                               sv.versions[0].manifest_key);
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound) << refused.status().ToString();
  EXPECT_EQ(ReadPointer(shard), sv.pointer);
}

TEST_F(VersionsTest, RollbackLosesNothingAcknowledged) {
  const ShardId shard{"rolled", 0};
  ops::ShardVersions sv = ThreeVersions(shard);
  ASSERT_EQ(sv.versions.size(), 3u);
  // A write after the last compaction: only in the log.
  Produce(&seams_, shard, Op(codec::DeltaOp::kUpdate, {"c"}, 3), &model_);
  auto r = ops::Rollback(seams_.objects.get(), seams_.kv.get(), seams_.queue.get(), &clock_, shard,
                         sv.versions[0].manifest_key);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->before.version, 3);
  EXPECT_EQ(r->after.version, 4);
  EXPECT_EQ(r->after.manifest_key, sv.versions[0].manifest_key);
  EXPECT_TRUE(r->triggered);
  EXPECT_EQ(ReadPointer(shard)->manifest_key, sv.versions[0].manifest_key);
  // The trigger is on the queue for the compactor.
  auto msgs = seams_.queue->Receive(10, 1, 0);
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  bool found = false;
  for (const auto& m : *msgs) {
    auto d = ParseDeltaMessage(m.body);
    found = found || (d.ok() && d->shard.collection == shard.collection && d->log_position == 0);
  }
  EXPECT_TRUE(found);
  // Readers right after the rollback: version 1 plus the whole log past it = every write.
  auto reader = Reader(shard.collection);
  EXPECT_EQ(Ids(reader.get()), Keys(model_.Live()));
  // The next cycle rebuilds from version 1 and the log after it.
  Compact(shard);
  codec::Manifest m;
  ExpectSnapshotEquals(&seams_, &clock_, shard, model_.Live(), &m);
  EXPECT_EQ(m.version, 5u);
  EXPECT_EQ(m.log_position, 4u);
  // Already current: refused.
  auto current = ReadPointer(shard);
  auto same = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard, current->manifest_key);
  EXPECT_EQ(same.status().code(), StatusCode::kAlreadyExists) << same.status().ToString();
}

TEST_F(VersionsTest, RollbackRefusesWhatWouldLoseWritesAndChangesNothing) {
  const ShardId shard{"guarded", 0};
  ops::ShardVersions sv = ThreeVersions(shard);
  ASSERT_EQ(sv.versions.size(), 3u);
  auto unknown = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard,
                               "snapshots/guarded/0/9-nobody/manifest.json");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status().ToString();
  // Log entry 2 (applied by versions 2 and 3) removed, as a GC would once nothing retained needed
  // it: version 1 can no longer be rebuilt into the present.
  ASSERT_TRUE(seams_.objects->Delete({LogKey(shard, 2)}).ok());
  auto gap = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard,
                           sv.versions[0].manifest_key);
  EXPECT_EQ(gap.status().code(), StatusCode::kPreconditionFailed) << gap.status().ToString();
  EXPECT_NE(gap.status().message().find("log entry 2"), std::string::npos) << gap.status().message();
  EXPECT_EQ(ReadPointer(shard), sv.pointer);
  // Version 2 needs only entry 3 onwards: allowed, and nothing is lost.
  auto ok = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard, sv.versions[1].manifest_key);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(ok->triggered);
  Compact(shard);
  ExpectSnapshotEquals(&seams_, &clock_, shard, model_.Live());
}

TEST_F(VersionsTest, ACompactionBuiltOnTheOldPointerCannotUndoARollback) {
  const ShardId shard{"raced", 0};
  ops::ShardVersions sv = ThreeVersions(shard);
  ASSERT_EQ(sv.versions.size(), 3u);
  Produce(&seams_, shard, Op(codec::DeltaOp::kUpsert, {"e"}, 4), &model_);
  // A compactor that built on version 3 and uploaded its version holds the lease: a rollback is
  // refused. The operator breaks the lease (`lease release --force`) and rolls back before the
  // compactor's CAS.
  CompactorOptions o = Options("slow", 60000);
  bool rolled_back = false;
  o.step_hook = [&](std::string_view step) -> Status {
    if (step == kCompactStepUploaded && !rolled_back) {
      auto held = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard,
                                sv.versions[0].manifest_key);
      EXPECT_EQ(held.status().code(), StatusCode::kPreconditionFailed) << held.status().ToString();
      EXPECT_NE(held.status().message().find("held"), std::string::npos) << held.status().message();
      LeaseTable leases(seams_.kv.get(), &clock_);
      EXPECT_TRUE(leases.ForceRelease(shard).ok());
      auto r = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard,
                             sv.versions[0].manifest_key);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      rolled_back = true;
    }
    return Status::Ok();
  };
  Compactor slow(seams_.kv.get(), seams_.objects.get(), seams_.queue.get(), &clock_, o);
  CycleResult cycle = slow.RunCycle(shard, {});
  ASSERT_TRUE(rolled_back);
  // Its CAS on version 3 lost; whatever it committed afterwards was rebuilt on the rolled-back
  // pointer (version 4), never the version it had built on version 3.
  auto ptr = ReadPointer(shard);
  ASSERT_TRUE(ptr.has_value());
  ASSERT_GE(ptr->version, 4);
  if (ptr->version > 4) {
    auto text = seams_.objects->Get(ptr->manifest_key);
    ASSERT_TRUE(text.ok());
    auto m = codec::DecodeManifest(*text);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->parent_version, std::optional<uint64_t>(4)) << cycle.status.ToString();
  }
  Compact(shard);
  ExpectSnapshotEquals(&seams_, &clock_, shard, model_.Live());
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
