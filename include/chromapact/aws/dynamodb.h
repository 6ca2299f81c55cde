// A small DynamoDB client over the JSON protocol: item reads and conditional writes, plus the minimal
// table management that tests and the local demo need.
//
// Wire protocol (DynamoDB API Reference, "Low-level API"): POST / with
// `X-Amz-Target: DynamoDB_20120810.<Operation>`, `Content-Type: application/x-amz-json-1.0`, a JSON
// body, SigV4 with signing name "dynamodb". Errors come back as HTTP 400/5xx with a JSON body
// {"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message"|"Message": ...} (moto also answers
// auth failures as XML <ErrorResponse>, docs/aws-notes.md §1, §4).
//
// Status codes of every call: kPreconditionFailed (aws code ConditionalCheckFailedException) when a
// ConditionExpression is false; kNotFound (ResourceNotFoundException) for a missing table;
// kInvalidArgument (ValidationException: bad expression, unescaped reserved word, key type mismatch);
// kUnauthenticated (SignatureDoesNotMatch, InvalidClientTokenId); kPermissionDenied (AccessDenied);
// kThrottled / kUnavailable after retries ran out; kInternal for a response we cannot parse. AWS errors
// carry AwsErrorInfo (code, HTTP status, request id).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/dynamodb_types.h"
#include "chromapact/status.h"

namespace chromapact::aws {

// ReturnValues of PutItem / UpdateItem / DeleteItem (PutItem and DeleteItem accept only kNone and
// kAllOld: the server answers ValidationException otherwise).
enum class ReturnValues { kNone, kAllOld, kUpdatedOld, kAllNew, kUpdatedNew };
// The wire spelling: "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW".
const char* ReturnValuesName(ReturnValues rv);

// ExpressionParams (the calls' "#name" / ":value" placeholders): dynamodb_types.h.

struct GetItemRequest {
  std::string table;
  Item key;                           // the full primary key
  bool consistent_read = false;       // strongly consistent read (ConsistentRead)
  std::string projection_expression;  // optional, may use `names`
  std::map<std::string, std::string> names;
};

struct GetItemResult {
  std::optional<Item> item;  // nullopt when no item has that key
};

struct PutItemRequest {
  std::string table;
  Item item;
  std::string condition_expression;  // empty: unconditional
  ExpressionParams expr;
  ReturnValues return_values = ReturnValues::kNone;  // kNone or kAllOld
  // ReturnValuesOnConditionCheckFailure=ALL_OLD: on a lost condition the item as it was is handed
  // back through the call's `condition_failure_item` argument.
  bool return_old_on_condition_failure = false;
};

struct UpdateItemRequest {
  std::string table;
  Item key;
  std::string update_expression;  // e.g. "SET #o = :me, fence = fence + :one"
  std::string condition_expression;
  ExpressionParams expr;
  ReturnValues return_values = ReturnValues::kNone;
  bool return_old_on_condition_failure = false;
};

struct DeleteItemRequest {
  std::string table;
  Item key;
  std::string condition_expression;
  ExpressionParams expr;
  ReturnValues return_values = ReturnValues::kNone;  // kNone or kAllOld
  bool return_old_on_condition_failure = false;
};

struct WriteItemResult {
  // The `Attributes` of the answer: present when return_values asked for some and the server sent
  // them (ALL_OLD on a new item sends none).
  std::optional<Item> attributes;
};

// Key attribute types of CreateTable (DynamoDB "AttributeDefinition": S, N or B).
enum class KeyType { kS, kN, kB };

struct CreateTableRequest {
  std::string table;
  std::string partition_key;  // HASH key attribute name
  KeyType partition_key_type = KeyType::kS;
  std::string sort_key;       // RANGE key attribute name; empty for none
  KeyType sort_key_type = KeyType::kS;
  // Billing mode PAY_PER_REQUEST (no provisioned throughput to manage).
};

struct TableDescription {
  std::string name;
  std::string status;       // "CREATING", "ACTIVE", "DELETING", ... (moto: ACTIVE at once)
  std::string arn;
  std::string partition_key;
  std::string sort_key;     // empty when the table has none
  int64_t item_count = 0;   // approximate (AWS refreshes it about every 6 hours)
};

// Optional knobs of a client.
struct DynamoDbOptions {
  int max_attempts = 3;          // per call, including the first (throttling, 5xx, network errors)
  int64_t timeout_ms = 10000;    // whole-request timeout per attempt
};

// Not thread-safe: give each thread its own client (it owns one HTTP connection).
class DynamoDbClient {
 public:
  explicit DynamoDbClient(ClientConfig config, DynamoDbOptions options = {});
  ~DynamoDbClient();
  DynamoDbClient(const DynamoDbClient&) = delete;
  DynamoDbClient& operator=(const DynamoDbClient&) = delete;

  // Config from the environment (credentials.h: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, ...).
  static Result<std::unique_ptr<DynamoDbClient>> FromEnvironment(DynamoDbOptions options = {});

  Result<GetItemResult> GetItem(const GetItemRequest& req);

  // Conditional writes. When the condition is false the Status is kPreconditionFailed with
  // aws()->error_code == "ConditionalCheckFailedException"; if the request set
  // return_old_on_condition_failure and `condition_failure_item` is non-null, *condition_failure_item
  // receives the item as it was (nullopt when no item existed).
  Result<WriteItemResult> PutItem(const PutItemRequest& req,
                                  std::optional<Item>* condition_failure_item = nullptr);
  Result<WriteItemResult> UpdateItem(const UpdateItemRequest& req,
                                     std::optional<Item>* condition_failure_item = nullptr);
  Result<WriteItemResult> DeleteItem(const DeleteItemRequest& req,
                                     std::optional<Item>* condition_failure_item = nullptr);

  // PAY_PER_REQUEST table. Errors: kAlreadyExists (ResourceInUseException) when it exists.
  Result<TableDescription> CreateTable(const CreateTableRequest& req);
  // Errors: kNotFound when the table does not exist.
  Result<TableDescription> DescribeTable(const std::string& table);
  Status DeleteTable(const std::string& table);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::aws
