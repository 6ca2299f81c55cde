// KvStore: the seam through which the pipeline reaches its DynamoDB table (lease and pointer items),
// in the spirit of LevelDB's Env: one small interface, a real implementation over
// aws::DynamoDbClient (kv_store_dynamo.h), and the tests' fault injector (tests/support/faults)
// that wraps it to fail or "crash" any call.
//
// A KvStore is bound to one table whose primary key is the single string attribute `pk`
// (shard_id.h). Every read is strongly consistent (ConsistentRead): the lease and the pointer are
// only ever compared against the latest committed value.
//
// Status codes (from aws/dynamodb.h): kPreconditionFailed when a condition expression is false (AWS
// ConditionalCheckFailedException); kNotFound for a missing table; kInvalidArgument for a bad
// expression or an unescaped reserved word (`owner`, `ttl`, ...: use #names, docs/aws-notes.md §4);
// kUnauthenticated / kPermissionDenied; kThrottled / kUnavailable after retries; kInternal.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "chromapact/aws/dynamodb_types.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

struct KvPut {
  aws::Item item;         // must contain `pk`
  std::string condition;  // ConditionExpression; empty = unconditional
  aws::ExpressionParams expr;
};

struct KvUpdate {
  aws::Item key;          // {pk}
  std::string update;     // UpdateExpression, e.g. "SET #e = :exp ADD #f :one"
  std::string condition;  // ConditionExpression; empty = unconditional (creates the item)
  aws::ExpressionParams expr;
};

struct KvDelete {
  aws::Item key;
  std::string condition;
  aws::ExpressionParams expr;
};

// Calls are not required to be thread-safe: give each thread its own KvStore.
class KvStore {
 public:
  virtual ~KvStore() = default;

  // The item with that key (consistent read), nullopt when there is none.
  virtual Result<std::optional<aws::Item>> Get(const aws::Item& key) = 0;

  // For every conditional write: when the condition is false the call returns kPreconditionFailed
  // and, if `current` is non-null, *current receives the item as it was at the failed check
  // (nullopt when no item existed): ReturnValuesOnConditionCheckFailure=ALL_OLD, one round trip.
  virtual Status Put(const KvPut& req, std::optional<aws::Item>* current = nullptr) = 0;
  // Returns the item after the update (ReturnValues=ALL_NEW).
  virtual Result<aws::Item> Update(const KvUpdate& req, std::optional<aws::Item>* current = nullptr) = 0;
  virtual Status Delete(const KvDelete& req, std::optional<aws::Item>* current = nullptr) = 0;
};

// The `pk` string of a key or item ("" when absent): what fault rules match against.
std::string KvKeyString(const aws::Item& key_or_item);

}  // namespace chromapact::pipeline
