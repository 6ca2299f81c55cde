// A spawned bootstrap process: its own process group (so a kill reaches anything it forked), the
// environment given, stdin from /dev/null, stdout/stderr shared with the emulator (as Lambda sends a
// function's output to its log stream).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::emulator {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The emulator's own environment with `overrides` applied (later entries win).
EnvList MergedEnvironment(const EnvList& overrides);

// Starts `path` with `args` (argv[1..]) and exactly `env`, in a new process group, with the default
// signal mask and dispositions. Returns the pid. Errors: kIOError naming the path and errno text.
Result<pid_t> SpawnProcess(const std::string& path, const std::vector<std::string>& args, const EnvList& env);

// How a process ended, from wait4().
struct ExitInfo {
  int exit_code = -1;     // when it exited normally, else -1
  int signal = 0;         // the signal that killed it, else 0
  long max_rss_kb = 0;    // ru_maxrss of the process (KiB)
  // Lambda's wording: "exit status 1" or "signal: killed".
  std::string Describe() const;
};

// Blocks until `pid` ends (it must be our child). Retries on EINTR.
ExitInfo WaitProcess(pid_t pid);

// SIGKILL to the whole process group of `pid` (and to pid itself, should it have left the group).
void KillProcessGroup(pid_t pid);

// Peak resident set (VmHWM) of a live process in KiB from /proc/<pid>/status; 0 when unknown.
long PeakRssKb(pid_t pid);

}  // namespace chromapact::emulator
