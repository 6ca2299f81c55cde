// Runs the real `chromapact-emulator` as a subprocess for e2e tests: ports come from its
// --ports-file (polled with a deadline), stdout+stderr go to a log file the test can read, and the
// destructor stops it by PID (SIGTERM, then SIGKILL after a grace period).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/paths.h"

extern char** environ;

namespace chromapact::testing {

inline std::string EmulatorPath() { return BuildDir() + "/tools/emulator/chromapact-emulator"; }
inline std::string TestBootstrapPath() { return BuildDir() + "/tools/emulator/chromapact-test-bootstrap"; }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `cond` every few ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, not synchronisation
  }
}

class EmulatorProcess {
 public:
  // Starts the emulator with `args` (after the fixed --invoke-port 0 --ports-file F) and the test's
  // environment plus `env`. Check ok() / error() afterwards.
  EmulatorProcess(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
    dir_ = MakeTempDir("emulator");
    const std::string ports = dir_ + "/ports.json";
    log_path_ = dir_ + "/emulator.log";
    std::vector<std::string> argv_s = {EmulatorPath(), "--invoke-port", "0", "--ports-file", ports};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);  // overrides; Dedup keeps the last
    Dedup(env_s);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv_s[0].c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      error_ = "spawn " + argv_s[0] + ": " + std::strerror(rc);
      pid_ = -1;
      return;
    }
    const bool up = WaitFor(
        [&] {
          if (Exited()) return true;
          const std::string text = ReadFile(ports);
          const auto j = nlohmann::json::parse(text, nullptr, false);
          if (!j.is_object()) return false;
          invoke_port_ = j.value("invoke_port", 0);
          runtime_port_ = j.value("runtime_port", 0);
          return invoke_port_ > 0 && runtime_port_ > 0;
        },
        std::chrono::seconds(10));
    if (!up || invoke_port_ <= 0) error_ = "emulator did not come up; log:\n" + Log();
  }

  ~EmulatorProcess() { Stop(); }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int invoke_port() const { return invoke_port_; }
  int runtime_port() const { return runtime_port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const { return ReadFile(log_path_); }
  const std::string& dir() const { return dir_; }

  // SIGTERM, wait up to 5 s, then SIGKILL. Returns the wait status (or -1). Idempotent.
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    if (!reaped_) {
      kill(pid_, SIGTERM);
      if (!WaitFor([&] { return Exited(); }, std::chrono::seconds(5))) {
        kill(pid_, SIGKILL);
        int st = 0;
        waitpid(pid_, &st, 0);
        exit_status_ = st;
        reaped_ = true;
      }
    }
    pid_ = -1;
    return exit_status_;
  }

 private:
  bool Exited() {
    if (reaped_) return true;
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_status_ = st;
      return true;
    }
    return false;
  }
  // Keeps the last definition of each NAME=.
  static void Dedup(std::vector<std::string>& env) {
    std::vector<std::string> out;
    for (auto it = env.rbegin(); it != env.rend(); ++it) {
      const std::string name = it->substr(0, it->find('='));
      bool seen = false;
      for (const auto& o : out) seen = seen || o.compare(0, name.size() + 1, name + "=") == 0;
      if (!seen) out.push_back(*it);
    }
    env.assign(out.rbegin(), out.rend());
  }

  std::string dir_;
  std::string log_path_;
  std::string error_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = -1;
  int invoke_port_ = 0;
  int runtime_port_ = 0;
};

}  // namespace chromapact::testing
