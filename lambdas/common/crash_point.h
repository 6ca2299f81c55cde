// Test-only crash points for the bootstraps (header-only; tests/e2e/lambdas/ uses them to kill a real
// compactor process at a named step of its cycle, pipeline/compactor.h kCompactStep*).
//
//   CHROMAPACT_CRASH_AT=<step>     e.g. "compactor.uploaded": the process _exit()s with
//                                  kCrashExitCode when it reaches that step ...
//   CHROMAPACT_CRASH_FILE=<path>   ... but only while <path> exists: the crash removes it first, so
//                                  one armed file is one crash (unlink decides, so a restarted
//                                  process does not crash again). A non-empty first line in the file
//                                  names the step instead of CHROMAPACT_CRASH_AT (one process, several
//                                  crash points in turn). Unset: every time the step is reached.
//
// Both unset (production): no hook at all. _exit skips destructors and atexit handlers, as a
// SIGKILL or an out-of-memory kill would: nothing is flushed, released or given back.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "chromapact/status.h"
#include "env.h"

namespace chromapact::lambdas {

inline constexpr int kCrashExitCode = 86;

// The step hook for CompactorOptions::step_hook from $CHROMAPACT_CRASH_AT / $CHROMAPACT_CRASH_FILE;
// an empty function when CHROMAPACT_CRASH_AT is unset. The hook always returns OK (or never returns).
inline std::function<Status(std::string_view)> CrashHookFromEnvironment() {
  const std::string at = EnvOr("CHROMAPACT_CRASH_AT", "");
  if (at.empty()) return {};
  const std::string file = EnvOr("CHROMAPACT_CRASH_FILE", "");
  return [at, file](std::string_view step) -> Status {
    std::string target = at;
    if (!file.empty()) {
      std::ifstream armed(file);
      if (!armed) return Status::Ok();  // not armed
      std::string line;
      if (std::getline(armed, line) && !line.empty()) target = line;
    }
    if (step != target) return Status::Ok();
    if (!file.empty() && ::unlink(file.c_str()) != 0) return Status::Ok();  // disarmed meanwhile
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"test crash point\",\"step\":\"%s\"}\n", target.c_str());
    std::fflush(stderr);
    ::_exit(kCrashExitCode);
  };
}

}  // namespace chromapact::lambdas
