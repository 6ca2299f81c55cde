// Request bodies and response parsing of the DynamoDB JSON protocol, separate from the transport so
// unit tests can check them without a server. Field names: DynamoDB API Reference (GetItem, PutItem,
// UpdateItem, DeleteItem, CreateTable, DescribeTable).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "chromapact/aws/dynamodb.h"

namespace chromapact::aws::ddb_wire {

// "DynamoDB_20120810.<op>"
std::string Target(const std::string& op);

// Each Build* checks what we can name better than the server would: kInvalidArgument naming the
// field when the table or key/item is empty, or an expression placeholder does not start with '#'
// (names) or ':' (values). Whether a placeholder is used is left to the server (DynamoDB rejects
// unused ones with ValidationException).
Result<nlohmann::json> BuildGetItem(const GetItemRequest& req);
Result<nlohmann::json> BuildPutItem(const PutItemRequest& req);
Result<nlohmann::json> BuildUpdateItem(const UpdateItemRequest& req);
Result<nlohmann::json> BuildDeleteItem(const DeleteItemRequest& req);
Result<nlohmann::json> BuildCreateTable(const CreateTableRequest& req);

// {"Item": {...}} or {} (no item).
Result<GetItemResult> ParseGetItem(const nlohmann::json& body);
// {"Attributes": {...}} or {}.
Result<WriteItemResult> ParseWriteItem(const nlohmann::json& body);
// The "Table" / "TableDescription" object of CreateTable / DescribeTable / DeleteTable.
Result<TableDescription> ParseTableDescription(const nlohmann::json& table);
// The old item a ConditionalCheckFailedException body carries when ReturnValuesOnConditionCheckFailure
// was ALL_OLD ({"__type":..., "Message":..., "Item": {...}}); nullopt when it carries none.
Result<std::optional<Item>> ParseConditionFailureItem(const nlohmann::json& error_body);

}  // namespace chromapact::aws::ddb_wire
