// Services for fuzzing the REST handler without AWS: every read finds nothing (or the items the
// set-up wrote), every write after set-up fails with kUnavailable. So any request runs its parsing
// and validation to the first write or read of storage, and no iteration leaves state for the next.
// Not a model of S3 / SQS / DynamoDB: the tests run the handler against moto.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/queue.h"

namespace chromapact::fuzz {

// Items by `pk`. While `setup` is true, Put stores (honouring only attribute_not_exists(#pk)) and
// Update stores the key alone; afterwards every write is kUnavailable.
class InertKv final : public pipeline::KvStore {
 public:
  bool setup = true;
  Result<std::optional<aws::Item>> Get(const aws::Item& key) override {
    auto it = items_.find(Pk(key));
    if (it == items_.end()) return std::optional<aws::Item>();
    return std::optional<aws::Item>(it->second);
  }
  Status Put(const pipeline::KvPut& req, std::optional<aws::Item>* current) override {
    if (!setup) return Unavailable("fuzz: writes fail");
    const std::string pk = Pk(req.item);
    auto it = items_.find(pk);
    if (it != items_.end() && req.condition == "attribute_not_exists(#pk)") {
      if (current != nullptr) *current = it->second;
      return Status(StatusCode::kPreconditionFailed, "fuzz: exists");
    }
    items_[pk] = req.item;
    return Status::Ok();
  }
  Result<aws::Item> Update(const pipeline::KvUpdate& req, std::optional<aws::Item>*) override {
    if (!setup) return Unavailable("fuzz: writes fail");
    aws::Item& item = items_[Pk(req.key)];
    for (const auto& [k, v] : req.key) item[k] = v;
    return item;
  }
  Status Delete(const pipeline::KvDelete&, std::optional<aws::Item>*) override {
    return Unavailable("fuzz: writes fail");
  }

 private:
  static std::string Pk(const aws::Item& key) {
    auto it = key.find("pk");
    return it == key.end() ? "" : it->second.s();
  }
  std::map<std::string, aws::Item> items_;
};

class InertObjects final : public pipeline::ObjectStore {
 public:
  Result<pipeline::ObjectMeta> Put(const std::string&, const std::string&, const pipeline::PutObjectOptions&) override {
    return Unavailable("fuzz: writes fail");
  }
  Result<pipeline::ObjectMeta> PutFile(const std::string&, const std::string&,
                                       const pipeline::PutObjectOptions&) override {
    return Unavailable("fuzz: writes fail");
  }
  Result<std::string> Get(const std::string& key, pipeline::ObjectMeta*) override { return NotFound(key); }
  Result<pipeline::ObjectMeta> GetToFile(const std::string& key, const std::string&) override { return NotFound(key); }
  Result<pipeline::ObjectMeta> Head(const std::string& key) override { return NotFound(key); }
  Result<std::vector<pipeline::ObjectMeta>> List(const std::string&) override {
    return std::vector<pipeline::ObjectMeta>();
  }
  Result<std::vector<pipeline::ObjectMeta>> ListAfter(const std::string&, const std::string&, size_t) override {
    return std::vector<pipeline::ObjectMeta>();
  }
  Result<std::vector<pipeline::DeleteFailure>> Delete(const std::vector<std::string>&) override {
    return Unavailable("fuzz: writes fail");
  }
};

class InertQueue final : public pipeline::Queue {
 public:
  Result<std::string> Send(const pipeline::QueueSend&) override { return Unavailable("fuzz: writes fail"); }
  Result<std::vector<pipeline::QueueMessage>> Receive(int, int, int) override {
    return std::vector<pipeline::QueueMessage>();
  }
  Result<std::vector<pipeline::ReceiptFailure>> DeleteBatch(const std::vector<std::string>&) override {
    return Unavailable("fuzz: writes fail");
  }
  Result<std::vector<pipeline::ReceiptFailure>> ChangeVisibility(const std::vector<std::string>&, int) override {
    return Unavailable("fuzz: writes fail");
  }
};

}  // namespace chromapact::fuzz
