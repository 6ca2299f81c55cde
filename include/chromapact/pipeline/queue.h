// Queue: the seam through which the pipeline reaches the trigger queue (SQS FIFO) and its DLQ:
// send, receive, batch delete and change visibility. No AWS types: the real implementation over
// aws/sqs.h is queue_sqs.h (NewSqsQueue); the tests' fault injector (tests/support/faults) wraps
// any Queue to fail or "crash" a chosen call.
//
// Status codes (aws/sqs.h): kNotFound (QueueDoesNotExist); kInvalidArgument for a malformed request
// (e.g. a FIFO send without a group id); kUnauthenticated / kPermissionDenied; kThrottled /
// kUnavailable after retries; kInternal for unparsable answers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::pipeline {

struct QueueSend {
  std::string body;      // 1 byte .. 256 KiB (SQS limit)
  std::string group_id;  // MessageGroupId: required on FIFO queues ("<collection>#<shard>")
  std::string dedup_id;  // MessageDeduplicationId; empty: not sent (content-based dedup or standard)
};

struct QueueMessage {
  std::string message_id;
  std::string receipt_handle;  // this receipt only: needed to delete it or change its visibility
  std::string body;
  std::string group_id;    // MessageGroupId (FIFO), "" otherwise
  int receive_count = 0;   // ApproximateReceiveCount, 1 on the first delivery
  int64_t sent_at_ms = 0;  // SentTimestamp, epoch ms UTC
};

struct ReceiptFailure {
  std::string receipt_handle;
  std::string code;  // e.g. "ReceiptHandleIsInvalid"
  std::string message;
};

class Queue {
 public:
  virtual ~Queue() = default;

  // Returns the message id.
  virtual Result<std::string> Send(const QueueSend& msg) = 0;
  // Up to max_messages (1..10) messages, waiting up to wait_seconds (0..20) for the first one,
  // hidden from other consumers for visibility_seconds (0..43200). Empty when none arrived.
  virtual Result<std::vector<QueueMessage>> Receive(int max_messages, int wait_seconds,
                                                    int visibility_seconds) = 0;
  // Deletes every receipt (any number; sent in batches of 10). Deleting an already deleted message
  // is OK; per-receipt failures come back in the vector.
  virtual Result<std::vector<ReceiptFailure>> DeleteBatch(
      const std::vector<std::string>& receipt_handles) = 0;
  // Sets the visibility timeout of every receipt (seconds 0..43200; 0 = visible again now).
  virtual Result<std::vector<ReceiptFailure>> ChangeVisibility(
      const std::vector<std::string>& receipt_handles, int visibility_seconds) = 0;
};

}  // namespace chromapact::pipeline
