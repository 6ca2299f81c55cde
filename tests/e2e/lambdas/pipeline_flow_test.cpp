// End to end through the real bootstraps (issue 5 item 5): producer -> S3 deltas + FIFO messages ->
// the compactor's emulator polling SQS (moto, signature checking on) -> snapshots + DynamoDB pointer
// -> the query function, every hop a real process over real HTTP (lambda_stack.h). Checks:
// produce/compact/query (own nearest neighbour, documents, metadatas, where / where_document), upsert
// and delete after the next compaction, malformed producer events (typed errors naming the field,
// nothing written), corrupt deltas reaching the DLQ after maxReceiveCount while their batch-mates
// commit, and a compactor process killed at a named step (CHROMAPACT_CRASH_AT) losing nothing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/producer.h"
#include "lambda_stack.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;
using pipeline::kCompactStepCommitted;
using std::chrono::seconds;

constexpr int kDim = 8;

// A distinct vector per n (component 0 is n itself); every component a multiple of 0.25, so float32
// round trips through JSON exactly.
std::vector<float> Vec(int n) {
  std::vector<float> v(kDim);
  v[0] = static_cast<float>(n);
  for (int k = 1; k < kDim; ++k) v[k] = static_cast<float>((n * 31 + k * 17) % 23) / 4.0f;
  return v;
}

struct Record {
  std::vector<float> embedding;
  std::string document;
  json metadata;
  bool operator==(const Record& o) const {
    return embedding == o.embedding && document == o.document && metadata == o.metadata;
  }
};
using Model = std::map<std::string, Record>;

// A producer event writing `recs` (ids in map order) with `operation`.
json WriteEvent(const std::string& collection, const std::string& operation, const Model& recs) {
  json e = {{"collection", collection}, {"operation", operation}};
  for (const auto& [id, r] : recs) {
    e["ids"].push_back(id);
    e["embeddings"].push_back(r.embedding);
    e["documents"].push_back(r.document);
    e["metadatas"].push_back(r.metadata);
  }
  return e;
}

float SquaredL2(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t k = 0; k < a.size(); ++k) d += (a[k] - b[k]) * (a[k] - b[k]);
  return d;
}

class PipelineFlowTest : public LambdaStackTest {
 protected:
  // Invokes the producer; expects success and `n` records acknowledged. Applies `recs` to `model`.
  void ProduceOk(const json& event, size_t n, Model* model = nullptr, const Model* recs = nullptr) {
    const InvokeReply r = Produce(event);
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_EQ(r.json.value("count", 0u), n) << r.body;
    ASSERT_TRUE(r.json["delta_keys"].is_array()) << r.body;
    EXPECT_GE(r.json["delta_keys"].size(), 1u);
    for (const auto& k : r.json["delta_keys"]) {
      EXPECT_EQ(k.get<std::string>().rfind("deltas/" + event["collection"].get<std::string>() + "/", 0), 0u)
          << k;
    }
    if (model && recs) {
      for (const auto& [id, rec] : *recs) (*model)[id] = rec;
    }
  }

  // Everything the query function returns for `collection` (get, all columns), or an error text.
  static Result<Model> GetAll(const std::string& collection, std::vector<std::string>* ids_out = nullptr) {
    const InvokeReply r = Query({{"collection", collection},
                                 {"action", "get"},
                                 {"include", {"embeddings", "documents", "metadatas"}}});
    if (!r.ok()) return Unavailable(r.Describe());
    Model m;
    const json& j = r.json;
    for (size_t i = 0; i < j["ids"].size(); ++i) {
      Record rec;
      for (const auto& x : j["embeddings"][i]) rec.embedding.push_back(x.get<float>());
      rec.document = j["documents"][i].is_string() ? j["documents"][i].get<std::string>() : "<null>";
      rec.metadata = j["metadatas"][i];
      m[j["ids"][i].get<std::string>()] = rec;
      if (ids_out) ids_out->push_back(j["ids"][i].get<std::string>());
    }
    return m;
  }

  // Polls the query function until `collection` holds exactly `model` (deadline `timeout`); then
  // compares once more with a readable failure.
  void ExpectEventually(const std::string& collection, const Model& model, seconds timeout) {
    const bool done = WaitFor(
        [&] {
          auto got = GetAll(collection);
          return got.ok() && *got == model;
        },
        timeout);
    std::vector<std::string> ids;
    auto got = GetAll(collection, &ids);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(done) << "collection " << collection << " did not reach the model within " << timeout.count()
                      << " s";
    EXPECT_EQ(ids.size(), model.size()) << "every record exactly once";
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicate ids";
    for (const auto& [id, rec] : model) {
      auto it = got->find(id);
      if (it == got->end()) {
        ADD_FAILURE() << "acknowledged record missing: " << id;
        continue;
      }
      EXPECT_EQ(it->second.embedding, rec.embedding) << id;
      EXPECT_EQ(it->second.document, rec.document) << id;
      EXPECT_EQ(it->second.metadata, rec.metadata) << id;
    }
    for (const auto& [id, rec] : *got) EXPECT_TRUE(model.count(id)) << "unexpected record " << id;
    EXPECT_EQ(Count(collection), static_cast<int64_t>(model.size()));
  }

  static std::vector<std::string> GetIds(const std::string& collection, const json& filters) {
    json e = {{"collection", collection}, {"action", "get"}, {"include", json::array()}};
    e.update(filters);
    const InvokeReply r = Query(e);
    EXPECT_TRUE(r.ok()) << r.Describe();
    std::vector<std::string> ids;
    if (r.ok()) {
      for (const auto& id : r.json["ids"]) ids.push_back(id.get<std::string>());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Messages in the queue, visible or in flight.
  int64_t InQueue(const std::string& url) {
    return QueueNumber(url, "ApproximateNumberOfMessages") +
           QueueNumber(url, "ApproximateNumberOfMessagesNotVisible");
  }

  static std::vector<std::string> IdsWhere(const Model& m, const std::function<bool(const Record&)>& pred) {
    std::vector<std::string> ids;
    for (const auto& [id, r] : m)
      if (pred(r)) ids.push_back(id);
    return ids;  // map order = sorted
  }
};

TEST_F(PipelineFlowTest, ProduceCompactQuery) {
  const std::string coll = "flow";
  Model model;
  for (int b = 0; b < 3; ++b) {
    Model batch;
    for (int i = 0; i < 20; ++i) {
      const std::string id = "flow-" + std::to_string(b) + "-" + std::to_string(i);
      batch[id] = {Vec(b * 20 + i),
                   "doc " + id + (i % 5 == 0 ? " alpha" : " beta"),
                   {{"batch", b}, {"i", i}, {"parity", i % 2 == 0 ? "even" : "odd"}}};
    }
    ProduceOk(WriteEvent(coll, b == 0 ? "add" : "upsert", batch), 20, &model, &batch);
  }
  // The compactor runs from SQS on its own; poll the query function's count.
  ASSERT_TRUE(WaitFor([&] { return Count(coll) == static_cast<int64_t>(model.size()); }, seconds(40)))
      << "count " << Count(coll).value_or(-1) << " of " << model.size();
  ExpectEventually(coll, model, seconds(5));

  // Every id is its own nearest neighbour (one request, one query embedding per record).
  json q = {{"collection", coll}, {"n_results", 1}, {"include", {"documents", "metadatas", "distances"}}};
  std::vector<std::string> order;
  for (const auto& [id, r] : model) {
    q["query_embeddings"].push_back(r.embedding);
    order.push_back(id);
  }
  const InvokeReply r = Query(q);
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_EQ(r.json["ids"].size(), order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    ASSERT_EQ(r.json["ids"][i].size(), 1u);
    EXPECT_EQ(r.json["ids"][i][0], order[i]);
    EXPECT_NEAR(r.json["distances"][i][0].get<double>(), 0.0, 1e-6) << order[i];
    EXPECT_EQ(r.json["documents"][i][0], model[order[i]].document);
    EXPECT_EQ(r.json["metadatas"][i][0], model[order[i]].metadata);
  }

  // where / where_document narrow get.
  EXPECT_EQ(GetIds(coll, {{"where", {{"parity", "even"}}}}),
            IdsWhere(model, [](const Record& x) { return x.metadata["parity"] == "even"; }));
  EXPECT_EQ(GetIds(coll, {{"where", {{"$and", {{{"batch", 1}}, {{"i", {{"$lt", 5}}}}}}}}}),
            IdsWhere(model, [](const Record& x) { return x.metadata["batch"] == 1 && x.metadata["i"] < 5; }));
  const auto alpha =
      IdsWhere(model, [](const Record& x) { return x.document.find("alpha") != std::string::npos; });
  EXPECT_EQ(alpha.size(), 12u);
  EXPECT_EQ(GetIds(coll, {{"where_document", {{"$contains", "alpha"}}}}), alpha);
  EXPECT_EQ(GetIds(coll, {{"ids", {"flow-2-3", "flow-0-0", "no-such-id"}}}),
            (std::vector<std::string>{"flow-0-0", "flow-2-3"}));

  // A filtered query: an odd record's vector, only even records, top 3 = the brute-force top 3
  // distances (squared L2, Chroma's "l2"), compared by distance so ties cannot matter.
  const std::vector<float>& probe = model["flow-0-1"].embedding;
  const InvokeReply fq = Query({{"collection", coll},
                                {"query_embeddings", json::array({probe})},
                                {"n_results", 3},
                                {"where", {{"parity", "even"}}},
                                {"where_document", {{"$contains", "beta"}}},
                                {"include", {"metadatas", "distances", "documents"}}});
  ASSERT_TRUE(fq.ok()) << fq.Describe();
  std::vector<float> brute;
  for (const auto& [id, x] : model) {
    if (x.metadata["parity"] == "even" && x.document.find("beta") != std::string::npos)
      brute.push_back(SquaredL2(probe, x.embedding));
  }
  std::sort(brute.begin(), brute.end());
  ASSERT_EQ(fq.json["ids"][0].size(), 3u) << fq.body;
  for (size_t k = 0; k < 3; ++k) {
    const std::string id = fq.json["ids"][0][k];
    EXPECT_EQ(fq.json["metadatas"][0][k]["parity"], "even") << id;
    EXPECT_NE(fq.json["documents"][0][k].get<std::string>().find("beta"), std::string::npos) << id;
    EXPECT_NEAR(fq.json["distances"][0][k].get<double>(), SquaredL2(probe, model[id].embedding), 1e-3) << id;
    EXPECT_NEAR(fq.json["distances"][0][k].get<double>(), brute[k], 1e-3) << id;
  }

  // get with limit/offset, count, and the read-only query function refusing a write.
  const InvokeReply page = Query({{"collection", coll}, {"action", "get"}, {"limit", 7}, {"offset", 50}});
  ASSERT_TRUE(page.ok()) << page.Describe();
  EXPECT_EQ(page.json["ids"].size(), 7u);
  EXPECT_EQ(Count(coll), 60);
  const InvokeReply write = Query({{"collection", coll},
                                   {"action", "upsert"},
                                   {"ids", json::array({"flow-0-0"})},
                                   {"embeddings", json::array({Vec(999)})}});
  EXPECT_EQ(write.status, 200);
  EXPECT_EQ(write.function_error, "Unhandled") << write.Describe();
  EXPECT_EQ(write.error_type(), "NotSupported") << write.Describe();
  EXPECT_NE(write.error_message().find("upsert"), std::string::npos) << write.Describe();
  const InvokeReply unknown = Query({{"collection", "never-written"}, {"action", "count"}});
  EXPECT_EQ(unknown.function_error, "Unhandled") << unknown.Describe();
  EXPECT_EQ(unknown.error_type(), "NotFound") << unknown.Describe();
  ExpectEventually(coll, model, seconds(1));  // the refused write changed nothing
}

TEST_F(PipelineFlowTest, UpsertAndDeleteVisibleAfterTheNextCompaction) {
  const std::string coll = "mutate";
  Model model, first;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "m-" + std::to_string(i);
    first[id] = {Vec(100 + i), "doc " + id, {{"v", 1}, {"i", i}}};
  }
  ProduceOk(WriteEvent(coll, "add", first), 10, &model, &first);
  ExpectEventually(coll, model, seconds(40));

  Model changed;  // two changed records (vector, document, metadata) and one new one
  for (int i : {1, 2, 10}) {
    const std::string id = "m-" + std::to_string(i);
    changed[id] = {Vec(200 + i), "doc " + id + " v2", {{"v", 2}, {"i", i}}};
  }
  ProduceOk(WriteEvent(coll, "upsert", changed), 3, &model, &changed);
  ProduceOk({{"collection", coll}, {"operation", "delete"}, {"ids", {"m-3", "m-4"}}}, 2);
  model.erase("m-3");
  model.erase("m-4");
  ExpectEventually(coll, model, seconds(40));

  // The changed vector finds its record; the old one no longer matches exactly.
  const InvokeReply now =
      Query({{"collection", coll}, {"query_embeddings", {Vec(201), Vec(101)}}, {"n_results", 1}});
  ASSERT_TRUE(now.ok()) << now.Describe();
  EXPECT_EQ(now.json["ids"][0][0], "m-1");
  EXPECT_NEAR(now.json["distances"][0][0].get<double>(), 0.0, 1e-6);
  EXPECT_GT(now.json["distances"][1][0].get<double>(), 0.1) << now.body;
  EXPECT_TRUE(GetIds(coll, {{"ids", {"m-3", "m-4"}}}).empty());
  EXPECT_EQ(GetIds(coll, {{"where", {{"v", 2}}}}), (std::vector<std::string>{"m-1", "m-10", "m-2"}));
}

TEST_F(PipelineFlowTest, MalformedProducerEventsAreTypedErrorsAndWriteNothing) {
  const std::string coll = "malformed";
  const auto before = Keys("deltas/");
  struct Case {
    std::string name, body, field;
  };
  const std::vector<Case> cases = {
      {"missing ids", json({{"collection", coll}, {"embeddings", json::array({Vec(1)})}}).dump(), "ids"},
      {"wrong dimension",
       json({{"collection", coll},
             {"ids", {"a", "b"}},
             {"embeddings", {Vec(1), std::vector<float>(kDim - 1, 0.5f)}}})
           .dump(),
       "embeddings[1]"},
      // Python's json.dumps(float("nan")): not JSON, but the error still names the field.
      {"NaN", R"({"collection": "malformed", "ids": ["a", "b"], "embeddings": [[1, 2], [3, NaN]]})",
       "embeddings[1][1]"},
      // A valid JSON number that is not a finite float32.
      {"float32 overflow", R"({"collection": "malformed", "ids": ["a"], "embeddings": [[1, 2, 1e39]]})",
       "embeddings[0][2]"},
      {"mismatched documents",
       json({{"collection", coll},
             {"ids", {"a", "b"}},
             {"embeddings", {Vec(1), Vec(2)}},
             {"documents", json::array({"x"})}})
           .dump(),
       "documents"},
      {"duplicate ids",
       json({{"collection", coll}, {"ids", {"a", "a"}}, {"embeddings", {Vec(1), Vec(2)}}}).dump(), "ids[1]"},
  };
  for (const Case& c : cases) {
    const InvokeReply r = InvokeRaw(producer_->invoke_port(), c.body);
    EXPECT_EQ(r.status, 200) << c.name;
    EXPECT_EQ(r.function_error, "Unhandled") << c.name << ": " << r.Describe();
    EXPECT_EQ(r.error_type(), "InvalidArgument") << c.name << ": " << r.Describe();
    EXPECT_NE(r.error_message().find(c.field), std::string::npos)
        << c.name << ": the message should name " << c.field << ": " << r.error_message();
  }
  // Nothing was written: no delta object, no snapshot, the collection does not exist.
  EXPECT_EQ(Keys("deltas/"), before);
  EXPECT_TRUE(Keys("deltas/" + coll + "/").empty());
  const InvokeReply count = Query({{"collection", coll}, {"action", "count"}});
  EXPECT_EQ(count.error_type(), "NotFound") << count.Describe();
  // The producer is still serving (a bad event is an error result, not a crash).
  Model ok = {{"ok-0", {Vec(7), "fine", {{"k", 1}}}}};
  ProduceOk(WriteEvent("malformed-ok", "upsert", ok), 1);
}

TEST_F(PipelineFlowTest, CompactorAnswersManualAndScheduledEventsAndRefusesBadOnes) {
  const int port = compactor_->invoke_port();  // the same function the SQS poller invokes
  // A manual drain-only cycle per shard (drain is off here, so nothing to apply: both shards OK).
  const InvokeReply manual = Invoke(port, {{"action", "compact"}, {"collection", "flow"}});
  ASSERT_TRUE(manual.ok()) << manual.Describe();
  ASSERT_EQ(manual.json["cycles"].size(), static_cast<size_t>(kStackShards)) << manual.body;
  for (int s = 0; s < kStackShards; ++s) {
    EXPECT_EQ(manual.json["cycles"][s]["shard"], "flow#" + std::to_string(s)) << manual.body;
    EXPECT_EQ(manual.json["cycles"][s]["status"], "OK") << manual.body;
  }
  // A scheduled event with no CHROMAPACT_COLLECTION configured, an unknown action, a record whose
  // body is no delta message: typed errors / a batch item failure, and the function keeps serving.
  const InvokeReply scheduled = Invoke(port, {{"version", "0"},
                                              {"source", "aws.events"},
                                              {"detail-type", "Scheduled Event"},
                                              {"detail", json::object()}});
  EXPECT_EQ(scheduled.function_error, "Unhandled") << scheduled.Describe();
  EXPECT_EQ(scheduled.error_type(), "InvalidArgument") << scheduled.Describe();
  EXPECT_NE(scheduled.error_message().find("collection"), std::string::npos) << scheduled.Describe();
  const InvokeReply action = Invoke(port, {{"action", "explode"}});
  EXPECT_EQ(action.error_type(), "InvalidArgument") << action.Describe();
  EXPECT_NE(action.error_message().find("action"), std::string::npos) << action.Describe();
  const InvokeReply records = Invoke(
      port,
      {{"Records",
        json::array({{{"messageId", "m-1"}, {"receiptHandle", "r-1"}, {"body", "not a delta message"}}})}});
  ASSERT_TRUE(records.ok()) << records.Describe();
  EXPECT_EQ(records.json, json::parse(R"({"batchItemFailures": [{"itemIdentifier": "m-1"}]})"));
  const InvokeReply broken = InvokeRaw(port, "{\"Records\": [");
  EXPECT_EQ(broken.error_type(), "InvalidArgument") << broken.Describe();
  EXPECT_NE(broken.error_message().find("Records[0]"), std::string::npos) << broken.Describe();
}

// Another compactor holds shard 0's lease for a short while: the bootstrap waits it out
// (CHROMAPACT_LEASE_WAIT_MS) and then runs the cycle itself, instead of failing (which, for an SQS
// event, would hand healthy messages back and count a receive towards the DLQ).
TEST_F(PipelineFlowTest, CompactorWaitsOutALeaseHeldByAnotherCompactor) {
  aws::DynamoDbClient ddb(moto_->Config(*admin_));
  auto kv = pipeline::NewDynamoKvStore(&ddb, kStackTable);
  pipeline::SystemClock clock;
  pipeline::LeaseTable leases(kv.get(), &clock, pipeline::LeaseOptions{1500});
  const pipeline::ShardId held{"leasewait", 0};
  auto other = leases.Acquire(held, "another-compactor");
  ASSERT_TRUE(other.ok()) << other.status().ToString();

  const InvokeReply manual = Invoke(compactor_->invoke_port(), {{"action", "compact"}, {"collection", "leasewait"}});
  ASSERT_TRUE(manual.ok()) << manual.Describe();
  ASSERT_EQ(manual.json["cycles"].size(), static_cast<size_t>(kStackShards)) << manual.body;
  EXPECT_EQ(manual.json["cycles"][0]["status"], "OK") << manual.body;
  // The compactor took the lease after the other holder's expiry: a larger fence, released again.
  auto state = leases.Read(held);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_TRUE(state->has_value());
  EXPECT_GT((*state)->fence, other->fence);
  EXPECT_EQ((*state)->owner, "");
}

TEST_F(PipelineFlowTest, CorruptDeltasReachTheDlqWhileTheirBatchMatesCommit) {
  const std::string coll = "corrupt";
  Model model, seed;
  for (int i = 0; i < 6; ++i)
    seed["k-" + std::to_string(i)] = {Vec(500 + i), "seed " + std::to_string(i), {{"i", i}}};
  const InvokeReply produced = Produce(WriteEvent(coll, "upsert", seed));
  ASSERT_TRUE(produced.ok()) << produced.Describe();
  model = seed;
  ExpectEventually(coll, model, seconds(40));
  const int64_t dlq_before = InQueue(dlq_url_);

  // A truncated copy of a real delta the producer wrote, and a garbage object, each announced by a
  // valid-looking message; between them two good deltas of three records each, all in one batch.
  const std::string real_key = produced.json["delta_keys"][0];
  auto real = s3_->GetObject(kStackBucket, real_key);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  const int real_shard = std::stoi(real_key.substr(std::string("deltas/" + coll + "/").size()));
  struct Planned {
    pipeline::ShardId shard;
    std::string delta_id, bytes;
    size_t count;
  };
  std::vector<Planned> plan;
  auto new_id = [] {
    auto id = codec::NewUlid();
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : std::string();
  };
  Model mates;
  for (int m = 0; m < 2; ++m) {
    codec::Delta d;
    d.meta.op = codec::DeltaOp::kUpsert;
    d.meta.collection = coll;
    d.meta.shard = 0;
    d.meta.delta_id = new_id();
    d.meta.created_at_ms = 1764000000000;
    d.meta.dimension = kDim;
    for (int i = 0; i < 40 && d.records.ids.size() < 3; ++i) {  // ids that live in shard 0
      const std::string id = "mate-" + std::to_string(m) + "-" + std::to_string(i);
      if (pipeline::ShardForId(id, kStackShards) != 0) continue;
      const Record rec{Vec(600 + m * 40 + i), "mate " + id, {{"mate", m}}};
      d.records.ids.push_back(id);
      d.records.embeddings.insert(d.records.embeddings.end(), rec.embedding.begin(), rec.embedding.end());
      d.records.documents.push_back(rec.document);
      d.records.metadatas.push_back(rec.metadata);
      mates[id] = rec;
    }
    ASSERT_EQ(d.records.ids.size(), 3u);
    auto bytes = codec::EncodeDelta(d);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    plan.push_back({{coll, 0}, d.meta.delta_id, *bytes, 3});
    if (m == 0) plan.push_back({{coll, 0}, new_id(), "this is not a chromapact delta", 4});
  }
  plan.push_back({{coll, real_shard}, new_id(), real->body.substr(0, real->body.size() / 2), seed.size()});
  std::vector<aws::SendMessageBatchEntry> entries;
  std::set<std::string> bad_keys;
  for (size_t i = 0; i < plan.size(); ++i) {
    const std::string key = pipeline::DeltaKey(plan[i].shard, plan[i].delta_id);
    auto put = s3_->PutObject(kStackBucket, key, plan[i].bytes);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    if (i == 1 || i == 3) bad_keys.insert(key);
    aws::SendMessageBatchEntry e;
    e.id = "m" + std::to_string(i);
    e.body = pipeline::EncodeDeltaMessage({key, plan[i].shard, plan[i].delta_id, plan[i].count});
    e.message_group_id = plan[i].shard.ToString();
    e.message_deduplication_id = plan[i].delta_id;
    entries.push_back(e);
  }
  auto sent = sqs_->SendMessageBatch(queue_url_, entries);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_TRUE(sent->failed.empty());
  for (const auto& [id, rec] : mates) model[id] = rec;

  // The batch-mates commit (on the first delivery: they do not wait for the bad ones).
  ExpectEventually(coll, model, seconds(30));
  // The bad ones fail every delivery and, after maxReceiveCount, move to the DLQ.
  ASSERT_TRUE(WaitFor([&] { return InQueue(dlq_url_) >= dlq_before + 2; }, seconds(45)))
      << "DLQ holds " << InQueue(dlq_url_);
  std::set<std::string> in_dlq;
  WaitFor(
      [&] {
        aws::ReceiveMessageRequest req;
        req.queue_url = dlq_url_;
        req.max_number_of_messages = 10;
        req.wait_time_seconds = 1;
        req.visibility_timeout = 60;
        req.system_attribute_names = {"All"};
        auto got = sqs_->ReceiveMessage(req);
        if (got.ok()) {
          for (const auto& m : *got) {
            auto dm = pipeline::ParseDeltaMessage(m.body);
            if (dm.ok() && dm->shard.collection == coll) in_dlq.insert(dm->delta_key);
            EXPECT_GE(std::stoi(m.attributes.count("ApproximateReceiveCount")
                                    ? m.attributes.at("ApproximateReceiveCount")
                                    : "99"),
                      kStackMaxReceiveCount);
          }
        }
        return in_dlq.size() >= bad_keys.size();
      },
      seconds(10));
  EXPECT_EQ(in_dlq, bad_keys);
  // Nothing of it is left in the delta queue, and the collection still equals the model.
  EXPECT_TRUE(WaitFor(
      [&] {
        return QueueNumber(queue_url_, "ApproximateNumberOfMessages") == 0 &&
               QueueNumber(queue_url_, "ApproximateNumberOfMessagesNotVisible") == 0;
      },
      seconds(15)));
  ExpectEventually(coll, model, seconds(1));
}

TEST_F(PipelineFlowTest, CompactorKilledMidInvocationLosesNothing) {
  const std::string coll = "crash";
  const int64_t dlq_before = InQueue(dlq_url_);
  { std::ofstream(crash_file_) << kCrashStep << "\n"; }  // the next cycle reaching it _exit()s
  Model model;
  for (int b = 0; b < 3; ++b) {
    Model batch;
    for (int i = 0; i < 8; ++i) {
      const std::string id = "c-" + std::to_string(b * 8 + i);
      batch[id] = {Vec(300 + b * 8 + i), "crash " + id, {{"batch", b}}};
    }
    ProduceOk(WriteEvent(coll, "upsert", batch), 8, &model, &batch);
  }
  // Later writes of the same ids: under moto's FIFO redelivery order (aws-notes.md §9) they may be
  // delivered before the batches they overwrite; last writer by ULID must still win.
  Model later;
  for (int i = 0; i < 4; ++i) later["c-" + std::to_string(i)] = {Vec(400 + i), "crash v2", {{"batch", 9}}};
  ProduceOk(WriteEvent(coll, "upsert", later), 4, &model, &later);
  ProduceOk({{"collection", coll}, {"operation", "delete"}, {"ids", {"c-4", "c-20"}}}, 2);
  model.erase("c-4");
  model.erase("c-20");

  // The compactor process died at the named step (the emulator reports Runtime.ExitError and starts
  // a fresh bootstrap); the batch returns after its visibility timeout and commits.
  // The dead cycle's upload is an orphan no pointer names.
  ASSERT_TRUE(WaitFor([&] { return !std::ifstream(crash_file_).good(); }, seconds(20)))
      << "the compactor never reached " << kCrashStep;
  ExpectEventually(coll, model, seconds(45));
  std::string log = compactor_->Log();
  EXPECT_NE(log.find(std::string("\"test crash point\",\"step\":\"") + kCrashStep), std::string::npos);
  EXPECT_NE(log.find("Runtime.ExitError"), std::string::npos) << Tail(log, 3000);

  // Round 2: killed after its pointer CAS won but before it deleted the messages. The redelivered
  // messages' deltas are in the committed version: deleted without being applied twice.
  { std::ofstream(crash_file_) << kCompactStepCommitted << "\n"; }
  Model again;
  for (int i : {1, 2, 30, 31}) again["c-" + std::to_string(i)] = {Vec(450 + i), "crash v3", {{"batch", 10}}};
  ProduceOk(WriteEvent(coll, "upsert", again), 4, &model, &again);
  ASSERT_TRUE(WaitFor([&] { return !std::ifstream(crash_file_).good(); }, seconds(20)))
      << "the compactor never reached " << kCompactStepCommitted;
  ExpectEventually(coll, model, seconds(45));
  log = compactor_->Log();
  EXPECT_NE(log.find(std::string("\"test crash point\",\"step\":\"") + kCompactStepCommitted),
            std::string::npos);
  // Every message was settled: none left in the delta queue, none went to the DLQ.
  EXPECT_TRUE(WaitFor([&] { return InQueue(queue_url_) == 0; }, seconds(15))) << InQueue(queue_url_);
  EXPECT_EQ(InQueue(dlq_url_), dlq_before);
  // Vectors of the surviving records are exact: each is its own nearest neighbour.
  json q = {{"collection", coll}, {"n_results", 1}};
  std::vector<std::string> order;
  for (const auto& [id, r] : model) {
    q["query_embeddings"].push_back(r.embedding);
    order.push_back(id);
  }
  const InvokeReply r = Query(q);
  ASSERT_TRUE(r.ok()) << r.Describe();
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(r.json["ids"][i][0], order[i]);
}

}  // namespace
}  // namespace chromapact::testing
