// The local Lambda emulator's core: one sandbox (a bootstrap process) serving one invocation at a
// time, with the Runtime API's state rules. HTTP-agnostic: http_front.cpp maps the two servers'
// routes onto these calls; a future SQS event-source poller calls Invoke() the same way.
//
// Behaviour (docs/aws-notes.md §8 "what a minimal local emulator must do", §7 for the protocol):
// * Invoke() queues (FIFO) and serves one invocation at a time. A sandbox is started when none is
//   alive (cold init); the event waits for the runtime's GET /next.
// * Next() blocks until an event exists, then gives it with Request-Id (UUID), Deadline-Ms
//   (now + timeout), Invoked-Function-Arn and Trace-Id.
// * PostResponse(): 202; over kMaxRuntimeResponseBytes 413 and the caller gets
//   Function.ResponseSizeTooLarge. PostError(): 202, the caller gets 200 + X-Amz-Function-Error:
//   Unhandled + the error JSON. Unknown id: 400 InvalidRequestID; a second post: 403
//   InvalidStateTransition.
// * Deadline passed: SIGKILL the sandbox, Sandbox.Timeout "Task timed out after N.NN seconds";
//   runtime exited mid-invoke: Runtime.ExitError; /init/error: the pending invoke fails with that
//   error. In all three cases the next invoke starts a fresh sandbox.
// * START / END / REPORT lines on stdout as Lambda writes them to the log stream.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.h"

namespace chromapact::emulator {

// 6 MiB + 100 B: RIE/Lambda's limit on a /response body (docs/aws-notes.md §7).
inline constexpr size_t kMaxRuntimeResponseBytes = 6 * 1024 * 1024 + 100;
// 6 MiB: Lambda's synchronous invoke request payload quota (AWS doc "Lambda quotas").
inline constexpr size_t kMaxInvokePayloadBytes = 6 * 1024 * 1024;

struct EmulatorConfig {
  std::string bootstrap;                // executable to run as the runtime
  std::vector<std::string> bootstrap_args;
  std::string function_name = "function";
  std::string function_version = "$LATEST";
  int memory_mb = 128;
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string handler = "bootstrap";    // _HANDLER
  std::string task_root;                // LAMBDA_TASK_ROOT; empty = the bootstrap's directory
  double timeout_s = 3.0;               // per-invocation deadline (Lambda's default function timeout)
  double init_timeout_s = 10.0;         // how long an event may wait for the runtime's /next
  EnvList env;                          // extra variables for the sandbox (win over everything)
  bool eager_init = true;               // start the first sandbox at Start(), before any invoke
};

// What the invoke endpoint answers.
struct InvokeResult {
  int http_status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string function_error;  // "Unhandled" for function errors, else empty
  std::string request_id;      // empty when no invocation was made
  std::string error_type;      // for logs: the errorType of a failed invocation
};

// Caller-side extras of an invoke.
struct InvokeOptions {
  std::string trace_id;        // X-Amzn-Trace-Id from the caller; generated when empty
  std::string client_context;  // decoded X-Amz-Client-Context JSON; empty when absent
};

// What a Runtime API route answers.
struct RuntimeReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class Emulator {
 public:
  explicit Emulator(EmulatorConfig config);
  ~Emulator();  // Shutdown()
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Where the sandbox reaches the Runtime API ("127.0.0.1:PORT"); set before Start().
  void SetRuntimeApi(std::string host_port);
  // Starts the first sandbox when eager_init; otherwise nothing. Errors: kIOError if it can't spawn.
  Status Start();

  // The caller's side. Blocks until this invocation is done (queued behind earlier ones).
  InvokeResult Invoke(std::string payload, const InvokeOptions& options = {});

  // The runtime's side (see the header comment for the statuses).
  RuntimeReply Next();
  RuntimeReply PostResponse(const std::string& request_id, std::string body, const std::string& content_type);
  RuntimeReply PostError(const std::string& request_id, const std::string& error_type_header, const std::string& body);
  RuntimeReply PostInitError(const std::string& error_type_header, const std::string& body);

  // Kills the sandbox, answers queued and waiting calls (503 / 500), and makes later calls return
  // at once. Idempotent.
  void Shutdown();

 private:
  using Clock = std::chrono::steady_clock;
  enum class InvState { kPending, kRunning, kDone };
  struct Invocation {
    std::string request_id;
    std::string payload;
    std::string trace_id;
    std::string client_context;
    InvState state = InvState::kPending;
    uint64_t sandbox = 0;  // generation that took it
    Clock::time_point started;
    Clock::time_point deadline;
    int64_t deadline_ms = 0;
    std::optional<InvokeResult> outcome;
    std::string status;  // REPORT "Status:" (timeout, error)
  };
  struct Sandbox {
    uint64_t generation = 0;
    pid_t pid = -1;
    bool alive = false;
    bool reached_next = false;  // init is over once the runtime asks for an event
    bool served_invoke = false;  // an invocation was handed to this sandbox (REPORT's Init Duration)
    bool init_failed = false;
    std::optional<InvokeResult> init_error;
    Clock::time_point spawned;
    Clock::time_point init_done;
    ExitInfo exit;
  };

  Status SpawnLocked();
  void KillLocked(std::unique_lock<std::mutex>& lk);
  void ReapLoop(pid_t pid, uint64_t generation);
  void RememberDoneLocked(const std::string& request_id);
  bool WasDoneLocked(const std::string& request_id) const;
  // 400 / 403 checks shared by /response and /error; nullopt when `request_id` is running.
  std::optional<RuntimeReply> CheckPostLocked(const std::string& request_id) const;
  std::string FunctionArn() const;

  const EmulatorConfig config_;
  std::string runtime_api_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool shutting_down_ = false;
  uint64_t next_ticket_ = 0;
  uint64_t serving_ticket_ = 0;
  Sandbox sandbox_;
  std::vector<std::thread> reapers_;
  std::optional<Invocation> inv_;
  std::deque<std::string> done_ids_;
};

}  // namespace chromapact::emulator
