#include "emulator.h"

#include <cmath>
#include <cstdio>

#include "error_body.h"
#include "ids.h"

namespace chromapact::emulator {
namespace {

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string Dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

InvokeResult FunctionError(const std::string& type, const std::string& json) {
  InvokeResult r;
  r.body = json;
  r.function_error = "Unhandled";
  r.error_type = type;
  return r;
}

InvokeResult EmulatorError(const std::string& type, const std::string& message) {
  return FunctionError(type, MakeErrorJson(type, message));
}

RuntimeReply Reply(int status, const std::string& type, const std::string& message) {
  RuntimeReply r;
  r.status = status;
  r.body = MakeErrorJson(type, message);
  return r;
}

RuntimeReply Accepted() {
  RuntimeReply r;
  r.status = 202;
  r.body = R"({"status":"OK"})";
  return r;
}

void Line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

Emulator::Emulator(EmulatorConfig config) : config_(std::move(config)) {}

Emulator::~Emulator() { Shutdown(); }

void Emulator::SetRuntimeApi(std::string host_port) { runtime_api_ = std::move(host_port); }

Status Emulator::Start() {
  if (!config_.eager_init) return Status::Ok();
  std::unique_lock<std::mutex> lk(mu_);
  return SpawnLocked();
}

std::string Emulator::FunctionArn() const {
  return "arn:aws:lambda:" + config_.region + ":" + config_.account_id + ":function:" + config_.function_name;
}

Status Emulator::SpawnLocked() {
  // The previous sandbox is dead (alive is cleared only by its reaper), so its reaper is finishing.
  for (auto& t : reapers_) t.join();
  reapers_.clear();
  const std::string task_root = config_.task_root.empty() ? Dir(config_.bootstrap) : config_.task_root;
  EnvList overrides = {
      {"AWS_LAMBDA_RUNTIME_API", runtime_api_},
      {"_HANDLER", config_.handler},
      {"LAMBDA_TASK_ROOT", task_root},
      {"AWS_LAMBDA_FUNCTION_NAME", config_.function_name},
      {"AWS_LAMBDA_FUNCTION_VERSION", config_.function_version},
      {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(config_.memory_mb)},
      {"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + config_.function_name},
      {"AWS_LAMBDA_LOG_STREAM_NAME", "local/" + NewUuid()},
      {"AWS_REGION", config_.region},
      {"AWS_DEFAULT_REGION", config_.region},
  };
  overrides.insert(overrides.end(), config_.env.begin(), config_.env.end());
  auto pid = SpawnProcess(config_.bootstrap, config_.bootstrap_args, MergedEnvironment(overrides));
  if (!pid.ok()) return pid.status();
  const uint64_t generation = sandbox_.generation + 1;
  sandbox_ = Sandbox{};
  sandbox_.generation = generation;
  sandbox_.pid = *pid;
  sandbox_.alive = true;
  sandbox_.spawned = Clock::now();
  reapers_.emplace_back(&Emulator::ReapLoop, this, *pid, generation);
  return Status::Ok();
}

void Emulator::ReapLoop(pid_t pid, uint64_t generation) {
  const ExitInfo info = WaitProcess(pid);
  std::lock_guard<std::mutex> lock(mu_);
  if (sandbox_.generation == generation) {
    sandbox_.alive = false;
    sandbox_.exit = info;
  }
  std::fprintf(stderr, "chromapact-emulator: runtime pid %d ended (%s)\n", static_cast<int>(pid),
               info.Describe().c_str());
  cv_.notify_all();
}

void Emulator::KillLocked(std::unique_lock<std::mutex>& lk) {
  if (!sandbox_.alive) return;
  const uint64_t generation = sandbox_.generation;
  KillProcessGroup(sandbox_.pid);
  cv_.wait(lk, [&] { return !sandbox_.alive || sandbox_.generation != generation; });
}

void Emulator::RememberDoneLocked(const std::string& request_id) {
  done_ids_.push_back(request_id);
  if (done_ids_.size() > 256) done_ids_.pop_front();
}

bool Emulator::WasDoneLocked(const std::string& request_id) const {
  for (const auto& id : done_ids_) {
    if (id == request_id) return true;
  }
  return false;
}

InvokeResult Emulator::Invoke(std::string payload, const InvokeOptions& options) {
  std::unique_lock<std::mutex> lk(mu_);
  const uint64_t ticket = next_ticket_++;
  cv_.wait(lk, [&] { return shutting_down_ || serving_ticket_ == ticket; });
  if (shutting_down_) {
    InvokeResult r = EmulatorError("ServiceException", "the emulator is shutting down");
    r.http_status = 503;
    r.function_error.clear();
    return r;
  }

  Invocation inv;
  inv.request_id = NewUuid();
  inv.payload = std::move(payload);
  inv.trace_id = options.trace_id.empty() ? NewTraceId() : options.trace_id;
  inv.client_context = options.client_context;
  inv.started = Clock::now();
  inv_ = std::move(inv);
  const std::string id = inv_->request_id;
  Line("START RequestId: " + id + " Version: " + config_.function_version);

  auto finish = [&](InvokeResult r, const char* status) {
    inv_->outcome = std::move(r);
    inv_->state = InvState::kDone;
    inv_->status = status;
  };

  if (sandbox_.alive && sandbox_.init_failed) KillLocked(lk);  // /init/error: re-init now
  if (!sandbox_.alive) {
    Status st = SpawnLocked();
    if (!st.ok()) finish(EmulatorError("Runtime.InvalidEntrypoint", st.message()), "error");
  }
  const uint64_t generation = sandbox_.generation;
  // Eager init may have finished before this invoke arrived: the first invoke a sandbox serves is
  // still its cold one and carries Init Duration.
  const bool first_of_sandbox = !sandbox_.served_invoke;
  sandbox_.served_invoke = true;
  const auto pickup_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(config_.init_timeout_s));
  cv_.notify_all();  // a runtime waiting in /next

  while (!inv_->outcome) {
    if (shutting_down_) {
      finish(EmulatorError("ServiceException", "the emulator is shutting down"), "error");
      break;
    }
    if (!sandbox_.alive || sandbox_.generation != generation) {
      if (sandbox_.init_error) {
        finish(*sandbox_.init_error, "error");
      } else {
        finish(EmulatorError("Runtime.ExitError",
                             "RequestId: " + id + " Error: Runtime exited with error: " + sandbox_.exit.Describe()),
               "error");
      }
      break;
    }
    const auto now = Clock::now();
    if (inv_->state == InvState::kRunning && now >= inv_->deadline) {
      KillLocked(lk);
      char msg[96];
      std::snprintf(msg, sizeof msg, "Task timed out after %.2f seconds", config_.timeout_s);
      finish(EmulatorError("Sandbox.Timeout", msg), "timeout");
      break;
    }
    if (inv_->state == InvState::kPending && now >= pickup_deadline) {
      KillLocked(lk);
      char msg[128];
      std::snprintf(msg, sizeof msg, "Init timed out after %.2f seconds (the runtime did not request the event)",
                    config_.init_timeout_s);
      finish(EmulatorError("Sandbox.Timeout", msg), "timeout");
      break;
    }
    cv_.wait_until(lk, inv_->state == InvState::kRunning ? inv_->deadline : pickup_deadline);
  }
  if (sandbox_.alive && sandbox_.init_failed) KillLocked(lk);

  InvokeResult result = *inv_->outcome;
  result.request_id = id;
  const auto end = Clock::now();
  const double duration_ms = Ms(end - inv_->started);  // from hand-out when it was handed out
  long rss_kb = sandbox_.alive ? PeakRssKb(sandbox_.pid) : sandbox_.exit.max_rss_kb;
  char report[512];
  std::snprintf(report, sizeof report,
                "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory Size: %d MB\t"
                "Max Memory Used: %ld MB",
                id.c_str(), duration_ms, static_cast<long long>(std::ceil(duration_ms)), config_.memory_mb,
                (rss_kb + 1023) / 1024);
  std::string line = report;
  if (first_of_sandbox && sandbox_.generation == generation && sandbox_.reached_next) {
    char init[64];
    std::snprintf(init, sizeof init, "\tInit Duration: %.2f ms", Ms(sandbox_.init_done - sandbox_.spawned));
    line += init;
  }
  if (!inv_->status.empty() && !result.function_error.empty()) {
    line += "\tStatus: " + inv_->status;
    if (!result.error_type.empty()) line += "\tError Type: " + result.error_type;
  }
  Line("END RequestId: " + id);
  Line(line);

  RememberDoneLocked(id);
  inv_.reset();
  ++serving_ticket_;
  cv_.notify_all();
  return result;
}

RuntimeReply Emulator::Next() {
  std::unique_lock<std::mutex> lk(mu_);
  if (shutting_down_ || !sandbox_.alive) {
    return Reply(500, "Sandbox.NotRunning", "no runtime is running for this request");
  }
  const uint64_t generation = sandbox_.generation;
  if (!sandbox_.reached_next) {
    sandbox_.reached_next = true;
    sandbox_.init_done = Clock::now();
  }
  if (inv_ && inv_->state == InvState::kRunning && inv_->sandbox == generation) {
    return Reply(403, "InvalidStateTransition", "/next called before the current invocation was answered");
  }
  cv_.wait(lk, [&] {
    return shutting_down_ || !sandbox_.alive || sandbox_.generation != generation ||
           (inv_ && inv_->state == InvState::kPending && !inv_->outcome);
  });
  if (shutting_down_ || !sandbox_.alive || sandbox_.generation != generation) {
    return Reply(500, "Sandbox.NotRunning", "the runtime was stopped");
  }
  inv_->state = InvState::kRunning;
  inv_->sandbox = generation;
  inv_->started = Clock::now();
  const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.timeout_s));
  inv_->deadline = inv_->started + timeout;
  inv_->deadline_ms = UnixMs() + std::llround(config_.timeout_s * 1000.0);
  cv_.notify_all();

  RuntimeReply r;
  r.status = 200;
  r.body = inv_->payload;
  r.headers = {
      {"Lambda-Runtime-Aws-Request-Id", inv_->request_id},
      {"Lambda-Runtime-Deadline-Ms", std::to_string(inv_->deadline_ms)},
      {"Lambda-Runtime-Invoked-Function-Arn", FunctionArn()},
      {"Lambda-Runtime-Trace-Id", inv_->trace_id},
  };
  if (!inv_->client_context.empty()) r.headers.emplace_back("Lambda-Runtime-Client-Context", inv_->client_context);
  return r;
}

std::optional<RuntimeReply> Emulator::CheckPostLocked(const std::string& request_id) const {
  if (inv_ && inv_->request_id == request_id) {
    if (inv_->state == InvState::kRunning) return std::nullopt;
    if (inv_->state == InvState::kDone) {
      return Reply(403, "InvalidStateTransition", "invocation " + request_id + " was already answered");
    }
  } else if (WasDoneLocked(request_id)) {
    return Reply(403, "InvalidStateTransition", "invocation " + request_id + " was already answered");
  }
  return Reply(400, "InvalidRequestID", "unknown request id " + request_id);
}

RuntimeReply Emulator::PostResponse(const std::string& request_id, std::string body,
                                    const std::string& content_type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto bad = CheckPostLocked(request_id)) return *bad;
  inv_->state = InvState::kDone;
  cv_.notify_all();
  if (body.size() > kMaxRuntimeResponseBytes) {
    const std::string limit = std::to_string(kMaxRuntimeResponseBytes);
    inv_->outcome = EmulatorError("Function.ResponseSizeTooLarge",
                                  "Response payload size exceeded maximum allowed payload size (" + limit + " bytes).");
    inv_->status = "error";
    return Reply(413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (" + limit + " bytes).");
  }
  InvokeResult r;
  r.body = std::move(body);
  r.content_type = content_type.empty() ? "application/json" : content_type;
  inv_->outcome = std::move(r);
  return Accepted();
}

RuntimeReply Emulator::PostError(const std::string& request_id, const std::string& error_type_header,
                                 const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto bad = CheckPostLocked(request_id)) return *bad;
  const ErrorBody err = NormalizeErrorBody(error_type_header, body);
  inv_->outcome = FunctionError(err.type, err.json);
  inv_->state = InvState::kDone;
  inv_->status = "error";
  cv_.notify_all();
  return Accepted();
}

RuntimeReply Emulator::PostInitError(const std::string& error_type_header, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sandbox_.alive || sandbox_.reached_next || sandbox_.init_failed) {
    return Reply(403, "InvalidStateTransition", "/init/error is only valid once, before the first /next");
  }
  const ErrorBody err = NormalizeErrorBody(error_type_header, body);
  sandbox_.init_failed = true;
  sandbox_.init_error = FunctionError(err.type, err.json);
  std::fprintf(stderr, "chromapact-emulator: init error %s\n", err.json.c_str());
  if (inv_ && inv_->state == InvState::kPending) {
    inv_->outcome = *sandbox_.init_error;
    inv_->state = InvState::kDone;
    inv_->status = "error";
  }
  cv_.notify_all();
  return Accepted();
}

void Emulator::Shutdown() {
  std::unique_lock<std::mutex> lk(mu_);
  shutting_down_ = true;
  KillLocked(lk);
  cv_.notify_all();
  std::vector<std::thread> reapers = std::move(reapers_);
  reapers_.clear();
  lk.unlock();
  for (auto& t : reapers) t.join();
}

}  // namespace chromapact::emulator
