// JsonService over real HTTP against a tiny scripted loopback server: the signed request's shape,
// retries of 5xx / throttling, and no retry of a client error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <thread>
#include <vector>

#include "aws/json_service.h"

namespace chromapact::aws::internal {
namespace {

struct Canned {
  int status;
  std::string body;
  std::string extra_headers;  // "Name: value\r\n..."
};

struct Seen {
  std::string head;  // request line + headers
  std::string body;
};

// Answers the i-th request with script[i] (the last entry repeats), one connection per request.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Canned> script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { Loop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string data;
      char buf[4096];
      size_t header_end = std::string::npos;
      size_t want = 0;
      while (true) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          std::string lower = data.substr(0, header_end);
          for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          size_t cl = lower.find("content-length:");
          want = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + want) break;
      }
      size_t index;
      {
        std::lock_guard<std::mutex> l(mu_);
        index = seen_.size();
        seen_.push_back({data.substr(0, header_end), data.substr(header_end + 4)});
      }
      const Canned& r = script_[std::min(index, script_.size() - 1)];
      std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: application/x-amz-json-1.0\r\n" +
                        r.extra_headers + "Content-Length: " + std::to_string(r.body.size()) +
                        "\r\nConnection: close\r\n\r\n" + r.body;
      send(c, out.data(), out.size(), MSG_NOSIGNAL);
      close(c);
    }
  }

  std::vector<Canned> script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

ClientConfig Config(const std::string& endpoint) {
  ClientConfig c;
  c.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  c.region = "eu-west-1";
  c.endpoint = endpoint;
  return c;
}

TEST(JsonServiceTest, SendsASignedJsonPost) {
  ScriptedServer server({{200, R"({"QueueUrl":"u"})", "x-amzn-RequestId: r1\r\n"}});
  JsonService svc(Config(server.endpoint()), {"sqs", "sqs"}, {3, 5000});
  auto r = svc.Call("AmazonSQS.GetQueueUrl", {{"QueueName", "q"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["QueueUrl"], "u");
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  const std::string& h = seen[0].head;
  EXPECT_EQ(h.rfind("POST / HTTP/1.1\r\n", 0), 0u) << h;
  EXPECT_NE(h.find("x-amz-target: AmazonSQS.GetQueueUrl"), std::string::npos) << h;
  EXPECT_NE(h.find("content-type: application/x-amz-json-1.0"), std::string::npos) << h;
  EXPECT_NE(h.find("Credential=AKIDEXAMPLE/"), std::string::npos) << h;
  EXPECT_NE(h.find("/eu-west-1/sqs/aws4_request"), std::string::npos) << h;
  EXPECT_NE(h.find("SignedHeaders=content-type;host;x-amz-date;x-amz-target"), std::string::npos) << h;
  EXPECT_EQ(h.find("Expect:"), std::string::npos) << h;
  EXPECT_EQ(nlohmann::json::parse(seen[0].body), nlohmann::json({{"QueueName", "q"}}));
}

TEST(JsonServiceTest, RetriesServerErrorsAndThrottlingThenSucceeds) {
  ScriptedServer server({{503, "", ""},
                         {400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow"})", ""},
                         {200, "{}", ""}});
  JsonService svc(Config(server.endpoint()), {"dynamodb", "dynamodb"}, {3, 5000});
  auto r = svc.Call("DynamoDB_20120810.GetItem", {{"TableName", "t"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  // Each attempt is signed afresh (same body, a new Authorization each time it is rebuilt).
  for (const auto& s : seen) EXPECT_NE(s.head.find("Authorization: AWS4-HMAC-SHA256"), std::string::npos);
}

TEST(JsonServiceTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  ScriptedServer server({{500, R"({"__type":"InternalServerError","message":"boom"})", ""}});
  JsonService svc(Config(server.endpoint()), {"dynamodb", "dynamodb"}, {2, 5000});
  auto r = svc.Call("DynamoDB_20120810.PutItem", nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("after 2 attempts"), std::string::npos) << r.status().message();
  EXPECT_EQ(server.seen().size(), 2u);
}

TEST(JsonServiceTest, ClientErrorsAreNotRetriedAndExposeTheBody) {
  ScriptedServer server({{400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                                   "Message":"The conditional request failed","Item":{"pk":{"S":"a"}}})",
                          "x-amzn-RequestId: REQ-7\r\n"}});
  JsonService svc(Config(server.endpoint()), {"dynamodb", "dynamodb"}, {3, 5000});
  nlohmann::json error_body;
  auto r = svc.Call("DynamoDB_20120810.PutItem", nlohmann::json::object(), &error_body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(r.status().aws()->request_id, "REQ-7");
  EXPECT_EQ(error_body["Item"]["pk"]["S"], "a");
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST(JsonServiceTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    ScriptedServer probe({{200, "{}", ""}});
    port = std::stoi(probe.endpoint().substr(probe.endpoint().rfind(':') + 1));
  }
  JsonService svc(Config("http://127.0.0.1:" + std::to_string(port)), {"sqs", "sqs"}, {2, 2000});
  auto r = svc.Call("AmazonSQS.ListQueues", nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

}  // namespace
}  // namespace chromapact::aws::internal
