// README's first command as CI runs it: `CHROMAPACT_DEMO_BUILD=0 scripts/demo` against this build
// tree: moto with signature checking on, one chromapact-emulator per bootstrap, the
// 778 fiori vectors through the producer, the compactor from SQS, the query bootstrap's answers checked
// against exact search, the snapshot downloaded and (with ../shared) opened by real Chroma 1.5.9, and
// the official npm client's query through `chromapact serve` printed.
// Every process the demo announces (moto, the emulators, Chroma) is gone when it has exited.
// Skips with a reason when the dataset cannot be fetched (scripts/fetch-dataset needs npm or a cache).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "emulator_process.h"
#include "support/paths.h"

extern char** environ;

namespace chromapact::testing {
namespace {

struct ScriptRun {
  int exit_code = -1;  // 128 + signal when killed; -1 when it could not be started
  std::string output;  // stdout + stderr
  bool timed_out = false;
};

// Runs `argv` with the test's environment plus `env`, output to a file, for at most `timeout`
// (then SIGKILL to its process group, which it leads).
ScriptRun RunScript(const std::vector<std::string>& argv_s, const std::vector<std::string>& env_extra,
              std::chrono::seconds timeout) {
  const std::string out = MakeTempDir("demo-script") + "/output.log";
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env_extra.begin(), env_extra.end());  // later entries win in bash
  std::vector<char*> argv, envp;
  for (const auto& a : argv_s) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  ScriptRun r;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    r.output = "posix_spawn " + argv_s[0] + " failed: " + std::to_string(rc);
    return r;
  }
  int status = 0;
  const bool exited = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    r.timed_out = true;
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = ReadFile(out);
  return r;
}

// True when `pid` no longer runs (gone, or a zombie awaiting its reaper).
bool Gone(int pid) {
  if (kill(pid, 0) != 0) return true;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t p = stat.rfind(')');
  return stat.empty() || (p != std::string::npos && p + 2 < stat.size() && stat[p + 2] == 'Z');
}

// Every PID the demo announced: moto's, the emulators', Chroma's.
std::vector<int> AnnouncedPids(const std::string& output) {
  std::vector<int> pids;
  std::istringstream in(output);
  const std::regex one(R"(\(pid (\d+)\))"), many(R"(pids ([\d ]+) )");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, one)) pids.push_back(std::stoi(m[1]));
    if (std::regex_search(line, m, many)) {
      std::istringstream ps(m[1].str());
      for (int p; ps >> p;) pids.push_back(p);
    }
  }
  return pids;
}

size_t CountLines(const std::string& output, const std::string& needle) {
  std::istringstream in(output);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

class DemoScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ScriptRun fetch = RunScript({SourceDir() + "/scripts/fetch-dataset"}, {}, std::chrono::seconds(120));
    if (fetch.exit_code != 0) {
      GTEST_SKIP() << "scripts/fetch-dataset could not fetch the fiori dataset (npm registry unreachable, no "
                      "cache?): "
                   << fetch.output;
    }
  }
  std::vector<std::string> Env() const {
    return {"CHROMAPACT_DEMO_BUILD=0", "BUILD_DIR=" + BuildDir(), "TMPDIR=" + MakeTempDir("demo-work")};
  }
};

TEST_F(DemoScriptTest, RunsTheMainJobOnTheRealDataAndStopsEveryProcess) {
  ScriptRun r = RunScript({SourceDir() + "/scripts/demo"}, Env(), std::chrono::seconds(240));
  ASSERT_FALSE(r.timed_out) << r.output;
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(CountLines(r.output, "CHECK FAILED"), 0u) << r.output;
  EXPECT_EQ(CountLines(r.output, "demo:   778 records in "), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "the query bootstrap counts 778"), 1u) << r.output;
  // A write is visible to queries before any compaction: the compactor starts only after that step.
  EXPECT_EQ(CountLines(r.output, "from the log alone, no compactor ran yet"), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "compactor up (SQS event source)"), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "demo:   query = vector of "), 4u) << r.output;  // CHROMAPACT_DEMO_PICKS
  EXPECT_EQ(CountLines(r.output, "demo:   filtered query = vector of "), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "SHA-256 verified, 778 records"), 1u) << r.output;
  const auto shared = SharedDir();  // the demo reads the same CHROMAPACT_SHARED_DIR / ../shared
  if (shared && access((*shared + "/tools/chroma-oracle/serve").c_str(), X_OK) == 0) {
    EXPECT_EQ(CountLines(r.output, "real Chroma 1.5.9 (pid "), 1u) << r.output;
  } else {
    EXPECT_EQ(CountLines(r.output, "SKIP real Chroma 1.5.9 check"), 1u) << r.output;
  }
  // The official npm client against `chromapact serve`: "fiori" found by name, counted, and a stored
  // record's own vector answered with that record first (demo_query.mjs checks; the lines show it).
  EXPECT_EQ(CountLines(r.output, "chromadb (npm 3.5.0) at http://127.0.0.1:"), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "collection \"fiori\" (id "), 1u) << r.output;
  std::smatch probe;
  ASSERT_TRUE(std::regex_search(r.output, probe, std::regex(R"(query: the vector of (\S+) )"))) << r.output;
  EXPECT_EQ(CountLines(r.output, "  1. " + probe[1].str() + "  distance 0.0000"), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "found \"fiori\" by name and queried it"), 1u) << r.output;
  // Versions, rollback (when the compactor made more than one version) and GC's plan.
  EXPECT_EQ(CountLines(r.output, "chromapact versions, rollback and gc --dry-run against the stack"), 1u) << r.output;
  EXPECT_EQ(CountLines(r.output, "the query bootstrap still counts 778") +
                CountLines(r.output, "rollback not shown: fiori has a single version"),
            1u)
      << r.output;
  EXPECT_EQ(CountLines(r.output, "demo: all checks passed"), 1u) << r.output;
  const std::vector<int> pids = AnnouncedPids(r.output);
  EXPECT_GE(pids.size(), 5u) << r.output;  // moto + 3 emulators + chromapact serve (+ Chroma)
  for (int pid : pids) EXPECT_TRUE(WaitFor([&] { return Gone(pid); }, std::chrono::seconds(10))) << "pid " << pid;
}

}  // namespace
}  // namespace chromapact::testing
