// The per-shard log (docs/design/log.md): a total order of deltas per collection shard, numbered
// by a sequence that DynamoDB hands out atomically and stored in S3 at keys that sort by it.
//
//   sequence item  SEQ#<collection>#<shard> {pk, next_seq: N}   (KvStore table; N = last number taken)
//   log entry      deltas/<collection>/<shard>/<seq, 20 digits zero-padded>.cpd   (create-only)
//
// A log entry is either a delta (.cpd, codec/delta.h) or a *void marker*: a short text the
// compactor writes create-only at the key of a sequence number that was taken but whose delta did
// not arrive within the hole timeout. Whichever create-only PUT lands first decides the entry: a
// producer whose PUT loses to a void marker gets kPreconditionFailed and does not acknowledge.
// Sequence numbers start at 1; log position 0 means "nothing applied".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

// Digits of the zero-padded sequence number in a log key (uint64 max has 20).
inline constexpr int kLogSeqDigits = 20;

// "deltas/<collection>/<shard>/". Precondition: ValidateShardId OK.
std::string LogPrefix(const ShardId& shard);
// "deltas/<collection>/<shard>/<seq, 20 digits>.cpd". Precondition: ValidateShardId OK.
std::string LogKey(const ShardId& shard, uint64_t seq);
// The sequence number of a key under LogPrefix(shard); nullopt for any other key (another prefix,
// not 20 digits + ".cpd", or 0).
std::optional<uint64_t> ParseLogKey(const ShardId& shard, std::string_view key);

// "SEQ#<collection>#<shard>": the DynamoDB item holding the shard's last sequence number taken.
std::string SequenceKey(const ShardId& shard);

// Takes the next sequence number of `shard`: one UpdateItem `ADD next_seq :one` with ReturnValues
// ALL_NEW on SequenceKey(shard) (created at 1 when absent; DynamoDB serializes updates of an item,
// so every caller gets a distinct number and numbers are taken in increasing order).
// Errors: kInvalidArgument for a bad shard id; KvStore errors (kThrottled / kUnavailable after the
// client's retries, kPermissionDenied, ...): then no number may have been taken, or one was taken
// and is lost (a hole the compactor closes, see above). kInternal when the answer lacks next_seq.
Result<uint64_t> NextSequence(KvStore* kv, const ShardId& shard);
// The last sequence number taken (0 when none), consistent read. Errors: KvStore's; kCorruption.
Result<uint64_t> LastSequence(KvStore* kv, const ShardId& shard);

// The body of a void marker: "chromapact-void 1\n" followed by a JSON object {"log_position",
// "reason", "writer_id", "created_at_ms"}. Starts with bytes no delta starts with.
std::string EncodeVoidMarker(uint64_t seq, const std::string& reason, const std::string& writer_id,
                             int64_t created_at_ms);
// True when `body` is a void marker (by its first line).
bool IsVoidMarker(std::string_view body);

// One listed log entry.
struct LogEntry {
  uint64_t seq = 0;
  std::string key;
  int64_t size = 0;              // bytes
  int64_t last_modified_ms = 0;  // S3 LastModified, epoch ms UTC (second precision on S3)
};

// The entries of `shard`'s log with seq > `after`, in seq order, at most `limit` (ListObjectsV2
// StartAfter LogKey(after), 1000 keys a page, stopping once `limit` entries were read). Keys under
// the prefix that are not log keys are skipped. Errors: ObjectStore's.
Result<std::vector<LogEntry>> ListLog(ObjectStore* objects, const ShardId& shard, uint64_t after, size_t limit);

}  // namespace chromapact::pipeline
