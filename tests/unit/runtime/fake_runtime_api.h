// A Lambda Runtime API played in-process with cpp-httplib on 127.0.0.1 (a free port), for tests of
// the RunHandler loop over real HTTP. It answers GET /next from a script (status, body, headers),
// answers every POST with a scripted status (202 by default), and records every request it got.
// An unscripted GET /next is answered 410, which the loop treats as fatal, so a test that asks for
// more invocations than it scripted ends instead of hanging.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace chromapact::testing {

struct ScriptedNext {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;  // how long the server holds the request before answering (a long poll)
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
  httplib::Headers headers;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);  // httplib::Headers compares names case-insensitively
    return it == headers.end() ? "" : it->second;
  }
};

class FakeRuntimeApi {
 public:
  FakeRuntimeApi() {
    server_.Get("/2018-06-01/runtime/invocation/next", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      ScriptedNext next;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (script_.empty()) {
          next.status = 410;
          next.body = R"({"errorType":"Test.NoMoreInvocations"})";
        } else {
          next = std::move(script_.front());
          script_.pop_front();
        }
      }
      if (next.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(next.delay_ms));
      res.status = next.status;
      for (const auto& [k, v] : next.headers) res.set_header(k, v);
      res.set_content(next.body, "application/json");
    });
    auto post = [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      int status = 202;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!post_statuses_.empty()) {
          status = post_statuses_.front();
          post_statuses_.pop_front();
        }
      }
      res.status = status;
      res.set_content(status == 202 ? R"({"status":"OK"})" : R"({"errorType":"Test.Scripted"})", "application/json");
    };
    server_.Post(R"(/2018-06-01/runtime/invocation/(.+)/(response|error))", post);
    server_.Post("/2018-06-01/runtime/init/error", post);
    server_.set_payload_max_length(64 * 1024 * 1024);
    server_.set_tcp_nodelay(true);  // headers and body are separate writes: avoid a Nagle/delayed-ACK stall
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  }
  ~FakeRuntimeApi() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  FakeRuntimeApi(const FakeRuntimeApi&) = delete;
  FakeRuntimeApi& operator=(const FakeRuntimeApi&) = delete;

  bool ok() const { return port_ > 0 && server_.is_running(); }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void QueueNext(ScriptedNext next) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(next));
  }
  // A normal invocation: 200, the event, the request id and a deadline 60 s ahead, plus `extra`.
  void QueueInvocation(const std::string& request_id, const std::string& event,
                       std::vector<std::pair<std::string, std::string>> extra = {}) {
    ScriptedNext n;
    n.body = event;
    n.headers = {{"Lambda-Runtime-Aws-Request-Id", request_id},
                 {"Lambda-Runtime-Deadline-Ms", std::to_string(NowMs() + 60000)}};
    n.headers.insert(n.headers.end(), extra.begin(), extra.end());
    QueueNext(std::move(n));
  }
  // The status of the next POST (any of /response, /error, /init/error); later ones get 202.
  void QueuePostStatus(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    post_statuses_.push_back(status);
  }

  std::vector<RecordedRequest> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<RecordedRequest> Requests(const std::string& method) const {
    std::vector<RecordedRequest> out;
    for (auto& r : Requests()) {
      if (r.method == method) out.push_back(r);
    }
    return out;
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  void Record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(RecordedRequest{req.method, req.path, req.body, req.headers});
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  mutable std::mutex mu_;
  std::deque<ScriptedNext> script_;
  std::deque<int> post_statuses_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace chromapact::testing
