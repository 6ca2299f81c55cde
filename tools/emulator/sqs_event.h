// The local SQS event source's pure parts: the SQS event a Lambda receives for a batch of messages,
// and which messages a function's answer lets the event source delete (docs/aws-notes.md §7 "SQS event",
// "Partial batch response"; AWS doc "Handling errors for an SQS event source in Lambda",
// services-sqs-errorhandling.html#services-sqs-batchfailurereporting).
#pragma once

#include <string>
#include <vector>

#include "chromapact/aws/sqs.h"

namespace chromapact::emulator {

// {"Records":[{"messageId","receiptHandle","body","attributes":{…strings},"messageAttributes":{name:
// {"stringValue"|"binaryValue"(base64),"stringListValues":[],"binaryListValues":[],"dataType"}},
// "md5OfBody","eventSource":"aws:sqs","eventSourceARN":queue_arn,"awsRegion":region}]}, records in
// the order given. `region` is the queue's region (the ARN's fourth field when empty).
std::string BuildSqsEvent(const std::vector<aws::SqsMessage>& messages, const std::string& queue_arn,
                          const std::string& region = "");

// What the event source does with a batch after the invocation.
struct BatchOutcome {
  std::vector<size_t> delete_indexes;  // messages (by index in the batch) to delete, ascending
  std::string reason;                  // why the others stay, for the log; empty when all are deleted
};

// The rules, with ReportBatchItemFailures on:
// * a function error (`function_error` true) fails the whole batch (nothing is deleted);
// * an empty or null body, a JSON null, an object without "batchItemFailures", or an empty / null
//   list: full success (everything is deleted);
// * every itemIdentifier named (a messageId of the batch) stays; an entry that is not an object, an
//   empty / null / non-string itemIdentifier, one naming no message of the batch, or a body that is
//   not JSON: the whole batch fails;
// * FIFO (`fifo` true): a failed message and every message after it in the batch stay (their order
//   within a group must be kept), so only the messages before the first failure are deleted.
BatchOutcome DecideDeletes(const std::vector<aws::SqsMessage>& messages, bool function_error,
                           const std::string& response_body, bool fifo);

}  // namespace chromapact::emulator
