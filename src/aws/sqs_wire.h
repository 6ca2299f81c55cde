// Request bodies and response parsing of the SQS JSON protocol, separate from the transport so unit
// tests can check them without a server. Field names: Amazon SQS API Reference (SendMessage,
// SendMessageBatch, ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch, ...).
#pragma once

#include <nlohmann/json.hpp>

#include "chromapact/aws/sqs.h"

namespace chromapact::aws::sqs_wire {

// "AmazonSQS.<op>"
std::string Target(const std::string& op);

// kInvalidArgument naming the field for what SQS would reject with a less specific message: empty
// queue URL, more than 10 or zero batch entries, duplicate or empty entry ids, out-of-range numbers.
Result<nlohmann::json> BuildSendMessage(const SendMessageRequest& req);
Result<nlohmann::json> BuildSendMessageBatch(const std::string& queue_url,
                                             const std::vector<SendMessageBatchEntry>& entries);
Result<nlohmann::json> BuildReceiveMessage(const ReceiveMessageRequest& req);
// Entries of DeleteMessageBatch (with_visibility=false) or ChangeMessageVisibilityBatch (true).
Result<nlohmann::json> BuildReceiptBatch(const std::string& queue_url, const std::vector<ReceiptEntry>& entries,
                                         bool with_visibility);

Result<SendMessageResult> ParseSendMessage(const nlohmann::json& body);
Result<SendMessageBatchResult> ParseSendMessageBatch(const nlohmann::json& body);
Result<std::vector<SqsMessage>> ParseReceiveMessage(const nlohmann::json& body);
Result<SqsBatchResult> ParseReceiptBatch(const nlohmann::json& body);
// {"Attributes": {...}} or {} (moto answers {} when nothing matched).
Result<SqsQueueAttributes> ParseQueueAttributes(const nlohmann::json& body);
// {"QueueUrl": "..."}
Result<std::string> ParseQueueUrl(const nlohmann::json& body);

}  // namespace chromapact::aws::sqs_wire
