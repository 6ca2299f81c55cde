// The real seams against moto_server with signature checking on: the S3 ObjectStore (create-only
// and If-Match puts, get, head, list, list after a key (the log's listing), batch delete, files) and the SQS Queue (FIFO send, receive
// with receive counts, batched delete and visibility with per-receipt failures), each also through
// the fault-injection wrapper (a crash after an upload landed; a crash before a delete).
#include <gtest/gtest.h>

#include <fstream>

#include "chromapact/pipeline/clock.h"
#include "support/faults/fault_injection.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "support/pipeline_fixture.h"
#include "support/paths.h"

namespace chromapact::pipeline {
namespace {

using fixture::kBucket;

class SeamsTest : public fixture::PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    objects_ = NewS3ObjectStore(std::make_unique<aws::S3Client>(Config()), kBucket);
    sqs_ = std::make_unique<aws::SqsClient>(Config());
  }

  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<aws::SqsClient> sqs_;
};

TEST_F(SeamsTest, ObjectStoreConditionalPutsGetHeadListDelete) {
  auto first = objects_->Put("deltas/c/0/a.cpd", "alpha", {true, "", "application/octet-stream"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size, 5);
  EXPECT_EQ(first->etag.front(), '"');
  auto again = objects_->Put("deltas/c/0/a.cpd", "other", {true, "", "application/octet-stream"});
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed) << again.status().ToString();

  PutObjectOptions if_match;
  if_match.if_match = "\"0123456789abcdef0123456789abcdef\"";
  EXPECT_EQ(objects_->Put("deltas/c/0/a.cpd", "x", if_match).status().code(),
            StatusCode::kPreconditionFailed);
  if_match.if_match = first->etag;
  auto replaced = objects_->Put("deltas/c/0/a.cpd", "alpha-2", if_match);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_NE(replaced->etag, first->etag);

  ObjectMeta meta;
  auto body = objects_->Get("deltas/c/0/a.cpd", &meta);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "alpha-2");
  EXPECT_EQ(meta.size, 7);
  EXPECT_EQ(meta.etag, replaced->etag);
  EXPECT_GT(meta.last_modified_ms, 1700000000000);

  auto head = objects_->Head("deltas/c/0/a.cpd");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 7);
  EXPECT_EQ(objects_->Head("deltas/c/0/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(objects_->Get("deltas/c/0/missing").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(objects_->Put("deltas/c/0/b.cpd", "b").ok());
  ASSERT_TRUE(objects_->Put("deltas/c/1/c.cpd", "c").ok());
  auto listed = objects_->List("deltas/c/0/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "deltas/c/0/a.cpd");
  EXPECT_EQ((*listed)[1].key, "deltas/c/0/b.cpd");
  EXPECT_EQ((*listed)[1].size, 1);
  EXPECT_GT((*listed)[0].last_modified_ms, 1700000000000);

  auto failed = objects_->Delete({"deltas/c/0/a.cpd", "deltas/c/0/b.cpd", "deltas/c/0/never"});
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_TRUE(failed->empty());
  auto after = objects_->List("deltas/c/");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].key, "deltas/c/1/c.cpd");
}

// ListAfter is how the compactor lists the log past its base (log.h ListLog): StartAfter, in key
// order, only the prefix, with LastModified (the hole timeout is measured from it).
TEST_F(SeamsTest, ObjectStoreListAfterAKey) {
  const std::string prefix = "deltas/la/0/";
  for (const char* k : {"00000000000000000001.cpd", "00000000000000000002.cpd", "00000000000000000003.cpd",
                        "00000000000000000010.cpd", "00000000000000000011.cpd"}) {
    ASSERT_TRUE(objects_->Put(prefix + k, k).ok());
  }
  ASSERT_TRUE(objects_->Put("deltas/la/1/00000000000000000004.cpd", "other shard").ok());
  ASSERT_TRUE(objects_->Put("deltas/la/00000000000000000005.cpd", "outside the prefix").ok());
  auto keys = [](const std::vector<ObjectMeta>& v) {
    std::vector<std::string> out;
    for (const auto& m : v) out.push_back(m.key.substr(m.key.rfind('/') + 1));
    return out;
  };
  auto all = objects_->ListAfter(prefix, "", 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(keys(*all), (std::vector<std::string>{"00000000000000000001.cpd", "00000000000000000002.cpd",
                                                  "00000000000000000003.cpd", "00000000000000000010.cpd",
                                                  "00000000000000000011.cpd"}));
  EXPECT_EQ((*all)[0].size, 24);
  EXPECT_GT((*all)[0].last_modified_ms, 1700000000000);
  EXPECT_LE((*all)[0].last_modified_ms, SystemClock::Default()->NowMs() + 1000);
  auto after = objects_->ListAfter(prefix, prefix + "00000000000000000002.cpd", 0);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(keys(*after), (std::vector<std::string>{"00000000000000000003.cpd", "00000000000000000010.cpd",
                                                    "00000000000000000011.cpd"}));
  // A start key that does not exist: everything after where it would sort.
  auto between = objects_->ListAfter(prefix, prefix + "00000000000000000005.cpd", 0);
  ASSERT_TRUE(between.ok());
  EXPECT_EQ(keys(*between), (std::vector<std::string>{"00000000000000000010.cpd", "00000000000000000011.cpd"}));
  // A limit: at least that many (the rest of the page may come too), still in order after the key.
  auto limited = objects_->ListAfter(prefix, prefix + "00000000000000000001.cpd", 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_GE(limited->size(), 2u);
  EXPECT_EQ(keys(*limited)[0], "00000000000000000002.cpd");
  EXPECT_EQ(keys(*limited)[1], "00000000000000000003.cpd");
  auto none = objects_->ListAfter(prefix, prefix + "00000000000000000011.cpd", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto empty_prefix = objects_->ListAfter("deltas/nothing-here/", "", 0);
  ASSERT_TRUE(empty_prefix.ok());
  EXPECT_TRUE(empty_prefix->empty());
  // Through the fault wrapper: a LIST is the step "s3.list" on the prefix.
  FaultInjector faults;
  faults.Add({kStepS3List, "deltas/la/", FaultWhen::kBefore, 1, 1, Status(StatusCode::kThrottled, "SlowDown")});
  auto faulty = NewFaultyObjectStore(objects_.get(), &faults);
  EXPECT_EQ(faulty->ListAfter(prefix, "", 0).status().code(), StatusCode::kThrottled);
  EXPECT_TRUE(faulty->ListAfter(prefix, "", 0).ok());
}

TEST_F(SeamsTest, ObjectStoreFilesRoundTrip) {
  std::string dir = testing::MakeTempDir("seams");
  std::string src = dir + "/in.bin";
  std::string data(70000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  std::ofstream(src, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  auto put =
      objects_->PutFile("snapshots/c/0/1-w/data_level0.bin", src, {true, "", "application/octet-stream"});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, 70000);
  auto got = objects_->GetToFile("snapshots/c/0/1-w/data_level0.bin", dir + "/out.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->etag, put->etag);
  std::ifstream in(dir + "/out.bin", std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, data);
  EXPECT_EQ(objects_->PutFile("snapshots/c/0/1-w/x", dir + "/absent").status().code(), StatusCode::kIOError);
}

TEST_F(SeamsTest, CrashAfterUploadLeavesTheObjectAndCreateOnlyRetryLoses) {
  FaultInjector faults;
  auto faulty = NewFaultyObjectStore(objects_.get(), &faults);
  faults.CrashAt(kStepS3Put, "snapshots/", FaultWhen::kAfter);
  auto crashed = faulty->Put("snapshots/c/0/2-w/manifest.json", "{}", {true, "", "application/json"});
  EXPECT_EQ(crashed.status().code(), StatusCode::kAborted) << crashed.status().ToString();
  auto head = objects_->Head("snapshots/c/0/2-w/manifest.json");
  ASSERT_TRUE(head.ok()) << "the upload landed before the crash: " << head.status().ToString();
  EXPECT_EQ(
      faulty->Put("snapshots/c/0/2-w/manifest.json", "{}", {true, "", "application/json"}).status().code(),
      StatusCode::kPreconditionFailed);
  // Keys outside the rule's prefix are untouched.
  EXPECT_TRUE(faulty->Put("deltas/c/0/z.cpd", "z").ok());
  EXPECT_EQ(faults.Count(kStepS3Put), 3);
}

TEST_F(SeamsTest, FifoQueueSendReceiveDeleteAndVisibility) {
  auto url = sqs_->CreateQueue("seams.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto queue = NewSqsQueue(sqs_.get(), *url);
  // More than one SQS batch (10) of receipts: 12 messages in 12 groups.
  for (int i = 0; i < 12; ++i) {
    auto id = queue->Send({"delta-" + std::to_string(i), "c#" + std::to_string(i), ""});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_FALSE(id->empty());
  }
  std::vector<QueueMessage> got;
  for (int tries = 0; tries < 10 && got.size() < 12; ++tries) {
    auto batch = queue->Receive(10, 0, 60);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    for (auto& m : *batch) got.push_back(m);
  }
  ASSERT_EQ(got.size(), 12u);
  for (const auto& m : got) {
    EXPECT_EQ(m.receive_count, 1);
    EXPECT_GT(m.sent_at_ms, 1700000000000);
    EXPECT_EQ(m.group_id, "c#" + m.body.substr(6));
  }
  std::vector<std::string> receipts;
  for (const auto& m : got) receipts.push_back(m.receipt_handle);

  // Two back to the queue at once; they come back with a higher receive count.
  auto vis = queue->ChangeVisibility({receipts[0], receipts[1]}, 0);
  ASSERT_TRUE(vis.ok()) << vis.status().ToString();
  EXPECT_TRUE(vis->empty());
  auto again = queue->Receive(10, 0, 60);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), 2u);
  for (const auto& m : *again) EXPECT_EQ(m.receive_count, 2);
  receipts[0] = (*again)[0].receipt_handle;
  receipts[1] = (*again)[1].receipt_handle;

  // A crash before the delete deletes nothing; then the real delete, with one bogus receipt.
  FaultInjector faults;
  auto faulty = NewFaultyQueue(queue.get(), &faults);
  faults.CrashAt(kStepSqsDelete, "");
  EXPECT_EQ(faulty->DeleteBatch(receipts).status().code(), StatusCode::kAborted);
  receipts.push_back("bogus-receipt");
  auto del = faulty->DeleteBatch(receipts);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  ASSERT_EQ(del->size(), 1u);
  EXPECT_EQ((*del)[0].receipt_handle, "bogus-receipt");
  EXPECT_EQ((*del)[0].code, "ReceiptHandleIsInvalid");
  auto attrs = sqs_->GetQueueAttributes(
      *url, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  EXPECT_EQ(attrs->at("ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(attrs->at("ApproximateNumberOfMessagesNotVisible"), "0");
}

}  // namespace
}  // namespace chromapact::pipeline
