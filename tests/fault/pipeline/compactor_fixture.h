// Shared setup of the compactor fault tests (seed002_race_test, randomized_compaction_test): a
// moto_server with signature checking on (bucket + lease/pointer table), per-thread seams (each
// SQS / S3 / DynamoDB client belongs to one thread: the seams are not thread-safe), a producer helper
// (codec writer + create-only PUT + FIFO send), a last-writer-by-ULID model of acknowledged writes,
// and a check that opens the published snapshot read-only with the Store and compares every record.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/snapshot.h"
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::pipeline::fault_fixture {

inline constexpr const char* kBucket = "cp-fault-compactor";
inline constexpr const char* kTable = "cp-fault-compactor-leases";
inline constexpr uint32_t kDim = 4;

struct ModelRecord {
  std::vector<float> embedding;
  std::optional<std::string> document;
  nlohmann::json metadata = nlohmann::json::object();
};

// One write: ids with contents derived from `seed`, or deletes.
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

// Acknowledged writes, last writer by delta ULID per id (the compactor's rule). Thread-safe.
class Model {
 public:
  void Apply(const Op& op, const std::string& delta_id) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& id : op.ids) {
      auto& slot = by_id_[id];
      if (!slot.first.empty() && slot.first >= delta_id) continue;
      slot.first = delta_id;
      if (op.op == codec::DeltaOp::kDelete) {
        slot.second.reset();
      } else {
        slot.second = ModelRecord{EmbeddingFor(id, op.seed), "doc " + id + " v" + std::to_string(op.seed),
                                  {{"seed", op.seed}, {"id", id}}};
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
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::optional<ModelRecord>>> by_id_;
};

// One thread's clients.
struct Seams {
  std::unique_ptr<aws::SqsClient> sqs;
  std::unique_ptr<Queue> queue;
  std::unique_ptr<ObjectStore> objects;
  std::unique_ptr<KvStore> kv;
};

class CompactorFaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = testing::MotoServer::Start();
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
  void SetUp() override { ASSERT_NE(moto_, nullptr); }

  // A fresh FIFO queue; returns its URL.
  std::string CreateQueue(const std::string& name) {
    aws::SqsClient sqs(moto_->Config(*admin_));
    auto url = sqs.CreateQueue(name + ".fifo", {{"FifoQueue", "true"}});
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }
  Seams NewSeams(const std::string& queue_url) {
    Seams s;
    s.sqs = std::make_unique<aws::SqsClient>(moto_->Config(*admin_));
    s.queue = NewSqsQueue(s.sqs.get(), queue_url);
    s.objects = NewS3ObjectStore(std::make_unique<aws::S3Client>(moto_->Config(*admin_)), kBucket);
    s.kv = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(moto_->Config(*admin_)), kTable);
    return s;
  }

  // As a producer on `seams` (its thread's): encode, PUT create-only, send; once both are
  // acknowledged, applies the op to `model`. Returns the delta id ("" on failure).
  static std::string Produce(Seams* seams, const ShardId& shard, const Op& op, const std::string& delta_id,
                             Model* model) {
    codec::Delta d;
    d.meta.op = op.op;
    d.meta.collection = shard.collection;
    d.meta.shard = static_cast<uint32_t>(shard.shard);
    d.meta.delta_id = delta_id;
    d.meta.created_at_ms = 1764000000000;
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
    if (!bytes.ok()) return "";
    PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    auto put = seams->objects->Put(DeltaKey(shard, delta_id), *bytes, create_only);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    if (!put.ok()) return "";
    DeltaMessage m{DeltaKey(shard, delta_id), shard, delta_id, op.ids.size()};
    auto sent = seams->queue->Send({EncodeDeltaMessage(m), shard.ToString(), delta_id});
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    if (!sent.ok()) return "";
    if (model) model->Apply(op, delta_id);
    return delta_id;
  }

  // The version the pointer names, fetched and opened read-only; every record compared to `model`.
  static void ExpectSnapshotEquals(Seams* seams, const Clock* clock, const ShardId& shard,
                                   const std::map<std::string, ModelRecord>& model,
                                   codec::Manifest* out = nullptr) {
    PointerTable pointers(seams->kv.get(), clock);
    auto ptr = pointers.Read(shard);
    ASSERT_TRUE(ptr.ok()) << ptr.status().ToString();
    ASSERT_TRUE(ptr->has_value()) << "no pointer for " << shard.ToString();
    std::string dir = testing::MakeTempDir("fault-snapshot-check");
    auto manifest = FetchSnapshot(seams->objects.get(), (*ptr)->manifest_key, dir);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(manifest->version), (*ptr)->version);
    EXPECT_EQ(manifest->record_count, model.size());
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
      auto it = model.find(got->ids[i]);
      if (it == model.end()) {
        ADD_FAILURE() << "unexpected record " << got->ids[i];
        continue;
      }
      EXPECT_EQ((*got->embeddings)[i], it->second.embedding) << got->ids[i];
      EXPECT_EQ((*got->documents)[i], it->second.document) << got->ids[i];
      EXPECT_EQ((*got->metadatas)[i], it->second.metadata) << got->ids[i];
    }
    for (const auto& [id, rec] : model) EXPECT_TRUE(seen.count(id)) << "acknowledged record lost: " << id;
    if (out) *out = *manifest;
  }

  CompactorOptions Options(const std::string& tag, int64_t ttl_ms) {
    CompactorOptions o;
    o.work_dir = testing::MakeTempDir("fault-compactor-" + tag);
    o.writer_id = "c-" + tag;
    o.lease.ttl_ms = ttl_ms;
    o.visibility_seconds = 120;
    o.drain_budget_ms = 5000;
    return o;
  }

  static std::unique_ptr<testing::MotoServer> moto_;
  static std::optional<aws::Credentials> admin_;
};

inline std::unique_ptr<testing::MotoServer> CompactorFaultTest::moto_;
inline std::optional<aws::Credentials> CompactorFaultTest::admin_;

}  // namespace chromapact::pipeline::fault_fixture
