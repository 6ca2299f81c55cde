#include "support/scripted_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace chromapact::testing {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string ScriptedRequest::Header(const std::string& name) const {
  const std::string want = Lower(name) + ":";
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t end = head.find("\r\n", pos);
    std::string line = head.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (Lower(line.substr(0, want.size())) == want) {
      std::string v = line.substr(want.size());
      size_t a = v.find_first_not_of(' ');
      return a == std::string::npos ? "" : v.substr(a);
    }
  }
  return "";
}

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : handler_(std::move(handler)) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen(fd_, 16);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stop_ = true;
  shutdown(fd_, SHUT_RDWR);
  close(fd_);
  accept_thread_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (int c : conns_) shutdown(c, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

ScriptedHttpServer::Handler ReplyInOrder(std::vector<ScriptedReply> replies) {
  return [replies = std::move(replies)](const ScriptedRequest& r) {
    return replies[std::min(static_cast<size_t>(r.index), replies.size() - 1)];
  };
}

std::string ScriptedHttpServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<ScriptedRequest> ScriptedHttpServer::requests() {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

void ScriptedHttpServer::AcceptLoop() {
  while (!stop_) {
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::lock_guard<std::mutex> l(mu_);
    conns_.push_back(c);
    ++accepted_;
    workers_.emplace_back([this, c] { Serve(c); });
  }
}

void ScriptedHttpServer::Serve(int c) {
  std::string data;
  char buf[65536];
  auto fill = [&]() {
    ssize_t n = recv(c, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    return true;
  };
  while (true) {
    size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        close(c);
        return;
      }
    }
    ScriptedRequest req;
    req.head = data.substr(0, header_end);
    const std::string cl = req.Header("content-length");
    const size_t want = cl.empty() ? 0 : std::strtoul(cl.c_str(), nullptr, 10);
    while (data.size() < header_end + 4 + want) {
      if (!fill()) {
        close(c);
        return;
      }
    }
    req.body = data.substr(header_end + 4, want);
    data.erase(0, header_end + 4 + want);
    const size_t sp1 = req.head.find(' ');
    const size_t sp2 = req.head.find(' ', sp1 + 1);
    req.method = req.head.substr(0, sp1);
    req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
    {
      std::lock_guard<std::mutex> l(mu_);
      req.index = static_cast<int>(requests_.size());
      requests_.push_back(req);
    }
    ScriptedReply reply = handler_(req);
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
    for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n";
    if (req.method != "HEAD") out += reply.body;
    if (send(c, out.data(), out.size(), MSG_NOSIGNAL) < 0) {
      close(c);
      return;
    }
  }
}

}  // namespace chromapact::testing
