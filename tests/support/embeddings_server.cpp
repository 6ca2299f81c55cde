#include "support/embeddings_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "chromapact/aws/http.h"
#include "support/paths.h"

namespace chromapact::testing {
namespace {

using Clock = std::chrono::steady_clock;

const char* Python() {
  const char* p = std::getenv("CHROMAPACT_PYTHON");
  return (p != nullptr && *p != '\0') ? p : "python3";
}

// Reads `fd` until EOF or the deadline; true on EOF (every writer closed it).
bool DrainUntilEof(int fd, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r <= 0) continue;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return true;
  }
}

}  // namespace

Result<std::unique_ptr<EmbeddingsServer>> EmbeddingsServer::Start(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  const std::string script = SourceDir() + "/scripts/lib/embeddings_server.py";
  const fs::path log_dir = fs::path(BuildDir()) / "test-scratch" / "embeddings-logs";
  std::error_code ec;
  fs::create_directories(log_dir, ec);
  static int counter = 0;
  const std::string log =
      (log_dir / ("embeddings-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".log")).string();

  int fds[2];
  // Close-on-exec: other children this process starts must not hold the write end (EOF = exited).
  if (pipe2(fds, O_CLOEXEC) != 0) return Unavailable("embeddings server: pipe failed");
  std::vector<std::string> argv_s = {Python(), script, "--host", "127.0.0.1", "--port", "0"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Unavailable("embeddings server: fork failed");
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) {
      dup2(err, 2);
      close(err);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::unique_ptr<EmbeddingsServer> server(new EmbeddingsServer());
  server->pid_ = pid;
  server->stdout_fd_ = fds[0];

  // Read the script's stdout until the "PORT=<n>" line (blocking reads with a deadline).
  std::string out;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (true) {
    size_t nl = out.find('\n');
    while (nl != std::string::npos) {
      const std::string line = out.substr(0, nl);
      out.erase(0, nl + 1);
      if (line.rfind("PID=", 0) == 0) server->script_pid_ = std::atoi(line.c_str() + 4);
      if (line.rfind("PORT=", 0) == 0) {
        server->port_ = std::atoi(line.c_str() + 5);
        if (server->port_ > 0) return server;
      }
      nl = out.find('\n');
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Unavailable("embeddings server: no PORT= line within 30 s (see " + log + ")");
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0) continue;
    if (r == 0) continue;
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) return Unavailable("embeddings server: exited during start-up (see " + log + ")");
    out.append(buf, static_cast<size_t>(n));
  }
}

EmbeddingsServer::~EmbeddingsServer() {
  if (script_pid_ > 0) kill(script_pid_, SIGTERM);
  if (pid_ > 0) kill(pid_, SIGTERM);
  bool exited = stdout_fd_ >= 0 && DrainUntilEof(stdout_fd_, Clock::now() + std::chrono::seconds(3));
  if (!exited) {
    if (script_pid_ > 0) kill(script_pid_, SIGKILL);
    if (pid_ > 0) kill(pid_, SIGKILL);
  }
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::string EmbeddingsServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

Result<nlohmann::json> EmbeddingsServer::Stats() const {
  aws::HttpClient http;
  aws::HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + "/stats";
  auto resp = http.Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return Internal("GET /stats: HTTP " + std::to_string(resp->status));
  nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
  if (j.is_discarded()) return Internal("GET /stats: not JSON");
  return j;
}

Status EmbeddingsServer::ResetStats() const {
  aws::HttpClient http;
  aws::HttpRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(port_) + "/stats/reset";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = "{}";
  auto resp = http.Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return Internal("POST /stats/reset: HTTP " + std::to_string(resp->status));
  return Status::Ok();
}

}  // namespace chromapact::testing
