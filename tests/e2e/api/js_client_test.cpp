// The official JavaScript client (npm chromadb, pinned in tests/clients/js/package.json) against
// `scripts/serve`: the whole local stack behind Chroma's REST API v2. basic_flow.mjs asserts every
// result of a Chroma user's basic flow; compare_with_oracle.sh then runs the same flow against real
// Chroma 1.5.9 and requires the two transcripts to be equal (skipped, with its reason, when the
// oracle is not beside the repository).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/paths.h"
#include "support/run_command.h"

namespace chromapact {
namespace {

// scripts/serve as a child: its CHROMA_URL line read from a pipe; SIGTERM + wait on destruction.
class ServeProcess {
 public:
  ServeProcess() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      setpgid(0, 0);
      const std::string script = testing::SourceDir() + "/scripts/serve";
      setenv("BUILD_DIR", CHROMAPACT_BINARY_DIR, 1);
      execl(script.c_str(), script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_ >= 0) close(out_);
  }
  // The URL once the stack answers (scripts/serve prints it then), or "" when it exits or the
  // deadline passes first.
  std::string WaitForUrl(std::chrono::seconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    std::string text;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 500) <= 0) continue;
      char buf[256];
      const ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) return "";
      text.append(buf, static_cast<size_t>(n));
      const size_t at = text.find("CHROMA_URL=");
      const size_t eol = at == std::string::npos ? std::string::npos : text.find('\n', at);
      if (eol != std::string::npos) return text.substr(at + 11, eol - at - 11);
    }
    return "";
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

TEST(JsClient, BasicFlowAgainstServeMatchesRealChroma) {
  const std::string js = testing::SourceDir() + "/tests/clients/js";
  ASSERT_TRUE(std::filesystem::exists(js + "/node_modules/chromadb"))
      << "tests/clients/js/node_modules missing: scripts/install-deps installs the pinned chromadb package";
  ServeProcess serve;
  const std::string url = serve.WaitForUrl(std::chrono::seconds(120));
  ASSERT_FALSE(url.empty()) << "scripts/serve printed no CHROMA_URL";

  const std::string transcript = ::testing::TempDir() + "/js_flow.json";
  auto flow = testing::RunCommand({js + "/run_against.sh", url, transcript}, {}, {});
  ASSERT_EQ(flow.exit_code, 0) << flow.out << flow.err;

  auto compared = testing::RunCommand({js + "/compare_with_oracle.sh", url}, {}, {});
  if (compared.exit_code == 77) GTEST_SKIP() << "oracle comparison: " << compared.out << compared.err;
  EXPECT_EQ(compared.exit_code, 0) << compared.out << compared.err;
}

}  // namespace
}  // namespace chromapact
