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
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::pipeline {
namespace {

using testing::MotoServer;

constexpr const char* kBucket = "cp-compactor";
constexpr const char* kTable = "cp-compactor-leases";
constexpr int64_t kT0 = 1764000000000;
constexpr int64_t kTtl = 60000;
constexpr uint32_t kDim = 4;

struct ModelRecord {
  std::vector<float> embedding;
  std::optional<std::string> document;
  nlohmann::json metadata = nlohmann::json::object();
};
using Model = std::map<std::string, ModelRecord>;

// One write as a test builds it (ids with embeddings from a seed, or deletes).
struct Op {
  codec::DeltaOp op;
  std::vector<std::string> ids;
  int seed = 0;
};

std::vector<float> EmbeddingFor(const std::string& id, int seed) {
  std::vector<float> e(kDim);
  for (uint32_t k = 0; k < kDim; ++k)
    e[k] = static_cast<float>(id.size() * 7 + id.back() + seed * 13 + k) / 10.0f;
  return e;
}

class CompactorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    ASSERT_TRUE(moto_->EnableAuth().ok());
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = *admin;
    aws::S3Client s3(moto_->Config(*admin_));
    ASSERT_TRUE(s3.CreateBucket(kBucket).ok());
    aws::DynamoDbClient ddb(moto_->Config(*admin_));
    aws::CreateTableRequest req;
    req.table = kTable;
    req.partition_key = kPartitionKey;
    ASSERT_TRUE(ddb.CreateTable(req).ok());
  }
  static void TearDownTestSuite() {
    admin_.reset();
    moto_.reset();
  }

  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    objects_ = NewS3ObjectStore(std::make_unique<aws::S3Client>(moto_->Config(*admin_)), kBucket);
    kv_ = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(moto_->Config(*admin_)), kTable);
    sqs_ = std::make_unique<aws::SqsClient>(moto_->Config(*admin_));
  }

  // A fresh FIFO queue for one scenario.
  std::unique_ptr<Queue> NewQueue(const std::string& name) {
    auto url = sqs_->CreateQueue(name + ".fifo", {{"FifoQueue", "true"}});
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return NewSqsQueue(sqs_.get(), url.ok() ? *url : "");
  }

  CompactorOptions Options(const std::string& tag) {
    CompactorOptions o;
    o.work_dir = testing::MakeTempDir("compactor-" + tag);
    o.writer_id = "c-" + tag;
    o.lease.ttl_ms = kTtl;
    o.visibility_seconds = 120;
    o.drain_budget_ms = 5000;
    return o;
  }

  // As a producer: encode, PUT create-only, send; applies the op to `model` (acknowledged).
  std::string Produce(Queue* queue, const ShardId& shard, const Op& op, Model* model,
                      const std::string& delta_id_in = "") {
    codec::Delta d;
    d.meta.op = op.op;
    d.meta.collection = shard.collection;
    d.meta.shard = static_cast<uint32_t>(shard.shard);
    d.meta.delta_id = delta_id_in.empty() ? *ulids_.Next() : delta_id_in;
    d.meta.created_at_ms = kT0;
    d.records.ids = op.ids;
    if (op.op != codec::DeltaOp::kDelete) {
      d.meta.dimension = kDim;
      for (const auto& id : op.ids) {
        auto e = EmbeddingFor(id, op.seed);
        d.records.embeddings.insert(d.records.embeddings.end(), e.begin(), e.end());
        d.records.documents.push_back("doc " + id + " v" + std::to_string(op.seed));
        d.records.metadatas.push_back({{"seed", op.seed}, {"id", id}});
      }
    }
    auto bytes = codec::EncodeDelta(d);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    Send(queue, shard, d.meta.delta_id, *bytes, op.ids.size());
    if (model) ApplyToModel(op, model);
    return d.meta.delta_id;
  }

  void Send(Queue* queue, const ShardId& shard, const std::string& delta_id, const std::string& bytes,
            size_t n) {
    const std::string key = DeltaKey(shard, delta_id);
    PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    auto put = objects_->Put(key, bytes, create_only);
    EXPECT_TRUE(put.ok() || put.status().code() == StatusCode::kPreconditionFailed)
        << put.status().ToString();
    Resend(queue, shard, delta_id, n);
  }
  // Another SQS message for an existing delta (at-least-once delivery, or a producer retry).
  void Resend(Queue* queue, const ShardId& shard, const std::string& delta_id, size_t n) {
    DeltaMessage m{DeltaKey(shard, delta_id), shard, delta_id, n};
    auto sent = queue->Send({EncodeDeltaMessage(m), shard.ToString(), *ulids_.Next()});
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  }

  static void ApplyToModel(const Op& op, Model* model) {
    for (const auto& id : op.ids) {
      if (op.op == codec::DeltaOp::kDelete) {
        model->erase(id);
        continue;
      }
      ModelRecord& r = (*model)[id];
      r.embedding = EmbeddingFor(id, op.seed);
      r.document = "doc " + id + " v" + std::to_string(op.seed);
      r.metadata = {{"seed", op.seed}, {"id", id}};
    }
  }

  // The version the pointer names, fetched and opened read-only; every record compared to `model`.
  void ExpectSnapshotEquals(const ShardId& shard, const Model& model, codec::Manifest* out = nullptr) {
    PointerTable pointers(kv_.get(), &clock_);
    auto ptr = pointers.Read(shard);
    ASSERT_TRUE(ptr.ok()) << ptr.status().ToString();
    ASSERT_TRUE(ptr->has_value()) << "no pointer for " << shard.ToString();
    std::string dir = testing::MakeTempDir("snapshot-check");
    auto manifest = FetchSnapshot(objects_.get(), (*ptr)->manifest_key, dir);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(manifest->version), (*ptr)->version);
    EXPECT_EQ(manifest->record_count, model.size());
    ASSERT_TRUE(codec::VerifyDirectory(dir, *manifest).ok());
    store::OpenOptions ro;
    ro.read_only = true;
    ro.immutable = true;
    ro.create_if_missing = false;
    auto st = store::Store::Open(dir, ro);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store::GetRequest req;
    req.include = store::kIncludeEmbeddings | store::kIncludeDocuments | store::kIncludeMetadatas;
    auto got = (*st)->Get(shard.collection, req);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->ids.size(), model.size());
    for (size_t i = 0; i < got->ids.size(); ++i) {
      auto it = model.find(got->ids[i]);
      ASSERT_NE(it, model.end()) << "unexpected record " << got->ids[i];
      EXPECT_EQ((*got->embeddings)[i], it->second.embedding) << got->ids[i];
      EXPECT_EQ((*got->documents)[i], it->second.document) << got->ids[i];
      EXPECT_EQ((*got->metadatas)[i], it->second.metadata) << got->ids[i];
    }
    if (out) *out = *manifest;
  }

  static std::vector<QueueMessage> ReceiveAll(Queue* queue) {
    std::vector<QueueMessage> all;
    for (int i = 0; i < 10; ++i) {
      auto b = queue->Receive(10, 0, 120);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (!b.ok() || b->empty()) break;
      for (auto& m : *b) all.push_back(m);
    }
    return all;
  }

  static std::unique_ptr<MotoServer> moto_;
  static std::optional<aws::Credentials> admin_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<aws::SqsClient> sqs_;
  ManualClock clock_{kT0};
  codec::UlidGenerator ulids_;
};

std::unique_ptr<MotoServer> CompactorTest::moto_;
std::optional<aws::Credentials> CompactorTest::admin_;

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
  Produce(queue.get(), shard, {codec::DeltaOp::kUpsert, {"x", "v"}, 4}, nullptr, older);
  ApplyToModel({codec::DeltaOp::kUpsert, {"v"}, 4}, &late);  // only the id no newer delta wrote
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
}  // namespace chromapact::pipeline
