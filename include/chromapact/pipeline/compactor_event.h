// What the compactor function does with an invocation, without Lambda types (lambdas/compactor
// adapts the Runtime API to these): SQS event records -> per-shard batches -> one cycle per shard
// (waiting out another compactor's lease, then handing the triggers off) -> batchItemFailures with
// FIFO's partial-batch rule.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

// The records of an SQS event (Lambda's event source mapping: {"Records": [{"messageId",
// "receiptHandle", "body", "attributes": {"MessageGroupId", "ApproximateReceiveCount",
// "SentTimestamp"}}, ...]}) in event order. Errors: kInvalidArgument naming the field
// ("Records[2].receiptHandle: missing or not a string").
Result<std::vector<QueueMessage>> ParseSqsRecords(const nlohmann::json& records);

struct ShardBatch {
  ShardId shard;
  std::vector<QueueMessage> messages;  // in event order
};

// Groups messages by the shard their body names (delta_message.h), shards in order of first
// appearance. Messages whose body is not a trigger go to *failures (ids, with the reason).
std::vector<ShardBatch> GroupByShard(const std::vector<QueueMessage>& messages,
                                     std::vector<MessageFailure>* failures);

// FIFO's partial-batch rule (AWS Lambda developer guide, "Reporting batch item failures" for FIFO
// queues): once a message of a message group failed, every later message of that group in the
// batch is reported too, so the group's order holds on redelivery. Returns the message ids to
// report, in event order. The group is the message's MessageGroupId, or its body's shard when the
// event carries none.
std::vector<std::string> FifoBatchItemFailures(const std::vector<QueueMessage>& batch,
                                               const std::set<std::string>& failed_ids);

// How long to wait for another compactor's lease before handing triggers off.
struct LeaseWait {
  int64_t wait_ms = 30000;         // CHROMAPACT_LEASE_WAIT_MS
  int64_t initial_pause_ms = 100;  // doubling up to max_pause_ms
  int64_t max_pause_ms = 1000;
};

// Runs compactor.RunCycle(shard, messages, deadline). While another compactor holds the shard's
// lease (kPreconditionFailed with fence 0: nothing was done) it waits and tries again for at most
// wait.wait_ms (and never past `deadline_steady_ms`, when non-zero). If the lease is still held
// then, the triggers are handed off (Compactor::HandOff: one re-armed trigger, the messages
// deleted), so lease contention never counts a receive towards the DLQ; the result keeps the
// lease status, and its failures are only the messages HandOff could not hand off. `on_wait`
// (may be empty) is told of each lost attempt.
CycleResult RunCycleWaitingForLease(Compactor* compactor, const ShardId& shard,
                                    const std::vector<QueueMessage>& messages, int64_t deadline_steady_ms,
                                    const LeaseWait& wait,
                                    const std::function<void(int attempt, const Status&)>& on_wait = {});

}  // namespace chromapact::pipeline
