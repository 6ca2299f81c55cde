// Shared setup of the pipeline tests (tests/integration/pipeline, tests/fault/pipeline): one
// moto_server per test binary with signature checking on, an IAM admin, a bucket and a lease/pointer
// table; per-thread seams (each SQS / S3 / DynamoDB client belongs to one thread: the seams are not
// thread-safe); a producer helper (codec writer + create-only PUT + FIFO send with the producer's
// group rule); a last-writer-by-ULID model of acknowledged writes; and a check that opens the
// published snapshot read-only with the Store and compares every record with the model.
// Header-only: chromapact_testsupport does not link the pipeline library (tests/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/manifest.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/snapshot.h"
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::pipeline::fixture {

inline constexpr const char* kBucket = "cp-pipeline";
inline constexpr const char* kTable = "cp-pipeline-kv";
inline constexpr uint32_t kDim = 4;
inline constexpr int64_t kT0 = 1764000000000;  // created_at_ms of test deltas

struct ModelRecord {
  std::vector<float> embedding;
  std::optional<std::string> document;
  nlohmann::json metadata = nlohmann::json::object();
};

// One write as a test builds it: ids with contents derived from `seed`, or deletes.
struct Op {
  codec::DeltaOp op;
  std::vector<std::string> ids;
  int seed = 0;
};

inline std::vector<float> EmbeddingFor(const std::string& id, int seed) {
  std::vector<float> e(kDim);
  for (uint32_t k = 0; k < kDim; ++k)
    e[k] = static_cast<float>(id.size() * 7 + id.back() + seed * 13 + k) / 10.0f;
  return e;
}

inline ModelRecord RecordFor(const std::string& id, int seed) {
  return ModelRecord{EmbeddingFor(id, seed), "doc " + id + " v" + std::to_string(seed), {{"seed", seed}, {"id", id}}};
}

// Acknowledged writes, last writer by delta ULID per id (the compactor's rule, compactor.h).
// Thread-safe; copyable (a copy is a snapshot of the model).
class Model {
 public:
  Model() = default;
  Model(const Model& o) : by_id_(o.Snapshot()) {}
  Model& operator=(const Model& o) {
    auto copy = o.Snapshot();
    std::lock_guard<std::mutex> lock(mu_);
    by_id_ = std::move(copy);
    return *this;
  }

  void Apply(const Op& op, const std::string& delta_id) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& id : op.ids) {
      auto& slot = by_id_[id];
      if (!slot.first.empty() && slot.first >= delta_id) continue;
      slot.first = delta_id;
      if (op.op == codec::DeltaOp::kDelete) {
        slot.second.reset();
      } else {
        slot.second = RecordFor(id, op.seed);
      }
    }
  }
  std::map<std::string, ModelRecord> Live() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, ModelRecord> out;
    for (const auto& [id, slot] : by_id_)
      if (slot.second) out[id] = *slot.second;
    return out;
  }

 private:
  using Slots = std::map<std::string, std::pair<std::string, std::optional<ModelRecord>>>;
  Slots Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_id_;
  }
  mutable std::mutex mu_;
  Slots by_id_;
};

// One thread's clients (queue may be null when no queue URL was given).
struct Seams {
  std::unique_ptr<aws::SqsClient> sqs;
  std::unique_ptr<Queue> queue;
  std::unique_ptr<ObjectStore> objects;
  std::unique_ptr<KvStore> kv;
};

// The delta a test producer writes for `op` (dimension kDim; deletes carry ids only).
inline codec::Delta MakeDelta(const ShardId& shard, const Op& op, const std::string& delta_id) {
  codec::Delta d;
  d.meta.op = op.op;
  d.meta.collection = shard.collection;
  d.meta.shard = static_cast<uint32_t>(shard.shard);
  d.meta.delta_id = delta_id;
  d.meta.created_at_ms = kT0;
  d.records.ids = op.ids;
  if (op.op != codec::DeltaOp::kDelete) {
    d.meta.dimension = kDim;
    for (const auto& id : op.ids) {
      ModelRecord r = RecordFor(id, op.seed);
      d.records.embeddings.insert(d.records.embeddings.end(), r.embedding.begin(), r.embedding.end());
      d.records.documents.push_back(*r.document);
      d.records.metadatas.push_back(r.metadata);
    }
  }
  return d;
}

// A message announcing delta `delta_id` of `shard` as the producer sends it (group
// MessageGroupFor with the default group count). `dedup_id` empty: the delta id.
inline Status SendDeltaMessage(Queue* queue, const ShardId& shard, const std::string& delta_id, size_t n,
                               const std::string& dedup_id = "") {
  DeltaMessage m{DeltaKey(shard, delta_id), shard, delta_id, n};
  QueueSend send{EncodeDeltaMessage(m), MessageGroupFor(shard, delta_id, kDefaultMessageGroups),
                 dedup_id.empty() ? delta_id : dedup_id};
  return queue->Send(send).status();
}

// Uploads `bytes` create-only at the delta's key (an existing object is fine: a producer retry).
inline Status PutDelta(ObjectStore* objects, const ShardId& shard, const std::string& delta_id,
                       const std::string& bytes) {
  PutObjectOptions create_only;
  create_only.if_none_match_any = true;
  auto put = objects->Put(DeltaKey(shard, delta_id), bytes, create_only);
  if (!put.ok() && put.status().code() != StatusCode::kPreconditionFailed) return put.status();
  return Status::Ok();
}

// As a producer: encode, PUT create-only, send; once both are acknowledged, applies the op to
// `model` (may be null). Returns the delta id ("" on failure, with a test failure added).
inline std::string Produce(ObjectStore* objects, Queue* queue, const ShardId& shard, const Op& op,
                           const std::string& delta_id, Model* model) {
  auto bytes = codec::EncodeDelta(MakeDelta(shard, op, delta_id));
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return "";
  Status put = PutDelta(objects, shard, delta_id, *bytes);
  EXPECT_TRUE(put.ok()) << put.ToString();
  if (!put.ok()) return "";
  Status sent = SendDeltaMessage(queue, shard, delta_id, op.ids.size());
  EXPECT_TRUE(sent.ok()) << sent.ToString();
  if (!sent.ok()) return "";
  if (model) model->Apply(op, delta_id);
  return delta_id;
}
inline std::string Produce(Seams* seams, const ShardId& shard, const Op& op, const std::string& delta_id,
                           Model* model) {
  return Produce(seams->objects.get(), seams->queue.get(), shard, op, delta_id, model);
}

// The version the pointer names, fetched and opened read-only; every record compared to `live`.
inline void ExpectSnapshotEquals(ObjectStore* objects, KvStore* kv, const Clock* clock, const ShardId& shard,
                                 const std::map<std::string, ModelRecord>& live, codec::Manifest* out = nullptr) {
  PointerTable pointers(kv, clock);
  auto ptr = pointers.Read(shard);
  ASSERT_TRUE(ptr.ok()) << ptr.status().ToString();
  ASSERT_TRUE(ptr->has_value()) << "no pointer for " << shard.ToString();
  std::string dir = testing::MakeTempDir("snapshot-check");
  auto manifest = FetchSnapshot(objects, (*ptr)->manifest_key, dir);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(manifest->version), (*ptr)->version);
  EXPECT_EQ(manifest->record_count, live.size());
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
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < got->ids.size(); ++i) {
    seen[got->ids[i]] = true;
    auto it = live.find(got->ids[i]);
    if (it == live.end()) {
      ADD_FAILURE() << "unexpected record " << got->ids[i];
      continue;
    }
    EXPECT_EQ((*got->embeddings)[i], it->second.embedding) << got->ids[i];
    EXPECT_EQ((*got->documents)[i], it->second.document) << got->ids[i];
    EXPECT_EQ((*got->metadatas)[i], it->second.metadata) << got->ids[i];
  }
  for (const auto& [id, rec] : live) EXPECT_TRUE(seen.count(id)) << "acknowledged record lost: " << id;
  if (out) *out = *manifest;
}
inline void ExpectSnapshotEquals(Seams* seams, const Clock* clock, const ShardId& shard,
                                 const std::map<std::string, ModelRecord>& live, codec::Manifest* out = nullptr) {
  ExpectSnapshotEquals(seams->objects.get(), seams->kv.get(), clock, shard, live, out);
}

// Receives until the queue answers none (at most `max_calls` calls), hiding each message for
// `visibility_seconds`.
inline std::vector<QueueMessage> ReceiveAll(Queue* queue, int max_calls = 20, int visibility_seconds = 120) {
  std::vector<QueueMessage> all;
  for (int i = 0; i < max_calls; ++i) {
    auto b = queue->Receive(10, 0, visibility_seconds);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok() || b->empty()) break;
    for (auto& m : *b) all.push_back(std::move(m));
  }
  return all;
}

// IAM policy of a compactor that may only use the lease/pointer table (lease and pointer tests).
inline constexpr const char* kDynamoItemPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem",)"
    R"("dynamodb:PutItem","dynamodb:UpdateItem"],"Resource":"*"}]})";

// Suite fixture: one moto_server for the suite, set up unauthenticated (IAM admin, bucket kBucket,
// table kTable with partition key kPartitionKey, optionally an IAM user "compactor" with
// `compactor_policy`), then signature checking switched on (aws-notes.md §1 recipe A). A suite
// that needs the restricted user defines `static void SetUpTestSuite() { StartMoto(policy); }`.
class PipelineMotoTest : public ::testing::Test {
 protected:
  static void StartMoto(const std::string& compactor_policy = "") {
    auto m = testing::MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = *admin;
    aws::S3Client s3(Config());
    Status bucket = s3.CreateBucket(kBucket);
    ASSERT_TRUE(bucket.ok()) << bucket.ToString();
    aws::DynamoDbClient ddb(Config());
    aws::CreateTableRequest req;
    req.table = kTable;
    req.partition_key = kPartitionKey;
    auto table = ddb.CreateTable(req);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    if (!compactor_policy.empty()) {
      auto c = moto_->CreateUser("compactor", compactor_policy);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      compactor_ = *c;
    }
    Status auth = moto_->EnableAuth();
    ASSERT_TRUE(auth.ok()) << auth.ToString();
  }
  static void SetUpTestSuite() { StartMoto(); }
  static void TearDownTestSuite() {
    compactor_.reset();
    admin_.reset();
    moto_.reset();
  }
  void SetUp() override { ASSERT_NE(moto_, nullptr); }

  // Clients signed as the admin (every right).
  static aws::ClientConfig Config() { return moto_->Config(*admin_); }
  // A KvStore on kTable signed as the restricted "compactor" user (StartMoto with a policy).
  static std::unique_ptr<KvStore> CompactorKv() {
    return NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(moto_->Config(*compactor_)), kTable);
  }

  // A fresh FIFO queue "<name>.fifo"; returns its URL ("" with a test failure added).
  static std::string CreateFifoQueue(const std::string& name) {
    aws::SqsClient sqs(Config());
    auto url = sqs.CreateQueue(name + ".fifo", {{"FifoQueue", "true"}});
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }
  // New clients for one thread; `queue_url` empty: no queue.
  static Seams NewSeams(const std::string& queue_url) {
    Seams s;
    s.sqs = std::make_unique<aws::SqsClient>(Config());
    if (!queue_url.empty()) s.queue = NewSqsQueue(s.sqs.get(), queue_url);
    s.objects = NewS3ObjectStore(std::make_unique<aws::S3Client>(Config()), kBucket);
    s.kv = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(Config()), kTable);
    return s;
  }
  // Compactor options for tests: a fresh work dir, writer "c-<tag>", lease TTL, 120 s visibility,
  // 5 s drain budget.
  static CompactorOptions Options(const std::string& tag, int64_t ttl_ms) {
    CompactorOptions o;
    o.work_dir = testing::MakeTempDir("compactor-" + tag);
    o.writer_id = "c-" + tag;
    o.lease.ttl_ms = ttl_ms;
    o.visibility_seconds = 120;
    o.drain_budget_ms = 5000;
    return o;
  }

  static inline std::unique_ptr<testing::MotoServer> moto_;
  static inline std::optional<aws::Credentials> admin_;
  static inline std::optional<aws::Credentials> compactor_;
};

}  // namespace chromapact::pipeline::fixture
