// The compaction cycle against moto_server with signature checking on: producers write deltas
// (codec writer + create-only PUT + FIFO send), a Compactor commits them, and every check opens the
// published snapshot read-only with the Store and compares each record with a model of the
// acknowledged operations. Covers: a corrupt / wrong-dimension delta going back to the queue while
// its batch-mates commit; redelivery (of an applied delta, and of an older delta after a newer one)
// changing nothing; base reuse; and crashes at every named step of the cycle (and at ambiguous
// seam calls), after which a fresh compactor converges to the model with the queue empty.
#include "chromapact/pipeline/compactor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/fault_injection.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/snapshot.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {
namespace {

constexpr int64_t kTtl = 60000;

class CompactorTest : public PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    objects_ = NewS3ObjectStore(std::make_unique<aws::S3Client>(Config()), kBucket);
    kv_ = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(Config()), kTable);
    sqs_ = std::make_unique<aws::SqsClient>(Config());
  }

  // A fresh FIFO queue for one scenario.
  std::unique_ptr<Queue> NewQueue(const std::string& name) { return NewSqsQueue(sqs_.get(), CreateFifoQueue(name)); }

  CompactorOptions Options(const std::string& tag) { return PipelineMotoTest::Options(tag, kTtl); }

  // As a producer (fixture::Produce) with a fresh ULID unless `delta_id_in` is given; the op is
  // applied to `model` (last writer by ULID) once acknowledged.
  std::string Produce(Queue* queue, const ShardId& shard, const Op& op, Model* model,
                      const std::string& delta_id_in = "") {
    const std::string id = delta_id_in.empty() ? *ulids_.Next() : delta_id_in;
    return fixture::Produce(objects_.get(), queue, shard, op, id, model);
  }

  // Uploads `bytes` as the delta (create-only; an existing object is kept) and announces it.
  void Send(Queue* queue, const ShardId& shard, const std::string& delta_id, const std::string& bytes,
            size_t n) {
    Status put = PutDelta(objects_.get(), shard, delta_id, bytes);
    EXPECT_TRUE(put.ok()) << put.ToString();
    Resend(queue, shard, delta_id, n);
  }
  // Another SQS message for an existing delta (at-least-once delivery, or a producer retry).
  void Resend(Queue* queue, const ShardId& shard, const std::string& delta_id, size_t n) {
    Status sent = SendDeltaMessage(queue, shard, delta_id, n, *ulids_.Next());
    ASSERT_TRUE(sent.ok()) << sent.ToString();
  }

  void ExpectSnapshotEquals(const ShardId& shard, const Model& model, codec::Manifest* out = nullptr) {
    fixture::ExpectSnapshotEquals(objects_.get(), kv_.get(), &clock_, shard, model.Live(), out);
  }

  static std::vector<QueueMessage> ReceiveAll(Queue* queue) { return fixture::ReceiveAll(queue, 10); }

  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<aws::SqsClient> sqs_;
  ManualClock clock_{kT0};
  codec::UlidGenerator ulids_;
};

// An ObjectStore whose delta reads each take `per_read_ms` of the (manual) clock: a slow merge,
// which moto cannot be made to cause.
class SlowDeltaReads final : public ObjectStore {
 public:
  SlowDeltaReads(ObjectStore* base, ManualClock* clock, int64_t per_read_ms)
      : base_(base), clock_(clock), per_read_ms_(per_read_ms) {}
  Result<ObjectMeta> Put(const std::string& k, const std::string& b, const PutObjectOptions& o) override {
    return base_->Put(k, b, o);
  }
  Result<ObjectMeta> PutFile(const std::string& k, const std::string& p, const PutObjectOptions& o) override {
    return base_->PutFile(k, p, o);
  }
  Result<std::string> Get(const std::string& k, ObjectMeta* meta) override {
    if (k.rfind("deltas/", 0) == 0) clock_->Advance(per_read_ms_);
    return base_->Get(k, meta);
  }
  Result<ObjectMeta> GetToFile(const std::string& k, const std::string& p) override { return base_->GetToFile(k, p); }
  Result<ObjectMeta> Head(const std::string& k) override { return base_->Head(k); }
  Result<std::vector<ObjectMeta>> List(const std::string& p) override { return base_->List(p); }
  Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>& k) override { return base_->Delete(k); }

 private:
  ObjectStore* base_;
  ManualClock* clock_;
  int64_t per_read_ms_;
};

// Four deltas whose reads take half the lease TTL each: the merge lasts twice the TTL, so the cycle
// only commits because the lease is renewed between deltas (it used to be renewed only between steps,
// and every such cycle aborted after the merge, for ever).
TEST_F(CompactorTest, LeaseIsRenewedDuringAMergeLongerThanItsTtl) {
  const ShardId shard{"slowmerge", 0};
  auto queue = NewQueue("slowmerge");
  Model model;
  for (int i = 0; i < 4; ++i) {
    Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"r" + std::to_string(i), "s"}, i + 1}, &model);
  }
  auto trigger = ReceiveAll(queue.get());
  ASSERT_EQ(trigger.size(), 4u);
  SlowDeltaReads slow(objects_.get(), &clock_, kTtl / 2);
  Compactor compactor(kv_.get(), &slow, queue.get(), &clock_, Options("slowmerge"));
  CycleResult r = compactor.RunCycle(shard, trigger);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.applied_message_ids.size(), 4u);
  EXPECT_EQ(r.new_version, 1);
  ExpectSnapshotEquals(shard, model);
}

TEST_F(CompactorTest, CommitsDeltasReusesBaseAndSnapshotHoldsEveryRecord) {
  const ShardId shard{"basic", 0};
  auto queue = NewQueue("basic");
  Model model;
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"a", "b", "c", "d"}, 1}, &model);
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"c", "e"}, 2}, &model);
  Produce(queue.get(), shard, {codec::DeltaOp::kDelete, {"b", "zz"}}, &model);
  auto trigger = ReceiveAll(queue.get());
  ASSERT_EQ(trigger.size(), 3u);

  Compactor compactor(kv_.get(), objects_.get(), queue.get(), &clock_, Options("basic"));
  CycleResult r = compactor.RunCycle(shard, trigger);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 1);
  EXPECT_EQ(r.applied_message_ids.size(), 3u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_TRUE(r.BatchItemFailures().empty());
  EXPECT_EQ(r.applied_delta_ids.size(), 3u);
  EXPECT_GT(r.bytes_uploaded, 0u);
  EXPECT_GT(r.bytes_deltas, 0u);
  EXPECT_EQ(r.bytes_downloaded, 0u);  // no base yet
  EXPECT_EQ(r.fence, 1);
  codec::Manifest m1;
  ExpectSnapshotEquals(shard, model, &m1);
  EXPECT_EQ(m1.applied_delta_ids.size(), 3u);
  EXPECT_EQ(m1.dimension, kDim);
  EXPECT_FALSE(m1.parent_version.has_value());
  EXPECT_TRUE(ReceiveAll(queue.get()).empty());

  // Second cycle, same compactor: the pointer still names its local base, nothing is downloaded.
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"a", "f"}, 3}, &model);
  r = compactor.RunCycle(shard, {});  // drains the queue itself
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 2);
  EXPECT_EQ(r.applied_message_ids.size(), 1u);
  EXPECT_EQ(r.bytes_downloaded, 0u);
  codec::Manifest m2;
  ExpectSnapshotEquals(shard, model, &m2);
  EXPECT_EQ(m2.parent_version, std::optional<uint64_t>(1));
  EXPECT_EQ(m2.applied_delta_ids.size(), 4u);

  // A fresh compactor (another sandbox) downloads the base.
  Produce(queue.get(), shard, {codec::DeltaOp::kDelete, {"a"}}, &model);
  Compactor fresh(kv_.get(), objects_.get(), queue.get(), &clock_, Options("basic2"));
  r = fresh.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 3);
  EXPECT_GT(r.bytes_downloaded, 0u);
  ExpectSnapshotEquals(shard, model);
}

TEST_F(CompactorTest, CorruptAndWrongDimensionDeltasGoBackWhileBatchMatesCommit) {
  const ShardId shard{"corrupt", 0};
  auto queue = NewQueue("corrupt");
  Model model;
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
  // A delta whose bytes are damaged after the header (one flipped byte in the payload).
  {
    codec::Delta d;
    d.meta = {codec::DeltaOp::kUpsert, shard.collection, 0, kDim, "", *ulids_.Next(), kT0};
    d.records.ids = {"bad"};
    d.records.embeddings = EmbeddingFor("bad", 9);
    auto bytes = codec::EncodeDelta(d);
    ASSERT_TRUE(bytes.ok());
    (*bytes)[bytes->size() - 12] ^= 0x5a;
    Send(queue.get(), shard, d.meta.delta_id, *bytes, 1);
  }
  // A valid delta of another dimension.
  {
    codec::Delta d;
    d.meta = {codec::DeltaOp::kUpsert, shard.collection, 0, kDim + 1, "", *ulids_.Next(), kT0};
    d.records.ids = {"wide"};
    d.records.embeddings.assign(kDim + 1, 0.5f);
    auto bytes = codec::EncodeDelta(d);
    ASSERT_TRUE(bytes.ok());
    Send(queue.get(), shard, d.meta.delta_id, *bytes, 1);
  }
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"c"}, 2}, &model);
  auto trigger = ReceiveAll(queue.get());
  ASSERT_EQ(trigger.size(), 4u);

  Compactor compactor(kv_.get(), objects_.get(), queue.get(), &clock_, Options("corrupt"));
  CycleResult r = compactor.RunCycle(shard, trigger);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 1);
  std::vector<std::string> expect_failed = {trigger[1].message_id, trigger[2].message_id};
  EXPECT_EQ(r.BatchItemFailures(), expect_failed);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0].status.code(), StatusCode::kCorruption) << r.failures[0].status.ToString();
  EXPECT_EQ(r.failures[1].status.code(), StatusCode::kInvalidArgument) << r.failures[1].status.ToString();
  EXPECT_NE(r.failures[1].status.message().find("dimension"), std::string::npos)
      << r.failures[1].status.message();
  std::vector<std::string> expect_applied = {trigger[0].message_id, trigger[3].message_id};
  EXPECT_EQ(r.applied_message_ids, expect_applied);
  ExpectSnapshotEquals(shard, model);

  // The two failures are still on the queue (in flight): made visible they come back, count 2.
  ASSERT_EQ(r.in_flight_receipts.size(), 2u);
  ASSERT_TRUE(queue->ChangeVisibility(r.in_flight_receipts, 0).ok());
  auto again = ReceiveAll(queue.get());
  ASSERT_EQ(again.size(), 2u);
  for (const auto& m : again) EXPECT_EQ(m.receive_count, 2);
  std::set<std::string> ids = {again[0].message_id, again[1].message_id};
  EXPECT_EQ(ids, std::set<std::string>(expect_failed.begin(), expect_failed.end()));
}

TEST_F(CompactorTest, RedeliveryChangesNothingInAnyOrder) {
  const ShardId shard{"redeliver", 0};
  auto queue = NewQueue("redeliver");
  Model model;
  std::string d1 = Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"x", "y"}, 1}, &model);
  std::string d2 = Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"x"}, 2}, &model);
  std::string d3 = Produce(queue.get(), shard, {codec::DeltaOp::kDelete, {"y"}}, &model);
  Compactor compactor(kv_.get(), objects_.get(), queue.get(), &clock_, Options("redeliver"));
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.new_version, 1);
  ExpectSnapshotEquals(shard, model);

  // The first two again (at-least-once): contained in the base, deleted, no new version.
  Resend(queue.get(), shard, d1, 2);
  Resend(queue.get(), shard, d3, 1);
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 0);
  EXPECT_EQ(r.applied_message_ids.size(), 2u);
  EXPECT_TRUE(ReceiveAll(queue.get()).empty());
  ExpectSnapshotEquals(shard, model);

  // Redelivered together with a new delta, and twice within one batch.
  Resend(queue.get(), shard, d1, 2);
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"z"}, 3}, &model);
  Resend(queue.get(), shard, d1, 2);
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 2);
  EXPECT_EQ(r.applied_message_ids.size(), 3u);
  EXPECT_EQ(r.applied_delta_ids.size(), 1u);
  ExpectSnapshotEquals(shard, model);

  // An older delta (smaller ULID) first delivered after a newer one wrote the same ids: last writer
  // by ULID wins, so it changes nothing for them (it was never applied, so only the per-id
  // versions can tell).
  std::string older = *ulids_.Next();
  Model newer_model = model;
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"x", "w"}, 5}, &newer_model);
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  Model late = newer_model;
  // The model keeps x at the newer delta and takes v (the only id no newer delta wrote).
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"x", "v"}, 4}, &late, older);
  r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.applied_delta_ids, std::vector<std::string>{older});
  ExpectSnapshotEquals(shard, late);
  (void)d2;
}

TEST_F(CompactorTest, LostCasRebuildsOnTheNewBaseOrGivesTheMessagesBack) {
  const ShardId shard{"lostcas", 0};
  auto queue = NewQueue("lostcas");
  Model model;
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"a", "b"}, 1}, &model);
  {
    Compactor first(kv_.get(), objects_.get(), queue.get(), &clock_, Options("lostcas0"));
    ASSERT_TRUE(first.RunCycle(shard, {}).status.ok());
  }
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"b", "c"}, 2}, &model);
  // Another writer commits between this cycle's pointer read and its CAS (here: the pointer moved
  // to v2 naming v1's files, as a compactor that stalled past its lease might).
  PointerTable pointers(kv_.get(), &clock_);
  int interfere = 1;
  auto move_pointer = [&](std::string_view step) -> Status {
    if (step != kCompactStepUploaded || interfere-- <= 0) return Status::Ok();
    auto now = pointers.Read(shard);
    if (!now.ok() || !now->has_value()) return Internal("no pointer");
    return pointers.CompareAndSwap(shard, (*now)->version, (*now)->manifest_key, 0).status();
  };
  CompactorOptions opts = Options("lostcas1");
  opts.step_hook = move_pointer;
  Compactor compactor(kv_.get(), objects_.get(), queue.get(), &clock_, opts);
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.commit_attempts, 2);
  EXPECT_EQ(r.new_version, 3);
  EXPECT_EQ(r.applied_message_ids.size(), 1u);
  ExpectSnapshotEquals(shard, model);

  // With one attempt only, a lost CAS gives the messages back at once (visibility 0).
  Produce(queue.get(), shard, {codec::DeltaOp::kDelete, {"a"}}, &model);
  interfere = 1;
  opts.max_commit_attempts = 1;
  opts.work_dir = testing::MakeTempDir("compactor-lostcas2");
  Compactor once(kv_.get(), objects_.get(), queue.get(), &clock_, opts);
  r = once.RunCycle(shard, {});
  EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.ToString();
  EXPECT_TRUE(r.in_flight_receipts.empty());
  EXPECT_TRUE(r.applied_message_ids.empty());
  auto back = ReceiveAll(queue.get());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].receive_count, 2);
  ASSERT_TRUE(queue->ChangeVisibility({back[0].receipt_handle}, 0).ok());
  r = once.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.new_version, 5);
  ExpectSnapshotEquals(shard, model);
}

void WriteTextFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST_F(CompactorTest, SnapshotFetchVerifiesAndDownloadsOnlyChangedFiles) {
  const ShardId shard{"snapfetch", 0};
  std::string src = testing::MakeTempDir("snap-src");
  WriteTextFile(src + "/chroma.sqlite3", std::string(5000, 'q'));
  WriteTextFile(src + "/seg/data_level0.bin", std::string(3000, 'd'));
  WriteTextFile(src + "/seg/header.bin", "header");
  codec::Manifest m1;
  m1.version = 1;
  m1.writer_id = "w1";
  auto p1 = PublishSnapshot(objects_.get(), shard, src, &m1);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->files, 3u);
  EXPECT_EQ(p1->manifest_key, "snapshots/snapfetch/0/1-w1/manifest.json");
  // Create-only: publishing the same version and writer again with other content is refused.
  WriteTextFile(src + "/seg/header.bin", "HEADER2");
  codec::Manifest again = m1;
  EXPECT_EQ(PublishSnapshot(objects_.get(), shard, src, &again).status().code(), StatusCode::kAlreadyExists);
  codec::Manifest m2;
  m2.version = 2;
  m2.parent_version = 1;
  m2.writer_id = "w2";
  auto p2 = PublishSnapshot(objects_.get(), shard, src, &m2);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();

  std::string cache = testing::MakeTempDir("snap-cache");
  FetchStats st;
  auto f1 = FetchSnapshot(objects_.get(), p1->manifest_key, cache, &st);
  ASSERT_TRUE(f1.ok()) << f1.status().ToString();
  EXPECT_EQ(st.files_fetched, 3u);
  EXPECT_EQ(st.files_reused, 0u);
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f1).ok());
  // v2 differs in one file only; a stray local file is removed.
  WriteTextFile(cache + "/stray.tmp", "x");
  auto f2 = FetchSnapshot(objects_.get(), p2->manifest_key, cache, &st);
  ASSERT_TRUE(f2.ok()) << f2.status().ToString();
  EXPECT_EQ(st.files_fetched, 1u);
  EXPECT_EQ(st.files_reused, 2u);
  EXPECT_EQ(st.files_removed, 1u);
  EXPECT_TRUE(codec::VerifyDirectory(cache, *f2).ok());
  EXPECT_FALSE(std::filesystem::exists(cache + "/stray.tmp"));
  // A damaged local copy is repaired.
  WriteTextFile(cache + "/seg/data_level0.bin", std::string(3000, 'X'));
  ASSERT_TRUE(FetchSnapshot(objects_.get(), p2->manifest_key, cache, &st).ok());
  EXPECT_EQ(st.files_fetched, 1u);
  // A stored file that no longer matches its manifest is kCorruption naming it.
  ASSERT_TRUE(objects_->Put("snapshots/snapfetch/0/2-w2/seg/data_level0.bin", std::string(3000, 'Y')).ok());
  auto bad = FetchSnapshot(objects_.get(), p2->manifest_key, testing::MakeTempDir("snap-bad"));
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("seg/data_level0.bin"), std::string::npos) << bad.status().message();
}

TEST_F(CompactorTest, AppliedIdsAndRecordVersionsOlderThanRetentionArePruned) {
  const ShardId shard{"retention", 0};
  auto queue = NewQueue("retention");
  const int64_t day = 24LL * 3600 * 1000;
  clock_.Set(kT0);
  Model model;
  std::string d1 = *ulids_.NextAt(kT0);
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"old", "both"}, 1}, &model, d1);
  CompactorOptions opts = Options("retention");
  opts.retention_ms = 5 * day;
  Compactor compactor(kv_.get(), objects_.get(), queue.get(), &clock_, opts);
  ASSERT_TRUE(compactor.RunCycle(shard, {}).status.ok());
  clock_.Advance(10 * day);
  std::string d2 = *ulids_.NextAt(kT0 + 10 * day);
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"both", "new"}, 2}, &model, d2);
  CycleResult r = compactor.RunCycle(shard, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  codec::Manifest m;
  ExpectSnapshotEquals(shard, model, &m);  // the records themselves are kept
  EXPECT_EQ(m.applied_delta_ids, std::vector<std::string>{d2});
  std::string dir = testing::MakeTempDir("retention-check");
  ASSERT_TRUE(FetchSnapshot(objects_.get(), r.manifest_key, dir).ok());
  std::ifstream in(dir + "/" + kRecordVersionsFileName);
  nlohmann::json versions = nlohmann::json::parse(in, nullptr, false);
  EXPECT_EQ(versions["versions"], (nlohmann::json{{"both", d2}, {"new", d2}})) << versions.dump();
}

// One crash point: where to stop the first compactor.
struct CrashPoint {
  std::string name;
  std::string hook_step;  // a kCompactStep*, or "" for a seam fault
  std::string fault_step;
  std::string fault_key_prefix;
  FaultWhen when = FaultWhen::kBefore;
};

TEST_F(CompactorTest, CrashAtEveryStepThenAFreshCompactorConvergesToTheModel) {
  const std::vector<CrashPoint> points = {
      {"after-drain", kCompactStepDrained, "", "", FaultWhen::kBefore},
      {"after-merge", kCompactStepMerged, "", "", FaultWhen::kBefore},
      {"mid-upload", kCompactStepMidUpload, "", "", FaultWhen::kBefore},
      {"after-upload", kCompactStepUploaded, "", "", FaultWhen::kBefore},
      {"after-cas", kCompactStepCommitted, "", "", FaultWhen::kBefore},
      {"mid-delete", kCompactStepMidDelete, "", "", FaultWhen::kBefore},
      {"before-release", kCompactStepBeforeRelease, "", "", FaultWhen::kBefore},
      // The CAS landed but its answer was lost and the re-read fails too: the compactor gives up.
      {"cas-answer-lost", "", kStepKvUpdate, "PTR#", FaultWhen::kAfter},
      {"upload-answer-lost", "", kStepS3Put, "snapshots/", FaultWhen::kAfter},
      {"delete-failed", "", kStepSqsDelete, "", FaultWhen::kBefore},
  };
  for (size_t i = 0; i < points.size(); ++i) {
    const CrashPoint& p = points[i];
    SCOPED_TRACE(p.name);
    const ShardId shard{"crash-" + std::to_string(i), 1};
    auto queue = NewQueue("crash-" + std::to_string(i));
    Model model;
    // v1 exists before the crash, so the crashed cycle has a base to CAS against.
    Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"a", "b", "c"}, 1}, &model);
    {
      Compactor first(kv_.get(), objects_.get(), queue.get(), &clock_, Options("pre" + std::to_string(i)));
      CycleResult r = first.RunCycle(shard, {});
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    }
    Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"b", "d"}, 2}, &model);
    Produce(queue.get(), shard, {codec::DeltaOp::kDelete, {"a"}}, &model);
    Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"e", "c"}, 3}, &model);

    FaultInjector faults;
    auto faulty_kv = NewFaultyKvStore(kv_.get(), &faults);
    auto faulty_objects = NewFaultyObjectStore(objects_.get(), &faults);
    auto faulty_queue = NewFaultyQueue(queue.get(), &faults);
    CompactorOptions opts = Options("crash" + std::to_string(i));
    if (!p.hook_step.empty()) {
      opts.step_hook = [&](std::string_view step) -> Status {
        return step == p.hook_step ? Aborted("crash at " + std::string(step)) : Status::Ok();
      };
    } else if (p.fault_step == kStepKvUpdate) {
      // Lose the CAS answer, and the re-read after it (kv.get on the pointer, after the CAS).
      faults.CrashAt(p.fault_step, p.fault_key_prefix, p.when);
      faults.Add({kStepKvGet, "PTR#", FaultWhen::kBefore, 2, 1, std::nullopt});
    } else if (p.fault_step == kStepS3Put) {
      // Every snapshot upload lands but its answer is lost.
      faults.Add({kStepS3Put, "snapshots/" + shard.collection + "/", p.when, 1, -1, std::nullopt});
    } else {
      faults.CrashAt(p.fault_step, p.fault_key_prefix, p.when);
    }
    CycleResult crashed;
    {
      Compactor victim(faulty_kv.get(), faulty_objects.get(), faulty_queue.get(), &clock_, opts);
      crashed = victim.RunCycle(shard, {});
    }
    EXPECT_FALSE(crashed.status.ok()) << "the crash point was not reached";
    // The crashed compactor's messages reappear once their visibility times out; its lease expires.
    if (!crashed.in_flight_receipts.empty()) {
      ASSERT_TRUE(queue->ChangeVisibility(crashed.in_flight_receipts, 0).ok());
    }
    clock_.Advance(kTtl + 1);
    // Another write acknowledged after the crash.
    Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"f", "d"}, 4}, &model);

    Compactor fresh(kv_.get(), objects_.get(), queue.get(), &clock_, Options("fresh" + std::to_string(i)));
    for (int round = 0; round < 4; ++round) {
      CycleResult r = fresh.RunCycle(shard, {});
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
      EXPECT_TRUE(r.failures.empty());
      if (r.applied_message_ids.empty()) break;
    }
    EXPECT_TRUE(ReceiveAll(queue.get()).empty()) << "messages left on the queue";
    codec::Manifest final_manifest;
    ExpectSnapshotEquals(shard, model, &final_manifest);
    EXPECT_EQ(final_manifest.applied_delta_ids.size(), 5u);
  }
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
