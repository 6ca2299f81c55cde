// The local SQS event source (docs/aws-notes.md §8 item 6): instead of moto's event source mappings
// (which must stay disabled, docs/aws-notes.md §3), a thread in the emulator receives from one
// queue, turns each batch into an SQS event (sqs_event.h), invokes the function through
// Emulator::Invoke() (so it queues behind direct invokes, one at a time), and deletes the messages
// the answer lets it delete (ReportBatchItemFailures semantics). Messages it does not delete become
// visible again after the queue's visibility timeout and reach the DLQ after maxReceiveCount.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "chromapact/aws/sqs.h"
#include "chromapact/status.h"
#include "emulator.h"

namespace chromapact::emulator {

struct SqsPollerConfig {
  std::string queue_url;
  int batch_size = 10;           // messages per ReceiveMessage and per event, 1..10
  int wait_time_seconds = 1;     // long poll per ReceiveMessage, 0..20 (also bounds Stop()'s wait)
  int visibility_timeout = -1;   // seconds for received messages; -1 = the queue's VisibilityTimeout
};

class SqsPoller {
 public:
  // `client` is owned by the poller and used only from its thread.
  SqsPoller(Emulator& emulator, std::unique_ptr<aws::SqsClient> client, SqsPollerConfig config);
  ~SqsPoller();  // Stop()

  // Reads the queue's QueueArn and FifoQueue attributes, then starts polling.
  // Errors: kInvalidArgument for a batch size or wait time out of range; the SQS client's errors
  // (kNotFound for a missing queue, ...) from GetQueueAttributes.
  Status Start();
  // Ends the polling thread after the current receive / invoke. Idempotent.
  void Stop();

 private:
  void Loop();
  void HandleBatch(const std::vector<aws::SqsMessage>& messages);

  Emulator& emulator_;
  std::unique_ptr<aws::SqsClient> client_;
  const SqsPollerConfig config_;
  std::string queue_arn_;
  bool fifo_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace chromapact::emulator
