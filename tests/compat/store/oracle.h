// Test helpers shared by the compat tests: real Chroma 1.5.9 (../shared/tools/chroma-oracle/serve,
// from Chroma's npm artifact) started on loopback over a persist directory, driven through its REST
// API v2 with our libcurl HttpClient. Header-only; test code only.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chromapact/aws/http.h"

namespace chromapact::testing {

// A loopback TCP port that was free a moment ago (bound to port 0, then released).
inline int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(s);
  return port;
}

// n x dim float32 row-major, deterministic in `seed`, values in [-1, 1).
inline std::vector<float> Vectors(size_t n, size_t dim, uint32_t seed) {
  std::vector<float> v(n * dim);
  uint32_t x = seed;
  for (float& f : v) {
    x = x * 1664525u + 1013904223u;
    f = static_cast<float>(x >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return v;
}

// Row `i` of an n x dim row-major matrix.
inline std::vector<float> Row(const std::vector<float>& m, size_t dim, size_t i) {
  return std::vector<float>(m.begin() + i * dim, m.begin() + (i + 1) * dim);
}

class ChromaOracle {
 public:
  // Starts the oracle over `dir` (created if absent); ok() is false on failure (reason in error()).
  ChromaOracle(const std::string& shared, const std::string& dir) : port_(FreePort()) {
    const std::string cmd =
        shared + "/tools/chroma-oracle/serve '" + dir + "' " + std::to_string(port_) + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    while (p && fgets(buf, sizeof(buf), p)) error_ += buf;
    int rc = p ? pclose(p) : -1;
    if (rc == 0) pid_ = std::atoi(error_.c_str());
  }
  ~ChromaOracle() { Stop(); }
  ChromaOracle(const ChromaOracle&) = delete;
  ChromaOracle& operator=(const ChromaOracle&) = delete;

  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }

  // Kills the server we started (SIGKILL: it ignores SIGINT) and waits, up to `timeout_ms`, until the
  // PID is gone (it is not our child — serve nohups it — so poll kill(pid, 0)). True once it is gone.
  bool Stop(int timeout_ms = 10000) {
    if (pid_ <= 0) return true;
    kill(pid_, SIGKILL);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool gone = false;
    while (std::chrono::steady_clock::now() < deadline) {
      // Reaped by init, or a zombie whose /proc state is Z: both mean it no longer runs.
      if (kill(pid_, 0) != 0 || IsZombie(pid_)) {
        gone = true;
        break;
      }
      usleep(10 * 1000);  // poll interval of a deadline-bounded wait, not synchronisation by sleep
    }
    pid_ = 0;
    return gone;
  }

  // `method` on /api/v2/tenants/default_tenant/databases/default_database`path`; expects HTTP 2xx (add
  // answers 201) and returns the parsed body (null on a transport error; a discarded value on bad JSON).
  nlohmann::json Call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr) {
    aws::HttpRequest r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(port_) +
            "/api/v2/tenants/default_tenant/databases/default_database" + path;
    if (!body.is_null()) {
      r.body = body.dump();
      r.headers.push_back({"content-type", "application/json"});
    }
    auto resp = http_.Send(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (!resp.ok()) return nullptr;
    EXPECT_TRUE(resp->status >= 200 && resp->status < 300)
        << resp->status << " " << method << " " << path << ": " << resp->body;
    return nlohmann::json::parse(resp->body, nullptr, false);
  }

 private:
  static bool IsZombie(int pid) {
    FILE* f = fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
    if (!f) return true;
    char buf[512] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    std::string s(buf, n);
    size_t close_paren = s.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < s.size() && s[close_paren + 2] == 'Z';
  }

  int port_;
  int pid_ = 0;
  std::string error_;
  aws::HttpClient http_;
};

// Element-wise |got - want| <= tol over (nested) JSON number arrays of the same shape.
inline void ExpectFloatsNear(const nlohmann::json& got, const nlohmann::json& want, float tol,
                             const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].is_array()) {
      ExpectFloatsNear(got[i], want[i], tol, what);
    } else {
      EXPECT_NEAR(got[i].get<double>(), want[i].get<double>(), tol) << what << "[" << i << "]";
    }
  }
}

}  // namespace chromapact::testing
