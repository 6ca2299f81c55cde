#include "chromapact/aws/dynamodb.h"

#include "dynamodb_wire.h"
#include "json_service.h"

namespace chromapact::aws {

struct DynamoDbClient::Impl {
  internal::JsonService service;
  Impl(ClientConfig config, DynamoDbOptions options)
      : service(std::move(config), {"dynamodb", "dynamodb"}, {options.max_attempts, options.timeout_ms}) {}

  // A conditional write: on ConditionalCheckFailedException hands the old item (if any) back.
  Result<WriteItemResult> Write(const std::string& op, Result<nlohmann::json> body,
                                std::optional<Item>* condition_failure_item) {
    if (!body.ok()) return body.status();
    if (condition_failure_item != nullptr) condition_failure_item->reset();
    nlohmann::json error_body;
    auto resp = service.Call(ddb_wire::Target(op), *body, &error_body);
    if (!resp.ok()) {
      Status st = resp.status();
      if (st.code() == StatusCode::kPreconditionFailed && condition_failure_item != nullptr) {
        auto old = ddb_wire::ParseConditionFailureItem(error_body);
        if (old.ok()) *condition_failure_item = std::move(old).value();
      }
      return st;
    }
    return ddb_wire::ParseWriteItem(*resp);
  }
};

DynamoDbClient::DynamoDbClient(ClientConfig config, DynamoDbOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {}

DynamoDbClient::~DynamoDbClient() = default;

Result<std::unique_ptr<DynamoDbClient>> DynamoDbClient::FromEnvironment(DynamoDbOptions options) {
  CP_ASSIGN_OR_RETURN(ClientConfig config, ClientConfigFromEnvironment("dynamodb"));
  return std::make_unique<DynamoDbClient>(std::move(config), options);
}

Result<GetItemResult> DynamoDbClient::GetItem(const GetItemRequest& req) {
  CP_ASSIGN_OR_RETURN(auto body, ddb_wire::BuildGetItem(req));
  CP_ASSIGN_OR_RETURN(auto resp, impl_->service.Call(ddb_wire::Target("GetItem"), body));
  return ddb_wire::ParseGetItem(resp);
}

Result<WriteItemResult> DynamoDbClient::PutItem(const PutItemRequest& req, std::optional<Item>* failure_item) {
  return impl_->Write("PutItem", ddb_wire::BuildPutItem(req), failure_item);
}

Result<WriteItemResult> DynamoDbClient::UpdateItem(const UpdateItemRequest& req, std::optional<Item>* failure_item) {
  return impl_->Write("UpdateItem", ddb_wire::BuildUpdateItem(req), failure_item);
}

Result<WriteItemResult> DynamoDbClient::DeleteItem(const DeleteItemRequest& req, std::optional<Item>* failure_item) {
  return impl_->Write("DeleteItem", ddb_wire::BuildDeleteItem(req), failure_item);
}

Result<TableDescription> DynamoDbClient::CreateTable(const CreateTableRequest& req) {
  CP_ASSIGN_OR_RETURN(auto body, ddb_wire::BuildCreateTable(req));
  CP_ASSIGN_OR_RETURN(auto resp, impl_->service.Call(ddb_wire::Target("CreateTable"), body));
  if (!resp.contains("TableDescription")) return Internal("CreateTable: response has no TableDescription");
  return ddb_wire::ParseTableDescription(resp["TableDescription"]);
}

Result<TableDescription> DynamoDbClient::DescribeTable(const std::string& table) {
  if (table.empty()) return InvalidArgument("DescribeTable: TableName is empty");
  CP_ASSIGN_OR_RETURN(auto resp, impl_->service.Call(ddb_wire::Target("DescribeTable"), {{"TableName", table}}));
  if (!resp.contains("Table")) return Internal("DescribeTable: response has no Table");
  return ddb_wire::ParseTableDescription(resp["Table"]);
}

Status DynamoDbClient::DeleteTable(const std::string& table) {
  if (table.empty()) return InvalidArgument("DeleteTable: TableName is empty");
  return impl_->service.Call(ddb_wire::Target("DeleteTable"), {{"TableName", table}}).status();
}

}  // namespace chromapact::aws
