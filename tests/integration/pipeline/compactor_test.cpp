// The compaction cycle against moto_server with signature checking on: producers append to the
// shard's log (sequence number + create-only PUT + trigger), a Compactor applies the log in order,
// and every check opens the published snapshot read-only with the Store and compares each record
// with the model (Chroma's semantics in acknowledged order). Covers: the manifest's log position and
// parent, base reuse, the lease renewed during a merge longer than its TTL, acknowledged order
// winning whatever the deltas' ULIDs say, a lost pointer CAS, and snapshot fetch verification.
// Holes, bad deltas, budget: compactor_log_test. Crashes: compactor_crash_test. Triggers:
// triggers_test. Chroma semantics: compactor_semantics_test. Seam faults: compactor_faults_test.
// Skipped entries reported to a dead-letter queue: compactor_dead_letters_test.
#include "chromapact/pipeline/compactor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/snapshot.h"
#include "integration/pipeline/compactor_helpers.h"

namespace chromapact::pipeline::fixture {
namespace {

using codec::DeltaOp;

class CompactorTest : public CompactorTestBase {};

// An ObjectStore whose log entry reads each take `per_read_ms` of the (manual) clock: a slow merge,
// which moto cannot be made to cause. After each read another compactor tries to take the lease.
class SlowDeltaReads final : public ForwardingObjectStore {
 public:
  SlowDeltaReads(ObjectStore* base, ManualClock* clock, int64_t per_read_ms, LeaseTable* intruder, ShardId shard)
      : ForwardingObjectStore(base), clock_(clock), per_read_ms_(per_read_ms), intruder_(intruder),
        shard_(std::move(shard)) {}
  Result<std::string> Get(const std::string& k, ObjectMeta* meta) override {
    if (k.rfind("deltas/", 0) == 0) {
      clock_->Advance(per_read_ms_);
      ++reads;
      if (intruder_->Acquire(shard_, "intruder-" + std::to_string(reads)).ok()) ++taken_over;
    }
    return base_->Get(k, meta);
  }
  int reads = 0;
  int taken_over = 0;

 private:
  ManualClock* clock_;
  int64_t per_read_ms_;
  LeaseTable* intruder_;
  ShardId shard_;
};

// Four deltas whose reads take half the lease TTL each: the merge lasts twice the TTL. Only a lease
// renewed between deltas keeps another compactor from taking the shard over mid-merge (which would
// then make this cycle's next heartbeat fail and the cycle abort).
TEST_F(CompactorTest, LeaseIsRenewedDuringAMergeLongerThanItsTtl) {
  const ShardId shard{"slowmerge", 0};
  auto queue = NewQueue("slowmerge");
  Model model;
  for (int i = 0; i < 4; ++i) Write(queue.get(), shard, {DeltaOp::kUpsert, {"r" + std::to_string(i), "s"}, i + 1}, &model);
  LeaseTable intruder(kv(), &clock_, LeaseOptions{kTtl});
  SlowDeltaReads slow(objects(), &clock_, kTtl / 2, &intruder, shard);
  Compactor compactor(kv(), &slow, queue.get(), &clock_, Opts("slowmerge"));
  CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(slow.reads, 4);
  EXPECT_EQ(slow.taken_over, 0) << "the lease expired during the merge";
  EXPECT_EQ(r.applied, 4u);
  EXPECT_EQ(r.new_version, 1);
  EXPECT_EQ(r.log_position, 4u);
  EXPECT_EQ(r.deleted_message_ids.size(), 4u);
  ExpectSnapshot(shard, model);
}

TEST_F(CompactorTest, CommitsTheLogInOrderReusesTheBaseAndRecordsThePosition) {
  const ShardId shard{"basic", 0};
  auto queue = NewQueue("basic");
  Model model;
  EXPECT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b", "c", "d"}, 1}, &model), 1u);
  EXPECT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"c", "e"}, 2}, &model), 2u);
  EXPECT_EQ(Write(queue.get(), shard, {DeltaOp::kDelete, {"b", "zz"}}, &model), 3u);

  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("basic"));
  CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 1);
  EXPECT_EQ(r.base_position, 0u);
  EXPECT_EQ(r.log_position, 3u);
  EXPECT_EQ(r.applied, 3u);
  EXPECT_EQ(r.records, 4u + 2u + 2u);
  EXPECT_EQ(r.voided, 0u);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_FALSE(r.rearmed);
  EXPECT_EQ(r.deleted_message_ids.size(), 3u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_TRUE(r.BatchItemFailures().empty());
  EXPECT_GT(r.bytes_uploaded, 0u);
  EXPECT_GT(r.bytes_deltas, 0u);
  EXPECT_EQ(r.bytes_downloaded, 0u);  // no base yet
  EXPECT_EQ(r.fence, 1);
  EXPECT_EQ(r.commit_attempts, 1);
  codec::Manifest m1;
  ExpectSnapshot(shard, model, &m1);
  EXPECT_EQ(m1.log_position, 3u);
  EXPECT_TRUE(m1.skipped.empty());
  EXPECT_EQ(m1.dimension, kDim);
  EXPECT_FALSE(m1.parent_version.has_value());
  EXPECT_EQ(r.manifest_key, ReadPointer(shard)->manifest_key);
  EXPECT_TRUE(ReceiveAll(queue.get()).empty());

  // Nothing new: no version, the position stays.
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 0);
  EXPECT_EQ(r.log_position, 3u);
  EXPECT_EQ(r.applied, 0u);
  EXPECT_FALSE(r.rearmed);

  // Second version, same compactor: the pointer still names its local base, nothing is downloaded.
  EXPECT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "f"}, 3}, &model), 4u);
  r = CycleWithTriggers(&compactor, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 2);
  EXPECT_EQ(r.base_position, 3u);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.bytes_downloaded, 0u);
  codec::Manifest m2;
  ExpectSnapshot(shard, model, &m2);
  EXPECT_EQ(m2.parent_version, std::optional<uint64_t>(1));
  EXPECT_EQ(m2.log_position, 4u);

  // A fresh compactor (another sandbox) downloads the base and continues from its position.
  Write(queue.get(), shard, {DeltaOp::kDelete, {"a"}}, &model);
  Compactor fresh(kv(), objects(), queue.get(), &clock_, Opts("basic2"));
  r = CycleWithTriggers(&fresh, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 3);
  EXPECT_EQ(r.base_position, 4u);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_GT(r.bytes_downloaded, 0u);
  ExpectSnapshot(shard, model);
}

// The ULID era applied "last writer by delta ULID": an earlier-acknowledged write could lose to a
// later one. The log's order is the acknowledgement order, whatever the ULIDs say: here the entry
// at seq 2 carries a ULID from 2024 (older than entry 1's), and it still wins, and entry 3 (a fresh
// ULID again) wins over it.
TEST_F(CompactorTest, AcknowledgedOrderWinsWhateverTheDeltaIdsSay) {
  const ShardId shard{"logorder", 0};
  auto queue = NewQueue("logorder");
  Model model;
  ASSERT_EQ(Write(queue.get(), shard, {DeltaOp::kUpsert, {"x", "y"}, 1}, &model), 1u);
  // A producer that took seq 2: its delta's ULID (EncodeOp's fixed 2024 id) is older than entry 1's.
  auto seq = NextSequence(kv(), shard);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  ASSERT_EQ(*seq, 2u);
  const Op older_id{DeltaOp::kUpsert, {"x", "w"}, 2};
  ASSERT_TRUE(PutEntry(shard, 2, EncodeOp(shard, older_id)).ok());
  Landed(&model, older_id, 2);
  ASSERT_EQ(Write(queue.get(), shard, Cols({DeltaOp::kUpdate, {"y", "w"}, 3}, false, true, false), &model), 3u);

  Compactor compactor(kv(), objects(), queue.get(), &clock_, Opts("logorder"));
  CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 3u);
  const auto live = model.Live();
  ASSERT_EQ(live.count("x"), 1u);
  EXPECT_EQ(live.at("x").embedding, EmbeddingFor("x", 2));  // the model's own statement of the rule
  EXPECT_EQ(live.at("w").document, DocumentFor("w", 3));
  ExpectSnapshot(shard, model);

  // The same again across cycles: the older-ULID entry alone in a cycle after a newer one.
  ASSERT_TRUE(NextSequence(kv(), shard).ok());
  const Op again{DeltaOp::kUpsert, {"y"}, 4};
  ASSERT_TRUE(PutEntry(shard, 4, EncodeOp(shard, again)).ok());
  Landed(&model, again, 4);
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.log_position, 4u);
  EXPECT_EQ(r.applied, 1u);
  ExpectSnapshot(shard, model);
}

TEST_F(CompactorTest, LostCasRebuildsOnTheNewBaseOrGivesTheTriggersBack) {
  const ShardId shard{"lostcas", 0};
  auto queue = NewQueue("lostcas");
  Model model;
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
  {
    Compactor first(kv(), objects(), queue.get(), &clock_, Opts("lostcas0"));
    ASSERT_TRUE(CycleWithTriggers(&first, queue.get(), shard).status.ok());
  }
  Write(queue.get(), shard, {DeltaOp::kUpsert, {"b", "c"}, 2}, &model);
  // Another writer commits between this cycle's pointer read and its CAS (here: the pointer moved
  // to v2 naming v1's files, as a compactor that stalled past its lease might).
  PointerTable pointers(kv(), &clock_);
  int interfere = 1;
  auto move_pointer = [&](std::string_view step) -> Status {
    if (step != kCompactStepUploaded || interfere-- <= 0) return Status::Ok();
    auto now = pointers.Read(shard);
    if (!now.ok() || !now->has_value()) return Internal("no pointer");
    return pointers.CompareAndSwap(shard, (*now)->version, (*now)->manifest_key, 0).status();
  };
  CompactorOptions opts = Opts("lostcas1");
  opts.step_hook = move_pointer;
  Compactor compactor(kv(), objects(), queue.get(), &clock_, opts);
  CycleResult r = CycleWithTriggers(&compactor, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.commit_attempts, 2);
  EXPECT_EQ(r.new_version, 3);
  EXPECT_EQ(r.base_position, 1u);  // v2 names v1's files: position 1
  EXPECT_EQ(r.log_position, 2u);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.deleted_message_ids.size(), 1u);
  ExpectSnapshot(shard, model);

  // With one attempt only, a lost CAS fails the cycle: the pointer is the other writer's, and the
  // trigger is a failure (it comes back), not deleted.
  Write(queue.get(), shard, {DeltaOp::kDelete, {"a"}}, &model);
  interfere = 1;
  opts.max_commit_attempts = 1;
  opts.work_dir = testing::MakeTempDir("compactor-lostcas2");
  Compactor once(kv(), objects(), queue.get(), &clock_, opts);
  auto triggers = ReceiveAll(queue.get());
  ASSERT_EQ(triggers.size(), 1u);
  r = once.RunCycle(shard, triggers);
  EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.ToString();
  EXPECT_TRUE(r.deleted_message_ids.empty());
  EXPECT_EQ(r.BatchItemFailures(), std::vector<std::string>{triggers[0].message_id});
  auto ptr = ReadPointer(shard);
  ASSERT_TRUE(ptr.has_value());
  EXPECT_EQ(ptr->version, 4);  // the interfering writer's
  // The trigger comes back (here: made visible at once, as its visibility timeout would).
  ASSERT_TRUE(queue->ChangeVisibility({triggers[0].receipt_handle}, 0).ok());
  r = CycleWithTriggers(&once, queue.get(), shard);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 5);
  EXPECT_EQ(r.log_position, 3u);
  EXPECT_EQ(r.deleted_message_ids.size(), 1u);
  ExpectSnapshot(shard, model);
  EXPECT_TRUE(ReceiveAll(queue.get()).empty());
}

void WriteTextFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST_F(CompactorTest, SnapshotFetchVerifiesAndDownloadsOnlyChangedFiles) {
  const ShardId shard{"snapfetch", 0};
  PublishOptions whole;
  whole.chunk_bytes = 0;  // every file stored whole beside the manifest
  std::string src = testing::MakeTempDir("snap-src");
  WriteTextFile(src + "/chroma.sqlite3", std::string(5000, 'q'));
  WriteTextFile(src + "/seg/data_level0.bin", std::string(3000, 'd'));
  WriteTextFile(src + "/seg/header.bin", "header");
  codec::Manifest m1;
  m1.version = 1;
  m1.log_position = 7;
  m1.skipped = {{3, "corrupt"}};
  m1.writer_id = "w1";
  auto p1 = PublishSnapshot(objects(), shard, src, &m1, whole);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->files, 3u);
  EXPECT_EQ(p1->manifest_key, "snapshots/snapfetch/0/1-w1/manifest.json");
  // Create-only: publishing the same version and writer again with other content is refused.
  WriteTextFile(src + "/seg/header.bin", "HEADER2");
  codec::Manifest again = m1;
  EXPECT_EQ(PublishSnapshot(objects(), shard, src, &again, whole).status().code(), StatusCode::kAlreadyExists);
  codec::Manifest m2;
  m2.version = 2;
  m2.parent_version = 1;
  m2.log_position = 9;
  m2.writer_id = "w2";
  auto p2 = PublishSnapshot(objects(), shard, src, &m2, whole);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();

  std::string cache = testing::MakeTempDir("snap-cache");
  FetchStats st;
  auto f1 = FetchSnapshot(objects(), p1->manifest_key, cache, &st);
  ASSERT_TRUE(f1.ok()) << f1.status().ToString();
  EXPECT_EQ(f1->log_position, 7u);
  ASSERT_EQ(f1->skipped.size(), 1u);
  EXPECT_EQ(f1->skipped[0].reason, "corrupt");
  EXPECT_EQ(st.files_fetched, 3u);
  EXPECT_EQ(st.files_reused, 0u);
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f1).ok());
  // v2 differs in one file only; a stray local file is removed.
  WriteTextFile(cache + "/stray.tmp", "x");
  auto f2 = FetchSnapshot(objects(), p2->manifest_key, cache, &st);
  ASSERT_TRUE(f2.ok()) << f2.status().ToString();
  EXPECT_EQ(st.files_fetched, 1u);
  EXPECT_EQ(st.files_reused, 2u);
  EXPECT_EQ(st.files_removed, 1u);
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f2).ok());
  EXPECT_FALSE(std::filesystem::exists(cache + "/stray.tmp"));
  // A damaged local copy is repaired.
  WriteTextFile(cache + "/seg/data_level0.bin", std::string(3000, 'X'));
  ASSERT_TRUE(FetchSnapshot(objects(), p2->manifest_key, cache, &st).ok());
  EXPECT_EQ(st.files_fetched, 1u);
  // A stored file that no longer matches its manifest is kCorruption naming it.
  ASSERT_TRUE(objects()->Put("snapshots/snapfetch/0/2-w2/seg/data_level0.bin", std::string(3000, 'Y')).ok());
  auto bad = FetchSnapshot(objects(), p2->manifest_key, testing::MakeTempDir("snap-bad"));
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("seg/data_level0.bin"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
