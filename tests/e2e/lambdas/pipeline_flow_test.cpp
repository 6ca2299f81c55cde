// End to end through the real bootstraps: producer -> the shard's log in S3
// (sequence numbers from DynamoDB) + FIFO triggers -> the compactor's emulator polling SQS (moto,
// signature checking on) -> snapshots + DynamoDB pointer -> the query function, every hop a real
// process over real HTTP (lambda_stack.h). Checks: produce/compact/query (own nearest neighbour,
// documents, metadatas, where / where_document), upsert and delete after the next compaction,
// acknowledgements whose log positions increase, malformed or wrong-dimension producer events
// (typed errors naming the field, nothing written), the compactor's manual / scheduled / bad
// events, and lease contention: waited out when short, triggers handed off (not failed towards the
// DLQ) when long. Ordering, corrupt log entries, holes, budgets and crashes: ordered_log_test.cpp.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/lease.h"
#include "lambda_stack.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using Record = pipeline::fixture::ModelRecord;

constexpr int kDim = 8;

// A distinct vector per n (component 0 is n itself); every component a multiple of 0.25, so float32
// round trips through JSON exactly.
std::vector<float> Vec(int n) {
  std::vector<float> v(kDim);
  v[0] = static_cast<float>(n);
  for (int k = 1; k < kDim; ++k) v[k] = static_cast<float>((n * 31 + k * 17) % 23) / 4.0f;
  return v;
}

// A producer event writing `recs` (ids in map order) with `operation`; every record gives every column.
json WriteEvent(const std::string& collection, const std::string& operation, const Live& recs) {
  json e = {{"collection", collection}, {"operation", operation}};
  for (const auto& [id, r] : recs) {
    e["ids"].push_back(id);
    e["embeddings"].push_back(r.embedding);
    e["documents"].push_back(*r.document);
    e["metadatas"].push_back(r.metadata);
  }
  return e;
}

float SquaredL2(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t k = 0; k < a.size(); ++k) d += (a[k] - b[k]) * (a[k] - b[k]);
  return d;
}

// `n` ids "<prefix><i>" that ShardForId puts in `shard`.
std::vector<std::string> IdsInShard(const std::string& prefix, int shard, size_t n) {
  std::vector<std::string> ids;
  for (int i = 0; ids.size() < n; ++i) {
    const std::string id = prefix + std::to_string(i);
    if (pipeline::ShardForId(id, kStackShards) == shard) ids.push_back(id);
  }
  return ids;
}

class PipelineFlowTest : public LambdaStackTest {
 protected:
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

  static std::vector<std::string> IdsWhere(const Live& m, const std::function<bool(const Record&)>& pred) {
    std::vector<std::string> ids;
    for (const auto& [id, r] : m)
      if (pred(r)) ids.push_back(id);
    return ids;  // map order = sorted
  }
};

TEST_F(PipelineFlowTest, ProduceCompactQuery) {
  const std::string coll = "flow";
  Live model;
  for (int b = 0; b < 3; ++b) {
    Live batch;
    for (int i = 0; i < 20; ++i) {
      const std::string id = "flow-" + std::to_string(b) + "-" + std::to_string(i);
      batch[id] = {Vec(b * 20 + i),
                   "doc " + id + (i % 5 == 0 ? " alpha" : " beta"),
                   {{"batch", b}, {"i", i}, {"parity", i % 2 == 0 ? "even" : "odd"}}};
    }
    const pipeline::ProduceResult ack = ProduceOk(WriteEvent(coll, b == 0 ? "add" : "upsert", batch), 20);
    EXPECT_EQ(ack.log_positions.size(), static_cast<size_t>(kStackShards)) << "20 ids touch both shards";
    for (const auto& [id, r] : batch) model[id] = r;
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
    EXPECT_EQ(r.json["documents"][i][0], *model[order[i]].document);
    EXPECT_EQ(r.json["metadatas"][i][0], model[order[i]].metadata);
  }

  // where / where_document narrow get.
  EXPECT_EQ(GetIds(coll, {{"where", {{"parity", "even"}}}}),
            IdsWhere(model, [](const Record& x) { return x.metadata["parity"] == "even"; }));
  EXPECT_EQ(GetIds(coll, {{"where", {{"$and", {{{"batch", 1}}, {{"i", {{"$lt", 5}}}}}}}}}),
            IdsWhere(model, [](const Record& x) { return x.metadata["batch"] == 1 && x.metadata["i"] < 5; }));
  const auto alpha =
      IdsWhere(model, [](const Record& x) { return x.document->find("alpha") != std::string::npos; });
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
    if (x.metadata["parity"] == "even" && x.document->find("beta") != std::string::npos)
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
  Live model, first;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "m-" + std::to_string(i);
    first[id] = {Vec(100 + i), "doc " + id, {{"v", 1}, {"i", i}}};
  }
  ProduceOk(WriteEvent(coll, "add", first), 10);
  model = first;
  ExpectEventually(coll, model, seconds(40));

  Live changed;  // two changed records (vector, document, metadata: the same keys) and one new one
  for (int i : {1, 2, 10}) {
    const std::string id = "m-" + std::to_string(i);
    changed[id] = {Vec(200 + i), "doc " + id + " v2", {{"v", 2}, {"i", i}}};
  }
  ProduceOk(WriteEvent(coll, "upsert", changed), 3);
  for (const auto& [id, r] : changed) model[id] = r;
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
  struct Case {
    std::string name, body, field;
  };
  const std::vector<Case> cases = {
      {"missing ids", json({{"collection", coll}, {"embeddings", json::array({Vec(1)})}}).dump(), "ids"},
      {"mixed dimensions",
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
  // Nothing was written: no log entry, no sequence number taken, the collection does not exist.
  EXPECT_TRUE(Keys("deltas/" + coll + "/").empty());
  for (int s = 0; s < kStackShards; ++s) {
    auto last = pipeline::LastSequence(kv_.get(), {coll, s});
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_EQ(*last, 0u) << "shard " << s;
  }
  const InvokeReply count = Query({{"collection", coll}, {"action", "count"}});
  EXPECT_EQ(count.error_type(), "NotFound") << count.Describe();

  // The producer is still serving (a bad event is an error result, not a crash). Its first write
  // fixes the collection's dimension; a later request of another dimension is refused before
  // anything is appended, with Chroma's message.
  const std::string ok_coll = "malformed-ok";
  const Live ok = {{"ok-0", {Vec(7), "fine", {{"k", 1}}}}};
  ProduceOk(WriteEvent(ok_coll, "upsert", ok), 1);
  const auto before = Keys("deltas/" + ok_coll + "/");
  const InvokeReply other_dim = Produce(
      {{"collection", ok_coll}, {"ids", {"ok-1"}}, {"embeddings", {std::vector<float>(kDim - 1, 1.0f)}}});
  EXPECT_EQ(other_dim.error_type(), "InvalidArgument") << other_dim.Describe();
  EXPECT_NE(other_dim.error_message().find("embeddings: Collection expecting embedding with dimension of " +
                                           std::to_string(kDim) + ", got " + std::to_string(kDim - 1)),
            std::string::npos)
      << other_dim.Describe();
  EXPECT_EQ(Keys("deltas/" + ok_coll + "/"), before);
  ExpectEventually(ok_coll, ok, seconds(30));  // and the refused write never shows up
}

TEST_F(PipelineFlowTest, CompactorAnswersManualAndScheduledEventsAndRefusesBadOnes) {
  const int port = compactor_->invoke_port();  // the same function the SQS poller invokes
  const std::string coll = "manual";
  Live model;
  for (int s = 0; s < kStackShards; ++s) {
    for (const auto& id : IdsInShard("man-" + std::to_string(s) + "-", s, 2))
      model[id] = {Vec(700 + s), id, {{"s", s}}};
  }
  ProduceOk(WriteEvent(coll, "add", model), model.size());
  ExpectEventually(coll, model, seconds(30));
  // A manual cycle per shard once the triggers were handled: nothing left to apply, each shard at
  // the version and log position its last cycle committed.
  const InvokeReply manual = Invoke(port, {{"action", "compact"}, {"collection", coll}});
  ASSERT_TRUE(manual.ok()) << manual.Describe();
  ASSERT_EQ(manual.json["cycles"].size(), static_cast<size_t>(kStackShards)) << manual.body;
  for (int s = 0; s < kStackShards; ++s) {
    const json& c = manual.json["cycles"][s];
    EXPECT_EQ(c["shard"], coll + "#" + std::to_string(s)) << manual.body;
    EXPECT_EQ(c["status"], "OK") << manual.body;
    EXPECT_EQ(c["applied"], 0) << manual.body;
    EXPECT_EQ(c["skipped"], 0) << manual.body;
    EXPECT_EQ(c["rearmed"], false) << manual.body;
    EXPECT_EQ(c["log_position"], last_position_[coll + "#" + std::to_string(s)]) << manual.body;
    auto m = CurrentManifest({coll, s});
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(c["version"], 0) << "no new version: " << manual.body;
    EXPECT_EQ(m->log_position, c["log_position"].get<uint64_t>()) << manual.body;
  }
  // A scheduled event with no CHROMAPACT_COLLECTION configured, an unknown action, a record whose
  // body is no trigger: typed errors / a batch item failure, and the function keeps serving.
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
      port, {{"Records",
              json::array({{{"messageId", "m-1"}, {"receiptHandle", "r-1"}, {"body", "not a trigger"}}})}});
  ASSERT_TRUE(records.ok()) << records.Describe();
  EXPECT_EQ(records.json, json::parse(R"({"batchItemFailures": [{"itemIdentifier": "m-1"}]})"));
  const InvokeReply broken = InvokeRaw(port, "{\"Records\": [");
  EXPECT_EQ(broken.error_type(), "InvalidArgument") << broken.Describe();
  EXPECT_NE(broken.error_message().find("Records[0]"), std::string::npos) << broken.Describe();
}

// Another compactor holds shard 0's lease for a short while: the bootstrap waits it out
// (CHROMAPACT_LEASE_WAIT_MS) and then runs the cycle itself.
TEST_F(PipelineFlowTest, CompactorWaitsOutALeaseHeldByAnotherCompactor) {
  pipeline::LeaseTable leases(kv_.get(), pipeline::SystemClock::Default(), pipeline::LeaseOptions{1000});
  const pipeline::ShardId held{"leasewait", 0};
  auto other = leases.Acquire(held, "another-compactor");
  ASSERT_TRUE(other.ok()) << other.status().ToString();

  const InvokeReply manual =
      Invoke(compactor_->invoke_port(), {{"action", "compact"}, {"collection", "leasewait"}});
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

// Another compactor holds the shard's lease far longer than CHROMAPACT_LEASE_WAIT_MS: each
// invocation hands the trigger off (a new trigger, the old one deleted) instead of failing it, so
// the trigger goes round and round without a receive counting towards the DLQ; once the lease is
// released, the write is applied.
TEST_F(PipelineFlowTest, ALeaseHeldLongerThanTheWaitHandsTheTriggerOffInsteadOfFailingIt) {
  const std::string coll = "handoff";
  const pipeline::ShardId shard{coll, 0};
  pipeline::LeaseTable leases(kv_.get(), pipeline::SystemClock::Default(), pipeline::LeaseOptions{60000});
  auto other = leases.Acquire(shard, "another-compactor");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  const int64_t dlq_before = InQueue(dlq_url_);
  auto batches = [&] {
    const std::string log = compactor_->Log();
    size_t n = 0;
    for (size_t p = log.find("sqs: RequestId"); p != std::string::npos; p = log.find("sqs: RequestId", p + 1))
      ++n;
    return n;
  };
  const size_t batches_before = batches();

  Live model;
  for (const auto& id : IdsInShard("h-", 0, 3))
    model[id] = {Vec(800 + static_cast<int>(model.size())), id, {{"h", 1}}};
  ProduceOk(WriteEvent(coll, "upsert", model), model.size());
  // More deliveries than maxReceiveCount allows one message: each was a fresh, re-armed trigger.
  ASSERT_TRUE(WaitFor([&] { return batches() >= batches_before + kStackMaxReceiveCount + 1; }, seconds(30)))
      << "the trigger was not handed off repeatedly";
  auto pointer = kv_->Get({{pipeline::kPartitionKey, aws::AttributeValue::S(pipeline::PointerKey(shard))}});
  ASSERT_TRUE(pointer.ok()) << pointer.status().ToString();
  EXPECT_FALSE(pointer->has_value()) << "nothing can commit while another compactor holds the lease";
  ASSERT_TRUE(leases.Release(*other).ok());
  ExpectEventually(coll, model, seconds(30));
  EXPECT_TRUE(WaitFor([&] { return InQueue(queue_url_) == 0; }, seconds(15))) << InQueue(queue_url_);
  EXPECT_EQ(InQueue(dlq_url_), dlq_before) << "a handed-off trigger never reaches the DLQ";
}

}  // namespace
}  // namespace chromapact::testing
