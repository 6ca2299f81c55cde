#include "dynamodb_wire.h"

namespace chromapact::aws {

const char* ReturnValuesName(ReturnValues rv) {
  switch (rv) {
    case ReturnValues::kNone: return "NONE";
    case ReturnValues::kAllOld: return "ALL_OLD";
    case ReturnValues::kUpdatedOld: return "UPDATED_OLD";
    case ReturnValues::kAllNew: return "ALL_NEW";
    case ReturnValues::kUpdatedNew: return "UPDATED_NEW";
  }
  return "NONE";
}

namespace ddb_wire {
namespace {

using nlohmann::json;

Status CheckTableAndKey(const std::string& op, const std::string& table, const Item& key, const char* key_field) {
  if (table.empty()) return InvalidArgument(op + ": TableName is empty");
  if (key.empty()) return InvalidArgument(op + ": " + key_field + " is empty");
  return Status::Ok();
}

Status AddNames(const std::string& op, const std::map<std::string, std::string>& names, json* body) {
  if (names.empty()) return Status::Ok();
  json j = json::object();
  for (const auto& [placeholder, name] : names) {
    if (placeholder.size() < 2 || placeholder[0] != '#') {
      return InvalidArgument(op + ": ExpressionAttributeNames key '" + placeholder + "' must start with '#'");
    }
    j[placeholder] = name;
  }
  (*body)["ExpressionAttributeNames"] = std::move(j);
  return Status::Ok();
}

Status AddExpr(const std::string& op, const std::string& condition, const ExpressionParams& expr, json* body) {
  if (!condition.empty()) (*body)["ConditionExpression"] = condition;
  CP_RETURN_IF_ERROR(AddNames(op, expr.names, body));
  if (!expr.values.empty()) {
    for (const auto& [placeholder, value] : expr.values) {
      if (placeholder.size() < 2 || placeholder[0] != ':') {
        return InvalidArgument(op + ": ExpressionAttributeValues key '" + placeholder + "' must start with ':'");
      }
    }
    (*body)["ExpressionAttributeValues"] = ItemToJson(expr.values);
  }
  return Status::Ok();
}

void AddReturnValues(ReturnValues rv, bool old_on_failure, json* body) {
  if (rv != ReturnValues::kNone) (*body)["ReturnValues"] = ReturnValuesName(rv);
  if (old_on_failure) (*body)["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
}

const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kS: return "S";
    case KeyType::kN: return "N";
    case KeyType::kB: return "B";
  }
  return "S";
}

}  // namespace

std::string Target(const std::string& op) { return "DynamoDB_20120810." + op; }

Result<json> BuildGetItem(const GetItemRequest& req) {
  CP_RETURN_IF_ERROR(CheckTableAndKey("GetItem", req.table, req.key, "Key"));
  json body = {{"TableName", req.table}, {"Key", ItemToJson(req.key)}};
  if (req.consistent_read) body["ConsistentRead"] = true;
  if (!req.projection_expression.empty()) body["ProjectionExpression"] = req.projection_expression;
  CP_RETURN_IF_ERROR(AddNames("GetItem", req.names, &body));
  return body;
}

Result<json> BuildPutItem(const PutItemRequest& req) {
  CP_RETURN_IF_ERROR(CheckTableAndKey("PutItem", req.table, req.item, "Item"));
  if (req.return_values != ReturnValues::kNone && req.return_values != ReturnValues::kAllOld) {
    return InvalidArgument("PutItem: ReturnValues must be NONE or ALL_OLD");
  }
  json body = {{"TableName", req.table}, {"Item", ItemToJson(req.item)}};
  CP_RETURN_IF_ERROR(AddExpr("PutItem", req.condition_expression, req.expr, &body));
  AddReturnValues(req.return_values, req.return_old_on_condition_failure, &body);
  return body;
}

Result<json> BuildUpdateItem(const UpdateItemRequest& req) {
  CP_RETURN_IF_ERROR(CheckTableAndKey("UpdateItem", req.table, req.key, "Key"));
  if (req.update_expression.empty()) return InvalidArgument("UpdateItem: UpdateExpression is empty");
  json body = {{"TableName", req.table}, {"Key", ItemToJson(req.key)}, {"UpdateExpression", req.update_expression}};
  CP_RETURN_IF_ERROR(AddExpr("UpdateItem", req.condition_expression, req.expr, &body));
  AddReturnValues(req.return_values, req.return_old_on_condition_failure, &body);
  return body;
}

Result<json> BuildDeleteItem(const DeleteItemRequest& req) {
  CP_RETURN_IF_ERROR(CheckTableAndKey("DeleteItem", req.table, req.key, "Key"));
  if (req.return_values != ReturnValues::kNone && req.return_values != ReturnValues::kAllOld) {
    return InvalidArgument("DeleteItem: ReturnValues must be NONE or ALL_OLD");
  }
  json body = {{"TableName", req.table}, {"Key", ItemToJson(req.key)}};
  CP_RETURN_IF_ERROR(AddExpr("DeleteItem", req.condition_expression, req.expr, &body));
  AddReturnValues(req.return_values, req.return_old_on_condition_failure, &body);
  return body;
}

Result<json> BuildCreateTable(const CreateTableRequest& req) {
  if (req.table.empty()) return InvalidArgument("CreateTable: TableName is empty");
  if (req.partition_key.empty()) return InvalidArgument("CreateTable: partition_key is empty");
  json defs = json::array({{{"AttributeName", req.partition_key}, {"AttributeType", KeyTypeName(req.partition_key_type)}}});
  json schema = json::array({{{"AttributeName", req.partition_key}, {"KeyType", "HASH"}}});
  if (!req.sort_key.empty()) {
    if (req.sort_key == req.partition_key) return InvalidArgument("CreateTable: sort_key equals partition_key");
    defs.push_back({{"AttributeName", req.sort_key}, {"AttributeType", KeyTypeName(req.sort_key_type)}});
    schema.push_back({{"AttributeName", req.sort_key}, {"KeyType", "RANGE"}});
  }
  return json{{"TableName", req.table},
              {"AttributeDefinitions", std::move(defs)},
              {"KeySchema", std::move(schema)},
              {"BillingMode", "PAY_PER_REQUEST"}};
}

Result<GetItemResult> ParseGetItem(const json& body) {
  GetItemResult out;
  if (!body.is_object()) return Internal("GetItem: response is not a JSON object");
  auto it = body.find("Item");
  if (it != body.end() && !it->is_null()) {
    auto item = ItemFromJson(*it, "GetItem response Item");
    if (!item.ok()) return Internal(item.status().message());
    out.item = std::move(item).value();
  }
  return out;
}

Result<WriteItemResult> ParseWriteItem(const json& body) {
  WriteItemResult out;
  if (!body.is_object()) return Internal("write response is not a JSON object");
  auto it = body.find("Attributes");
  if (it != body.end() && !it->is_null()) {
    auto item = ItemFromJson(*it, "response Attributes");
    if (!item.ok()) return Internal(item.status().message());
    out.attributes = std::move(item).value();
  }
  return out;
}

Result<TableDescription> ParseTableDescription(const json& t) {
  if (!t.is_object()) return Internal("table description is not a JSON object");
  TableDescription d;
  try {
    d.name = t.value("TableName", "");
    d.status = t.value("TableStatus", "");
    d.arn = t.value("TableArn", "");
    d.item_count = t.value("ItemCount", int64_t{0});
    if (auto ks = t.find("KeySchema"); ks != t.end() && ks->is_array()) {
      for (const auto& k : *ks) {
        const std::string type = k.value("KeyType", "");
        if (type == "HASH") d.partition_key = k.value("AttributeName", "");
        if (type == "RANGE") d.sort_key = k.value("AttributeName", "");
      }
    }
  } catch (const json::exception& e) {
    return Internal(std::string("table description: ") + e.what());
  }
  if (d.name.empty()) return Internal("table description has no TableName");
  return d;
}

Result<std::optional<Item>> ParseConditionFailureItem(const json& error_body) {
  if (!error_body.is_object()) return std::optional<Item>();
  auto it = error_body.find("Item");
  if (it == error_body.end() || it->is_null()) return std::optional<Item>();
  auto item = ItemFromJson(*it, "ConditionalCheckFailedException Item");
  if (!item.ok()) return Internal(item.status().message());
  return std::optional<Item>(std::move(item).value());
}

}  // namespace ddb_wire
}  // namespace chromapact::aws
