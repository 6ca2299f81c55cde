#include "chromapact/pipeline/compactor_event.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "chromapact/pipeline/delta_message.h"

namespace chromapact::pipeline {
namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::vector<QueueMessage>> ParseSqsRecords(const nlohmann::json& records) {
  if (!records.is_array()) return InvalidArgument("Records: expected a list");
  std::vector<QueueMessage> out;
  for (size_t i = 0; i < records.size(); ++i) {
    const nlohmann::json& r = records[i];
    const std::string where = "Records[" + std::to_string(i) + "]";
    if (!r.is_object()) return InvalidArgument(where + ": expected an object");
    QueueMessage m;
    m.receive_count = 1;  // unless the event says otherwise
    m.message_id = Str(r, "messageId");
    m.receipt_handle = Str(r, "receiptHandle");
    m.body = Str(r, "body");
    if (m.message_id.empty()) return InvalidArgument(where + ".messageId: missing or not a string");
    if (m.receipt_handle.empty()) return InvalidArgument(where + ".receiptHandle: missing or not a string");
    if (auto a = r.find("attributes"); a != r.end() && a->is_object()) {
      m.group_id = Str(*a, "MessageGroupId");
      const std::string rc = Str(*a, "ApproximateReceiveCount");
      const std::string ts = Str(*a, "SentTimestamp");
      m.receive_count = rc.empty() ? 1 : std::atoi(rc.c_str());
      m.sent_at_ms = ts.empty() ? 0 : std::atoll(ts.c_str());
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<ShardBatch> GroupByShard(const std::vector<QueueMessage>& messages,
                                     std::vector<MessageFailure>* failures) {
  std::vector<ShardBatch> out;
  std::map<std::string, size_t> index;
  for (const QueueMessage& m : messages) {
    auto dm = ParseDeltaMessage(m.body);
    if (!dm.ok()) {
      if (failures) failures->push_back({m.message_id, dm.status()});
      continue;
    }
    auto [it, fresh] = index.emplace(dm->shard.ToString(), out.size());
    if (fresh) out.push_back({dm->shard, {}});
    out[it->second].messages.push_back(m);
  }
  return out;
}

std::vector<std::string> FifoBatchItemFailures(const std::vector<QueueMessage>& batch,
                                               const std::set<std::string>& failed_ids) {
  std::set<std::string> failed_groups;
  std::vector<std::string> out;
  for (const QueueMessage& m : batch) {
    std::string group = m.group_id;
    if (group.empty()) {
      auto dm = ParseDeltaMessage(m.body);
      group = dm.ok() ? MessageGroupFor(dm->shard) : "\x01" + m.message_id;  // unparsable: its own group
    }
    if (failed_ids.count(m.message_id) > 0) failed_groups.insert(group);
    if (failed_groups.count(group) > 0) out.push_back(m.message_id);
  }
  return out;
}

CycleResult RunCycleWaitingForLease(Compactor* compactor, const ShardId& shard,
                                    const std::vector<QueueMessage>& messages, int64_t deadline_steady_ms,
                                    const LeaseWait& wait, const std::function<void(int, const Status&)>& on_wait) {
  int64_t until = SteadyMs() + std::max<int64_t>(wait.wait_ms, 0);
  if (deadline_steady_ms > 0) until = std::min(until, deadline_steady_ms);
  int64_t pause = std::max<int64_t>(wait.initial_pause_ms, 1);
  for (int attempt = 1;; ++attempt) {
    CycleResult r = compactor->RunCycle(shard, messages, deadline_steady_ms);
    const bool lease_held = r.status.code() == StatusCode::kPreconditionFailed && r.fence == 0;
    if (!lease_held) return r;
    if (SteadyMs() + pause > until) {
      // Hand the triggers to whoever holds the lease next; report only what could not be handed off
      // (plus the bodies that are no trigger of this shard, which RunCycle already failed).
      std::vector<QueueMessage> valid;
      std::set<std::string> failed;
      for (const auto& f : r.failures) {
        if (f.status.code() != StatusCode::kPreconditionFailed) failed.insert(f.message_id);
      }
      std::vector<MessageFailure> kept;
      for (const auto& f : r.failures) {
        if (failed.count(f.message_id) > 0) kept.push_back(f);
      }
      for (const auto& m : messages) {
        if (failed.count(m.message_id) == 0) valid.push_back(m);
      }
      for (auto& f : compactor->HandOff(shard, valid, r.status)) kept.push_back(std::move(f));
      r.failures = std::move(kept);
      return r;
    }
    if (on_wait) on_wait(attempt, r.status);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    pause = std::min(pause * 2, std::max<int64_t>(wait.max_pause_ms, 1));
  }
}

}  // namespace chromapact::pipeline
