// chromapact-emulator --sqs-queue-url as the function's SQS event source, against moto_server with
// signature checking on, with the test bootstrap playing a compactor with partial batch responses
// (docs/aws-notes.md §7 "SQS event" / "Partial batch response", §8 item 6): the event's shape, deletion of
// the messages not in batchItemFailures, failed ones coming back after the visibility timeout, a
// function error keeping the whole batch, and FIFO keeping everything from the first failure on.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chromapact/aws/sqs.h"
#include "chromapact/crypto.h"
#include "emulator_process.h"
#include "support/moto.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;

class SqsEventSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::make_unique<aws::Credentials>(*admin);
    ASSERT_TRUE(moto_->EnableAuth().ok());
  }
  static void TearDownTestSuite() {
    admin_.reset();
    moto_.reset();
  }
  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    sqs_ = std::make_unique<aws::SqsClient>(moto_->Config(*admin_));
    log_ = MakeTempDir("sqs-event-source") + "/records.jsonl";
  }

  std::string NewQueue(const std::string& name, aws::SqsQueueAttributes attrs = {}) {
    attrs["VisibilityTimeout"] = "1";  // failed messages come back quickly
    auto url = sqs_->CreateQueue(name, attrs);
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }

  // Sends one message whose body is `body`; returns its message id.
  std::string SendBody(const std::string& url, const json& body) {
    aws::SendMessageRequest req;
    req.queue_url = url;
    req.body = body.dump();
    auto sent = sqs_->SendMessage(req);
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    return sent.ok() ? sent->message_id : "";
  }

  // Sends one message per result ("ok" / "fail" / "error") in one batch; returns their message ids.
  std::vector<std::string> Send(const std::string& url, const std::vector<std::string>& results, bool fifo = false) {
    std::vector<aws::SendMessageBatchEntry> entries;
    for (size_t i = 0; i < results.size(); ++i) {
      aws::SendMessageBatchEntry e;
      e.id = "e" + std::to_string(i);
      e.body = json({{"result", results[i]}, {"n", i}}).dump();
      if (fifo) {
        e.message_group_id = "collection-a";
        e.message_deduplication_id = "d" + std::to_string(i);
      }
      e.message_attributes["delta"] = {"String", "deltas/a/" + std::to_string(i) + ".cpd", ""};
      entries.push_back(e);
    }
    auto sent = sqs_->SendMessageBatch(url, entries);
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    std::vector<std::string> ids(results.size());
    if (!sent.ok()) return ids;
    EXPECT_TRUE(sent->failed.empty());
    for (const auto& s : sent->successful) ids[std::stoul(s.id.substr(1))] = s.message_id;
    return ids;
  }

  std::unique_ptr<EmulatorProcess> StartEmulator(const std::string& url) { return StartEmulator(url, log_); }
  std::unique_ptr<EmulatorProcess> StartEmulator(const std::string& url, const std::string& log) {
    auto emu = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--bootstrap", TestBootstrapPath(), "--sqs-queue-url", url, "--sqs-wait-seconds",
                                 "1"},
        std::vector<std::pair<std::string, std::string>>{
            {"CP_TEST_SQS_LOG", log},
            {"CHROMAPACT_LOG_LEVEL", "error"},
            {"AWS_ACCESS_KEY_ID", admin_->access_key_id},
            {"AWS_SECRET_ACCESS_KEY", admin_->secret_access_key},
            {"AWS_SESSION_TOKEN", ""},
            {"AWS_REGION", "us-east-1"},
            {"AWS_ENDPOINT_URL_SQS", moto_->endpoint()}});
    EXPECT_TRUE(emu->ok()) << emu->error();
    return emu;
  }

  // The records the bootstrap saw, in order.
  std::vector<json> Records() const { return Records(log_); }
  static std::vector<json> Records(const std::string& log) {
    std::vector<json> out;
    const std::string text = ReadFile(log);
    size_t pos = 0;
    while (true) {
      const size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) break;
      out.push_back(json::parse(text.substr(pos, nl - pos)));
      pos = nl + 1;
    }
    return out;
  }
  std::map<std::string, int> Deliveries() const { return Deliveries(log_); }
  static std::map<std::string, int> Deliveries(const std::string& log) {
    std::map<std::string, int> n;
    for (const auto& r : Records(log)) ++n[r["messageId"].get<std::string>()];
    return n;
  }
  // Waits until every id in `ids` was delivered at least `times` times.
  bool WaitDelivered(const std::vector<std::string>& ids, int times, std::chrono::seconds timeout) {
    return WaitDelivered(log_, ids, times, timeout);
  }
  static bool WaitDelivered(const std::string& log, const std::vector<std::string>& ids, int times,
                            std::chrono::seconds timeout) {
    return WaitFor(
        [&] {
          const auto n = Deliveries(log);
          for (const auto& id : ids) {
            auto it = n.find(id);
            if (it == n.end() || it->second < times) return false;
          }
          return true;
        },
        timeout);
  }
  // The message ids left in the queue (receives until `expect` ids were seen or a deadline).
  std::set<std::string> Remaining(const std::string& url, size_t expect) {
    std::set<std::string> ids;
    WaitFor(
        [&] {
          aws::ReceiveMessageRequest req;
          req.queue_url = url;
          req.max_number_of_messages = 10;
          req.wait_time_seconds = 1;
          req.visibility_timeout = 30;
          auto got = sqs_->ReceiveMessage(req);
          if (got.ok()) {
            for (const auto& m : *got) ids.insert(m.message_id);
          }
          return ids.size() >= expect;
        },
        std::chrono::seconds(8));
    // One more receive: nothing else may be there.
    aws::ReceiveMessageRequest req;
    req.queue_url = url;
    req.max_number_of_messages = 10;
    req.wait_time_seconds = 1;
    auto got = sqs_->ReceiveMessage(req);
    if (got.ok()) {
      for (const auto& m : *got) ids.insert(m.message_id);
    }
    return ids;
  }

  static std::unique_ptr<MotoServer> moto_;
  static std::unique_ptr<aws::Credentials> admin_;
  std::unique_ptr<aws::SqsClient> sqs_;
  std::string log_;
};

std::unique_ptr<MotoServer> SqsEventSourceTest::moto_;
std::unique_ptr<aws::Credentials> SqsEventSourceTest::admin_;

TEST_F(SqsEventSourceTest, DeletesSuccessesAndLeavesFailuresToComeBack) {
  const std::string url = NewQueue("es-standard");
  const auto ids = Send(url, {"ok", "fail", "ok", "fail", "ok"});
  auto emu = StartEmulator(url);
  ASSERT_TRUE(emu->ok());
  // The failed ones come back after the 1 s visibility timeout and are delivered again.
  ASSERT_TRUE(WaitDelivered({ids[1], ids[3]}, 2, std::chrono::seconds(20))) << emu->Log();
  emu->Stop();
  const auto n = Deliveries();
  EXPECT_EQ(n.at(ids[0]), 1);
  EXPECT_EQ(n.at(ids[2]), 1);
  EXPECT_EQ(n.at(ids[4]), 1);
  EXPECT_EQ(Remaining(url, 2), (std::set<std::string>{ids[1], ids[3]}));

  // The event's record shape (docs/aws-notes.md §7).
  auto arn = sqs_->GetQueueAttributes(url, {"QueueArn"});
  ASSERT_TRUE(arn.ok());
  bool saw_redelivery = false;
  for (const auto& r : Records()) {
    EXPECT_EQ(r["eventSource"], "aws:sqs");
    EXPECT_EQ(r["eventSourceARN"], (*arn)["QueueArn"]);
    EXPECT_EQ(r["awsRegion"], "us-east-1");
    EXPECT_FALSE(r["receiptHandle"].get<std::string>().empty());
    EXPECT_EQ(r["md5OfBody"], HexEncode(Md5(r["body"].get<std::string>())));
    ASSERT_TRUE(r["attributes"].is_object());
    for (const auto& [k, v] : r["attributes"].items()) EXPECT_TRUE(v.is_string()) << k;
    EXPECT_TRUE(r["attributes"].contains("SentTimestamp"));
    const json& delta = r["messageAttributes"]["delta"];
    EXPECT_EQ(delta["dataType"], "String");
    EXPECT_EQ(delta["stringValue"].get<std::string>().rfind("deltas/a/", 0), 0u);
    EXPECT_TRUE(delta["stringListValues"].is_array());
    if (r["attributes"].value("ApproximateReceiveCount", "") == "2") saw_redelivery = true;
  }
  EXPECT_TRUE(saw_redelivery);
}

TEST_F(SqsEventSourceTest, FunctionErrorKeepsTheWholeBatch) {
  const std::string url = NewQueue("es-error");
  const auto ids = Send(url, {"ok", "error"});
  auto emu = StartEmulator(url);
  ASSERT_TRUE(emu->ok());
  // Both come back: the "ok" one was in a batch whose invocation failed.
  ASSERT_TRUE(WaitDelivered({ids[0], ids[1]}, 2, std::chrono::seconds(20))) << emu->Log();
  emu->Stop();
  EXPECT_EQ(Remaining(url, 2), (std::set<std::string>{ids[0], ids[1]}));
}

TEST_F(SqsEventSourceTest, FifoKeepsEverythingFromTheFirstFailureOn) {
  const std::string url = NewQueue("es-order.fifo", {{"FifoQueue", "true"}});
  const auto ids = Send(url, {"ok", "fail", "ok"}, /*fifo=*/true);
  auto emu = StartEmulator(url);
  ASSERT_TRUE(emu->ok());
  // The third one succeeded but came after a failure in its group: it is delivered again.
  ASSERT_TRUE(WaitDelivered({ids[1], ids[2]}, 2, std::chrono::seconds(20))) << emu->Log();
  emu->Stop();
  const auto n = Deliveries();
  EXPECT_EQ(n.at(ids[0]), 1);
  const auto records = Records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0]["attributes"]["MessageGroupId"], "collection-a");
  // What remains: the failed one, plus the later "ok" one unless a redelivery (in whatever order
  // moto gives it, docs/aws-notes.md §9) already had it first in its batch and so deleted it.
  const auto left = Remaining(url, 1);
  EXPECT_TRUE(left.count(ids[1])) << "the failed message must stay";
  EXPECT_FALSE(left.count(ids[0]));
}

TEST_F(SqsEventSourceTest, OddPartialBatchResponses) {
  // An itemIdentifier naming no message of the batch fails the whole batch; a null answer and an
  // empty list are full successes (services-sqs-errorhandling.html, docs/aws-notes.md §7). Three queues,
  // three emulators, side by side.
  const std::string bad_url = NewQueue("es-bad-id");
  const std::string null_url = NewQueue("es-null");
  const std::string empty_url = NewQueue("es-empty");
  const std::string bad = SendBody(bad_url, {{"answer", {{"batchItemFailures", {{{"itemIdentifier", "no-such"}}}}}}});
  const std::string null_id = SendBody(null_url, {{"answer", nullptr}});
  const std::string empty_id = SendBody(empty_url, {{"answer", {{"batchItemFailures", json::array()}}}});
  const std::string dir = MakeTempDir("sqs-odd");
  auto bad_emu = StartEmulator(bad_url, dir + "/bad.jsonl");
  auto null_emu = StartEmulator(null_url, dir + "/null.jsonl");
  auto empty_emu = StartEmulator(empty_url, dir + "/empty.jsonl");
  ASSERT_TRUE(bad_emu->ok() && null_emu->ok() && empty_emu->ok());
  // By the time the bad one came back (visibility timeout 1 s), the others would have too.
  ASSERT_TRUE(WaitDelivered(dir + "/bad.jsonl", {bad}, 2, std::chrono::seconds(20))) << bad_emu->Log();
  ASSERT_TRUE(WaitDelivered(dir + "/null.jsonl", {null_id}, 1, std::chrono::seconds(5)));
  ASSERT_TRUE(WaitDelivered(dir + "/empty.jsonl", {empty_id}, 1, std::chrono::seconds(5)));
  bad_emu->Stop();
  null_emu->Stop();
  empty_emu->Stop();
  EXPECT_EQ(Deliveries(dir + "/null.jsonl").at(null_id), 1);
  EXPECT_EQ(Deliveries(dir + "/empty.jsonl").at(empty_id), 1);
  EXPECT_TRUE(Remaining(null_url, 0).empty());
  EXPECT_TRUE(Remaining(empty_url, 0).empty());
  EXPECT_EQ(Remaining(bad_url, 1), std::set<std::string>{bad});
}

}  // namespace
}  // namespace chromapact::testing
