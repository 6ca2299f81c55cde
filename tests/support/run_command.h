// Runs a program of the build (a CLI, a script) as a real child process and collects its exit
// status and output: what the CLI tests assert on.
#pragma once

#include <string>
#include <vector>

namespace chromapact::testing {

struct CommandRun {
  int exit_code = -1;  // 128 + signal when killed by one; -1 when it could not be started
  std::string out;     // standard output
  std::string err;     // standard error (or why it could not be started)
};

// Runs argv (argv[0] an absolute path) with the inherited environment minus every variable whose
// name starts with one of `drop_prefixes`, plus `env` ("NAME=value" entries). Waits for it.
CommandRun RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      const std::vector<std::string>& drop_prefixes = {"AWS_"});

}  // namespace chromapact::testing
