#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

extern char** environ;

namespace chromapact::emulator {

EnvList MergedEnvironment(const EnvList& overrides) {
  std::map<std::string, std::string> merged;
  std::vector<std::string> order;
  auto set = [&](const std::string& k, const std::string& v) {
    if (merged.emplace(k, v).second) {
      order.push_back(k);
    } else {
      merged[k] = v;
    }
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    set(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  for (const auto& [k, v] : overrides) set(k, v);
  EnvList out;
  for (const auto& k : order) out.emplace_back(k, merged[k]);
  return out;
}

Result<pid_t> SpawnProcess(const std::string& path, const std::vector<std::string>& args, const EnvList& env) {
  std::vector<std::string> argv_s{path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The emulator blocks SIGINT/SIGTERM (a thread sigwaits them) and ignores SIGPIPE; both would be
  // inherited through exec, so the child gets the defaults back.
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return IOError("spawn " + path + ": " + std::strerror(rc));
  return pid;
}

std::string ExitInfo::Describe() const {
  if (signal != 0) {
    if (signal == SIGKILL) return "signal: killed";
    const char* name = sigdescr_np(signal);
    return std::string("signal: ") + (name != nullptr ? name : std::to_string(signal));
  }
  return "exit status " + std::to_string(exit_code);
}

ExitInfo WaitProcess(pid_t pid) {
  ExitInfo info;
  int status = 0;
  rusage usage{};
  pid_t r;
  do {
    r = wait4(pid, &status, 0, &usage);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return info;
  if (WIFEXITED(status)) info.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) info.signal = WTERMSIG(status);
  info.max_rss_kb = usage.ru_maxrss;
  return info;
}

void KillProcessGroup(pid_t pid) {
  if (pid <= 0) return;
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

long PeakRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      long kb = 0;
      in >> kb;
      return kb;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

}  // namespace chromapact::emulator
