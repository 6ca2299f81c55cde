// ops::CollectGarbage against moto_server (signature checking on), with versions made by the real
// compactor from writes through the real producer. Ages: the compactor stamps created_at_ms from
// the ManualClock, S3 stamps LastModified with the wall clock; the ManualClock starts at the wall
// clock and is moved forward by hand, so "old" and "young" are decided by the test, without sleeps.
// Checked: retention by count and by age, the pointer's version kept, unfinished uploads removed
// only when old, the log cut at the smallest retained log_position (never above the pointer's);
// after GC a fresh reader and a fresh compaction still hold every acknowledged write (the Model of
// pipeline_fixture.h, computed independently) and a rollback to every retained version still works;
// a crash at every delete request leaves the collection intact and a second run finishes the job;
// a dry run and a run that finds the lease held delete nothing.
#include "chromapact/ops/gc.h"

#include <gtest/gtest.h>

#include "chromapact/ops/versions.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "chromapact/pipeline/snapshot.h"
#include "ops_fixture.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int64_t kHour = 3600000;

class GcTest : public OpsTest {
 protected:
  GcTest() : OpsTest(SystemClock::Default()->NowMs()) {}
  // `versions` compacted versions of `shard` (version i has log_position i), then one more write
  // that is only in the log, and an unfinished upload "<versions + 1>-dead/".
  void Build(const ShardId& shard, int versions, Model* model) {
    for (int i = 1; i <= versions; ++i) {
      if (i == 3) {
        Produce(&seams_, shard, Op(codec::DeltaOp::kDelete, {"r1"}), model);
      } else {
        Produce(&seams_, shard, Op(codec::DeltaOp::kUpsert, {"r" + std::to_string(i), "s"}, i), model);
      }
      Compact(shard);
    }
    Produce(&seams_, shard, Op(codec::DeltaOp::kUpdate, {"s"}, 100), model);
    ASSERT_TRUE(seams_.objects->Put(SnapshotPrefix(shard, versions + 1, "dead") + "chroma.sqlite3", "partial").ok());
  }
  ops::ShardVersions Versions(const ShardId& shard) {
    auto sv = ops::ListVersions(seams_.objects.get(), seams_.kv.get(), &clock_, shard);
    EXPECT_TRUE(sv.ok()) << sv.status().ToString();
    return sv.ok() ? *sv : ops::ShardVersions{};
  }
  // Manifest keys of the complete versions, and prefixes of the unfinished ones.
  std::vector<std::string> Complete(const ShardId& shard) {
    std::vector<std::string> out;
    for (const auto& v : Versions(shard).versions)
      if (!v.manifest_key.empty()) out.push_back(v.manifest_key);
    return out;
  }
  std::vector<uint64_t> LogSeqs(const ShardId& shard) {
    auto entries = ListLog(seams_.objects.get(), shard, 0, 100000);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    std::vector<uint64_t> out;
    if (entries.ok())
      for (const auto& e : *entries) out.push_back(e.seq);
    return out;
  }
  // The chunk hashes stored for the shard, and those a manifest lists.
  std::set<std::string> StoredChunks(const ShardId& shard) {
    std::set<std::string> out;
    auto listed = seams_.objects->List(ChunkPrefix(shard));
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (listed.ok())
      for (const auto& o : *listed) out.insert(o.key.substr(ChunkPrefix(shard).size()));
    return out;
  }
  std::set<std::string> ListedChunks(const std::string& manifest_key) {
    std::set<std::string> out;
    auto text = seams_.objects->Get(manifest_key);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return out;
    auto m = codec::DecodeManifest(*text);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (m.ok())
      for (const auto& f : m->files) out.insert(f.chunks.begin(), f.chunks.end());
    return out;
  }
  std::set<std::string> AllKeys(const std::string& collection) {
    std::set<std::string> out;
    for (const std::string& prefix :
         {"snapshots/" + collection + "/", "deltas/" + collection + "/", "chunks/" + collection + "/"}) {
      auto listed = seams_.objects->List(prefix);
      EXPECT_TRUE(listed.ok()) << listed.status().ToString();
      if (listed.ok())
        for (const auto& o : *listed) out.insert(o.key);
    }
    return out;
  }
  std::set<std::string> ReaderIds(const std::string& collection) {
    PointerTable pointers(seams_.kv.get(), &clock_);
    PointerCache cache(&pointers, &clock_, 0);
    QueryServiceOptions o;
    o.cache_dir = testing::MakeTempDir("gc-cache");
    o.default_collection = collection;
    o.tail_ttl_ms = 0;
    QueryService qs(seams_.objects.get(), &cache, o);
    auto got = qs.Handle({{"action", "get"}, {"include", nlohmann::json::array()}});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    std::set<std::string> ids;
    if (got.ok())
      for (const auto& id : (*got)["ids"]) ids.insert(id.get<std::string>());
    return ids;
  }
  static std::set<std::string> Keys(const std::map<std::string, ModelRecord>& live) {
    std::set<std::string> out;
    for (const auto& [id, r] : live) out.insert(id);
    return out;
  }
  // The collection as a reader sees it right now (pointer's version + log past it), the pointer's
  // version fetchable and equal to the model once the log is applied, and no listed manifest naming
  // a missing file.
  void ExpectIntact(const ShardId& shard, const Model& model) {
    EXPECT_EQ(ReaderIds(shard.collection), Keys(model.Live()));
    ops::ShardVersions sv = Versions(shard);
    ASSERT_TRUE(sv.pointer.has_value());
    bool pointer_listed = false;
    for (const auto& v : sv.versions) {
      if (v.manifest_key.empty()) continue;
      EXPECT_TRUE(v.files_present) << v.manifest_key << " names a missing file";
      pointer_listed = pointer_listed || v.manifest_key == sv.pointer->manifest_key;
    }
    EXPECT_TRUE(pointer_listed) << sv.pointer->manifest_key;
    std::string dir = testing::MakeTempDir("gc-fetch");
    auto m = FetchSnapshot(seams_.objects.get(), sv.pointer->manifest_key, dir);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
  }
  Result<ops::GcResult> Gc(const ShardId& shard, size_t keep, bool dry_run = false, const ops::GcHook& hook = {}) {
    ops::GcOptions o;
    o.keep_versions = keep;
    o.dry_run = dry_run;
    return ops::CollectGarbage(seams_.objects.get(), seams_.kv.get(), &clock_, shard, o, hook);
  }
  // Rolls back to every retained non-current version in turn, compacting after each: every time
  // the new version holds every acknowledged write.
  void ExpectRollbackToEachWorks(const ShardId& shard, const std::vector<std::string>& manifests, const Model& model) {
    for (const auto& key : manifests) {
      auto ptr = PointerTable(seams_.kv.get(), &clock_).Read(shard);
      ASSERT_TRUE(ptr.ok() && ptr->has_value());
      if ((*ptr)->manifest_key == key) continue;
      auto r = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard, key);
      ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
      EXPECT_EQ(ReaderIds(shard.collection), Keys(model.Live())) << "right after rolling back to " << key;
      Compact(shard);
      ExpectSnapshotEquals(&seams_, &clock_, shard, model.Live());
    }
  }

};

TEST_F(GcTest, RefusesUnsafeOptions) {
  const ShardId shard{"gc-options", 0};
  ops::GcOptions o;
  o.min_age_ms = ops::kMinGcAgeMs - 1;
  auto young = ops::CollectGarbage(seams_.objects.get(), seams_.kv.get(), &clock_, shard, o);
  EXPECT_EQ(young.status().code(), StatusCode::kInvalidArgument) << young.status().ToString();
  o = {};
  o.keep_versions = 0;
  auto none = ops::CollectGarbage(seams_.objects.get(), seams_.kv.get(), &clock_, shard, o);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument) << none.status().ToString();
}

TEST_F(GcTest, RetainsByCountAndAgeAndCutsTheLogAtTheSmallestRetainedPosition) {
  const ShardId shard{"gc-retain", 0};
  Model model;
  Build(shard, 5, &model);  // versions 1..5 at log positions 1..5; entry 6 only in the log
  const std::set<std::string> before = AllKeys(shard.collection);
  // Everything is young: nothing at all is deleted, whatever keep says.
  auto young = Gc(shard, 1);
  ASSERT_TRUE(young.ok()) << young.status().ToString();
  EXPECT_TRUE(young->deleted_versions.empty());
  EXPECT_TRUE(young->deleted_unfinished.empty());
  EXPECT_EQ(young->log_entries_deleted, 0u);
  EXPECT_EQ(young->retained.size(), 5u);
  EXPECT_EQ(young->log_cut, 1u);
  EXPECT_EQ(AllKeys(shard.collection), before);

  // Two hours later, two young versions on top.
  clock_.Advance(2 * kHour);
  Produce(&seams_, shard, Op(codec::DeltaOp::kUpsert, {"t"}, 7), &model);
  Compact(shard);
  Produce(&seams_, shard, Op(codec::DeltaOp::kUpsert, {"u"}, 8), &model);
  Compact(shard);
  const std::vector<std::string> seven = Complete(shard);
  ASSERT_EQ(seven.size(), 7u);
  ops::ShardVersions sv = Versions(shard);
  std::vector<uint64_t> positions;
  for (const auto& v : sv.versions)
    if (!v.manifest_key.empty()) positions.push_back(v.log_position);
  ASSERT_EQ(positions, (std::vector<uint64_t>{1, 2, 3, 4, 5, 7, 8}));

  // keep 4: versions 4 and 5 by count (old), 6 and 7 by count and age; 1..3 and the old
  // unfinished upload go; the log up to version 4's position (4) goes.
  auto r = Gc(shard, 4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->deleted_versions, (std::vector<std::string>{sv.versions[0].prefix, sv.versions[1].prefix,
                                                           sv.versions[2].prefix}));
  ASSERT_EQ(r->deleted_unfinished.size(), 1u);
  EXPECT_NE(r->deleted_unfinished[0].find("-dead/"), std::string::npos);
  ASSERT_EQ(r->retained.size(), 4u);
  EXPECT_TRUE(r->retained[0].newest);
  EXPECT_FALSE(r->retained[0].young);
  EXPECT_TRUE(r->retained[3].current);
  EXPECT_TRUE(r->retained[2].young);
  EXPECT_EQ(r->log_cut, 4u);
  EXPECT_EQ(r->log_entries_deleted, 4u);
  EXPECT_EQ(r->log_deleted_through, 4u);
  EXPECT_EQ(Complete(shard), (std::vector<std::string>(seven.begin() + 3, seven.end())));
  EXPECT_EQ(Versions(shard).versions.size(), 4u);  // the unfinished upload is gone too
  EXPECT_EQ(LogSeqs(shard), (std::vector<uint64_t>{5, 6, 7, 8}));
  ExpectIntact(shard, model);

  // keep 1: only the current version by count, but version 6 is young: kept; 4 and 5 go, and the
  // log up to version 6's position (7).
  auto r2 = Gc(shard, 1);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_EQ(r2->retained.size(), 2u);
  EXPECT_TRUE(r2->retained[0].young);
  EXPECT_FALSE(r2->retained[0].newest);
  EXPECT_FALSE(r2->retained[0].current);
  EXPECT_EQ(r2->deleted_versions.size(), 2u);
  EXPECT_EQ(r2->log_cut, 7u);
  EXPECT_EQ(Complete(shard), (std::vector<std::string>{seven[5], seven[6]}));
  EXPECT_EQ(LogSeqs(shard), (std::vector<uint64_t>{8}));
  ExpectIntact(shard, model);
  // A fresh compaction from the pointer holds every write; so does a rollback to the other
  // retained version followed by a compaction.
  Produce(&seams_, shard, Op(codec::DeltaOp::kUpdate, {"t", "s"}, 9), &model);
  Compact(shard);
  ExpectSnapshotEquals(&seams_, &clock_, shard, model.Live());
  ExpectRollbackToEachWorks(shard, {seven[5]}, model);
}

TEST_F(GcTest, KeepsThePointersVersionAndNeverCutsTheLogAboveIt) {
  const ShardId shard{"gc-pointer", 0};
  Model model;
  Build(shard, 5, &model);
  const std::vector<std::string> five = Complete(shard);
  ASSERT_EQ(five.size(), 5u);
  // The pointer goes back to version 2 (log_position 2); the log after it is there.
  auto rb = ops::Rollback(seams_.objects.get(), seams_.kv.get(), nullptr, &clock_, shard, five[1]);
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  clock_.Advance(2 * kHour);
  auto r = Gc(shard, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->retained.size(), 2u);
  EXPECT_EQ(r->retained[0].manifest_key, five[1]);
  EXPECT_TRUE(r->retained[0].current);
  EXPECT_EQ(r->retained[1].manifest_key, five[4]);
  EXPECT_TRUE(r->retained[1].newest);
  EXPECT_EQ(r->log_cut, 2u);
  EXPECT_EQ(Complete(shard), (std::vector<std::string>{five[1], five[4]}));
  EXPECT_EQ(LogSeqs(shard), (std::vector<uint64_t>{3, 4, 5, 6}));
  ExpectIntact(shard, model);
  // The next compaction rebuilds from version 2 with every write; then back to version 5.
  Compact(shard);
  ExpectSnapshotEquals(&seams_, &clock_, shard, model.Live());
  ExpectRollbackToEachWorks(shard, {five[4], five[1]}, model);
}

TEST_F(GcTest, ACrashAtEveryDeleteLeavesTheCollectionIntactAndTheNextRunFinishes) {
  std::set<std::string> kinds;
  size_t steps = 0;
  for (size_t k = 0; k < 30; ++k) {
    SCOPED_TRACE("crash before delete request " + std::to_string(k));
    const ShardId shard{"gc-crash-" + std::to_string(k), 0};
    Model model;
    Build(shard, 3, &model);  // versions at positions 1, 2, 3; entry 4 only in the log
    clock_.Advance(2 * kHour);
    const std::vector<std::string> complete = Complete(shard);
    ASSERT_EQ(complete.size(), 3u);
    size_t calls = 0;
    std::string crashed_at;
    auto r = Gc(shard, 1, false, [&](const std::string& step) -> Status {
      if (calls++ == k) {
        crashed_at = step;
        return Aborted("injected crash at " + step);
      }
      return Status::Ok();
    });
    if (crashed_at.empty()) {
      // No request k: every step has been crashed at.
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      steps = k;
      break;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kAborted) << r.status().ToString();
    kinds.insert(crashed_at.substr(0, crashed_at.find(' ')) +
                 (crashed_at.find("manifest") != std::string::npos ? " manifest" : ""));
    ExpectIntact(shard, model);
    // The lease was given back: the next run takes it and finishes.
    auto again = Gc(shard, 1);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(Complete(shard), (std::vector<std::string>{complete[2]}));
    EXPECT_EQ(Versions(shard).versions.size(), 1u) << "a half-deleted version or the upload is left";
    EXPECT_EQ(LogSeqs(shard), (std::vector<uint64_t>{4}));
    EXPECT_EQ(StoredChunks(shard), ListedChunks(complete[2])) << "chunks only the deleted versions listed are gone";
    ExpectIntact(shard, model);
    Compact(shard);
    ExpectSnapshotEquals(&seams_, &clock_, shard, model.Live());
  }
  // Two versions (a manifest each: their files are chunks), the unfinished upload, one batch of
  // chunks, one log batch.
  EXPECT_EQ(steps, 5u);
  EXPECT_EQ(kinds, (std::set<std::string>{"version manifest", "unfinished", "chunks", "log"}));
}

TEST_F(GcTest, ADryRunDeletesNothingAndReportsWhatARunDeletes) {
  const ShardId shard{"gc-dry", 0};
  Model model;
  Build(shard, 4, &model);
  clock_.Advance(2 * kHour);
  const std::set<std::string> before = AllKeys(shard.collection);
  auto dry = Gc(shard, 2, true);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_TRUE(dry->dry_run);
  EXPECT_EQ(dry->lease_fence, 0);
  EXPECT_EQ(dry->deleted_versions.size(), 2u);
  EXPECT_EQ(dry->deleted_unfinished.size(), 1u);
  EXPECT_GT(dry->log_entries_deleted, 0u);
  EXPECT_GT(dry->chunks_deleted, 0u);
  EXPECT_EQ(AllKeys(shard.collection), before);
  auto real = Gc(shard, 2);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_EQ(real->deleted_versions, dry->deleted_versions);
  EXPECT_EQ(real->deleted_unfinished, dry->deleted_unfinished);
  EXPECT_EQ(real->objects_deleted, dry->objects_deleted);
  EXPECT_EQ(real->log_entries_deleted, dry->log_entries_deleted);
  EXPECT_EQ(real->chunks_deleted, dry->chunks_deleted);
  EXPECT_EQ(before.size() - AllKeys(shard.collection).size(),
            real->objects_deleted + real->chunks_deleted + real->log_entries_deleted);
  const nlohmann::json j = ops::ToJson(*real);
  EXPECT_EQ(j["log_cut"], real->log_cut);
  EXPECT_EQ(j["deleted_versions"].size(), 2u);
  ExpectIntact(shard, model);
}

TEST_F(GcTest, AHeldLeaseFailsTheRunWithNothingDeleted) {
  const ShardId shard{"gc-leased", 0};
  Model model;
  Build(shard, 3, &model);
  clock_.Advance(2 * kHour);
  LeaseTable leases(seams_.kv.get(), &clock_);
  auto held = leases.Acquire(shard, "compactor-busy");
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  const std::set<std::string> before = AllKeys(shard.collection);
  auto r = Gc(shard, 1);
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed) << r.status().ToString();
  EXPECT_EQ(AllKeys(shard.collection), before);
  auto state = leases.Read(shard);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->owner, "compactor-busy");
  ASSERT_TRUE(leases.Release(*held).ok());
  auto after = Gc(shard, 1);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->deleted_versions.size(), 2u);
  EXPECT_GT(after->lease_fence, held->fence);
  auto released = leases.Read(shard);
  ASSERT_TRUE(released.ok() && released->has_value());
  EXPECT_FALSE((*released)->HeldAt(clock_.NowMs())) << "gc kept the lease";
  ExpectIntact(shard, model);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
