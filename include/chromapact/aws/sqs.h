// A small SQS client over the JSON protocol (Amazon SQS API Reference, "Making API requests / JSON"):
// POST / to the configured endpoint with `X-Amz-Target: AmazonSQS.<Operation>`,
// `Content-Type: application/x-amz-json-1.0`, a JSON body, SigV4 with signing name "sqs".
// QueueUrl fields carry the queue URL exactly as the server (or a CloudFormation output) gave it;
// the request itself always goes to the configured endpoint, never to the URL's host.
//
// Status codes of every call: kNotFound (QueueDoesNotExist / AWS.SimpleQueueService.NonExistentQueue);
// kInvalidArgument (ReceiptHandleIsInvalid, InvalidParameterValue, MissingParameter, ...);
// kUnauthenticated (SignatureDoesNotMatch, InvalidClientTokenId); kPermissionDenied (AccessDenied);
// kThrottled / kUnavailable after retries ran out; kInternal for a response we cannot parse. AWS
// errors carry AwsErrorInfo (code, HTTP status, request id). Batch calls answer OK with per-entry
// failures in `failed` when only some entries fail.
//
// Retries: every call is retried on throttling, 5xx and network errors (as the AWS SDKs do). SQS is
// at-least-once anyway: a retried SendMessage may enqueue twice on a standard queue (FIFO queues
// drop the copy by MessageDeduplicationId within 5 minutes); a retried ReceiveMessage may leave the
// messages of a lost answer invisible until their visibility timeout ends.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/status.h"

namespace chromapact::aws {

// A message attribute (SQS "MessageAttributeValue"): data_type "String", "Number", "Binary" or
// "<type>.<custom>"; string_value for String/Number, binary_value (raw bytes) for Binary.
struct SqsMessageAttribute {
  std::string data_type = "String";
  std::string string_value;
  std::string binary_value;
  bool operator==(const SqsMessageAttribute& o) const {
    return data_type == o.data_type && string_value == o.string_value && binary_value == o.binary_value;
  }
};
using SqsMessageAttributes = std::map<std::string, SqsMessageAttribute>;

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;  // needed to delete or change the visibility of this receipt
  std::string body;
  std::string md5_of_body;     // hex MD5 of body, as the server computed it
  // System attributes asked for with ReceiveMessageRequest::system_attribute_names, all as strings:
  // ApproximateReceiveCount, SentTimestamp (epoch ms), MessageGroupId, MessageDeduplicationId,
  // SequenceNumber, SenderId, ApproximateFirstReceiveTimestamp, AWSTraceHeader.
  std::map<std::string, std::string> attributes;
  SqsMessageAttributes message_attributes;
};

struct SendMessageRequest {
  std::string queue_url;
  std::string body;  // 1 byte .. 256 KiB of XML-allowed Unicode characters (SQS limit)
  int delay_seconds = -1;  // 0..900; -1 = the queue's default (not sent). Not allowed on FIFO queues.
  std::string message_group_id;          // required for FIFO queues
  std::string message_deduplication_id;  // FIFO without content-based deduplication
  SqsMessageAttributes message_attributes;
};

struct SendMessageResult {
  std::string message_id;
  std::string md5_of_body;
  std::string sequence_number;  // FIFO only (moto 5.2.1 omits it unless a dedup id was sent)
};

// One entry of SendMessageBatch; `id` is ours (unique within the batch, [A-Za-z0-9_-]{1,80}).
struct SendMessageBatchEntry {
  std::string id;
  std::string body;
  int delay_seconds = -1;
  std::string message_group_id;
  std::string message_deduplication_id;
  SqsMessageAttributes message_attributes;
};

// A failed entry of any batch call (SQS "BatchResultErrorEntry").
struct SqsBatchError {
  std::string id;
  std::string code;     // e.g. "ReceiptHandleIsInvalid"
  std::string message;
  bool sender_fault = false;  // true: the entry is wrong and retrying it will not help
};

struct SendMessageBatchResult {
  struct Sent {
    std::string id;
    std::string message_id;
    std::string md5_of_body;
    std::string sequence_number;
  };
  std::vector<Sent> successful;
  std::vector<SqsBatchError> failed;
};

struct ReceiveMessageRequest {
  std::string queue_url;
  int max_number_of_messages = 1;  // 1..10
  int wait_time_seconds = -1;      // long poll 0..20 s; -1 = the queue's ReceiveMessageWaitTimeSeconds
  int visibility_timeout = -1;     // seconds 0..43200; -1 = the queue's VisibilityTimeout
  // MessageSystemAttributeNames, e.g. {"All"} or {"ApproximateReceiveCount", "MessageGroupId"}.
  std::vector<std::string> system_attribute_names;
  // MessageAttributeNames, e.g. {"All"} or {"trace.*"}.
  std::vector<std::string> message_attribute_names;
  // FIFO: ReceiveRequestAttemptId, makes a retried receive return the same messages (5 minutes).
  std::string receive_request_attempt_id;
};

// An entry of DeleteMessageBatch / ChangeMessageVisibilityBatch.
struct ReceiptEntry {
  std::string id;              // ours, unique within the batch
  std::string receipt_handle;
  int visibility_timeout = 0;  // ChangeMessageVisibilityBatch only: seconds 0..43200
};

struct SqsBatchResult {
  std::vector<std::string> successful;  // entry ids
  std::vector<SqsBatchError> failed;
};

// Queue attributes by their SQS names (all values are strings, as on the wire): "FifoQueue" ("true"),
// "ContentBasedDeduplication", "VisibilityTimeout" (s), "MessageRetentionPeriod" (s),
// "ReceiveMessageWaitTimeSeconds", "RedrivePolicy" (JSON text, see RedrivePolicyJson), "QueueArn",
// "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", ...
using SqsQueueAttributes = std::map<std::string, std::string>;

// The RedrivePolicy attribute value: {"deadLetterTargetArn":"<arn>","maxReceiveCount":<n>} (SQS
// "Using dead-letter queues"; the DLQ of a FIFO queue must be FIFO too).
std::string RedrivePolicyJson(const std::string& dead_letter_queue_arn, int max_receive_count);

// Optional knobs of a client.
struct SqsOptions {
  int max_attempts = 3;        // per call, including the first
  int64_t timeout_ms = 10000;  // per attempt; ReceiveMessage adds its wait time to this
};

// Not thread-safe: give each thread its own client (it owns one HTTP connection).
class SqsClient {
 public:
  explicit SqsClient(ClientConfig config, SqsOptions options = {});
  ~SqsClient();
  SqsClient(const SqsClient&) = delete;
  SqsClient& operator=(const SqsClient&) = delete;

  // Config from the environment (credentials.h: AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, ...).
  static Result<std::unique_ptr<SqsClient>> FromEnvironment(SqsOptions options = {});

  // Returns the queue URL. A FIFO queue's name must end in ".fifo" and have FifoQueue=true.
  // Creating an existing queue with the same attributes returns its URL; with different attributes
  // the error is kAlreadyExists (QueueAlreadyExists / QueueNameExists).
  Result<std::string> CreateQueue(const std::string& name, const SqsQueueAttributes& attributes = {});
  Result<std::string> GetQueueUrl(const std::string& name);
  Status DeleteQueue(const std::string& queue_url);
  // Deletes every message of the queue (SQS allows one purge per 60 s: PurgeQueueInProgress).
  Status PurgeQueue(const std::string& queue_url);
  // `names` empty or {"All"}: every attribute.
  Result<SqsQueueAttributes> GetQueueAttributes(const std::string& queue_url,
                                                const std::vector<std::string>& names = {"All"});

  Result<SendMessageResult> SendMessage(const SendMessageRequest& req);
  // 1..10 entries. Per-entry failures are in the result; the Status fails only when the whole call
  // does (e.g. kInvalidArgument for an empty batch or duplicate ids).
  Result<SendMessageBatchResult> SendMessageBatch(const std::string& queue_url,
                                                  const std::vector<SendMessageBatchEntry>& entries);
  // Zero or more messages (none when the queue stayed empty for the wait time).
  Result<std::vector<SqsMessage>> ReceiveMessage(const ReceiveMessageRequest& req);
  // Errors: kInvalidArgument (ReceiptHandleIsInvalid) for a malformed handle. Deleting a message
  // that was already deleted is OK (real SQS and moto).
  Status DeleteMessage(const std::string& queue_url, const std::string& receipt_handle);
  // 1..10 entries; per-entry failures (e.g. ReceiptHandleIsInvalid) are in `failed`.
  Result<SqsBatchResult> DeleteMessageBatch(const std::string& queue_url, const std::vector<ReceiptEntry>& entries);
  // visibility_timeout in seconds 0..43200; 0 makes the message visible again at once.
  Status ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle,
                                 int visibility_timeout);
  Result<SqsBatchResult> ChangeMessageVisibilityBatch(const std::string& queue_url,
                                                      const std::vector<ReceiptEntry>& entries);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::aws
