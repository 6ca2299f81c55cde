// `chromapact redrive`: moves messages from the dead-letter queue back to the trigger queue, the
// operator's step after fixing what sent them there (a permission, a bug, a full disk). On a FIFO
// pair each message keeps its MessageGroupId and gets MessageDeduplicationId "redrive#<message id>"
// (SQS drops a repeat within its 5-minute window, so a redrive re-run after a crash does not
// double-send). Each message is sent before it is deleted from the DLQ: a crash in between leaves a
// copy in both, and a trigger is idempotent (the compactor applies the log, not the message).
// Skipped-entry reports (bodies with a "reason") are moved too: back on the queue they are triggers
// at or below the committed log_position, which the compactor deletes as covered.
#pragma once

#include <cstdint>
#include <string>

#include "chromapact/pipeline/queue.h"
#include "chromapact/status.h"

namespace chromapact::ops {

struct RedriveOptions {
  uint64_t max_messages = 0;     // stop after this many (0: until the DLQ answers empty)
  int visibility_seconds = 60;   // hidden while being moved (a failed send leaves it for later)
  int wait_seconds = 1;          // ReceiveMessage long poll; the DLQ counts as empty after one empty poll
};

struct RedriveResult {
  uint64_t moved = 0;    // sent to the queue and deleted from the DLQ
  uint64_t reports = 0;  // of those, skipped-entry reports
  uint64_t failed = 0;   // received but not moved (send or delete failed; visible again later)
};

// Moves messages from `dlq` to `queue`. Errors: the Queue's (kNotFound for a missing queue,
// kPermissionDenied, ...) from ReceiveMessage; a failed send or delete is counted in `failed` and
// returned as kUnavailable after the run, naming the first message that failed.
Result<RedriveResult> Redrive(pipeline::Queue* dlq, pipeline::Queue* queue, const RedriveOptions& options = {});

}  // namespace chromapact::ops
