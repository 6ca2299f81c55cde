// JsonService over real HTTP against the scripted loopback server (tests/support/scripted_http.h):
// the signed request's shape, retries of 5xx / throttling, and no retry of a client error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aws/json_service.h"
#include "support/scripted_http.h"

namespace chromapact::aws::internal {
namespace {

using testing::ReplyInOrder;
using testing::ScriptedHttpServer;
using testing::ScriptedReply;

// A JSON-protocol answer as AWS sends it; `request_id` becomes x-amzn-RequestId when set.
ScriptedReply Json(int status, std::string body, const std::string& request_id = "") {
  ScriptedReply r{status, std::move(body), {{"Content-Type", "application/x-amz-json-1.0"}}};
  if (!request_id.empty()) r.headers.emplace_back("x-amzn-RequestId", request_id);
  return r;
}

ClientConfig Config(const std::string& endpoint) {
  ClientConfig c;
  c.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  c.region = "eu-west-1";
  c.endpoint = endpoint;
  return c;
}

TEST(JsonServiceTest, SendsASignedJsonPost) {
  ScriptedHttpServer server(ReplyInOrder({Json(200, R"({"QueueUrl":"u"})", "r1")}));
  JsonService svc(Config(server.endpoint()), {"sqs", "sqs"}, {3, 5000});
  auto r = svc.Call("AmazonSQS.GetQueueUrl", {{"QueueName", "q"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["QueueUrl"], "u");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  const std::string& h = seen[0].head;
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(h.rfind("POST / HTTP/1.1\r\n", 0), 0u) << h;
  EXPECT_EQ(seen[0].Header("x-amz-target"), "AmazonSQS.GetQueueUrl") << h;
  EXPECT_EQ(seen[0].Header("content-type"), "application/x-amz-json-1.0") << h;
  EXPECT_NE(h.find("Credential=AKIDEXAMPLE/"), std::string::npos) << h;
  EXPECT_NE(h.find("/eu-west-1/sqs/aws4_request"), std::string::npos) << h;
  EXPECT_NE(h.find("SignedHeaders=content-type;host;x-amz-date;x-amz-target"), std::string::npos) << h;
  EXPECT_EQ(h.find("Expect:"), std::string::npos) << h;
  EXPECT_EQ(nlohmann::json::parse(seen[0].body), nlohmann::json({{"QueueName", "q"}}));
}

TEST(JsonServiceTest, RetriesServerErrorsAndThrottlingThenSucceeds) {
  ScriptedHttpServer server(ReplyInOrder(
      {Json(503, ""),
       Json(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow"})"),
       Json(200, "{}")}));
  JsonService svc(Config(server.endpoint()), {"dynamodb", "dynamodb"}, {3, 5000});
  auto r = svc.Call("DynamoDB_20120810.GetItem", {{"TableName", "t"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  // Each attempt is signed afresh and carries the same body.
  for (const auto& s : seen) {
    EXPECT_EQ(s.Header("authorization").rfind("AWS4-HMAC-SHA256 ", 0), 0u) << s.head;
    EXPECT_EQ(s.body, seen[0].body);
  }
}

TEST(JsonServiceTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  ScriptedHttpServer server(ReplyInOrder({Json(500, R"({"__type":"InternalServerError","message":"boom"})")}));
  JsonService svc(Config(server.endpoint()), {"dynamodb", "dynamodb"}, {2, 5000});
  auto r = svc.Call("DynamoDB_20120810.PutItem", nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("after 2 attempts"), std::string::npos) << r.status().message();
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(JsonServiceTest, ClientErrorsAreNotRetriedAndExposeTheBody) {
  ScriptedHttpServer server(
      ReplyInOrder({Json(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                                  "Message":"The conditional request failed","Item":{"pk":{"S":"a"}}})",
                         "REQ-7")}));
  JsonService svc(Config(server.endpoint()), {"dynamodb", "dynamodb"}, {3, 5000});
  nlohmann::json error_body;
  auto r = svc.Call("DynamoDB_20120810.PutItem", nlohmann::json::object(), &error_body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(r.status().aws()->request_id, "REQ-7");
  EXPECT_EQ(error_body["Item"]["pk"]["S"], "a");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(JsonServiceTest, ConnectionRefusedIsUnavailable) {
  std::string endpoint;
  {
    ScriptedHttpServer probe(ReplyInOrder({Json(200, "{}")}));
    endpoint = probe.endpoint();
  }  // closed: nothing listens on the port any more
  JsonService svc(Config(endpoint), {"sqs", "sqs"}, {2, 2000});
  auto r = svc.Call("AmazonSQS.ListQueues", nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

}  // namespace
}  // namespace chromapact::aws::internal
