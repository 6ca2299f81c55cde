#include "sqs_poller.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "sqs_event.h"

namespace chromapact::emulator {

SqsPoller::SqsPoller(Emulator& emulator, std::unique_ptr<aws::SqsClient> client, SqsPollerConfig config)
    : emulator_(emulator), client_(std::move(client)), config_(std::move(config)) {}

SqsPoller::~SqsPoller() { Stop(); }

Status SqsPoller::Start() {
  if (config_.batch_size < 1 || config_.batch_size > 10) {
    return InvalidArgument("--sqs-batch-size: expected 1..10, got " + std::to_string(config_.batch_size));
  }
  if (config_.wait_time_seconds < 0 || config_.wait_time_seconds > 20) {
    return InvalidArgument("--sqs-wait-seconds: expected 0..20, got " + std::to_string(config_.wait_time_seconds));
  }
  auto attrs = client_->GetQueueAttributes(config_.queue_url, {"QueueArn", "FifoQueue"});
  if (!attrs.ok()) return attrs.status();
  queue_arn_ = (*attrs)["QueueArn"];
  fifo_ = (*attrs)["FifoQueue"] == "true";
  if (queue_arn_.empty()) return Internal("sqs poller: GetQueueAttributes gave no QueueArn for " + config_.queue_url);
  std::fprintf(stderr, "chromapact-emulator: sqs: polling %s (%s, batch %d)\n", queue_arn_.c_str(),
               fifo_ ? "FIFO" : "standard", config_.batch_size);
  thread_ = std::thread(&SqsPoller::Loop, this);
  return Status::Ok();
}

void SqsPoller::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void SqsPoller::Loop() {
  int failures = 0;
  while (!stop_) {
    aws::ReceiveMessageRequest req;
    req.queue_url = config_.queue_url;
    req.max_number_of_messages = config_.batch_size;
    req.wait_time_seconds = config_.wait_time_seconds;
    req.visibility_timeout = config_.visibility_timeout;
    req.system_attribute_names = {"All"};
    req.message_attribute_names = {"All"};
    auto got = client_->ReceiveMessage(req);
    if (!got.ok()) {
      // The client already retried; back off a little more so a dead endpoint is not hammered.
      ++failures;
      std::fprintf(stderr, "chromapact-emulator: sqs: ReceiveMessage failed (%s)\n", got.status().ToString().c_str());
      const int wait_ms = failures < 6 ? 100 << failures : 3200;
      for (int waited = 0; waited < wait_ms && !stop_; waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    failures = 0;
    if (got->empty()) continue;
    HandleBatch(*got);
  }
}

void SqsPoller::HandleBatch(const std::vector<aws::SqsMessage>& messages) {
  const InvokeResult r = emulator_.Invoke(BuildSqsEvent(messages, queue_arn_));
  const bool function_error = !r.function_error.empty() || r.http_status != 200;
  const BatchOutcome outcome = DecideDeletes(messages, function_error, r.body, fifo_);
  size_t deleted = 0;
  std::string delete_error;
  for (size_t start = 0; start < outcome.delete_indexes.size(); start += 10) {
    std::vector<aws::ReceiptEntry> entries;
    for (size_t k = start; k < outcome.delete_indexes.size() && k < start + 10; ++k) {
      aws::ReceiptEntry e;
      e.id = "m" + std::to_string(outcome.delete_indexes[k]);
      e.receipt_handle = messages[outcome.delete_indexes[k]].receipt_handle;
      entries.push_back(std::move(e));
    }
    auto del = client_->DeleteMessageBatch(config_.queue_url, entries);
    if (!del.ok()) {
      delete_error = del.status().ToString();
      continue;
    }
    deleted += del->successful.size();
    for (const auto& f : del->failed) delete_error = f.id + ": " + f.code + " " + f.message;
  }
  std::fprintf(stderr, "chromapact-emulator: sqs: RequestId %s: %zu messages, %zu deleted%s%s%s%s\n",
               r.request_id.c_str(), messages.size(), deleted, outcome.reason.empty() ? "" : "; ",
               outcome.reason.c_str(), delete_error.empty() ? "" : "; delete failed: ", delete_error.c_str());
}

}  // namespace chromapact::emulator
