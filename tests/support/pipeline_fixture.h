// Shared setup of the pipeline tests (tests/integration/pipeline, tests/fault/pipeline): one
// moto_server per test binary with signature checking on, an IAM admin, a bucket and a
// lease/pointer/sequence table; per-thread seams (each SQS / S3 / DynamoDB client belongs to one
// thread: the seams are not thread-safe); writes through the real producer (pipeline::Produce); a
// model of Chroma 1.5.9's write semantics applied in the order the writes were acknowledged (their
// log positions), written from Chroma's documented behaviour (docs/chroma-format.md §7: add of an
// existing id ignored, update of an absent id ignored, upsert/update merge metadata, a null value
// deletes a key, an emptied metadata reads null) and never from the compactor's code; and a check
// that opens the published snapshot read-only with the Store and compares every record with it.
// Header-only: chromapact_testsupport does not link the pipeline library (tests/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/producer.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/snapshot.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::pipeline::fixture {

inline constexpr const char* kBucket = "cp-pipeline";
inline constexpr const char* kTable = "cp-pipeline-kv";
inline constexpr uint32_t kDim = 4;

struct ModelRecord {
  std::vector<float> embedding;
  std::optional<std::string> document;
  nlohmann::json metadata = nullptr;  // object, or null when the record has none
  bool operator==(const ModelRecord& o) const {
    return embedding == o.embedding && document == o.document && metadata == o.metadata;
  }
};

// One write as a test builds it. Contents derive from (id, seed); `embedding` / `document` /
// `metadata` say which columns the write gives (add and upsert always give an embedding);
// `null_keys` are metadata keys sent as null (update / upsert: Chroma deletes them).
struct Op {
  Op() = default;
  Op(codec::DeltaOp o, std::vector<std::string> i, int s = 0) : op(o), ids(std::move(i)), seed(s) {}
  codec::DeltaOp op = codec::DeltaOp::kUpsert;
  std::vector<std::string> ids;
  int seed = 0;
  bool embedding = true;
  bool document = true;
  bool metadata = true;
  std::vector<std::string> null_keys;
};

inline std::vector<float> EmbeddingFor(const std::string& id, int seed) {
  std::vector<float> e(kDim);
  for (uint32_t k = 0; k < kDim; ++k)
    e[k] = static_cast<float>(id.size() * 7 + id.back() + seed * 13 + k) / 10.0f;
  return e;
}
inline std::string DocumentFor(const std::string& id, int seed) { return "doc " + id + " v" + std::to_string(seed); }
// Keys vary with the seed so that merges are visible: "seed" always, "m<seed % 4>" too.
inline nlohmann::json MetadataFor(const std::string& id, int seed) {
  return {{"seed", seed}, {"id", id}, {"m" + std::to_string(seed % 4), seed}};
}
// The metadata a write sends for `id` (null_keys as JSON nulls), or null when it gives none.
inline nlohmann::json SentMetadata(const Op& op, const std::string& id) {
  if (!op.metadata) return nullptr;
  nlohmann::json m = MetadataFor(id, op.seed);
  for (const auto& k : op.null_keys) m[k] = nullptr;
  return m;
}

// Chroma 1.5.9's semantics for one record (docs/chroma-format.md §7).
inline void ApplyToModel(std::map<std::string, ModelRecord>* live, const Op& op, const std::string& id) {
  auto it = live->find(id);
  const bool exists = it != live->end();
  auto merge = [&](ModelRecord* r) {
    if (!op.metadata) return;
    nlohmann::json m = r->metadata.is_object() ? r->metadata : nlohmann::json::object();
    const nlohmann::json sent = SentMetadata(op, id);
    for (auto it = sent.cbegin(); it != sent.cend(); ++it) {
      if (it.value().is_null()) {
        m.erase(it.key());
      } else {
        m[it.key()] = it.value();
      }
    }
    r->metadata = m.empty() ? nlohmann::json(nullptr) : m;
  };
  switch (op.op) {
    case codec::DeltaOp::kDelete: live->erase(id); return;
    case codec::DeltaOp::kAdd:
      if (exists) return;
      break;
    case codec::DeltaOp::kUpdate:
      if (!exists) return;
      break;
    case codec::DeltaOp::kUpsert: break;
  }
  if (!exists) {
    ModelRecord r;
    r.embedding = EmbeddingFor(id, op.seed);
    if (op.document) r.document = DocumentFor(id, op.seed);
    merge(&r);
    (*live)[id] = r;
    return;
  }
  ModelRecord& r = it->second;
  if (op.embedding) r.embedding = EmbeddingFor(id, op.seed);
  if (op.document) r.document = DocumentFor(id, op.seed);
  merge(&r);
}

// Acknowledged writes, applied per record in log order (shard, log_position): the order the
// producer acknowledged them in. Thread-safe; copyable (a copy is a snapshot of the model).
class Model {
 public:
  Model() = default;
  Model(const Model& o) : writes_(o.Writes()) {}
  Model& operator=(const Model& o) {
    auto copy = o.Writes();
    std::lock_guard<std::mutex> lock(mu_);
    writes_ = std::move(copy);
    return *this;
  }

  // `op` was acknowledged with these log positions (one per shard its ids fall into).
  void Acknowledged(const Op& op, const ProduceResult& ack, int shards) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const LogPosition& p : ack.log_positions) {
      Op part = op;
      part.ids.clear();
      for (const auto& id : op.ids)
        if (ShardForId(id, shards) == p.shard) part.ids.push_back(id);
      writes_.push_back({p.shard, p.log_position, part});
    }
  }
  // Live records after every acknowledged write, in log order.
  std::map<std::string, ModelRecord> Live() const {
    auto writes = Writes();
    std::sort(writes.begin(), writes.end(), [](const Write& a, const Write& b) {
      return std::tie(a.shard, a.position) < std::tie(b.shard, b.position);
    });
    std::map<std::string, ModelRecord> live;
    for (const Write& w : writes)
      for (const auto& id : w.op.ids) ApplyToModel(&live, w.op, id);
    return live;
  }
  size_t writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_.size();
  }

 private:
  struct Write {
    int shard;
    uint64_t position;
    Op op;
  };
  std::vector<Write> Writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }
  mutable std::mutex mu_;
  std::vector<Write> writes_;
};

// One thread's clients (queue may be null when no queue URL was given).
struct Seams {
  std::unique_ptr<aws::SqsClient> sqs;
  std::unique_ptr<Queue> queue;
  std::unique_ptr<ObjectStore> objects;
  std::unique_ptr<KvStore> kv;
};

// The producer request for `op`.
inline ProduceRequest RequestFor(const std::string& collection, const Op& op) {
  ProduceRequest req;
  req.collection = collection;
  req.op = op.op;
  req.records.ids = op.ids;
  if (op.op == codec::DeltaOp::kDelete) return req;
  for (const auto& id : op.ids) {
    if (op.embedding) {
      auto e = EmbeddingFor(id, op.seed);
      req.records.embeddings.insert(req.records.embeddings.end(), e.begin(), e.end());
    }
    if (op.document) req.records.documents.push_back(DocumentFor(id, op.seed));
    if (op.metadata) req.records.metadatas.push_back(SentMetadata(op, id));
  }
  return req;
}

// Writes `op` through the real producer (sequence, create-only PUT, trigger) into a collection of
// `shards` shards; once acknowledged, records it in `model` (may be null). A failed write over
// several shards whose producer reports deltas already appended (producer.h: they will apply) is
// recorded for those shards. Returns the acknowledgement, or its error (no test failure is added:
// callers that inject faults expect some).
inline Result<ProduceResult> Write(KvStore* kv, ObjectStore* objects, Queue* queue, const std::string& collection,
                                   const Op& op, Model* model, int shards = 1) {
  ProducerOptions opts;
  opts.shards = shards;
  opts.producer_id = "test-producer";
  ProduceResult appended;
  auto ack = Produce(kv, objects, queue, nullptr, RequestFor(collection, op), opts, &appended);
  if (model) model->Acknowledged(op, ack.ok() ? *ack : appended, shards);
  return ack;
}

// As Write, adding a test failure when the write is not acknowledged. Returns the first shard's
// log position (0 on failure).
inline uint64_t Produce(Seams* seams, const ShardId& shard, const Op& op, Model* model) {
  auto ack = Write(seams->kv.get(), seams->objects.get(), seams->queue.get(), shard.collection, op, model, 1);
  EXPECT_TRUE(ack.ok()) << ack.status().ToString();
  if (!ack.ok() || ack->log_positions.empty()) return 0;
  return ack->log_positions.front().log_position;
}

// The .cpd bytes of `op` as a producer would append them for `shard` (for tests that write log
// entries by hand: corrupt ones, holes, races).
inline std::string EncodeOp(const ShardId& shard, const Op& op) {
  ProduceRequest req = RequestFor(shard.collection, op);
  codec::Delta d;
  d.meta.op = op.op;
  d.meta.collection = shard.collection;
  d.meta.shard = static_cast<uint32_t>(shard.shard);
  d.meta.delta_id = "01JDQZ2XK8M5V0000000000000";
  d.meta.created_at_ms = 1764000000000;
  d.meta.dimension = req.records.embeddings.empty() ? 0 : kDim;
  d.records = req.records;
  auto bytes = codec::EncodeDelta(d);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

// Sends the trigger the producer would send for entry `seq` of `shard`.
inline Status SendTrigger(Queue* queue, const ShardId& shard, uint64_t seq) {
  DeltaMessage m{shard, seq, seq > 0 ? LogKey(shard, seq) : std::string()};
  QueueSend send{EncodeDeltaMessage(m), MessageGroupFor(shard), TriggerDedupId(shard, seq)};
  return queue->Send(send).status();
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
    EXPECT_EQ((*got->embeddings)[i], it->second.embedding) << "stale embedding: " << got->ids[i];
    EXPECT_EQ((*got->documents)[i], it->second.document) << "stale document: " << got->ids[i];
    EXPECT_EQ((*got->metadatas)[i], it->second.metadata) << "stale metadata: " << got->ids[i];
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

// IAM policy of a compactor that may only use the lease/pointer/sequence table (lease and pointer tests).
inline constexpr const char* kDynamoItemPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem",)"
    R"("dynamodb:PutItem","dynamodb:UpdateItem"],"Resource":"*"}]})";

// Suite fixture: one moto_server for the suite, set up unauthenticated (IAM admin, bucket kBucket,
// table kTable with partition key kPartitionKey, optionally an IAM user "compactor" with
// `compactor_policy`), then signature checking switched on (docs/aws-notes.md §1). A suite
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
  // Compactor options for tests: a fresh work dir, writer "c-<tag>", lease TTL, hole timeout 5 s.
  static CompactorOptions Options(const std::string& tag, int64_t ttl_ms) {
    CompactorOptions o;
    o.work_dir = testing::MakeTempDir("compactor-" + tag);
    o.writer_id = "c-" + tag;
    o.lease.ttl_ms = ttl_ms;
    o.hole_timeout_ms = 5000;
    return o;
  }

  static inline std::unique_ptr<testing::MotoServer> moto_;
  static inline std::optional<aws::Credentials> admin_;
  static inline std::optional<aws::Credentials> compactor_;
};

}  // namespace chromapact::pipeline::fixture
