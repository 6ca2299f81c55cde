// A small HTTP/1.1 keep-alive server on a free 127.0.0.1 port whose answers a test scripts with a
// handler: for faults a real server (moto) cannot be made to produce on demand (503 then 200, a
// 200 carrying an <Error>, a lost answer). Each request is recorded.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace chromapact::testing {

struct ScriptedRequest {
  int index = 0;       // 0-based order of arrival
  std::string method;  // "GET", "PUT", ...
  std::string target;  // request target as sent: "/bucket/key?query"
  std::string head;    // request line + header lines
  std::string body;
  // Value of header `name` (case-insensitive), "" when absent.
  std::string Header(const std::string& name) const;
};

struct ScriptedReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
};

class ScriptedHttpServer {
 public:
  using Handler = std::function<ScriptedReply(const ScriptedRequest&)>;
  explicit ScriptedHttpServer(Handler handler);
  ~ScriptedHttpServer();  // closes every connection and joins its threads
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  std::string endpoint() const;  // "http://127.0.0.1:PORT"
  std::vector<ScriptedRequest> requests();
  int connections() const { return accepted_; }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<ScriptedRequest> requests_;
  std::vector<std::thread> workers_;
  std::thread accept_thread_;
};

// A handler answering the i-th request (ScriptedRequest::index) with replies[i]; the last reply
// repeats for every later request. `replies` must not be empty.
ScriptedHttpServer::Handler ReplyInOrder(std::vector<ScriptedReply> replies);

}  // namespace chromapact::testing
