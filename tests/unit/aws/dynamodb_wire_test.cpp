// DynamoDB request bodies and response parsing (field names: DynamoDB API Reference), no server.
#include "aws/dynamodb_wire.h"

#include <gtest/gtest.h>

namespace chromapact::aws {
namespace {

using nlohmann::json;

Item Key(const std::string& pk) { return {{"pk", AttributeValue::S(pk)}}; }

TEST(DynamoDbWireTest, LeaseAcquireUpdateBody) {
  UpdateItemRequest req;
  req.table = "leases";
  req.key = Key("LOCK#c#0");
  req.update_expression = "SET #o = :me, #e = :exp ADD fence :one";
  req.condition_expression = "attribute_not_exists(pk) OR #e < :now";
  req.expr.names = {{"#o", "owner"}, {"#e", "ttl"}};
  req.expr.values = {{":me", AttributeValue::S("c1")}, {":exp", AttributeValue::N(int64_t{2000})},
                     {":now", AttributeValue::N(int64_t{1000})}, {":one", AttributeValue::N(int64_t{1})}};
  req.return_values = ReturnValues::kAllNew;
  req.return_old_on_condition_failure = true;
  auto body = ddb_wire::BuildUpdateItem(req);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, json::parse(R"({
    "TableName": "leases",
    "Key": {"pk": {"S": "LOCK#c#0"}},
    "UpdateExpression": "SET #o = :me, #e = :exp ADD fence :one",
    "ConditionExpression": "attribute_not_exists(pk) OR #e < :now",
    "ExpressionAttributeNames": {"#o": "owner", "#e": "ttl"},
    "ExpressionAttributeValues": {":me": {"S": "c1"}, ":exp": {"N": "2000"}, ":now": {"N": "1000"}, ":one": {"N": "1"}},
    "ReturnValues": "ALL_NEW",
    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})"));
}

TEST(DynamoDbWireTest, OptionalFieldsAreOmitted) {
  PutItemRequest put;
  put.table = "t";
  put.item = Key("a");
  auto body = ddb_wire::BuildPutItem(put);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, json::parse(R"({"TableName":"t","Item":{"pk":{"S":"a"}}})"));

  GetItemRequest get;
  get.table = "t";
  get.key = Key("a");
  get.consistent_read = true;
  get.projection_expression = "#o";
  get.names = {{"#o", "owner"}};
  EXPECT_EQ(ddb_wire::BuildGetItem(get).value(),
            json::parse(R"({"TableName":"t","Key":{"pk":{"S":"a"}},"ConsistentRead":true,
                            "ProjectionExpression":"#o","ExpressionAttributeNames":{"#o":"owner"}})"));

  DeleteItemRequest del;
  del.table = "t";
  del.key = Key("a");
  del.return_values = ReturnValues::kAllOld;
  EXPECT_EQ(ddb_wire::BuildDeleteItem(del).value(),
            json::parse(R"({"TableName":"t","Key":{"pk":{"S":"a"}},"ReturnValues":"ALL_OLD"})"));
}

TEST(DynamoDbWireTest, RejectsWhatWeCanNameBetter) {
  PutItemRequest put;
  put.item = Key("a");
  EXPECT_NE(ddb_wire::BuildPutItem(put).status().message().find("TableName"), std::string::npos);
  put.table = "t";
  put.return_values = ReturnValues::kAllNew;
  EXPECT_EQ(ddb_wire::BuildPutItem(put).status().code(), StatusCode::kInvalidArgument);
  put.return_values = ReturnValues::kNone;
  put.expr.names = {{"owner", "owner"}};
  EXPECT_NE(ddb_wire::BuildPutItem(put).status().message().find("'owner' must start with '#'"), std::string::npos);
  put.expr.names.clear();
  put.expr.values = {{"now", AttributeValue::N(int64_t{1})}};
  EXPECT_NE(ddb_wire::BuildPutItem(put).status().message().find("must start with ':'"), std::string::npos);

  UpdateItemRequest upd;
  upd.table = "t";
  upd.key = Key("a");
  EXPECT_NE(ddb_wire::BuildUpdateItem(upd).status().message().find("UpdateExpression"), std::string::npos);
  DeleteItemRequest del;
  del.table = "t";
  EXPECT_NE(ddb_wire::BuildDeleteItem(del).status().message().find("Key"), std::string::npos);
}

TEST(DynamoDbWireTest, CreateTableBody) {
  CreateTableRequest req;
  req.table = "t";
  req.partition_key = "pk";
  req.sort_key = "sk";
  req.sort_key_type = KeyType::kN;
  EXPECT_EQ(ddb_wire::BuildCreateTable(req).value(), json::parse(R"({
    "TableName": "t",
    "AttributeDefinitions": [{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],
    "KeySchema": [{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
    "BillingMode": "PAY_PER_REQUEST"})"));
  req.sort_key = "pk";
  EXPECT_FALSE(ddb_wire::BuildCreateTable(req).ok());
}

TEST(DynamoDbWireTest, ParsesResponses) {
  auto none = ddb_wire::ParseGetItem(json::object());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->item.has_value());
  auto some = ddb_wire::ParseGetItem(json::parse(R"({"Item":{"pk":{"S":"a"},"n":{"N":"3"}}})"));
  ASSERT_TRUE(some.ok());
  ASSERT_TRUE(some->item.has_value());
  EXPECT_EQ(GetInt64(*some->item, "n").value(), 3);
  auto bad = ddb_wire::ParseGetItem(json::parse(R"({"Item":{"pk":{"Q":"a"}}})"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);

  auto attrs = ddb_wire::ParseWriteItem(json::parse(R"({"Attributes":{"fence":{"N":"4"}}})"));
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(GetInt64(*attrs->attributes, "fence").value(), 4);
  EXPECT_FALSE(ddb_wire::ParseWriteItem(json::object())->attributes.has_value());

  // moto's body for a lost condition with ReturnValuesOnConditionCheckFailure=ALL_OLD (docs/aws-notes.md §4).
  auto old = ddb_wire::ParseConditionFailureItem(json::parse(
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
          "Message":"The conditional request failed","Item":{"pk":{"S":"a"},"owner":{"S":"c1"}}})"));
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(old->has_value());
  EXPECT_EQ(GetString(**old, "owner").value(), "c1");
  EXPECT_FALSE(ddb_wire::ParseConditionFailureItem(json::parse(R"({"message":"x"})"))->has_value());

  auto desc = ddb_wire::ParseTableDescription(json::parse(R"({
    "TableName":"t","TableStatus":"ACTIVE","TableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t",
    "ItemCount":2,"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]})"));
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->status, "ACTIVE");
  EXPECT_EQ(desc->partition_key, "pk");
  EXPECT_EQ(desc->sort_key, "sk");
  EXPECT_EQ(desc->item_count, 2);
  EXPECT_FALSE(ddb_wire::ParseTableDescription(json::parse(R"({"TableStatus":"ACTIVE"})")).ok());
}

}  // namespace
}  // namespace chromapact::aws
