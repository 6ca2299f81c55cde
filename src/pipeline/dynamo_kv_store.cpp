// KvStore over aws::DynamoDbClient: every read consistent, every failed condition answered with the
// old item when the caller asks for it (ReturnValuesOnConditionCheckFailure=ALL_OLD).
#include <utility>

#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/kv_store_dynamo.h"

namespace chromapact::pipeline {
namespace {

class DynamoKvStore final : public KvStore {
 public:
  DynamoKvStore(aws::DynamoDbClient* client, std::unique_ptr<aws::DynamoDbClient> owned, std::string table)
      : client_(client), owned_(std::move(owned)), table_(std::move(table)) {}

  Result<std::optional<aws::Item>> Get(const aws::Item& key) override {
    aws::GetItemRequest req;
    req.table = table_;
    req.key = key;
    req.consistent_read = true;
    CP_ASSIGN_OR_RETURN(auto res, client_->GetItem(req));
    return std::move(res.item);
  }

  Status Put(const KvPut& in, std::optional<aws::Item>* current) override {
    aws::PutItemRequest req;
    req.table = table_;
    req.item = in.item;
    req.condition_expression = in.condition;
    req.expr = in.expr;
    req.return_old_on_condition_failure = current != nullptr;
    return client_->PutItem(req, current).status();
  }

  Result<aws::Item> Update(const KvUpdate& in, std::optional<aws::Item>* current) override {
    aws::UpdateItemRequest req;
    req.table = table_;
    req.key = in.key;
    req.update_expression = in.update;
    req.condition_expression = in.condition;
    req.expr = in.expr;
    req.return_values = aws::ReturnValues::kAllNew;
    req.return_old_on_condition_failure = current != nullptr;
    CP_ASSIGN_OR_RETURN(auto res, client_->UpdateItem(req, current));
    if (!res.attributes)
      return Internal("UpdateItem " + KvKeyString(in.key) + ": no Attributes in the ALL_NEW answer");
    return std::move(*res.attributes);
  }

  Status Delete(const KvDelete& in, std::optional<aws::Item>* current) override {
    aws::DeleteItemRequest req;
    req.table = table_;
    req.key = in.key;
    req.condition_expression = in.condition;
    req.expr = in.expr;
    req.return_old_on_condition_failure = current != nullptr;
    return client_->DeleteItem(req, current).status();
  }

 private:
  aws::DynamoDbClient* client_;
  std::unique_ptr<aws::DynamoDbClient> owned_;
  std::string table_;
};

}  // namespace

std::string KvKeyString(const aws::Item& key_or_item) {
  const aws::AttributeValue* v = aws::FindAttribute(key_or_item, kPartitionKey);
  return v != nullptr && v->type() == aws::AttributeValue::Type::kS ? v->s() : std::string();
}

std::unique_ptr<KvStore> NewDynamoKvStore(aws::DynamoDbClient* client, std::string table) {
  return std::make_unique<DynamoKvStore>(client, nullptr, std::move(table));
}

std::unique_ptr<KvStore> NewDynamoKvStore(std::unique_ptr<aws::DynamoDbClient> client, std::string table) {
  aws::DynamoDbClient* raw = client.get();
  return std::make_unique<DynamoKvStore>(raw, std::move(client), std::move(table));
}

}  // namespace chromapact::pipeline
