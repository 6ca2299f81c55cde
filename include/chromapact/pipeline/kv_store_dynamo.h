// The real KvStore: one DynamoDB table through aws::DynamoDbClient (aws/dynamodb.h): GetItem with
// ConsistentRead, PutItem / UpdateItem / DeleteItem with ReturnValuesOnConditionCheckFailure=ALL_OLD
// (UpdateItem with ReturnValues=ALL_NEW). Status codes as kv_store.h.
#pragma once

#include <memory>
#include <string>

#include "chromapact/aws/dynamodb.h"
#include "chromapact/pipeline/kv_store.h"

namespace chromapact::pipeline {

// A KvStore over DynamoDB table `table`. The first form borrows `client` (it must outlive the store),
// the second owns it. Not thread-safe (neither is DynamoDbClient).
std::unique_ptr<KvStore> NewDynamoKvStore(aws::DynamoDbClient* client, std::string table);
std::unique_ptr<KvStore> NewDynamoKvStore(std::unique_ptr<aws::DynamoDbClient> client, std::string table);

}  // namespace chromapact::pipeline
