// scripts/lib/embeddings_server.py (a local OpenAI-compatible /embeddings server, stdlib python) as a
// child process of the test: started on a free 127.0.0.1 port it picks itself (--port 0); Start()
// returns once the script has printed "PORT=<n>" (it prints that after its socket listens, so no
// polling or sleeping is needed). The destructor returns once the script's stdout has closed, so a
// stopped server's port is closed. Its stderr goes to build/test-scratch/embeddings-logs/.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/status.h"

namespace chromapact::testing {

class EmbeddingsServer {
 public:
  // `args`: the script's flags, e.g. {"--dimension", "16", "--fail-first", "2"}. Runs
  // $CHROMAPACT_PYTHON (default python3). Errors: kUnavailable when the script does not print its
  // port within 30 s or exits first (the message names its log file).
  static Result<std::unique_ptr<EmbeddingsServer>> Start(const std::vector<std::string>& args = {});
  // SIGTERM to the script (and to a wrapper such as pyenv's shim), then waits until its stdout
  // closes (= it exited, its port closed), SIGKILL after 3 s; reaps the child.
  ~EmbeddingsServer();
  EmbeddingsServer(const EmbeddingsServer&) = delete;
  EmbeddingsServer& operator=(const EmbeddingsServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT/v1": a base URL as CHROMAPACT_EMBEDDING_URL takes it.
  std::string base_url() const;
  // GET /stats: {"requests": [{"inputs", "status"}...], "input_counts": [...]}.
  Result<nlohmann::json> Stats() const;
  // POST /stats/reset.
  Status ResetStats() const;

 private:
  EmbeddingsServer() = default;
  pid_t pid_ = -1;         // the child: python, or a wrapper that runs it
  pid_t script_pid_ = -1;  // the script's own pid ("PID=" line)
  int stdout_fd_ = -1;  // read end of the script's stdout (kept open: the script may still write)
  int port_ = 0;
};

}  // namespace chromapact::testing
