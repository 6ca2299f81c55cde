// Produce against moto_server with signature checking on: a request over 3 shards lands as one
// create-only log entry per shard touched, at the shard's next sequence number, each decoding back
// to exactly that shard's records, with one trigger per entry naming it (group "<coll>#<shard>",
// dedup id "<coll>#<shard>#<seq>"); acknowledgements carry increasing log positions; the dimension
// check refuses a wrong dimension before anything is written; bad requests are rejected with a
// Status naming the field and index and write nothing.
#include "chromapact/pipeline/producer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline {
namespace {

using fixture::kBucket;
using fixture::kTable;

class ProducerTest : public fixture::PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    objects_ = NewS3ObjectStore(std::make_unique<aws::S3Client>(Config()), kBucket);
    kv_ = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(Config()), kTable);
    sqs_ = std::make_unique<aws::SqsClient>(Config());
    queue_ = NewSqsQueue(sqs_.get(), CreateFifoQueue(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }

  std::vector<QueueMessage> ReceiveAll() { return fixture::ReceiveAll(queue_.get(), 20, 60); }

  // Objects under deltas/<collection>/ (every shard).
  size_t DeltaObjects(const std::string& collection) {
    auto listed = objects_->List("deltas/" + collection + "/");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    return listed.ok() ? listed->size() : 0;
  }

  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<aws::SqsClient> sqs_;
  std::unique_ptr<Queue> queue_;
};

nlohmann::json Event(const std::string& coll, const std::string& op, int n, int dim) {
  nlohmann::json ids = nlohmann::json::array(), emb = nlohmann::json::array(), docs = nlohmann::json::array(),
                 metas = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    ids.push_back("id-" + std::to_string(i));
    nlohmann::json row = nlohmann::json::array();
    for (int k = 0; k < dim; ++k) row.push_back(0.25 * i - 0.5 * k);
    emb.push_back(row);
    docs.push_back(i % 4 == 3 ? nlohmann::json(nullptr) : nlohmann::json("doc " + std::to_string(i)));
    metas.push_back(i % 5 == 4 ? nlohmann::json(nullptr) : nlohmann::json{{"i", i}, {"even", i % 2 == 0}});
  }
  return {{"collection", coll}, {"operation", op}, {"ids", ids}, {"embeddings", emb}, {"documents", docs},
          {"metadatas", metas}};
}

TEST(ShardForIdTest, StableAndSpread) {
  // FNV-1a 64 of "" is the offset basis 14695981039346656037 (= 7 mod 10); "a" is 0xaf63dc4c8601ec8c.
  EXPECT_EQ(ShardForId("", 10), 7);
  EXPECT_EQ(ShardForId("a", 1000), static_cast<int>(0xaf63dc4c8601ec8cull % 1000));
  EXPECT_EQ(ShardForId("anything", 1), 0);
  std::map<int, int> counts;
  for (int i = 0; i < 3000; ++i) ++counts[ShardForId("id-" + std::to_string(i), 3)];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [s, c] : counts) EXPECT_GT(c, 800) << "shard " << s;
}

TEST_F(ProducerTest, UpsertOverThreeShardsLandsInEachShardsLogAndDecodesBack) {
  const nlohmann::json event = Event("prod", "upsert", 40, 4);
  auto req = ParseProduceRequest(event, "");
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ProducerOptions opts;
  opts.shards = 3;
  opts.producer_id = "req-1";
  DimensionRegistry dims(kv_.get());
  auto res = Produce(kv_.get(), objects_.get(), queue_.get(), &dims, *req, opts);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->count, 40u);
  ASSERT_EQ(res->delta_keys.size(), 3u);
  ASSERT_EQ(res->log_positions.size(), 3u);
  const nlohmann::json j = ToJson(*res);
  EXPECT_EQ(j["count"], 40);
  EXPECT_EQ(j["delta_keys"].size(), 3u);
  EXPECT_EQ(j["log_positions"][1], (nlohmann::json{{"shard", 1}, {"log_position", 1}}));

  std::map<std::string, QueueMessage> by_key;
  for (const auto& m : ReceiveAll()) {
    auto msg = ParseDeltaMessage(m.body);
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    EXPECT_EQ(m.group_id, MessageGroupFor(msg->shard));
    by_key[msg->delta_key] = m;
  }
  ASSERT_EQ(by_key.size(), 3u);
  std::set<std::string> seen_ids;
  for (size_t s = 0; s < 3; ++s) {
    const std::string& key = res->delta_keys[s];
    const ShardId shard{"prod", static_cast<int>(s)};
    EXPECT_EQ(res->log_positions[s].shard, static_cast<int>(s));
    EXPECT_EQ(res->log_positions[s].log_position, 1u);  // each shard's log starts at 1
    EXPECT_EQ(key, LogKey(shard, 1));
    ASSERT_EQ(by_key.count(key), 1u) << key;
    auto trigger = ParseDeltaMessage(by_key[key].body);
    EXPECT_EQ(trigger->shard, shard);
    EXPECT_EQ(trigger->log_position, 1u);
    EXPECT_EQ(*LastSequence(kv_.get(), shard), 1u);
    auto bytes = objects_->Get(key);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto d = codec::DecodeDelta(*bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->meta.op, codec::DeltaOp::kUpsert);
    EXPECT_EQ(d->meta.collection, "prod");
    EXPECT_EQ(static_cast<int>(d->meta.shard), shard.shard);
    EXPECT_EQ(d->meta.producer_id, "req-1");
    EXPECT_EQ(d->meta.dimension, 4u);
    for (size_t k = 0; k < d->records.size(); ++k) {
      const std::string& id = d->records.ids[k];
      EXPECT_EQ(ShardForId(id, 3), shard.shard) << id;
      EXPECT_TRUE(seen_ids.insert(id).second) << id;
      const int i = std::stoi(id.substr(3));
      for (int c = 0; c < 4; ++c) EXPECT_FLOAT_EQ(d->records.embeddings[k * 4 + c], 0.25f * i - 0.5f * c);
      EXPECT_EQ(d->records.documents[k], event["documents"][i].is_null()
                                             ? std::nullopt
                                             : std::optional<std::string>(event["documents"][i].get<std::string>()));
      EXPECT_EQ(d->records.metadatas[k], event["metadatas"][i]);
    }
    // Create-only: the entry cannot be overwritten.
    PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    EXPECT_EQ(objects_->Put(key, "x", create_only).status().code(), StatusCode::kPreconditionFailed);
  }
  EXPECT_EQ(seen_ids.size(), 40u);
}

// Successive acknowledgements carry increasing, gap-free positions per shard, and the entries'
// keys list in that order; the producer's trigger dedup id is the entry's, so a trigger sent again
// for the same entry within SQS's 5-minute window is dropped by the queue.
TEST_F(ProducerTest, AcknowledgementsCarryIncreasingPositionsAndKeysSortByThem) {
  const ShardId shard{"seqs", 0};
  std::vector<std::string> keys;
  for (int w = 0; w < 12; ++w) {
    auto req = ParseProduceRequest(
        {{"collection", "seqs"}, {"operation", "delete"}, {"ids", {"x" + std::to_string(w)}}}, "");
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    auto res = Produce(kv_.get(), objects_.get(), queue_.get(), nullptr, *req, ProducerOptions{});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_EQ(res->log_positions.size(), 1u);
    EXPECT_EQ(res->log_positions[0].log_position, static_cast<uint64_t>(w + 1));
    keys.push_back(res->delta_keys[0]);
  }
  auto listed = ListLog(objects_.get(), shard, 0, 0);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ((*listed)[i].seq, i + 1);
    EXPECT_EQ((*listed)[i].key, keys[i]);
  }
  EXPECT_EQ(*LastSequence(kv_.get(), shard), 12u);
  // The same entries' triggers again, while the producer's are still queued (moto dedups only
  // against messages still in the queue; SQS for 5 minutes after the send).
  ASSERT_TRUE(fixture::SendTrigger(queue_.get(), shard, 12).ok());
  ASSERT_TRUE(fixture::SendTrigger(queue_.get(), shard, 5).ok());
  std::vector<uint64_t> announced;
  for (int round = 0; round < 3; ++round) {
    auto got = ReceiveAll();  // one receive's worth: the rest of the group waits behind it
    std::vector<std::string> receipts;
    for (const auto& m : got) {
      announced.push_back(ParseDeltaMessage(m.body)->log_position);
      receipts.push_back(m.receipt_handle);
    }
    if (!receipts.empty()) {
      ASSERT_TRUE(queue_->DeleteBatch(receipts).ok());
    }
  }
  std::vector<uint64_t> want;
  for (uint64_t p = 1; p <= 12; ++p) want.push_back(p);
  EXPECT_EQ(announced, want) << "one trigger per entry, in order, duplicates dropped";
}

TEST_F(ProducerTest, PartialUpdateAndDeleteKeepTheirColumns) {
  nlohmann::json upd = {{"collection", "partial"},
                        {"operation", "update"},
                        {"ids", {"a", "b", "c"}},
                        {"embeddings", {{1.0, 2.0}, nullptr, nullptr}},
                        {"metadatas", {nullptr, {{"k", nullptr}}, nullptr}}};
  auto req = ParseProduceRequest(upd, "");
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ProducerOptions opts;  // one shard
  auto res = Produce(kv_.get(), objects_.get(), queue_.get(), nullptr, *req, opts);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->count, 3u);
  ASSERT_EQ(res->delta_keys.size(), 1u);
  auto d = codec::DecodeDelta(*objects_->Get(res->delta_keys[0]));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  // "c" gives nothing: a no-op, not written.
  EXPECT_EQ(d->records.ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(d->records.HasEmbedding(0));
  EXPECT_FALSE(d->records.HasEmbedding(1));
  EXPECT_TRUE(d->records.metadatas[1]["k"].is_null());

  auto del = ParseProduceRequest({{"operation", "delete"}, {"ids", {"a", "zz"}}}, "partial");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  auto res2 = Produce(kv_.get(), objects_.get(), queue_.get(), nullptr, *del, opts);
  ASSERT_TRUE(res2.ok()) << res2.status().ToString();
  EXPECT_EQ(res2->log_positions[0].log_position, 2u);
  auto d2 = codec::DecodeDelta(*objects_->Get(res2->delta_keys[0]));
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_EQ(d2->meta.op, codec::DeltaOp::kDelete);
  EXPECT_EQ(d2->records.ids, (std::vector<std::string>{"a", "zz"}));
  EXPECT_EQ(ReceiveAll().size(), 2u);
}

// Chroma answers a wrong dimension with HTTP 400 before anything is stored; so must the producer,
// or the delta reaches the log and is skipped later, after it was acknowledged.
TEST_F(ProducerTest, WrongDimensionIsRefusedBeforeAnythingIsWritten) {
  const ShardId shard{"dims", 0};
  DimensionRegistry dims(kv_.get());
  ProducerOptions opts;
  auto first = ParseProduceRequest(Event("dims", "add", 3, 4), "");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Produce(kv_.get(), objects_.get(), queue_.get(), &dims, *first, opts).ok());
  ASSERT_EQ(ReceiveAll().size(), 1u);
  ASSERT_EQ(DeltaObjects("dims"), 1u);

  auto wrong = ParseProduceRequest(Event("dims", "upsert", 2, 5), "");
  ASSERT_TRUE(wrong.ok());
  // This process's registry (cached) and a fresh one (another Lambda sandbox: reads the table).
  DimensionRegistry other_process(kv_.get());
  for (DimensionRegistry* registry : {&dims, &other_process}) {
    auto res = Produce(kv_.get(), objects_.get(), queue_.get(), registry, *wrong, opts);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument) << res.status().ToString();
    EXPECT_NE(res.status().message().find("embeddings"), std::string::npos) << res.status().ToString();
    EXPECT_NE(res.status().message().find("dimension of 4, got 5"), std::string::npos) << res.status().ToString();
  }
  EXPECT_EQ(DeltaObjects("dims"), 1u) << "a refused write reached the log";
  EXPECT_EQ(*LastSequence(kv_.get(), shard), 1u) << "a refused write took a sequence number";
  EXPECT_TRUE(ReceiveAll().empty());

  // Writes without embeddings are not checked; the right dimension passes.
  auto del = ParseProduceRequest({{"collection", "dims"}, {"operation", "delete"}, {"ids", {"id-0"}}}, "");
  ASSERT_TRUE(Produce(kv_.get(), objects_.get(), queue_.get(), &other_process, *del, opts).ok());
  auto right = ParseProduceRequest(Event("dims", "upsert", 2, 4), "");
  auto ok = Produce(kv_.get(), objects_.get(), queue_.get(), &other_process, *right, opts);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->log_positions[0].log_position, 3u);
  // Another collection has its own dimension.
  auto elsewhere = ParseProduceRequest(Event("dims-other", "upsert", 2, 5), "");
  EXPECT_TRUE(Produce(kv_.get(), objects_.get(), queue_.get(), &dims, *elsewhere, opts).ok());
}

TEST_F(ProducerTest, BadRequestsNameTheFieldAndWriteNothing) {
  struct Case {
    nlohmann::json event;
    std::string expect;  // substring of the message
  };
  nlohmann::json dup = Event("bad", "add", 3, 2);
  dup["ids"][2] = "id-0";
  nlohmann::json bad_meta = Event("bad", "upsert", 3, 2);
  bad_meta["metadatas"][1] = {{"tags", {{"x", 1}}}};
  nlohmann::json short_docs = Event("bad", "upsert", 3, 2);
  short_docs["documents"].erase(1);
  nlohmann::json wrong_dim = Event("bad", "upsert", 3, 2);
  wrong_dim["embeddings"][2] = {1.0, 2.0, 3.0};
  nlohmann::json no_emb = Event("bad", "add", 3, 2);
  no_emb.erase("embeddings");
  nlohmann::json bad_op = Event("bad", "add", 3, 2);
  bad_op["operation"] = "insert";
  nlohmann::json str_emb = Event("bad", "add", 3, 2);
  str_emb["embeddings"][1][0] = "x";
  const std::vector<Case> cases = {
      {dup, "ids[2]"},
      {bad_meta, "metadatas[1]"},
      {short_docs, "documents"},
      {wrong_dim, "embeddings[2]"},
      {bad_op, "insert"},
      {str_emb, "embeddings[1][0]"},
      {nlohmann::json::array(), "event"},
      {{{"ids", {"a"}}}, "collection"},
      {{{"collection", "a#b"}, {"ids", {"a"}}, {"operation", "delete"}}, "collection"},
  };
  ProducerOptions opts;
  opts.shards = 2;
  for (const Case& c : cases) {
    Status st;
    auto req = ParseProduceRequest(c.event, "");
    if (!req.ok()) {
      st = req.status();
    } else {
      st = Produce(kv_.get(), objects_.get(), queue_.get(), nullptr, *req, opts).status();
    }
    EXPECT_TRUE(st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kResourceExhausted)
        << c.event.dump() << " -> " << st.ToString();
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << c.expect << " not in " << st.message();
  }
  // Documents without embeddings and no embedding function configured (embeddings_test: with one).
  {
    auto req = ParseProduceRequest(no_emb, "");
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    Status st = Produce(kv_.get(), objects_.get(), queue_.get(), nullptr, *req, opts).status();
    EXPECT_EQ(st.code(), StatusCode::kPreconditionFailed) << st.ToString();
    EXPECT_NE(st.message().find("CHROMAPACT_EMBEDDING_URL"), std::string::npos) << st.ToString();
  }
  ProducerOptions no_shards;
  no_shards.shards = 0;
  auto req = ParseProduceRequest(Event("bad", "add", 1, 2), "");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(Produce(kv_.get(), objects_.get(), queue_.get(), nullptr, *req, no_shards).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DeltaObjects("bad"), 0u);
  for (int s = 0; s < 2; ++s) EXPECT_EQ(*LastSequence(kv_.get(), {"bad", s}), 0u) << "shard " << s;
  EXPECT_TRUE(ReceiveAll().empty());
}

}  // namespace
}  // namespace chromapact::pipeline
