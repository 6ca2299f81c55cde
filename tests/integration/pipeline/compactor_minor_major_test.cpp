// Minor and major compaction against moto_server (CompactorOptions major_tail_*): a minor cycle
// publishes a version whose HNSW files are its parent's (only chroma.sqlite3's changed chunks are
// uploaded), a major one rewrites them once the tail reaches its record threshold or its age; every
// version, read by the Store as a query instance does, equals the model of the acknowledged writes,
// and a compactor with no local copy rebuilds on a minor version correctly. (Real Chroma opening a
// minor version: compat/store/chroma_open_test.)
#include <gtest/gtest.h>

#include <set>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/snapshot.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class CompactorMinorMajorTest : public CompactorTestBase {
 protected:
  static constexpr int64_t kAgeMs = 3600 * 1000;

  CompactorOptions MinorOpts(const std::string& tag) {
    CompactorOptions o = Opts(tag);
    o.major_tail_records = 5;
    o.major_tail_age_ms = kAgeMs;
    o.chunk_bytes = 4096;
    return o;
  }

  // Writes `op`, runs one cycle, checks the new version against the model; returns it.
  codec::Manifest Step(Compactor* c, Queue* q, const ShardId& shard, const Op& op, Model* model, CycleResult* r) {
    Write(q, shard, op, model);
    *r = CycleWithTriggers(c, q, shard);
    EXPECT_TRUE(r->status.ok()) << r->status.ToString();
    EXPECT_GT(r->new_version, 0);
    codec::Manifest m;
    ExpectSnapshot(shard, *model, &m);
    return m;
  }

  // path -> sha256 of every file but chroma.sqlite3 (the HNSW folder).
  static std::map<std::string, std::string> HnswFiles(const codec::Manifest& m) {
    std::map<std::string, std::string> out;
    for (const auto& f : m.files)
      if (f.path != "chroma.sqlite3") out[f.path] = f.sha256;
    return out;
  }
  static std::set<std::string> Chunks(const codec::Manifest& m, bool sqlite_only) {
    std::set<std::string> out;
    for (const auto& f : m.files)
      if (!sqlite_only || f.path == "chroma.sqlite3") out.insert(f.chunks.begin(), f.chunks.end());
    return out;
  }
};

TEST_F(CompactorMinorMajorTest, MinorCyclesKeepTheHnswBaseUntilTheTailIsLargeOrOld) {
  const ShardId shard{"minormajor", 0};
  auto queue = NewQueue("minormajor");
  Model model;
  Compactor c(kv(), objects(), queue.get(), &clock_, MinorOpts("mm"));
  CycleResult r;

  codec::Manifest v1 = Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"a", "b", "c"}, 1}, &model, &r);
  EXPECT_TRUE(r.major) << "a shard's first version writes its HNSW files";
  EXPECT_EQ(v1.base_log_position, v1.log_position);
  ASSERT_FALSE(HnswFiles(v1).empty());

  // Tail 1, then 3 (a delete and an update count as records too): minor.
  codec::Manifest v2 = Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"d"}, 2}, &model, &r);
  EXPECT_FALSE(r.major);
  EXPECT_EQ(v2.base_log_position, v1.log_position);
  EXPECT_EQ(v2.base_created_at_ms, v1.base_created_at_ms);
  EXPECT_EQ(HnswFiles(v2), HnswFiles(v1));
  // What this cycle uploaded is chunks of chroma.sqlite3 that v1 does not have, and the manifest.
  std::set<std::string> fresh;
  for (const auto& h : Chunks(v2, false))
    if (Chunks(v1, false).count(h) == 0) fresh.insert(h);
  EXPECT_FALSE(fresh.empty());
  for (const auto& h : fresh) EXPECT_EQ(Chunks(v2, true).count(h), 1u) << h;
  EXPECT_EQ(r.objects_uploaded, fresh.size());
  EXPECT_LT(r.bytes_uploaded, r.bytes_snapshot);
  Write(queue.get(), shard, {DeltaOp::kDelete, {"a"}}, &model);
  codec::Manifest v3 = Step(&c, queue.get(), shard, {DeltaOp::kUpdate, {"b"}, 3}, &model, &r);
  EXPECT_FALSE(r.major);
  EXPECT_EQ(HnswFiles(v3), HnswFiles(v1));

  // A compactor with no local copy fetches the minor version (tail replayed) and builds on it.
  {
    Compactor cold(kv(), objects(), queue.get(), &clock_, MinorOpts("mm-cold"));
    codec::Manifest v4 = Step(&cold, queue.get(), shard, {DeltaOp::kUpsert, {"e"}, 4}, &model, &r);
    EXPECT_FALSE(r.major);
    EXPECT_EQ(HnswFiles(v4), HnswFiles(v1));
  }

  // The tail reaches 5 records: major, and the base moves to the version's position.
  codec::Manifest v5 = Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"f", "g"}, 5}, &model, &r);
  EXPECT_TRUE(r.major);
  EXPECT_EQ(v5.base_log_position, v5.log_position);
  EXPECT_NE(HnswFiles(v5), HnswFiles(v1));

  // One record of tail, but the base is older than the age limit: major again.
  codec::Manifest v6 = Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"h"}, 6}, &model, &r);
  EXPECT_FALSE(r.major);
  clock_.Advance(kAgeMs);
  codec::Manifest v7 = Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"i"}, 7}, &model, &r);
  EXPECT_TRUE(r.major);
  EXPECT_EQ(v7.base_log_position, v7.log_position);
  EXPECT_EQ(v7.base_created_at_ms, v7.created_at_ms);
  EXPECT_GE(v7.created_at_ms - v6.base_created_at_ms, kAgeMs);
}

TEST_F(CompactorMinorMajorTest, ThresholdZeroMakesEveryCycleMajor) {
  const ShardId shard{"allmajor", 0};
  auto queue = NewQueue("allmajor");
  Model model;
  CompactorOptions o = MinorOpts("am");
  o.major_tail_records = 0;
  Compactor c(kv(), objects(), queue.get(), &clock_, o);
  CycleResult r;
  Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model, &r);
  codec::Manifest v2 = Step(&c, queue.get(), shard, {DeltaOp::kUpsert, {"c"}, 2}, &model, &r);
  EXPECT_TRUE(r.major);
  EXPECT_EQ(v2.base_log_position, v2.log_position);
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
