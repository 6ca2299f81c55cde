// Queue over aws::SqsClient. Batch calls are split into SQS's 10-entry batches; entry ids are the
// index within the batch, mapped back to receipt handles for the per-entry failures.
#include <algorithm>
#include <utility>

#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/queue_sqs.h"

namespace chromapact::pipeline {
namespace {

constexpr size_t kSqsBatch = 10;  // SQS limit per batch call

class SqsQueue final : public Queue {
 public:
  SqsQueue(aws::SqsClient* client, std::unique_ptr<aws::SqsClient> owned, std::string url)
      : client_(client), owned_(std::move(owned)), url_(std::move(url)) {}

  Result<std::string> Send(const QueueSend& msg) override {
    aws::SendMessageRequest req;
    req.queue_url = url_;
    req.body = msg.body;
    req.message_group_id = msg.group_id;
    req.message_deduplication_id = msg.dedup_id;
    CP_ASSIGN_OR_RETURN(auto res, client_->SendMessage(req));
    return std::move(res.message_id);
  }

  Result<std::vector<QueueMessage>> Receive(int max_messages, int wait_seconds,
                                            int visibility_seconds) override {
    aws::ReceiveMessageRequest req;
    req.queue_url = url_;
    req.max_number_of_messages = max_messages;
    req.wait_time_seconds = wait_seconds;
    req.visibility_timeout = visibility_seconds;
    req.system_attribute_names = {"ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"};
    CP_ASSIGN_OR_RETURN(auto msgs, client_->ReceiveMessage(req));
    std::vector<QueueMessage> out;
    out.reserve(msgs.size());
    for (auto& m : msgs) {
      QueueMessage q;
      q.message_id = std::move(m.message_id);
      q.receipt_handle = std::move(m.receipt_handle);
      q.body = std::move(m.body);
      auto attr = [&](const char* name) -> std::string {
        auto it = m.attributes.find(name);
        return it == m.attributes.end() ? std::string() : it->second;
      };
      q.group_id = attr("MessageGroupId");
      std::string count = attr("ApproximateReceiveCount");
      std::string sent = attr("SentTimestamp");
      try {
        if (!count.empty()) q.receive_count = std::stoi(count);
        if (!sent.empty()) q.sent_at_ms = std::stoll(sent);
      } catch (const std::exception&) {
        return Internal("ReceiveMessage: message " + q.message_id +
                        " has a non-numeric ApproximateReceiveCount '" + count + "' or SentTimestamp '" +
                        sent + "'");
      }
      out.push_back(std::move(q));
    }
    return out;
  }

  Result<std::vector<ReceiptFailure>> DeleteBatch(const std::vector<std::string>& receipts) override {
    return Batched(
        receipts,
        [&](const std::vector<aws::ReceiptEntry>& entries) {
          return client_->DeleteMessageBatch(url_, entries);
        },
        0);
  }

  Result<std::vector<ReceiptFailure>> ChangeVisibility(const std::vector<std::string>& receipts,
                                                       int visibility_seconds) override {
    return Batched(
        receipts,
        [&](const std::vector<aws::ReceiptEntry>& entries) {
          return client_->ChangeMessageVisibilityBatch(url_, entries);
        },
        visibility_seconds);
  }

 private:
  template <typename F>
  Result<std::vector<ReceiptFailure>> Batched(const std::vector<std::string>& receipts, F&& call,
                                              int visibility) {
    std::vector<ReceiptFailure> failures;
    for (size_t begin = 0; begin < receipts.size(); begin += kSqsBatch) {
      size_t end = std::min(receipts.size(), begin + kSqsBatch);
      std::vector<aws::ReceiptEntry> entries;
      for (size_t i = begin; i < end; ++i) {
        entries.push_back({std::to_string(i - begin), receipts[i], visibility});
      }
      CP_ASSIGN_OR_RETURN(aws::SqsBatchResult res, call(entries));
      for (const aws::SqsBatchError& e : res.failed) {
        size_t idx = 0;
        try {
          idx = std::stoul(e.id);
        } catch (const std::exception&) {
          return Internal("SQS batch answer names unknown entry id '" + e.id + "'");
        }
        if (idx >= entries.size()) return Internal("SQS batch answer names unknown entry id '" + e.id + "'");
        failures.push_back({entries[idx].receipt_handle, e.code, e.message});
      }
    }
    return failures;
  }

  aws::SqsClient* client_;
  std::unique_ptr<aws::SqsClient> owned_;
  std::string url_;
};

}  // namespace

std::unique_ptr<Queue> NewSqsQueue(aws::SqsClient* client, std::string queue_url) {
  return std::make_unique<SqsQueue>(client, nullptr, std::move(queue_url));
}

std::unique_ptr<Queue> NewSqsQueue(std::unique_ptr<aws::SqsClient> client, std::string queue_url) {
  aws::SqsClient* raw = client.get();
  return std::make_unique<SqsQueue>(raw, std::move(client), std::move(queue_url));
}

}  // namespace chromapact::pipeline
