// The real Queue: one SQS queue through aws::SqsClient (aws/sqs.h): SendMessage (MessageGroupId /
// MessageDeduplicationId as given), ReceiveMessage with the attributes QueueMessage carries,
// DeleteMessageBatch / ChangeMessageVisibilityBatch in batches of 10. Status codes as queue.h.
#pragma once

#include <memory>
#include <string>

#include "chromapact/aws/sqs.h"
#include "chromapact/pipeline/queue.h"

namespace chromapact::pipeline {

// A Queue over `queue_url`; the first form borrows `client` (it must outlive the queue), the second
// owns it. Not thread-safe.
std::unique_ptr<Queue> NewSqsQueue(aws::SqsClient* client, std::string queue_url);
std::unique_ptr<Queue> NewSqsQueue(std::unique_ptr<aws::SqsClient> client, std::string queue_url);

}  // namespace chromapact::pipeline
