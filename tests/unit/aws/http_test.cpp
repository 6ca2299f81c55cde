// HttpClient over real loopback HTTP against a small keep-alive server written here: connection
// reuse within one client, bodies streamed from a file range, responses streamed to a file (2xx
// only), the explicit Content-Type, no Expect: 100-continue, literal paths, timeouts, refused ports.
#include "chromapact/aws/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "support/paths.h"

namespace chromapact::aws {
namespace {

struct Seen {
  int connection = 0;  // index of the accepted connection that carried it
  std::string head;    // request line + headers
  std::string body;
};

// Serves any number of requests per connection (HTTP/1.1 keep-alive). The answer to a request is
// chosen from its path: /status/<n> answers n, /slow sleeps 0.7 s, others answer 200 with
// "body-of:<path>".
class KeepAliveServer {
 public:
  KeepAliveServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~KeepAliveServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    accept_thread_.join();
    std::lock_guard<std::mutex> l(mu_);
    for (int c : conns_) shutdown(c, SHUT_RDWR);
    for (auto& t : workers_) t.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }
  int connections() const { return accepted_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard<std::mutex> l(mu_);
      conns_.push_back(c);
      const int index = accepted_++;
      workers_.emplace_back([this, c, index] { Serve(c, index); });
    }
  }

  void Serve(int c, int index) {
    std::string data;
    char buf[65536];
    while (true) {
      size_t header_end;
      while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) {
          close(c);
          return;
        }
        data.append(buf, static_cast<size_t>(n));
      }
      std::string head = data.substr(0, header_end);
      std::string lower = head;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      size_t cl = lower.find("content-length:");
      size_t want = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
      while (data.size() < header_end + 4 + want) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) {
          close(c);
          return;
        }
        data.append(buf, static_cast<size_t>(n));
      }
      std::string body = data.substr(header_end + 4, want);
      data.erase(0, header_end + 4 + want);
      {
        std::lock_guard<std::mutex> l(mu_);
        seen_.push_back({index, head, body});
      }
      const std::string method = head.substr(0, head.find(' '));
      const size_t p0 = head.find(' ') + 1;
      const std::string path = head.substr(p0, head.find(' ', p0) - p0);
      int status = 200;
      std::string out_body = "body-of:" + path;
      if (path.rfind("/status/", 0) == 0) {
        status = std::stoi(path.substr(8));
        out_body = "<Error><Code>X" + std::to_string(status) + "</Code></Error>";
      }
      if (path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(700));
      std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nX-Amz-Request-Id: R" + std::to_string(index) +
                        "\r\nContent-Length: " + std::to_string(out_body.size()) + "\r\n\r\n";
      if (method != "HEAD") out += out_body;
      if (send(c, out.data(), out.size(), MSG_NOSIGNAL) < 0) {
        close(c);
        return;
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<Seen> seen_;
  std::vector<std::thread> workers_;
  std::thread accept_thread_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool HasHeaderLine(const std::string& head, const std::string& lower_prefix) {
  std::string lower = head;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower.find("\r\n" + lower_prefix) != std::string::npos;
}

TEST(HttpClientTest, ReusesOneConnectionPerClient) {
  KeepAliveServer server;
  HttpClient http;
  for (int i = 0; i < 5; ++i) {
    HttpRequest req;
    req.method = i % 2 == 0 ? "GET" : "PUT";
    req.url = server.url("/r" + std::to_string(i));
    req.body = i % 2 == 0 ? "" : "payload";
    auto resp = http.Send(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "body-of:/r" + std::to_string(i));
    EXPECT_EQ(resp->Header("x-amz-request-id"), "R0");  // names lower-cased
  }
  EXPECT_EQ(server.connections(), 1);
  HttpClient other;  // a second client opens its own connection
  HttpRequest req;
  req.url = server.url("/x");
  ASSERT_TRUE(other.Send(req).ok());
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientTest, StreamsABodyFromAFileRangeWithExplicitContentTypeAndNoExpect) {
  KeepAliveServer server;
  const std::string dir = testing::MakeTempDir("http");
  const std::string path = dir + "/in.bin";
  std::string data(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + (i >> 11));
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  HttpClient http;
  HttpRequest req;
  req.method = "PUT";
  req.url = server.url("/upload");
  req.body_file = path;
  req.body_file_offset = 1000;
  req.body_file_length = 2 * 1024 * 1024;  // large enough that libcurl would normally send Expect
  auto resp = http.Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].body == data.substr(1000, 2 * 1024 * 1024));
  EXPECT_TRUE(HasHeaderLine(seen[0].head, "content-type: application/octet-stream")) << seen[0].head;
  EXPECT_FALSE(HasHeaderLine(seen[0].head, "expect:")) << seen[0].head;
  EXPECT_FALSE(HasHeaderLine(seen[0].head, "transfer-encoding:")) << seen[0].head;

  // A POST from memory with its own Content-Type keeps it (never libcurl's form type).
  HttpRequest post;
  post.method = "POST";
  post.url = server.url("/post");
  post.headers = {{"Content-Type", "application/xml"}};
  post.body = "<a/>";
  ASSERT_TRUE(http.Send(post).ok());
  seen = server.seen();
  EXPECT_TRUE(HasHeaderLine(seen[1].head, "content-type: application/xml")) << seen[1].head;
  EXPECT_FALSE(HasHeaderLine(seen[1].head, "content-type: application/x-www-form-urlencoded")) << seen[1].head;
  EXPECT_EQ(seen[1].body, "<a/>");

  // Empty PUT bodies carry a Content-Type and Content-Length 0 too.
  HttpRequest empty;
  empty.method = "PUT";
  empty.url = server.url("/empty");
  ASSERT_TRUE(http.Send(empty).ok());
  seen = server.seen();
  EXPECT_TRUE(HasHeaderLine(seen[2].head, "content-type: application/octet-stream")) << seen[2].head;
  EXPECT_TRUE(HasHeaderLine(seen[2].head, "content-length: 0")) << seen[2].head;

  req.body_file_length = static_cast<int64_t>(data.size());  // past the end from offset 1000
  EXPECT_EQ(http.Send(req).status().code(), StatusCode::kIOError);
  req.body_file = dir + "/missing";
  EXPECT_EQ(http.Send(req).status().code(), StatusCode::kIOError);
}

TEST(HttpClientTest, SendsALargeBodyFromBodyRefInsteadOfBody) {
  KeepAliveServer server;
  std::string data(3 * 1024 * 1024 + 17, '\0');  // past 1 MiB: the raised upload buffer is used
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13 + (i >> 9));
  HttpClient http;
  HttpRequest req;
  req.method = "PUT";
  req.url = server.url("/by-ref");
  req.body = "not this";
  req.body_ref = &data;
  auto resp = http.Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "body-of:/by-ref");  // read into a body reserved from Content-Length
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].body == data);
  EXPECT_TRUE(HasHeaderLine(seen[0].head, "content-length: " + std::to_string(data.size()))) << seen[0].head;

  // The same client then sends a small owned body and reads an error answer's body.
  HttpRequest small;
  small.method = "POST";
  small.url = server.url("/status/404");
  small.body = "abc";
  auto err = http.Send(small);
  ASSERT_TRUE(err.ok()) << err.status().ToString();
  EXPECT_EQ(err->status, 404);
  EXPECT_EQ(err->body, "<Error><Code>X404</Code></Error>");
  seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].body, "abc");
}

TEST(HttpClientTest, StreamsOnlySuccessfulResponsesToTheFile) {
  KeepAliveServer server;
  const std::string dir = testing::MakeTempDir("http");
  const std::string out = dir + "/out.bin";
  HttpClient http;
  HttpRequest req;
  req.url = server.url("/file");
  req.response_file = out;
  auto ok = http.Send(req);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->body, "");
  EXPECT_EQ(ReadFile(out), "body-of:/file");
  req.url = server.url("/status/404");
  auto missing = http.Send(req);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "<Error><Code>X404</Code></Error>");  // error bodies stay in memory
  EXPECT_EQ(ReadFile(out), "body-of:/file");                      // and the file is untouched
  req.url = server.url("/file");
  req.response_file = dir + "/no-such-dir/out.bin";
  EXPECT_EQ(http.Send(req).status().code(), StatusCode::kIOError);
}

TEST(HttpClientTest, SendsPathsLiterallyAndHeadHasNoBody) {
  KeepAliveServer server;
  HttpClient http;
  HttpRequest req;
  req.url = server.url("/b/a//./c/../d%2B");
  ASSERT_TRUE(http.Send(req).ok());
  req.method = "HEAD";
  req.url = server.url("/h");
  auto head = http.Send(req);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].head.rfind("GET /b/a//./c/../d%2B HTTP/1.1", 0), 0u) << seen[0].head;
  EXPECT_EQ(seen[1].head.rfind("HEAD /h HTTP/1.1", 0), 0u) << seen[1].head;
}

TEST(HttpClientTest, TimeoutsAndRefusedConnections) {
  KeepAliveServer server;
  HttpClient http;
  HttpRequest req;
  req.url = server.url("/slow");
  req.timeout_ms = 200;
  auto slow = http.Send(req);
  EXPECT_EQ(slow.status().code(), StatusCode::kTimeout) << slow.status().ToString();
  int port;
  {
    KeepAliveServer gone;
    std::string u = gone.url("");
    port = std::stoi(u.substr(u.rfind(':') + 1));
  }
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  req.timeout_ms = 2000;
  EXPECT_EQ(http.Send(req).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace chromapact::aws
