#include "support/faults/fault_injection.h"

#include <utility>

namespace chromapact::pipeline {

void FaultInjector::Add(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back({std::move(rule), 0});
}

void FaultInjector::CrashAt(std::string step, std::string key_prefix, FaultWhen when, int nth) {
  FaultRule rule;
  rule.step = std::move(step);
  rule.key_prefix = std::move(key_prefix);
  rule.when = when;
  rule.nth = nth;
  Add(std::move(rule));
}

void FaultInjector::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  steps_.clear();
}

Status FaultInjector::Before(std::string_view step, std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.push_back({std::string(step), std::string(key), false});
  for (Armed& a : rules_) {
    if (a.rule.step != "*" && a.rule.step != step) continue;
    if (key.substr(0, a.rule.key_prefix.size()) != a.rule.key_prefix) continue;
    ++a.matched;
  }
  return Check(step, key, FaultWhen::kBefore);
}

Status FaultInjector::After(std::string_view step, std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  return Check(step, key, FaultWhen::kAfter);
}

// Precondition: mu_ held, and Before() already counted this call.
Status FaultInjector::Check(std::string_view step, std::string_view key, FaultWhen when) {
  for (Armed& a : rules_) {
    const FaultRule& r = a.rule;
    if (r.when != when) continue;
    if (r.step != "*" && r.step != step) continue;
    if (key.substr(0, r.key_prefix.size()) != r.key_prefix) continue;
    bool fires = a.matched >= r.nth && (r.times < 0 || a.matched < r.nth + r.times);
    if (!fires) continue;
    if (!steps_.empty()) steps_.back().failed = true;
    if (r.status) return *r.status;
    return Aborted(std::string("injected crash ") + (when == FaultWhen::kBefore ? "before " : "after ") +
                   std::string(step) + " " + std::string(key));
  }
  return Status::Ok();
}

std::vector<StepRecord> FaultInjector::Steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_;
}

int FaultInjector::Count(std::string_view step) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const StepRecord& s : steps_) n += s.step == step ? 1 : 0;
  return n;
}

namespace {

// Runs `call` between the injector's two checks. Works for Status and Result<T>.
template <typename R, typename F>
R Guard(FaultInjector* faults, const char* step, const std::string& key, F&& call) {
  Status before = faults->Before(step, key);
  if (!before.ok()) return before;
  R result = call();
  Status after = faults->After(step, key);
  if (!after.ok()) return after;
  return result;
}

class FaultyKvStore final : public KvStore {
 public:
  FaultyKvStore(KvStore* base, FaultInjector* faults) : base_(base), faults_(faults) {}

  Result<std::optional<aws::Item>> Get(const aws::Item& key) override {
    return Guard<Result<std::optional<aws::Item>>>(faults_, kStepKvGet, KvKeyString(key),
                                                   [&] { return base_->Get(key); });
  }
  Status Put(const KvPut& req, std::optional<aws::Item>* current) override {
    return Guard<Status>(faults_, kStepKvPut, KvKeyString(req.item),
                         [&] { return base_->Put(req, current); });
  }
  Result<aws::Item> Update(const KvUpdate& req, std::optional<aws::Item>* current) override {
    return Guard<Result<aws::Item>>(faults_, kStepKvUpdate, KvKeyString(req.key),
                                    [&] { return base_->Update(req, current); });
  }
  Status Delete(const KvDelete& req, std::optional<aws::Item>* current) override {
    return Guard<Status>(faults_, kStepKvDelete, KvKeyString(req.key),
                         [&] { return base_->Delete(req, current); });
  }

 private:
  KvStore* base_;
  FaultInjector* faults_;
};

class FaultyObjectStore final : public ObjectStore {
 public:
  FaultyObjectStore(ObjectStore* base, FaultInjector* faults) : base_(base), faults_(faults) {}

  Result<ObjectMeta> Put(const std::string& key, const std::string& body,
                         const PutObjectOptions& o) override {
    return Guard<Result<ObjectMeta>>(faults_, kStepS3Put, key, [&] { return base_->Put(key, body, o); });
  }
  Result<ObjectMeta> PutFile(const std::string& key, const std::string& path,
                             const PutObjectOptions& o) override {
    return Guard<Result<ObjectMeta>>(faults_, kStepS3Put, key, [&] { return base_->PutFile(key, path, o); });
  }
  Result<std::string> Get(const std::string& key, ObjectMeta* meta) override {
    return Guard<Result<std::string>>(faults_, kStepS3Get, key, [&] { return base_->Get(key, meta); });
  }
  Result<ObjectMeta> GetToFile(const std::string& key, const std::string& path) override {
    return Guard<Result<ObjectMeta>>(faults_, kStepS3Get, key, [&] { return base_->GetToFile(key, path); });
  }
  Result<ObjectMeta> Head(const std::string& key) override {
    return Guard<Result<ObjectMeta>>(faults_, kStepS3Head, key, [&] { return base_->Head(key); });
  }
  Result<std::vector<ObjectMeta>> List(const std::string& prefix) override {
    return Guard<Result<std::vector<ObjectMeta>>>(faults_, kStepS3List, prefix,
                                                  [&] { return base_->List(prefix); });
  }
  Result<std::vector<ObjectMeta>> ListAfter(const std::string& prefix, const std::string& start_after,
                                            size_t limit) override {
    return Guard<Result<std::vector<ObjectMeta>>>(faults_, kStepS3List, prefix,
                                                  [&] { return base_->ListAfter(prefix, start_after, limit); });
  }
  Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>& keys) override {
    return Guard<Result<std::vector<DeleteFailure>>>(faults_, kStepS3Delete, keys.empty() ? "" : keys.front(),
                                                     [&] { return base_->Delete(keys); });
  }

 private:
  ObjectStore* base_;
  FaultInjector* faults_;
};

class FaultyQueue final : public Queue {
 public:
  FaultyQueue(Queue* base, FaultInjector* faults) : base_(base), faults_(faults) {}

  Result<std::string> Send(const QueueSend& msg) override {
    return Guard<Result<std::string>>(faults_, kStepSqsSend, msg.group_id, [&] { return base_->Send(msg); });
  }
  Result<std::vector<QueueMessage>> Receive(int max_messages, int wait_seconds,
                                            int visibility_seconds) override {
    return Guard<Result<std::vector<QueueMessage>>>(faults_, kStepSqsReceive, "", [&] {
      return base_->Receive(max_messages, wait_seconds, visibility_seconds);
    });
  }
  Result<std::vector<ReceiptFailure>> DeleteBatch(const std::vector<std::string>& receipts) override {
    return Guard<Result<std::vector<ReceiptFailure>>>(faults_, kStepSqsDelete, "",
                                                      [&] { return base_->DeleteBatch(receipts); });
  }
  Result<std::vector<ReceiptFailure>> ChangeVisibility(const std::vector<std::string>& receipts,
                                                       int visibility_seconds) override {
    return Guard<Result<std::vector<ReceiptFailure>>>(faults_, kStepSqsChangeVisibility, "", [&] {
      return base_->ChangeVisibility(receipts, visibility_seconds);
    });
  }

 private:
  Queue* base_;
  FaultInjector* faults_;
};

}  // namespace

std::unique_ptr<KvStore> NewFaultyKvStore(KvStore* base, FaultInjector* faults) {
  return std::make_unique<FaultyKvStore>(base, faults);
}
std::unique_ptr<ObjectStore> NewFaultyObjectStore(ObjectStore* base, FaultInjector* faults) {
  return std::make_unique<FaultyObjectStore>(base, faults);
}
std::unique_ptr<Queue> NewFaultyQueue(Queue* base, FaultInjector* faults) {
  return std::make_unique<FaultyQueue>(base, faults);
}

}  // namespace chromapact::pipeline
