// The log's pure parts (log.h), without AWS: log keys and their parser, the sequence item's key and
// the answers NextSequence / LastSequence read from it (through a scripted KvStore), void markers,
// and ListLog over an in-memory ObjectStore that pages like S3 (so "stop at limit" and "skip keys
// that are not log keys" meet page boundaries).
#include "chromapact/pipeline/log.h"

#include <gtest/gtest.h>

#include <map>

#include "chromapact/codec/delta.h"

namespace chromapact::pipeline {
namespace {

const ShardId kShard{"docs", 3};

TEST(LogKeyTest, LayoutAndRoundTrip) {
  EXPECT_EQ(LogPrefix(kShard), "deltas/docs/3/");
  EXPECT_EQ(LogKey(kShard, 42), "deltas/docs/3/00000000000000000042.cpd");
  EXPECT_EQ(LogKey(kShard, UINT64_MAX), "deltas/docs/3/18446744073709551615.cpd");
  EXPECT_EQ(SequenceKey(kShard), "SEQ#docs#3");
  for (uint64_t seq : {uint64_t{1}, uint64_t{9}, uint64_t{10}, uint64_t{999999}, uint64_t{1} << 40, UINT64_MAX}) {
    const std::string key = LogKey(kShard, seq);
    EXPECT_EQ(key.size(), LogPrefix(kShard).size() + kLogSeqDigits + 4) << key;
    EXPECT_EQ(ParseLogKey(kShard, key), std::optional<uint64_t>(seq)) << key;
  }
}

// S3 lists keys in byte order; the compactor applies in that order, so it must be numeric order.
TEST(LogKeyTest, KeysSortBySequenceNumber) {
  std::vector<uint64_t> seqs = {1, 2, 9, 10, 11, 99, 100, 101, 1000, 123456789, 10000000000ull, UINT64_MAX};
  for (size_t i = 1; i < seqs.size(); ++i) {
    EXPECT_LT(LogKey(kShard, seqs[i - 1]), LogKey(kShard, seqs[i])) << seqs[i - 1] << " vs " << seqs[i];
  }
}

TEST(LogKeyTest, ParseRejectsEverythingElse) {
  const std::vector<std::string> rejected = {
      "",
      "deltas/docs/3/",
      "deltas/docs/3/00000000000000000000.cpd",          // 0 is "nothing applied", never an entry
      "deltas/docs/3/0000000000000000042.cpd",           // 19 digits
      "deltas/docs/3/000000000000000000042.cpd",         // 21 digits
      "deltas/docs/3/00000000000000000042.cpd.tmp",      // suffix
      "deltas/docs/3/00000000000000000042.CPD",
      "deltas/docs/3/00000000000000000042",
      "deltas/docs/3/0000000000000000004x.cpd",
      "deltas/docs/3/-0000000000000000042.cpd",
      "deltas/docs/3/+0000000000000000042.cpd",
      "deltas/docs/3/ 0000000000000000042.cpd",
      "deltas/docs/3/18446744073709551616.cpd",          // UINT64_MAX + 1
      "deltas/docs/3/99999999999999999999.cpd",          // overflows uint64
      "deltas/docs/30/00000000000000000042.cpd",         // another shard
      "deltas/docs/2/00000000000000000042.cpd",
      "deltas/docsx/3/00000000000000000042.cpd",         // another collection
      "deltas/doc/3/00000000000000000042.cpd",
      "snapshots/docs/3/00000000000000000042.cpd",
      "deltas/docs/3/01JDQZ2XK8M5V0000000000000.cpd",    // a delta of the ULID era
      "deltas/docs/3/x/00000000000000000042.cpd",
  };
  for (const std::string& key : rejected) EXPECT_EQ(ParseLogKey(kShard, key), std::nullopt) << key;
}

TEST(VoidMarkerTest, EncodedMarkersAreRecognisedAndDeltasAreNot) {
  const std::string marker = EncodeVoidMarker(17, "hole: no delta 30000 ms after entry 18", "c-1", 1764000000000);
  EXPECT_TRUE(IsVoidMarker(marker));
  ASSERT_EQ(marker.rfind("chromapact-void 1\n", 0), 0u) << marker;
  auto j = nlohmann::json::parse(marker.substr(marker.find('\n') + 1));
  EXPECT_EQ(j["log_position"], 17);
  EXPECT_EQ(j["reason"], "hole: no delta 30000 ms after entry 18");
  EXPECT_EQ(j["writer_id"], "c-1");
  EXPECT_EQ(j["created_at_ms"], 1764000000000);

  // A real delta never reads as a marker (it starts with "CPD1"), nor do near misses.
  codec::Delta d;
  d.meta.op = codec::DeltaOp::kDelete;
  d.meta.collection = "docs";
  d.meta.delta_id = "01JDQZ2XK8M5V0000000000000";
  d.records.ids = {"a"};
  auto bytes = codec::EncodeDelta(d);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_FALSE(IsVoidMarker(*bytes));
  for (std::string body : {std::string(), std::string("chromapact-void"), std::string("chromapact-void 1"),
                           std::string("chromapact-void 2\n{}"), std::string(" chromapact-void 1\n{}"),
                           std::string("CHROMAPACT-VOID 1\n{}")}) {
    EXPECT_FALSE(IsVoidMarker(body)) << body;
  }
  EXPECT_TRUE(IsVoidMarker("chromapact-void 1\n"));  // the first line decides, not the JSON after it
}

// A KvStore that answers Update / Get with a scripted item or error, and records the last request.
class ScriptedKv final : public KvStore {
 public:
  Result<std::optional<aws::Item>> Get(const aws::Item& key) override {
    last_key = KvKeyString(key);
    if (!status.ok()) return status;
    return item;
  }
  Status Put(const KvPut&, std::optional<aws::Item>*) override { return Internal("unexpected Put"); }
  Result<aws::Item> Update(const KvUpdate& req, std::optional<aws::Item>*) override {
    last_key = KvKeyString(req.key);
    last_update = req;
    if (!status.ok()) return status;
    return item.value_or(aws::Item{});
  }
  Status Delete(const KvDelete&, std::optional<aws::Item>*) override { return Internal("unexpected Delete"); }

  Status status;
  std::optional<aws::Item> item;
  std::string last_key;
  KvUpdate last_update;
};

aws::Item SeqItem(aws::AttributeValue n) {
  return {{kPartitionKey, aws::AttributeValue::S("SEQ#docs#3")}, {"next_seq", std::move(n)}};
}

TEST(SequenceTest, NextSequenceIsOneUnconditionalAddOnTheShardsItem) {
  ScriptedKv kv;
  kv.item = SeqItem(aws::AttributeValue::N(int64_t{7}));
  auto seq = NextSequence(&kv, kShard);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 7u);
  EXPECT_EQ(kv.last_key, "SEQ#docs#3");
  // Unconditional: the item is created at 1 the first time (ADD on an absent attribute).
  EXPECT_TRUE(kv.last_update.condition.empty()) << kv.last_update.condition;
  EXPECT_NE(kv.last_update.update.find("ADD"), std::string::npos) << kv.last_update.update;
}

TEST(SequenceTest, NextSequenceErrors) {
  ScriptedKv kv;
  EXPECT_EQ(NextSequence(&kv, {"a#b", 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NextSequence(&kv, {"docs", -1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(kv.last_key.empty()) << "a bad shard id reached the table";
  // The answer lacks next_seq: no number was learnt.
  kv.item = aws::Item{{kPartitionKey, aws::AttributeValue::S("SEQ#docs#3")}};
  auto missing = NextSequence(&kv, kShard);
  EXPECT_EQ(missing.status().code(), StatusCode::kInternal) << missing.status().ToString();
  // A seam error is passed on, naming the item.
  kv.status = Status(StatusCode::kThrottled, "ProvisionedThroughputExceededException");
  auto throttled = NextSequence(&kv, kShard);
  EXPECT_EQ(throttled.status().code(), StatusCode::kThrottled);
  EXPECT_NE(throttled.status().message().find("SEQ#docs#3"), std::string::npos) << throttled.status().ToString();
}

TEST(SequenceTest, LastSequence) {
  ScriptedKv kv;
  auto none = LastSequence(&kv, kShard);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0u);
  kv.item = SeqItem(aws::AttributeValue::N(int64_t{12}));
  EXPECT_EQ(*LastSequence(&kv, kShard), 12u);
  kv.item = SeqItem(aws::AttributeValue::N(int64_t{-3}));
  EXPECT_EQ(LastSequence(&kv, kShard).status().code(), StatusCode::kCorruption);
  kv.item = SeqItem(aws::AttributeValue::S("12"));
  EXPECT_EQ(LastSequence(&kv, kShard).status().code(), StatusCode::kCorruption);
  kv.status = Unavailable("503");
  EXPECT_EQ(LastSequence(&kv, kShard).status().code(), StatusCode::kUnavailable);
}

// Keys in a std::map (byte order, as S3), listed in pages of `page` keys like ListObjectsV2.
class MapObjectStore final : public ObjectStore {
 public:
  explicit MapObjectStore(size_t page) : page_(page) {}
  void Add(const std::string& key, int64_t size = 10, int64_t mtime = 1764000000000) { keys_[key] = {size, mtime}; }

  Result<ObjectMeta> Put(const std::string&, const std::string&, const PutObjectOptions&) override {
    return Internal("unexpected");
  }
  Result<ObjectMeta> PutFile(const std::string&, const std::string&, const PutObjectOptions&) override {
    return Internal("unexpected");
  }
  Result<std::string> Get(const std::string&, ObjectMeta*) override { return Internal("unexpected"); }
  Result<ObjectMeta> GetToFile(const std::string&, const std::string&) override { return Internal("unexpected"); }
  Result<ObjectMeta> Head(const std::string&) override { return Internal("unexpected"); }
  Result<std::vector<ObjectMeta>> List(const std::string&) override { return Internal("unexpected"); }
  Result<std::vector<ObjectMeta>> ListAfter(const std::string& prefix, const std::string& start_after,
                                            size_t limit) override {
    ++calls;
    if (!fail.ok()) return fail;
    std::vector<ObjectMeta> out;
    for (auto it = keys_.upper_bound(start_after); it != keys_.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) continue;
      out.push_back({it->first, it->second.first, "\"e\"", it->second.second});
      // Whole pages only, as the S3 store returns them.
      if (limit > 0 && out.size() >= limit && out.size() % page_ == 0) break;
    }
    return out;
  }
  Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>&) override {
    return Internal("unexpected");
  }

  int calls = 0;
  Status fail;

 private:
  size_t page_;
  std::map<std::string, std::pair<int64_t, int64_t>> keys_;
};

std::vector<uint64_t> Seqs(const std::vector<LogEntry>& entries) {
  std::vector<uint64_t> out;
  for (const auto& e : entries) out.push_back(e.seq);
  return out;
}

TEST(ListLogTest, EntriesAfterAPositionInOrderWithSizeAndTime) {
  MapObjectStore s3(1000);
  for (uint64_t seq : {1, 2, 3, 5, 10, 11}) s3.Add(LogKey(kShard, seq), static_cast<int64_t>(seq * 100), 1764000000000 + static_cast<int64_t>(seq));
  s3.Add(LogKey({"docs", 4}, 4));   // another shard
  s3.Add(LogKey({"docs", 30}, 4));  // a shard whose prefix starts like this one's
  auto all = ListLog(&s3, kShard, 0, 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Seqs(*all), (std::vector<uint64_t>{1, 2, 3, 5, 10, 11}));
  EXPECT_EQ((*all)[3].key, LogKey(kShard, 5));
  EXPECT_EQ((*all)[3].size, 500);
  EXPECT_EQ((*all)[3].last_modified_ms, 1764000000005);
  auto after = ListLog(&s3, kShard, 3, 0);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Seqs(*after), (std::vector<uint64_t>{5, 10, 11}));
  auto after_hole = ListLog(&s3, kShard, 4, 0);  // a position with no entry (voided, or never listed)
  ASSERT_TRUE(after_hole.ok());
  EXPECT_EQ(Seqs(*after_hole), (std::vector<uint64_t>{5, 10, 11}));
  auto limited = ListLog(&s3, kShard, 1, 3);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(Seqs(*limited), (std::vector<uint64_t>{2, 3, 5}));
  auto none = ListLog(&s3, kShard, 11, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(ListLog(&s3, {"bad#name", 0}, 0, 0).status().code(), StatusCode::kInvalidArgument);
  s3.fail = Unavailable("503 SlowDown");
  auto failed = ListLog(&s3, kShard, 0, 0);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("deltas/docs/3/"), std::string::npos) << failed.status().ToString();
}

// Keys under the prefix that are not log keys (a console "folder" marker, an old ULID delta, a
// temporary upload) are skipped; with a small limit they must not hide the entries behind them:
// the compactor takes a list shorter than its limit as "the log ends here".
TEST(ListLogTest, ForeignKeysUnderThePrefixDoNotHideEntries) {
  MapObjectStore s3(2);
  s3.Add(LogPrefix(kShard));  // "deltas/docs/3/" itself
  s3.Add(LogKey(kShard, 1));
  s3.Add(LogKey(kShard, 1) + ".tmp");
  s3.Add(LogKey(kShard, 1) + ".tmp2");
  s3.Add(LogKey(kShard, 1) + ".tmp3");
  s3.Add(LogKey(kShard, 2));
  s3.Add(LogKey(kShard, 3));
  s3.Add(LogPrefix(kShard) + "01JDQZ2XK8M5V0000000000000.cpd");  // sorts after every log key
  auto all = ListLog(&s3, kShard, 0, 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Seqs(*all), (std::vector<uint64_t>{1, 2, 3}));
  auto limited = ListLog(&s3, kShard, 0, 2);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  EXPECT_EQ(Seqs(*limited), (std::vector<uint64_t>{1, 2}))
      << "ListLog returned fewer entries than its limit while more exist";
}

}  // namespace
}  // namespace chromapact::pipeline
