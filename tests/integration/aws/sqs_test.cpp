// SqsClient against moto_server with signature checking on (docs/aws-notes.md §1, §3): every operation,
// per-entry batch failures, FIFO deduplication and group locking, DLQ redrive, and the two auth
// failures (wrong secret, IAM policy that forbids the call).
#include "chromapact/aws/sqs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <set>

#include "chromapact/crypto.h"
#include "support/moto.h"

namespace chromapact::aws {
namespace {

using testing::MotoServer;

class SqsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    // Allowed to look queues up, nothing else.
    auto limited = moto_->CreateUser(
        "sqs-limited",
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:GetQueueUrl","Resource":"*"}]})");
    ASSERT_TRUE(limited.ok()) << limited.status().ToString();
    limited_ = *limited;
    ASSERT_TRUE(moto_->EnableAuth().ok());
  }
  static void TearDownTestSuite() {
    limited_.reset();
    moto_.reset();
  }

  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok());
    client_ = std::make_unique<SqsClient>(moto_->Config(*admin));
  }

  std::string NewQueue(const std::string& name, const SqsQueueAttributes& attrs = {}) {
    auto url = client_->CreateQueue(name, attrs);
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }

  // Receives until `want` messages arrived or a 10 s deadline passed (moto answers at once; the
  // loop only guards against a receive returning fewer than asked).
  std::vector<SqsMessage> ReceiveN(const std::string& url, size_t want, int visibility = -1) {
    std::vector<SqsMessage> got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      ReceiveMessageRequest req;
      req.queue_url = url;
      req.max_number_of_messages = 10;
      req.wait_time_seconds = 0;
      req.visibility_timeout = visibility;
      req.system_attribute_names = {"All"};
      req.message_attribute_names = {"All"};
      auto r = client_->ReceiveMessage(req);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (auto& m : *r) got.push_back(std::move(m));
    }
    return got;
  }

  static std::unique_ptr<MotoServer> moto_;
  static std::optional<Credentials> limited_;
  std::unique_ptr<SqsClient> client_;
};

std::unique_ptr<MotoServer> SqsTest::moto_;
std::optional<Credentials> SqsTest::limited_;

TEST_F(SqsTest, QueueLifecycleAndAttributes) {
  std::string url = NewQueue("life", {{"VisibilityTimeout", "45"}, {"MessageRetentionPeriod", "3600"}});
  EXPECT_EQ(url, moto_->endpoint() + "/123456789012/life");
  auto again = client_->GetQueueUrl("life");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, url);

  auto attrs = client_->GetQueueAttributes(url);
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  EXPECT_EQ(attrs->at("VisibilityTimeout"), "45");
  EXPECT_EQ(attrs->at("MessageRetentionPeriod"), "3600");
  EXPECT_EQ(attrs->at("QueueArn"), "arn:aws:sqs:us-east-1:123456789012:life");
  auto some = client_->GetQueueAttributes(url, {"VisibilityTimeout"});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->size(), 1u);

  ASSERT_TRUE(client_->DeleteQueue(url).ok());
  auto gone = client_->GetQueueUrl("life");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
  ASSERT_TRUE(gone.status().aws().has_value());
  EXPECT_EQ(gone.status().aws()->error_code, "QueueDoesNotExist");
  EXPECT_EQ(gone.status().aws()->http_status, 400);
}

TEST_F(SqsTest, SendReceiveDeleteWithAttributes) {
  std::string url = NewQueue("plain");
  SendMessageRequest send;
  send.queue_url = url;
  send.body = R"({"delta_key":"deltas/c/0/01HX.cpd","n":3} ü)";
  send.message_attributes = {{"kind", {"String", "delta", ""}}, {"blob", {"Binary", "", std::string("\x00\xfe", 2)}}};
  auto sent = client_->SendMessage(send);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->md5_of_body, HexEncode(Md5(send.body)));

  auto got = ReceiveN(url, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id, sent->message_id);
  EXPECT_EQ(got[0].body, send.body);
  EXPECT_EQ(got[0].md5_of_body, HexEncode(Md5(send.body)));
  EXPECT_EQ(got[0].attributes.at("ApproximateReceiveCount"), "1");
  EXPECT_FALSE(got[0].attributes.at("SentTimestamp").empty());
  EXPECT_EQ(got[0].message_attributes, send.message_attributes);

  auto inflight = client_->GetQueueAttributes(url, {"ApproximateNumberOfMessagesNotVisible"});
  ASSERT_TRUE(inflight.ok());
  EXPECT_EQ(inflight->at("ApproximateNumberOfMessagesNotVisible"), "1");
  ASSERT_TRUE(client_->DeleteMessage(url, got[0].receipt_handle).ok());
  auto after = client_->GetQueueAttributes(url);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->at("ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(after->at("ApproximateNumberOfMessagesNotVisible"), "0");
}

TEST_F(SqsTest, LongPollOnEmptyQueueAnswersEmpty) {
  std::string url = NewQueue("empty");
  ReceiveMessageRequest req;
  req.queue_url = url;
  req.wait_time_seconds = 1;
  auto r = client_->ReceiveMessage(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
}

TEST_F(SqsTest, BatchesReportPerEntryFailures) {
  std::string url = NewQueue("batch");
  std::vector<SendMessageBatchEntry> entries = {{"a", "body-a", -1, "", "", {}},
                                                {"b", "body-b", -1, "", "", {{"k", {"Number", "7", ""}}}},
                                                {"c", "body-c", 0, "", "", {}}};
  auto sent = client_->SendMessageBatch(url, entries);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_EQ(sent->successful.size(), 3u);
  EXPECT_TRUE(sent->failed.empty());
  std::set<std::string> ids;
  for (const auto& s : sent->successful) ids.insert(s.id);
  EXPECT_EQ(ids, (std::set<std::string>{"a", "b", "c"}));

  auto got = ReceiveN(url, 3);
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> bodies;
  for (const auto& m : got) bodies.insert(m.body);
  EXPECT_EQ(bodies, (std::set<std::string>{"body-a", "body-b", "body-c"}));

  const std::string bogus = "not-a-receipt-handle";
  auto vis = client_->ChangeMessageVisibilityBatch(
      url, {{"v0", got[0].receipt_handle, 60}, {"bad", bogus, 60}});
  ASSERT_TRUE(vis.ok()) << vis.status().ToString();
  EXPECT_EQ(vis->successful, std::vector<std::string>{"v0"});
  ASSERT_EQ(vis->failed.size(), 1u);
  EXPECT_EQ(vis->failed[0].id, "bad");
  EXPECT_EQ(vis->failed[0].code, "ReceiptHandleIsInvalid");

  auto del = client_->DeleteMessageBatch(url, {{"d0", got[0].receipt_handle, 0},
                                               {"d1", got[1].receipt_handle, 0},
                                               {"d2", got[2].receipt_handle, 0},
                                               {"bad", bogus, 0}});
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(std::set<std::string>(del->successful.begin(), del->successful.end()),
            (std::set<std::string>{"d0", "d1", "d2"}));
  ASSERT_EQ(del->failed.size(), 1u);
  EXPECT_EQ(del->failed[0].id, "bad");
  EXPECT_EQ(del->failed[0].code, "ReceiptHandleIsInvalid");
  EXPECT_TRUE(del->failed[0].sender_fault);
  auto attrs = client_->GetQueueAttributes(url);
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->at("ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(attrs->at("ApproximateNumberOfMessagesNotVisible"), "0");

  Status single = client_->ChangeMessageVisibility(url, bogus, 0);
  EXPECT_EQ(single.code(), StatusCode::kInvalidArgument) << single.ToString();
  ASSERT_TRUE(single.aws().has_value());
  EXPECT_EQ(single.aws()->error_code, "ReceiptHandleIsInvalid");
}

TEST_F(SqsTest, VisibilityZeroRedeliversAndPurgeEmpties) {
  std::string url = NewQueue("vis");
  SendMessageRequest send;
  send.queue_url = url;
  send.body = "again";
  ASSERT_TRUE(client_->SendMessage(send).ok());
  auto first = ReceiveN(url, 1, /*visibility=*/300);
  ASSERT_EQ(first.size(), 1u);
  // Invisible for 300 s: a receive now finds nothing.
  ReceiveMessageRequest peek;
  peek.queue_url = url;
  peek.wait_time_seconds = 0;
  auto none = client_->ReceiveMessage(peek);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(client_->ChangeMessageVisibility(url, first[0].receipt_handle, 0).ok());
  auto second = ReceiveN(url, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message_id, first[0].message_id);
  EXPECT_EQ(second[0].attributes.at("ApproximateReceiveCount"), "2");

  send.body = "more";
  ASSERT_TRUE(client_->SendMessage(send).ok());
  ASSERT_TRUE(client_->PurgeQueue(url).ok());
  auto attrs = client_->GetQueueAttributes(url, {"ApproximateNumberOfMessages"});
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->at("ApproximateNumberOfMessages"), "0");
}

TEST_F(SqsTest, FifoDeduplicatesLocksGroupsAndRedrivesToDlq) {
  std::string dlq = NewQueue("deltas-dlq.fifo", {{"FifoQueue", "true"}});
  auto dlq_attrs = client_->GetQueueAttributes(dlq, {"QueueArn"});
  ASSERT_TRUE(dlq_attrs.ok()) << dlq_attrs.status().ToString();
  const int kMaxReceive = 2;
  std::string url = NewQueue("deltas.fifo", {{"FifoQueue", "true"},
                                             {"RedrivePolicy", RedrivePolicyJson(dlq_attrs->at("QueueArn"), kMaxReceive)}});
  auto attrs = client_->GetQueueAttributes(url);
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->at("FifoQueue"), "true");
  EXPECT_NE(attrs->at("RedrivePolicy").find("deltas-dlq.fifo"), std::string::npos);

  SendMessageRequest no_group;
  no_group.queue_url = url;
  no_group.body = "x";
  no_group.message_deduplication_id = "x";
  Status missing = client_->SendMessage(no_group).status();
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument) << missing.ToString();

  auto sent = client_->SendMessageBatch(url, {{"m1", "first", -1, "coll/0", "dedup-1", {}},
                                              {"m2", "second", -1, "coll/0", "dedup-2", {}},
                                              {"dup", "first again", -1, "coll/0", "dedup-1", {}}});
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->successful.size(), 3u);  // the duplicate is accepted but not enqueued

  // Group lock: with "first" in flight nothing else of coll/0 is delivered.
  ReceiveMessageRequest one;
  one.queue_url = url;
  one.wait_time_seconds = 0;
  one.system_attribute_names = {"MessageGroupId", "MessageDeduplicationId", "ApproximateReceiveCount"};
  auto r1 = client_->ReceiveMessage(one);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_EQ(r1->size(), 1u);
  EXPECT_EQ((*r1)[0].body, "first");
  EXPECT_EQ((*r1)[0].attributes.at("MessageGroupId"), "coll/0");
  EXPECT_EQ((*r1)[0].attributes.at("MessageDeduplicationId"), "dedup-1");
  auto locked = client_->ReceiveMessage(one);
  ASSERT_TRUE(locked.ok());
  EXPECT_TRUE(locked->empty()) << "group coll/0 must stay locked while a message is in flight";

  // "first" received kMaxReceive times, made visible again each time, then redriven to the DLQ.
  ASSERT_TRUE(client_->ChangeMessageVisibility(url, (*r1)[0].receipt_handle, 0).ok());
  auto r2 = client_->ReceiveMessage(one);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->size(), 1u);
  EXPECT_EQ((*r2)[0].body, "first");
  EXPECT_EQ((*r2)[0].attributes.at("ApproximateReceiveCount"), std::to_string(kMaxReceive));
  ASSERT_TRUE(client_->ChangeMessageVisibility(url, (*r2)[0].receipt_handle, 0).ok());
  auto r3 = client_->ReceiveMessage(one);
  ASSERT_TRUE(r3.ok());
  ASSERT_EQ(r3->size(), 1u);
  EXPECT_EQ((*r3)[0].body, "second") << "'first' should have moved to the DLQ";

  auto dead = ReceiveN(dlq, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "first");
  ASSERT_TRUE(client_->DeleteMessage(dlq, dead[0].receipt_handle).ok());
  ASSERT_TRUE(client_->DeleteMessage(url, (*r3)[0].receipt_handle).ok());
  auto rest = client_->GetQueueAttributes(url);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->at("ApproximateNumberOfMessages"), "0");  // "first again" was deduplicated
}

TEST_F(SqsTest, QueueUrlWithAnotherHostGoesToTheConfiguredEndpoint) {
  std::string url = NewQueue("foreign-host");
  const std::string aws_style = "https://sqs.us-east-1.amazonaws.com/123456789012/foreign-host";
  SendMessageRequest send;
  send.queue_url = aws_style;
  send.body = "via CFN output URL";
  ASSERT_TRUE(client_->SendMessage(send).ok());
  auto got = ReceiveN(url, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, send.body);
}

TEST_F(SqsTest, WrongSecretIsUnauthenticated) {
  std::string url = NewQueue("auth");
  auto admin = moto_->Admin();
  ASSERT_TRUE(admin.ok());
  Credentials wrong = *admin;
  wrong.secret_access_key = "definitely-not-the-secret-0123456789";
  SqsClient bad(moto_->Config(wrong));
  auto r = bad.GetQueueUrl("auth");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  ASSERT_TRUE(r.status().aws().has_value());
  EXPECT_EQ(r.status().aws()->error_code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.status().aws()->http_status, 403);
  EXPECT_EQ(r.status().ToString().find(wrong.secret_access_key), std::string::npos);
  EXPECT_EQ(r.status().ToString().find(admin->secret_access_key), std::string::npos);

  Credentials unknown{"AKIAUNKNOWNKEY000000", "whatever", ""};
  auto u = SqsClient(moto_->Config(unknown)).GetQueueUrl("auth");
  EXPECT_EQ(u.status().code(), StatusCode::kUnauthenticated) << u.status().ToString();
}

TEST_F(SqsTest, PolicyThatForbidsTheCallIsPermissionDenied) {
  std::string url = NewQueue("limited");
  SqsClient limited(moto_->Config(*limited_));
  auto allowed = limited.GetQueueUrl("limited");
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(*allowed, url);
  SendMessageRequest send;
  send.queue_url = url;
  send.body = "nope";
  auto denied = limited.SendMessage(send);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
  ASSERT_TRUE(denied.status().aws().has_value());
  EXPECT_EQ(denied.status().aws()->error_code, "AccessDenied");
}

}  // namespace
}  // namespace chromapact::aws
