// Fault injection at the pipeline's seams (kv_store.h, object_store.h, queue.h), for tests.
//
// Every call through a wrapped seam is a named step ("kv.update", "s3.put", "sqs.delete", ... see
// the kStep* constants) on a key (the item's `pk`, the object key, or the queue's message group /
// "" for queue calls). A FaultRule picks calls by step and key prefix and either fails them before
// they reach the real store (kBefore: nothing happened remotely) or lets them complete and then
// throws the answer away (kAfter: the side effect landed but the caller "crashed" or lost the
// response — the ambiguous case every commit protocol must survive). The default injected Status is
// kAborted "injected crash at <step> <key>", the same code a real abandoned step returns.
//
// The injector also records every step it saw, in order, so a crash-point test can first run a
// scenario cleanly, enumerate its steps, then re-run it crashing at each one (DuckDB-style).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/status.h"

namespace chromapact::pipeline {

inline constexpr const char* kStepKvGet = "kv.get";
inline constexpr const char* kStepKvPut = "kv.put";
inline constexpr const char* kStepKvUpdate = "kv.update";
inline constexpr const char* kStepKvDelete = "kv.delete";
inline constexpr const char* kStepS3Put = "s3.put";  // Put and PutFile
inline constexpr const char* kStepS3Get = "s3.get";  // Get and GetToFile
inline constexpr const char* kStepS3Head = "s3.head";
inline constexpr const char* kStepS3List = "s3.list";          // key = the prefix
inline constexpr const char* kStepS3Delete = "s3.delete";      // key = the first key of the batch
inline constexpr const char* kStepSqsSend = "sqs.send";        // key = the group id
inline constexpr const char* kStepSqsReceive = "sqs.receive";  // key = ""
inline constexpr const char* kStepSqsDelete = "sqs.delete";    // key = ""
inline constexpr const char* kStepSqsChangeVisibility = "sqs.change_visibility";  // key = ""

enum class FaultWhen {
  kBefore,  // the call is not made
  kAfter,   // the call is made, its result replaced by the injected status
};

struct FaultRule {
  std::string step;        // a kStep* name, or "*" for every step
  std::string key_prefix;  // matches keys starting with it ("" matches all)
  FaultWhen when = FaultWhen::kBefore;
  int nth = 1;    // fire first on the nth matching call (1-based)
  int times = 1;  // fire on this many matching calls from the nth on; -1 = every one
  // The injected error; when unset: kAborted "injected crash at <when> <step> <key>".
  std::optional<Status> status;
};

// One step as seen by the injector.
struct StepRecord {
  std::string step;
  std::string key;
  bool failed = false;  // a rule fired on it
};

// Thread-safe.
class FaultInjector {
 public:
  void Add(FaultRule rule);
  // Shorthand: kAborted at the nth call of `step` on a key with `key_prefix`.
  void CrashAt(std::string step, std::string key_prefix, FaultWhen when = FaultWhen::kBefore, int nth = 1);
  void Clear();  // rules and records

  // Called by the wrappers around each call: the injected Status if a rule fires, else OK. A call
  // counts once (kBefore checks count it; kAfter checks only test the rules).
  Status Before(std::string_view step, std::string_view key);
  Status After(std::string_view step, std::string_view key);

  std::vector<StepRecord> Steps() const;
  // How many calls of `step` were seen (with any key).
  int Count(std::string_view step) const;

 private:
  struct Armed {
    FaultRule rule;
    int matched = 0;  // matching calls seen so far
  };
  Status Check(std::string_view step, std::string_view key, FaultWhen when);

  mutable std::mutex mu_;
  std::vector<Armed> rules_;
  std::vector<StepRecord> steps_;
};

// Wrappers: each borrows `base` and `faults` (both must outlive it) and forwards every call,
// consulting the injector before and after. Thread-safety is that of `base`.
std::unique_ptr<KvStore> NewFaultyKvStore(KvStore* base, FaultInjector* faults);
std::unique_ptr<ObjectStore> NewFaultyObjectStore(ObjectStore* base, FaultInjector* faults);
std::unique_ptr<Queue> NewFaultyQueue(Queue* base, FaultInjector* faults);

}  // namespace chromapact::pipeline
