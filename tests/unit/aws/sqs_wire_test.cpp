// SQS JSON-protocol request bodies and response parsing (Amazon SQS API Reference), no server.
#include "aws/sqs_wire.h"

#include <gtest/gtest.h>

namespace chromapact::aws {
namespace {

using nlohmann::json;

const char* kUrl = "http://127.0.0.1:5000/123456789012/q.fifo";

TEST(SqsWireTest, SendMessageBody) {
  SendMessageRequest req;
  req.queue_url = kUrl;
  req.body = "{\"delta_key\":\"d/1\"}";
  req.message_group_id = "coll/0";
  req.message_deduplication_id = "01HX";
  req.message_attributes = {{"n", {"Number", "42", ""}}, {"raw", {"Binary", "", std::string("\x00\x01", 2)}}};
  EXPECT_EQ(sqs_wire::BuildSendMessage(req).value(), json::parse(R"({
    "QueueUrl": "http://127.0.0.1:5000/123456789012/q.fifo",
    "MessageBody": "{\"delta_key\":\"d/1\"}",
    "MessageGroupId": "coll/0", "MessageDeduplicationId": "01HX",
    "MessageAttributes": {"n": {"DataType":"Number","StringValue":"42"},
                          "raw": {"DataType":"Binary","BinaryValue":"AAE="}}})"));
  req.delay_seconds = 5;
  EXPECT_EQ(sqs_wire::BuildSendMessage(req).value()["DelaySeconds"], 5);
  req.delay_seconds = 901;
  EXPECT_NE(sqs_wire::BuildSendMessage(req).status().message().find("DelaySeconds"), std::string::npos);
  req.delay_seconds = -1;
  req.body.clear();
  EXPECT_NE(sqs_wire::BuildSendMessage(req).status().message().find("MessageBody"), std::string::npos);
  req.body = "x";
  req.queue_url.clear();
  EXPECT_NE(sqs_wire::BuildSendMessage(req).status().message().find("QueueUrl"), std::string::npos);
}

TEST(SqsWireTest, BatchEntryRules) {
  std::vector<SendMessageBatchEntry> entries;
  EXPECT_NE(sqs_wire::BuildSendMessageBatch(kUrl, entries).status().message().find("no entries"), std::string::npos);
  for (int i = 0; i < 11; ++i) entries.push_back({"e" + std::to_string(i), "b", -1, "g", "d" + std::to_string(i), {}});
  EXPECT_NE(sqs_wire::BuildSendMessageBatch(kUrl, entries).status().message().find("at most 10"), std::string::npos);
  entries.resize(2);
  entries[1].id = "e0";
  EXPECT_NE(sqs_wire::BuildSendMessageBatch(kUrl, entries).status().message().find("duplicate"), std::string::npos);
  entries[1].id = "e1";
  auto body = sqs_wire::BuildSendMessageBatch(kUrl, entries);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["Entries"][1], json::parse(R"({"Id":"e1","MessageBody":"b","MessageGroupId":"g","MessageDeduplicationId":"d1"})"));

  std::vector<ReceiptEntry> receipts = {{"a", "rh-a", 0}, {"b", "rh-b", 30}};
  EXPECT_EQ(sqs_wire::BuildReceiptBatch(kUrl, receipts, false).value()["Entries"],
            json::parse(R"([{"Id":"a","ReceiptHandle":"rh-a"},{"Id":"b","ReceiptHandle":"rh-b"}])"));
  EXPECT_EQ(sqs_wire::BuildReceiptBatch(kUrl, receipts, true).value()["Entries"],
            json::parse(R"([{"Id":"a","ReceiptHandle":"rh-a","VisibilityTimeout":0},
                            {"Id":"b","ReceiptHandle":"rh-b","VisibilityTimeout":30}])"));
  receipts[0].receipt_handle.clear();
  EXPECT_NE(sqs_wire::BuildReceiptBatch(kUrl, receipts, false).status().message().find("Entries[0].ReceiptHandle"),
            std::string::npos);
}

TEST(SqsWireTest, ReceiveMessageBody) {
  ReceiveMessageRequest req;
  req.queue_url = kUrl;
  EXPECT_EQ(sqs_wire::BuildReceiveMessage(req).value(), json::parse(R"({"QueueUrl":"http://127.0.0.1:5000/123456789012/q.fifo","MaxNumberOfMessages":1})"));
  req.max_number_of_messages = 10;
  req.wait_time_seconds = 0;
  req.visibility_timeout = 0;
  req.system_attribute_names = {"All"};
  req.message_attribute_names = {"All"};
  req.receive_request_attempt_id = "try-1";
  EXPECT_EQ(sqs_wire::BuildReceiveMessage(req).value(), json::parse(R"({
    "QueueUrl":"http://127.0.0.1:5000/123456789012/q.fifo","MaxNumberOfMessages":10,"WaitTimeSeconds":0,
    "VisibilityTimeout":0,"MessageSystemAttributeNames":["All"],"MessageAttributeNames":["All"],
    "ReceiveRequestAttemptId":"try-1"})"));
  req.max_number_of_messages = 11;
  EXPECT_FALSE(sqs_wire::BuildReceiveMessage(req).ok());
  req.max_number_of_messages = 1;
  req.wait_time_seconds = 21;
  EXPECT_FALSE(sqs_wire::BuildReceiveMessage(req).ok());
}

TEST(SqsWireTest, ParsesReceivedMessages) {
  auto msgs = sqs_wire::ParseReceiveMessage(json::parse(R"({"Messages":[
    {"MessageId":"m1","ReceiptHandle":"rh1","MD5OfBody":"abc","Body":"hello",
     "Attributes":{"ApproximateReceiveCount":"2","MessageGroupId":"g"},
     "MessageAttributes":{"k":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AAE="}},
     "MD5OfMessageAttributes":"def"},
    {"MessageId":"m2","ReceiptHandle":"rh2","Body":"x"}]})"));
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[0].body, "hello");
  EXPECT_EQ((*msgs)[0].attributes.at("ApproximateReceiveCount"), "2");
  EXPECT_EQ((*msgs)[0].message_attributes.at("k").string_value, "v");
  EXPECT_EQ((*msgs)[0].message_attributes.at("b").binary_value, std::string("\x00\x01", 2));
  EXPECT_EQ((*msgs)[1].receipt_handle, "rh2");
  EXPECT_TRUE(sqs_wire::ParseReceiveMessage(json::object())->empty());
  auto bad = sqs_wire::ParseReceiveMessage(json::parse(R"({"Messages":[{"Body":"no id"}]})"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
}

TEST(SqsWireTest, ParsesBatchResultsWithEitherSenderFaultSpelling) {
  auto r = sqs_wire::ParseReceiptBatch(json::parse(R"({"Successful":[{"Id":"a"}],
    "Failed":[{"Id":"b","SenderFault":true,"Code":"ReceiptHandleIsInvalid","Message":"bad"},
              {"Id":"c","SenderFault":"false","Code":"InternalError"}]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->successful, std::vector<std::string>{"a"});
  ASSERT_EQ(r->failed.size(), 2u);
  EXPECT_EQ(r->failed[0].code, "ReceiptHandleIsInvalid");
  EXPECT_TRUE(r->failed[0].sender_fault);
  EXPECT_FALSE(r->failed[1].sender_fault);

  auto s = sqs_wire::ParseSendMessageBatch(json::parse(R"({"Successful":[{"Id":"0","MessageId":"m","MD5OfMessageBody":"x","SequenceNumber":"18"}],"Failed":[]})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->successful.at(0).sequence_number, "18");

  EXPECT_EQ(sqs_wire::ParseQueueAttributes(json::parse(R"({"Attributes":{"FifoQueue":"true"}})"))->at("FifoQueue"), "true");
  EXPECT_TRUE(sqs_wire::ParseQueueAttributes(json::object())->empty());
  EXPECT_EQ(sqs_wire::ParseQueueUrl(json::parse(R"({"QueueUrl":"u"})")).value(), "u");
  EXPECT_FALSE(sqs_wire::ParseQueueUrl(json::object()).ok());
}

TEST(SqsWireTest, RedrivePolicyIsJsonText) {
  auto j = json::parse(RedrivePolicyJson("arn:aws:sqs:us-east-1:123456789012:dlq.fifo", 2));
  EXPECT_EQ(j["deadLetterTargetArn"], "arn:aws:sqs:us-east-1:123456789012:dlq.fifo");
  EXPECT_EQ(j["maxReceiveCount"], 2);
}

}  // namespace
}  // namespace chromapact::aws
