// Produce against moto_server with signature checking on: a request over 3 shards lands as one
// create-only delta per shard touched, each decoding back to exactly that shard's records, and one
// FIFO message per delta naming it (group = MessageGroupFor: collection#shard#k, dedup id = the ULID); bad requests
// are rejected with a Status naming the field and index and write nothing.
#include "chromapact/pipeline/producer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/queue.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline {
namespace {

using fixture::kBucket;

class ProducerTest : public fixture::PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    objects_ = NewS3ObjectStore(std::make_unique<aws::S3Client>(Config()), kBucket);
    sqs_ = std::make_unique<aws::SqsClient>(Config());
    queue_ = NewSqsQueue(sqs_.get(), CreateFifoQueue(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }

  std::vector<QueueMessage> ReceiveAll(size_t expected) {
    std::vector<QueueMessage> got;
    for (int tries = 0; tries < 20 && got.size() < expected; ++tries) {
      auto batch = queue_->Receive(10, 0, 60);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok()) break;
      for (auto& m : *batch) got.push_back(m);
    }
    auto extra = queue_->Receive(10, 0, 60);
    EXPECT_TRUE(extra.ok() && extra->empty()) << "more messages than expected";
    return got;
  }

  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<aws::SqsClient> sqs_;
  std::unique_ptr<Queue> queue_;
};

nlohmann::json Event(const std::string& op, int n, int dim) {
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
  return {{"collection", "prod"}, {"operation", op}, {"ids", ids}, {"embeddings", emb}, {"documents", docs},
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

TEST_F(ProducerTest, UpsertOverThreeShardsLandsAndDecodesBack) {
  const nlohmann::json event = Event("upsert", 40, 4);
  auto req = ParseProduceRequest(event, "");
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ProducerOptions opts;
  opts.shards = 3;
  opts.producer_id = "req-1";
  auto res = Produce(objects_.get(), queue_.get(), *req, opts);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->count, 40u);
  ASSERT_EQ(res->delta_keys.size(), 3u);
  EXPECT_EQ(ToJson(*res)["count"], 40);

  std::set<std::string> seen_ids;
  std::map<std::string, DeltaMessage> by_key;
  for (const auto& m : ReceiveAll(3)) {
    auto msg = ParseDeltaMessage(m.body);
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    EXPECT_EQ(m.group_id, MessageGroupFor(msg->shard, msg->delta_id, kDefaultMessageGroups));
    by_key[msg->delta_key] = *msg;
  }
  ASSERT_EQ(by_key.size(), 3u);
  for (const std::string& key : res->delta_keys) {
    ASSERT_EQ(by_key.count(key), 1u) << key;
    const DeltaMessage& msg = by_key[key];
    EXPECT_EQ(key, DeltaKey(msg.shard, msg.delta_id));
    auto bytes = objects_->Get(key);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto d = codec::DecodeDelta(*bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->meta.op, codec::DeltaOp::kUpsert);
    EXPECT_EQ(d->meta.collection, "prod");
    EXPECT_EQ(static_cast<int>(d->meta.shard), msg.shard.shard);
    EXPECT_EQ(d->meta.delta_id, msg.delta_id);
    EXPECT_EQ(d->meta.producer_id, "req-1");
    EXPECT_EQ(d->meta.dimension, 4u);
    EXPECT_EQ(d->records.size(), msg.count);
    for (size_t j = 0; j < d->records.size(); ++j) {
      const std::string& id = d->records.ids[j];
      EXPECT_EQ(ShardForId(id, 3), msg.shard.shard) << id;
      EXPECT_TRUE(seen_ids.insert(id).second) << id;
      const int i = std::stoi(id.substr(3));
      for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(d->records.embeddings[j * 4 + k], 0.25f * i - 0.5f * k);
      EXPECT_EQ(d->records.documents[j], event["documents"][i].is_null()
                                             ? std::nullopt
                                             : std::optional<std::string>(event["documents"][i].get<std::string>()));
      EXPECT_EQ(d->records.metadatas[j], event["metadatas"][i]);
    }
    // Create-only: the same key cannot be overwritten.
    PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    EXPECT_EQ(objects_->Put(key, "x", create_only).status().code(), StatusCode::kPreconditionFailed);
  }
  EXPECT_EQ(seen_ids.size(), 40u);
}

TEST_F(ProducerTest, PartialUpdateAndDeleteKeepTheirColumns) {
  nlohmann::json upd = {{"collection", "prod"},
                        {"operation", "update"},
                        {"ids", {"a", "b", "c"}},
                        {"embeddings", {{1.0, 2.0}, nullptr, nullptr}},
                        {"metadatas", {nullptr, {{"k", nullptr}}, nullptr}}};
  auto req = ParseProduceRequest(upd, "");
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ProducerOptions opts;  // one shard
  auto res = Produce(objects_.get(), queue_.get(), *req, opts);
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

  auto del = ParseProduceRequest({{"operation", "delete"}, {"ids", {"a", "zz"}}}, "prod");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  auto res2 = Produce(objects_.get(), queue_.get(), *del, opts);
  ASSERT_TRUE(res2.ok()) << res2.status().ToString();
  auto d2 = codec::DecodeDelta(*objects_->Get(res2->delta_keys[0]));
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_EQ(d2->meta.op, codec::DeltaOp::kDelete);
  EXPECT_EQ(d2->records.ids, (std::vector<std::string>{"a", "zz"}));
  EXPECT_EQ(ReceiveAll(2).size(), 2u);
}

TEST_F(ProducerTest, BadRequestsNameTheFieldAndWriteNothing) {
  struct Case {
    nlohmann::json event;
    std::string expect;  // substring of the message
  };
  nlohmann::json dup = Event("add", 3, 2);
  dup["ids"][2] = "id-0";
  nlohmann::json bad_meta = Event("upsert", 3, 2);
  bad_meta["metadatas"][1] = {{"tags", {{"x", 1}}}};
  nlohmann::json short_docs = Event("upsert", 3, 2);
  short_docs["documents"].erase(1);
  nlohmann::json wrong_dim = Event("upsert", 3, 2);
  wrong_dim["embeddings"][2] = {1.0, 2.0, 3.0};
  nlohmann::json no_emb = Event("add", 3, 2);
  no_emb.erase("embeddings");
  nlohmann::json bad_op = Event("add", 3, 2);
  bad_op["operation"] = "insert";
  nlohmann::json str_emb = Event("add", 3, 2);
  str_emb["embeddings"][1][0] = "x";
  const std::vector<Case> cases = {
      {dup, "ids[2]"},
      {bad_meta, "metadatas[1]"},
      {short_docs, "documents"},
      {wrong_dim, "embeddings[2]"},
      {no_emb, "embedding"},
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
      st = Produce(objects_.get(), queue_.get(), *req, opts).status();
    }
    EXPECT_TRUE(st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kResourceExhausted)
        << c.event.dump() << " -> " << st.ToString();
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << c.expect << " not in " << st.message();
  }
  auto listed = objects_->List("deltas/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  // Only the other tests' deltas (collection "prod"); none from here... and the queue is empty.
  auto none = queue_->Receive(10, 0, 60);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  size_t before = listed->size();
  auto req = ParseProduceRequest(dup, "");
  ASSERT_TRUE(req.ok());
  EXPECT_FALSE(Produce(objects_.get(), queue_.get(), *req, opts).ok());
  EXPECT_EQ(objects_->List("deltas/")->size(), before);
}

}  // namespace
}  // namespace chromapact::pipeline
