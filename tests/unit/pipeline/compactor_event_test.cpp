// What the compactor function does with an SQS event before and after its cycles
// (compactor_event.h), without AWS: parsing the records, grouping them by the shard their body
// names, and FIFO's partial-batch rule for batchItemFailures.
#include "chromapact/pipeline/compactor_event.h"

#include <gtest/gtest.h>

#include "chromapact/pipeline/delta_message.h"
#include "chromapact/pipeline/log.h"

namespace chromapact::pipeline {
namespace {

nlohmann::json Record(const std::string& id, const std::string& body, const std::string& group = "") {
  nlohmann::json r = {{"messageId", id},
                      {"receiptHandle", "rh-" + id},
                      {"body", body},
                      {"attributes", {{"ApproximateReceiveCount", "3"}, {"SentTimestamp", "1764000000123"}}},
                      {"eventSource", "aws:sqs"}};
  if (!group.empty()) r["attributes"]["MessageGroupId"] = group;
  return r;
}

std::string Trigger(const ShardId& shard, uint64_t seq) {
  return EncodeDeltaMessage({shard, seq, seq > 0 ? LogKey(shard, seq) : ""});
}

QueueMessage Msg(const std::string& id, const std::string& body, const std::string& group = "") {
  QueueMessage m;
  m.message_id = id;
  m.receipt_handle = "rh-" + id;
  m.body = body;
  m.group_id = group;
  return m;
}

TEST(ParseSqsRecordsTest, ReadsEveryFieldInEventOrder) {
  const ShardId a{"docs", 0};
  nlohmann::json records = nlohmann::json::array(
      {Record("m1", Trigger(a, 5), "docs#0"), Record("m2", "free text"), Record("m3", Trigger(a, 6), "docs#0")});
  records[1].erase("attributes");  // optional: the record still parses
  auto got = ParseSqsRecords(records);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].message_id, "m1");
  EXPECT_EQ((*got)[0].receipt_handle, "rh-m1");
  EXPECT_EQ((*got)[0].body, Trigger(a, 5));
  EXPECT_EQ((*got)[0].group_id, "docs#0");
  EXPECT_EQ((*got)[0].receive_count, 3);
  EXPECT_EQ((*got)[0].sent_at_ms, 1764000000123);
  EXPECT_EQ((*got)[1].body, "free text");
  EXPECT_EQ((*got)[1].group_id, "");
  EXPECT_EQ((*got)[2].message_id, "m3");
  auto empty = ParseSqsRecords(nlohmann::json::array());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseSqsRecordsTest, ErrorsNameTheRecordAndField) {
  struct Case {
    nlohmann::json records;
    std::string expect;
  };
  nlohmann::json no_receipt = nlohmann::json::array({Record("m1", "{}"), Record("m2", "{}"), Record("m3", "{}")});
  no_receipt[2].erase("receiptHandle");
  nlohmann::json bad_receipt = nlohmann::json::array({Record("m1", "{}")});
  bad_receipt[0]["receiptHandle"] = 17;
  nlohmann::json no_id = nlohmann::json::array({Record("m1", "{}"), Record("m2", "{}")});
  no_id[1].erase("messageId");
  const std::vector<Case> cases = {
      {nlohmann::json::object(), "Records"},
      {"Records", "Records"},
      {nullptr, "Records"},
      {nlohmann::json::array({Record("m1", "{}"), 5}), "Records[1]"},
      {no_receipt, "Records[2].receiptHandle"},
      {bad_receipt, "Records[0].receiptHandle"},
      {no_id, "Records[1].messageId"},
  };
  for (const Case& c : cases) {
    auto got = ParseSqsRecords(c.records);
    ASSERT_FALSE(got.ok()) << c.records.dump();
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.expect), std::string::npos)
        << got.status().message() << " does not name " << c.expect;
  }
}

TEST(GroupByShardTest, ShardsInOrderOfFirstAppearanceMessagesInEventOrder) {
  const ShardId a{"docs", 0}, b{"docs", 1}, c{"other", 0};
  std::vector<QueueMessage> batch = {Msg("1", Trigger(b, 3)), Msg("2", Trigger(a, 9)), Msg("3", "garbage"),
                                     Msg("4", Trigger(b, 4)), Msg("5", Trigger(c, 0)),
                                     Msg("6", R"({"collection":"docs"})"), Msg("7", Trigger(a, 10))};
  std::vector<MessageFailure> failures;
  auto groups = GroupByShard(batch, &failures);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].shard, b);
  EXPECT_EQ(groups[1].shard, a);
  EXPECT_EQ(groups[2].shard, c);
  auto ids = [](const ShardBatch& sb) {
    std::vector<std::string> out;
    for (const auto& m : sb.messages) out.push_back(m.message_id);
    return out;
  };
  EXPECT_EQ(ids(groups[0]), (std::vector<std::string>{"1", "4"}));
  EXPECT_EQ(ids(groups[1]), (std::vector<std::string>{"2", "7"}));
  EXPECT_EQ(ids(groups[2]), (std::vector<std::string>{"5"}));
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].message_id, "3");
  EXPECT_EQ(failures[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failures[1].message_id, "6");
  EXPECT_NE(failures[1].status.message().find("shard"), std::string::npos) << failures[1].status.ToString();
  // The shard comes from the body, never from the group id (a body of shard 1 in group docs#0).
  auto by_body = GroupByShard({Msg("x", Trigger(b, 1), "docs#0")}, nullptr);
  ASSERT_EQ(by_body.size(), 1u);
  EXPECT_EQ(by_body[0].shard, b);
}

TEST(FifoBatchItemFailuresTest, LaterMessagesOfAFailedGroupAreReportedOtherGroupsAreNot) {
  const ShardId a{"docs", 0}, b{"docs", 1};
  std::vector<QueueMessage> batch = {
      Msg("a1", Trigger(a, 1), "docs#0"), Msg("b1", Trigger(b, 1), "docs#1"), Msg("a2", Trigger(a, 2), "docs#0"),
      Msg("b2", Trigger(b, 2), "docs#1"), Msg("a3", Trigger(a, 3), "docs#0"), Msg("b3", Trigger(b, 3), "docs#1"),
  };
  EXPECT_TRUE(FifoBatchItemFailures(batch, {}).empty());
  // a2 failed: a3 after it too (else a3 could be applied... or deleted, before a2 comes back);
  // a1 before it is not; group docs#1 is untouched.
  EXPECT_EQ(FifoBatchItemFailures(batch, {"a2"}), (std::vector<std::string>{"a2", "a3"}));
  EXPECT_EQ(FifoBatchItemFailures(batch, {"a1"}), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(FifoBatchItemFailures(batch, {"a3", "b2"}), (std::vector<std::string>{"b2", "a3", "b3"}));
  // Ids not in the batch change nothing.
  EXPECT_TRUE(FifoBatchItemFailures(batch, {"zz"}).empty());
}

TEST(FifoBatchItemFailuresTest, WithoutGroupIdsTheBodysShardIsTheGroup) {
  const ShardId a{"docs", 0}, b{"docs", 1};
  std::vector<QueueMessage> batch = {Msg("a1", Trigger(a, 1)), Msg("b1", Trigger(b, 1)), Msg("x", "garbage"),
                                     Msg("a2", Trigger(a, 2)), Msg("y", "garbage 2"), Msg("b2", Trigger(b, 2))};
  EXPECT_EQ(FifoBatchItemFailures(batch, {"a1"}), (std::vector<std::string>{"a1", "a2"}));
  // An unparsable body without a group id is a group of its own: it drags nothing along.
  EXPECT_EQ(FifoBatchItemFailures(batch, {"x"}), (std::vector<std::string>{"x"}));
  EXPECT_EQ(FifoBatchItemFailures(batch, {"x", "b1"}), (std::vector<std::string>{"b1", "x", "b2"}));
  // With a group id, the group id decides, even for a garbage body.
  batch[2].group_id = "docs#1";
  EXPECT_EQ(FifoBatchItemFailures(batch, {"x"}), (std::vector<std::string>{"x", "b2"}));
}

}  // namespace
}  // namespace chromapact::pipeline
