// The ordered per-shard log end to end (docs/design/log.md), through the real bootstraps and the
// compactor's SQS event source (lambda_stack.h): what the query function's `get` returns equals a
// model of Chroma 1.5.9's write semantics (tests/support/pipeline_fixture.h, written from
// docs/chroma-format.md §7) applied in the order the producer acknowledged the writes. Checks: a mixed
// sequence of add / metadata-only update / upsert / delete / re-add; corrupt log entries skipped,
// reported to the DLQ (also beyond a cycle's budget), later writes applied; a hole (a sequence number
// taken, never written) voided after the hole timeout; a cycle stopped by its budget re-arming the
// shard; and the compactor process killed at every named step of its cycle losing nothing and
// applying nothing twice.
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/log.h"
#include "lambda_stack.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;
using pipeline::fixture::Op;
using std::chrono::seconds;
using DeltaOp = codec::DeltaOp;

const char* OpName(DeltaOp op) {
  switch (op) {
    case DeltaOp::kAdd: return "add";
    case DeltaOp::kUpsert: return "upsert";
    case DeltaOp::kUpdate: return "update";
    case DeltaOp::kDelete: return "delete";
  }
  return "?";
}

// The producer event of `op`, with the fixture's contents (pipeline_fixture.h RequestFor).
json EventFor(const std::string& collection, const Op& op) {
  json e = {{"collection", collection}, {"operation", OpName(op.op)}, {"ids", op.ids}};
  if (op.op == DeltaOp::kDelete) return e;
  for (const auto& id : op.ids) {
    if (op.embedding) e["embeddings"].push_back(pipeline::fixture::EmbeddingFor(id, op.seed));
    if (op.document) e["documents"].push_back(pipeline::fixture::DocumentFor(id, op.seed));
    if (op.metadata) e["metadatas"].push_back(pipeline::fixture::SentMetadata(op, id));
  }
  return e;
}

// `op` giving only the columns named (update: the others unchanged; upsert: embedding required),
// with `null_keys` sent as null metadata values (Chroma deletes those keys).
Op Cols(Op op, bool embedding, bool document, bool metadata, std::vector<std::string> null_keys = {}) {
  op.embedding = embedding;
  op.document = document;
  op.metadata = metadata;
  op.null_keys = std::move(null_keys);
  return op;
}

// "<prefix><i>" for i in [from, to) stepping by `step`, optionally only those of `shard`.
std::vector<std::string> Ids(const std::string& prefix, int from, int to, int step = 1, int shard = -1) {
  std::vector<std::string> ids;
  for (int i = from; i < to; i += step) {
    const std::string id = prefix + std::to_string(i);
    if (shard < 0 || pipeline::ShardForId(id, kStackShards) == shard) ids.push_back(id);
  }
  return ids;
}
std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A queue whose sends are lost: a producer that appended to the log but whose trigger never arrived.
class LostTriggers : public pipeline::Queue {
 public:
  Result<std::string> Send(const pipeline::QueueSend&) override { return std::string("lost"); }
  Result<std::vector<pipeline::QueueMessage>> Receive(int, int, int) override {
    return std::vector<pipeline::QueueMessage>{};
  }
  Result<std::vector<pipeline::ReceiptFailure>> DeleteBatch(const std::vector<std::string>&) override {
    return std::vector<pipeline::ReceiptFailure>{};
  }
  Result<std::vector<pipeline::ReceiptFailure>> ChangeVisibility(const std::vector<std::string>&,
                                                                 int) override {
    return std::vector<pipeline::ReceiptFailure>{};
  }
};

class OrderedLogTest : public LambdaStackTest {
 protected:
  // `op` through the producer function; once acknowledged, into `model` at its log positions.
  pipeline::ProduceResult Write(const std::string& collection, const Op& op,
                                pipeline::fixture::Model* model) {
    const pipeline::ProduceResult ack = ProduceOk(EventFor(collection, op), op.ids.size());
    if (!ack.log_positions.empty()) model->Acknowledged(op, ack, kStackShards);
    return ack;
  }
  // `op` appended by the producer's library with its trigger lost (LostTriggers).
  void WriteWithoutTrigger(const std::string& collection, const Op& op, pipeline::fixture::Model* model) {
    LostTriggers lost;
    auto ack =
        pipeline::fixture::Write(kv_.get(), objects_.get(), &lost, collection, op, model, kStackShards);
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    for (const auto& p : ack->log_positions) NotePosition({collection, p.shard}, p.log_position);
  }
  // Appends `bytes` at the next log position of `shard`, as a producer would (a sequence number,
  // a create-only PUT), and sends its trigger unless `trigger` is false. Returns the position.
  uint64_t AppendRaw(const pipeline::ShardId& shard, const std::string& bytes, bool trigger = true) {
    auto seq = pipeline::NextSequence(kv_.get(), shard);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    if (!seq.ok()) return 0;
    pipeline::PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    auto put = objects_->Put(pipeline::LogKey(shard, *seq), bytes, create_only);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    if (trigger) {
      EXPECT_TRUE(pipeline::fixture::SendTrigger(queue_.get(), shard, *seq).ok());
    }
    NotePosition(shard, *seq);
    return *seq;
  }
  // Every shard's current version covers its whole log: log_position = the last number taken.
  void ExpectWholeLogApplied(const std::string& collection) {
    for (int s = 0; s < kStackShards; ++s) {
      auto last = pipeline::LastSequence(kv_.get(), {collection, s});
      ASSERT_TRUE(last.ok()) << last.status().ToString();
      if (*last == 0) continue;
      auto m = CurrentManifest({collection, s});
      ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->log_position, *last) << collection << "#" << s;
    }
  }
  // The DLQ's reports of `collection`'s skipped entries by log position (the compactor's own
  // messages, CHROMAPACT_DLQ_URL: {collection, shard, log_position, delta_key, reason, version}),
  // received until `want` were seen (10 s at most). A trigger in the DLQ is a failure: with the
  // direct reports no healthy trigger may follow a bad one there (FIFO's partial-batch rule).
  std::map<uint64_t, json> DlqReports(const std::string& collection, size_t want) {
    std::map<uint64_t, json> reports;
    WaitFor(
        [&] {
          aws::ReceiveMessageRequest req;
          req.queue_url = dlq_url_;
          req.max_number_of_messages = 10;
          req.wait_time_seconds = 1;
          req.visibility_timeout = 60;
          auto got = sqs_->ReceiveMessage(req);
          for (const auto& msg : got.ok() ? *got : std::vector<aws::SqsMessage>{}) {
            const json j = json::parse(msg.body, nullptr, false);
            if (!j.is_object() || j.value("collection", "") != collection) continue;
            EXPECT_TRUE(j.contains("reason")) << "a trigger in the DLQ: " << msg.body;
            reports[j.value("log_position", uint64_t{0})] = j;
          }
          return reports.size() >= want;
        },
        seconds(10));
    return reports;
  }
  // The compactor log's count of `needle`.
  size_t LogCount(const std::string& needle) {
    const std::string log = compactor_->Log();
    size_t n = 0;
    for (size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
    return n;
  }
};

// The issue's scenario, small: 200 records, then in acknowledged order update with metadata only
// (one key deleted by null; absent ids ignored), upsert (metadata merged; new ids inserted), update
// of documents only, delete (absent ids ignored), re-add (deleted ids come back, existing ones
// unchanged), update of embeddings only, and a metadata emptied key by key (reads back null).
TEST_F(OrderedLogTest, GetEqualsChromaSemanticsAppliedInAcknowledgedOrder) {
  const std::string coll = "semantics";
  const auto t0 = std::chrono::steady_clock::now();
  pipeline::fixture::Model model;
  for (int b = 0; b < 4; ++b) Write(coll, {DeltaOp::kAdd, Ids("s-", b * 50, b * 50 + 50), 1}, &model);
  Write(coll,
        Cols({DeltaOp::kUpdate, Ids("s-", 0, 200, 3) + Ids("s-", 900, 902), 2}, false, false, true, {"m1"}),
        &model);
  Write(coll, {DeltaOp::kUpsert, Ids("s-", 0, 220, 5), 3}, &model);
  Write(coll, Cols({DeltaOp::kUpdate, Ids("s-", 1, 200, 7), 4}, false, true, false), &model);
  Write(coll, {DeltaOp::kDelete, Ids("s-", 0, 200, 4) + Ids("s-", 950, 951)}, &model);
  Write(coll, {DeltaOp::kAdd, Ids("s-", 0, 200, 8) + Ids("s-", 3, 200, 6), 5}, &model);
  Write(coll, Cols({DeltaOp::kUpdate, Ids("s-", 2, 200, 9), 6}, true, false, false), &model);
  Write(coll, {DeltaOp::kUpsert, Ids("s-", 300, 302), 8}, &model);
  Write(coll, Cols({DeltaOp::kUpdate, Ids("s-", 300, 301), 8}, false, false, true, {"seed", "id", "m0"}),
        &model);

  const Live live = model.Live();
  ASSERT_EQ(live.at("s-300").metadata, nullptr) << "the model empties a metadata key by key";
  ExpectEventually(coll, live, seconds(30));
  // get by ids: every id ever written, deleted or never created: exactly the live ones come back.
  const std::vector<std::string> universe =
      Ids("s-", 0, 220) + Ids("s-", 300, 302) + Ids("s-", 900, 902) + Ids("s-", 950, 951);
  auto by_ids = GetAll(coll, nullptr, universe);
  ASSERT_TRUE(by_ids.ok()) << by_ids.status().ToString();
  EXPECT_EQ(*by_ids, live);
  ExpectWholeLogApplied(coll);
  std::cerr
      << "semantics scenario: " << model.writes() << " log entries, " << live.size() << " live records, "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
      << " ms until visible\n";
}

TEST_F(OrderedLogTest, CorruptEntriesAreSkippedReportedToTheDlqAndLaterWritesApply) {
  const std::string coll = "corrupt";
  const pipeline::ShardId shard{coll, 0};
  pipeline::fixture::Model model;
  const pipeline::ProduceResult seeded = Write(coll, {DeltaOp::kAdd, Ids("k-", 0, 30, 1, 0), 1}, &model);
  ASSERT_EQ(seeded.delta_keys.size(), 1u);
  ExpectEventually(coll, model.Live(), seconds(30));
  const int64_t dlq_before = InQueue(dlq_url_);
  auto real = s3_->GetObject(kStackBucket, seeded.delta_keys[0]);
  ASSERT_TRUE(real.ok()) << real.status().ToString();

  // Three entries that can never apply, each announced by its trigger and followed by a good write
  // of the same shard: garbage, a truncated copy of a real delta, and a valid delta of shard 1 at a
  // position of shard 0's log.
  std::set<uint64_t> bad;
  bad.insert(AppendRaw(shard, "this is not a chromapact delta"));
  Write(coll, {DeltaOp::kUpsert, Ids("g-", 0, 10, 1, 0), 2}, &model);
  bad.insert(AppendRaw(shard, real->body.substr(0, real->body.size() / 2)));
  Write(coll, Cols({DeltaOp::kUpdate, Ids("k-", 0, 30, 2, 0), 3}, false, false, true), &model);
  bad.insert(AppendRaw(shard, pipeline::fixture::EncodeOp({coll, 1}, {DeltaOp::kUpsert, {"elsewhere"}, 4})));
  Write(coll, {DeltaOp::kDelete, Ids("k-", 0, 30, 3, 0)}, &model);
  ExpectEventually(coll, model.Live(), seconds(30));

  // The skipped entries are recorded in the version that passed over them ...
  auto m = CurrentManifest(shard);
  ASSERT_TRUE(m.has_value());
  std::set<uint64_t> skipped;
  for (const auto& s : m->skipped) skipped.insert(s.log_position);
  EXPECT_EQ(skipped, bad);
  ExpectWholeLogApplied(coll);
  // ... and reported to the DLQ once each, with the reason; every trigger was settled.
  const std::map<uint64_t, json> reports = DlqReports(coll, bad.size());
  std::set<uint64_t> reported;
  for (const auto& [pos, j] : reports) {
    reported.insert(pos);
    EXPECT_EQ(j.value("delta_key", ""), pipeline::LogKey(shard, pos)) << j.dump();
    EXPECT_FALSE(j.value("reason", "").empty()) << j.dump();
    EXPECT_GE(j.value("version", 0), 1) << j.dump();
  }
  EXPECT_EQ(reported, bad);
  EXPECT_TRUE(WaitFor([&] { return InQueue(queue_url_) == 0; }, seconds(15))) << InQueue(queue_url_);
  EXPECT_EQ(InQueue(dlq_url_), dlq_before + static_cast<int64_t>(bad.size()));
  ExpectEventually(coll, model.Live(), seconds(1));
}

// One SQS event holds the triggers of entries 1..5 while the budget is 3: the cycle applies 1..3,
// re-arms and deletes the triggers of 4 and 5 as handed off. The next cycle, holding only the
// re-armed trigger, skips entry 4: it is still reported (a report must not depend on whether the
// skipped entry's own trigger is in hand).
TEST_F(OrderedLogTest, AnEntrySkippedBeyondTheBudgetIsStillReported) {
  const std::string coll = "late-bad";
  const pipeline::ShardId shard{coll, 0};
  pipeline::fixture::Model model;
  const std::vector<std::string> ids = Ids("l-", 0, 40, 1, 0);
  for (int i = 0; i < kStackMaxDeltas; ++i) {
    WriteWithoutTrigger(coll, {DeltaOp::kUpsert, {ids[i]}, 1}, &model);
  }
  const uint64_t bad = AppendRaw(shard, "this is not a chromapact delta", /*trigger=*/false);
  WriteWithoutTrigger(coll, {DeltaOp::kUpsert, {ids[kStackMaxDeltas]}, 2}, &model);
  std::vector<aws::SendMessageBatchEntry> entries;  // every entry's trigger at once: one SQS event
  for (uint64_t pos = 1; pos <= bad + 1; ++pos) {
    aws::SendMessageBatchEntry e;
    e.id = "t" + std::to_string(pos);
    e.body = pipeline::EncodeDeltaMessage({shard, pos, pipeline::LogKey(shard, pos)});
    e.message_group_id = pipeline::MessageGroupFor(shard);
    e.message_deduplication_id = pipeline::TriggerDedupId(shard, pos);
    entries.push_back(e);
  }
  auto sent = sqs_->SendMessageBatch(queue_url_, entries);
  ASSERT_TRUE(sent.ok() && sent->failed.empty()) << sent.status().ToString();
  ExpectEventually(coll, model.Live(), seconds(30));
  const std::map<uint64_t, json> reports = DlqReports(coll, 1);
  EXPECT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports.count(bad), 1u) << "the skipped entry " << bad << " was not reported";
}

// A compactor that dies right after the commit that skipped an entry: its report went out before
// the commit (it failed when the report was sent after it: no later cycle skips the entry again).
TEST_F(OrderedLogTest, ASkippedEntryIsReportedEvenWhenTheCompactorDiesAfterCommitting) {
  const std::string coll = "bad-crash";
  const pipeline::ShardId shard{coll, 0};
  pipeline::fixture::Model model;
  { std::ofstream(crash_file_) << pipeline::kCompactStepCommitted << "\n"; }
  const uint64_t bad = AppendRaw(shard, "this is not a chromapact delta", /*trigger=*/false);
  Write(coll, {DeltaOp::kUpsert, Ids("bc-", 0, 10, 1, 0), 1}, &model);
  ASSERT_TRUE(WaitFor([&] { return !std::ifstream(crash_file_).good(); }, seconds(30)));
  ExpectEventually(coll, model.Live(), seconds(30));
  const std::map<uint64_t, json> reports = DlqReports(coll, 1);
  EXPECT_EQ(reports.count(bad), 1u) << "the skipped entry " << bad << " was not reported";
}

TEST_F(OrderedLogTest, AHoleIsVoidedAfterTheHoleTimeoutAndALateWriteThereLoses) {
  const std::string coll = "hole";
  const pipeline::ShardId shard{coll, 0};
  pipeline::fixture::Model model;
  Write(coll, {DeltaOp::kAdd, Ids("o-", 0, 10, 1, 0), 1}, &model);
  ExpectEventually(coll, model.Live(), seconds(30));
  // A producer took a number and died before its PUT; the next write lands after the hole.
  auto lost = pipeline::NextSequence(kv_.get(), shard);
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  NotePosition(shard, *lost);
  const auto t0 = std::chrono::steady_clock::now();
  Write(coll, {DeltaOp::kUpsert, Ids("o-", 5, 20, 1, 0), 2}, &model);
  ExpectEventually(coll, model.Live(), seconds(30));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(kStackHoleTimeoutMs - 1000))
      << "applied past the hole before the hole timeout";
  auto marker = objects_->Get(pipeline::LogKey(shard, *lost));
  ASSERT_TRUE(marker.ok()) << marker.status().ToString();
  EXPECT_TRUE(pipeline::IsVoidMarker(*marker)) << *marker;
  // The late producer's create-only PUT loses to the marker: it could not acknowledge.
  pipeline::PutObjectOptions create_only;
  create_only.if_none_match_any = true;
  auto late = objects_->Put(pipeline::LogKey(shard, *lost),
                            pipeline::fixture::EncodeOp(shard, {DeltaOp::kUpsert, {"late"}, 3}), create_only);
  EXPECT_EQ(late.status().code(), StatusCode::kPreconditionFailed) << late.status().ToString();
  auto m = CurrentManifest(shard);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->skipped.empty());
  ExpectWholeLogApplied(coll);
}

// Entries whose triggers were lost are still applied, and a cycle stops at CHROMAPACT_MAX_DELTAS:
// the manual cycle applies exactly the budget and re-arms; the re-armed trigger (the only one
// ever sent) lets the SQS event source finish the shard.
TEST_F(OrderedLogTest, ACycleStopsAtItsBudgetAndTheReArmedTriggerFinishesTheShard) {
  const std::string coll = "budget";
  pipeline::fixture::Model model;
  const std::vector<std::string> ids = Ids("b-", 0, 40, 1, 0);
  for (int i = 0; i < 2 * kStackMaxDeltas + 1; ++i) {
    WriteWithoutTrigger(coll, {DeltaOp::kUpsert, {ids[i], ids[i + 1]}, 10 + i}, &model);
  }
  const InvokeReply manual = Invoke(compactor_->invoke_port(), {{"action", "compact"}, {"collection", coll}});
  ASSERT_TRUE(manual.ok()) << manual.Describe();
  const json& c = manual.json["cycles"][0];
  EXPECT_EQ(c["status"], "OK") << manual.body;
  EXPECT_EQ(c["applied"], kStackMaxDeltas) << manual.body;
  EXPECT_EQ(c["log_position"], kStackMaxDeltas) << manual.body;
  EXPECT_EQ(c["rearmed"], true) << manual.body;
  ExpectEventually(coll, model.Live(), seconds(30));
  ExpectWholeLogApplied(coll);
}

// The compactor process _exit()s at each named step in turn (CHROMAPACT_CRASH_FILE names it); the
// emulator reports Runtime.ExitError, the batch comes back after the visibility timeout and a fresh
// process finishes it. Each round writes an update of absent ids followed by an add of the same
// ids: in order, the add wins; applied twice (the update again on top) or out of order, the
// update's contents would show.
TEST_F(OrderedLogTest, CompactorKilledAtEveryStepLosesNothingAndAppliesNothingTwice) {
  const std::string coll = "crash";
  // Earlier tests' triggers settle first, so that each armed step can only meet this test's batches.
  ASSERT_TRUE(WaitFor([&] { return InQueue(queue_url_) == 0; }, seconds(30))) << InQueue(queue_url_);
  const int64_t dlq_before = InQueue(dlq_url_);
  pipeline::fixture::Model model;
  const std::vector<const char*> steps = {pipeline::kCompactStepListed,       pipeline::kCompactStepMerged,
                                          pipeline::kCompactStepMidUpload,    pipeline::kCompactStepUploaded,
                                          pipeline::kCompactStepCommitted,    pipeline::kCompactStepRearmed,
                                          pipeline::kCompactStepBeforeRelease};
  for (size_t r = 0; r < steps.size(); ++r) {
    SCOPED_TRACE(steps[r]);
    const size_t crashes_before = LogCount(std::string("\"test crash point\",\"step\":\"") + steps[r]);
    { std::ofstream(crash_file_) << steps[r] << "\n"; }
    const std::string p = "c" + std::to_string(r) + "-";
    const int seed = static_cast<int>(r) * 10;
    if (std::string(steps[r]) == pipeline::kCompactStepRearmed) {
      // More untriggered entries than one cycle's budget: the next cycle of shard 0 must re-arm.
      const std::vector<std::string> pre = Ids(p + "pre", 0, 40, 1, 0);
      for (int i = 0; i <= kStackMaxDeltas; ++i) {
        WriteWithoutTrigger(coll, {DeltaOp::kUpsert, {pre[i]}, seed + 9}, &model);
      }
    }
    Write(coll, {DeltaOp::kUpdate, Ids(p, 0, 6), seed + 1}, &model);
    Write(coll, {DeltaOp::kAdd, Ids(p, 0, 6), seed + 2}, &model);
    if (r > 0) {
      const std::string prev = "c" + std::to_string(r - 1) + "-";
      Write(coll, Cols({DeltaOp::kUpsert, Ids(prev, 0, 2), seed + 3}, true, false, true, {"seed"}), &model);
      Write(coll, {DeltaOp::kDelete, Ids(prev, 2, 3)}, &model);
    }
    ASSERT_TRUE(WaitFor([&] { return !std::ifstream(crash_file_).good(); }, seconds(30)))
        << "the compactor never reached " << steps[r];
    ExpectEventually(coll, model.Live(), seconds(40));
    EXPECT_EQ(LogCount(std::string("\"test crash point\",\"step\":\"") + steps[r]), crashes_before + 1);
    // A crash after the commit leaves its batch in flight while the write is already visible; the
    // next step is armed only once that batch came back and was settled, or its second delivery
    // could meet the next crash point and, at maxReceiveCount 2, go to the DLQ as configured.
    ASSERT_TRUE(WaitFor([&] { return InQueue(queue_url_) == 0; }, seconds(30))) << InQueue(queue_url_);
  }
  EXPECT_NE(compactor_->Log().find("Runtime.ExitError"), std::string::npos);
  // Every trigger was settled: none left in the queue, none went to the DLQ; no entry was skipped
  // or voided, and each shard's version covers its whole log.
  EXPECT_TRUE(WaitFor([&] { return InQueue(queue_url_) == 0; }, seconds(15))) << InQueue(queue_url_);
  EXPECT_EQ(InQueue(dlq_url_), dlq_before);
  ExpectWholeLogApplied(coll);
  for (int s = 0; s < kStackShards; ++s) {
    auto m = CurrentManifest({coll, s});
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->skipped.empty()) << s;
  }
  for (const auto& key : Keys("deltas/" + coll + "/")) {
    auto body = objects_->Get(key);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_FALSE(pipeline::IsVoidMarker(*body)) << key;
  }
}

}  // namespace
}  // namespace chromapact::testing
