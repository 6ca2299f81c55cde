// Error mapping of the JSON-protocol transport: the error shapes moto 5.2.1 and AWS send
// (docs/aws-notes.md §1, §3, §4), no server.
#include "aws/json_service.h"

#include <gtest/gtest.h>

namespace chromapact::aws::internal {
namespace {

HttpResponse Resp(int status, std::string body, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(JsonProtocolErrorTest, DynamoDbConditionFailureWithEitherMessageSpelling) {
  Status lower = JsonProtocolError(
      "PutItem", Resp(400,
                      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                          "message":"The conditional request failed"})",
                      {{"x-amzn-requestid", "REQ1"}}));
  EXPECT_EQ(lower.code(), StatusCode::kPreconditionFailed);
  ASSERT_TRUE(lower.aws().has_value());
  EXPECT_EQ(lower.aws()->error_code, "ConditionalCheckFailedException");
  EXPECT_EQ(lower.aws()->http_status, 400);
  EXPECT_EQ(lower.aws()->request_id, "REQ1");
  EXPECT_NE(lower.message().find("The conditional request failed"), std::string::npos);
  EXPECT_NE(lower.message().find("PutItem"), std::string::npos);

  Status upper = JsonProtocolError(
      "UpdateItem", Resp(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                                  "Message":"capital M","Item":{}})"));
  EXPECT_EQ(upper.code(), StatusCode::kPreconditionFailed);
  EXPECT_NE(upper.message().find("capital M"), std::string::npos);
}

TEST(JsonProtocolErrorTest, SqsJsonErrorAndMotoXmlAuthErrors) {
  Status missing = JsonProtocolError(
      "GetQueueUrl", Resp(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"gone","Message":"gone"})",
                          {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.aws()->error_code, "QueueDoesNotExist");

  const std::string xml_sig =
      "<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature &amp; "
      "so on</Message></Error></Errors><RequestId>R-9</RequestId></ErrorResponse>";
  Status sig = JsonProtocolError("SendMessage", Resp(403, xml_sig));
  EXPECT_EQ(sig.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(sig.aws()->error_code, "SignatureDoesNotMatch");
  EXPECT_EQ(sig.aws()->request_id, "R-9");
  EXPECT_NE(sig.message().find("signature & so on"), std::string::npos);

  Status denied = JsonProtocolError(
      "ListTables", Resp(403, "<ErrorResponse><Errors><Error><Code>AccessDenied</Code></Error></Errors></ErrorResponse>"));
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.aws()->error_code, "AccessDenied");
}

TEST(JsonProtocolErrorTest, HeaderOnlyAndClassification) {
  Status header_only = JsonProtocolError(
      "GetItem", Resp(400, "", {{"x-amzn-errortype", "ProvisionedThroughputExceededException:http://internal"}}));
  EXPECT_EQ(header_only.code(), StatusCode::kThrottled);
  EXPECT_EQ(header_only.aws()->error_code, "ProvisionedThroughputExceededException");
  EXPECT_TRUE(header_only.retryable());

  EXPECT_EQ(JsonProtocolError("x", Resp(503, "oops")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(ClassifyAwsError("ValidationException", 400), StatusCode::kInvalidArgument);
  EXPECT_EQ(ClassifyAwsError("ReceiptHandleIsInvalid", 400), StatusCode::kInvalidArgument);
  EXPECT_EQ(ClassifyAwsError("ResourceNotFoundException", 400), StatusCode::kNotFound);
  EXPECT_EQ(ClassifyAwsError("ResourceInUseException", 400), StatusCode::kAlreadyExists);
  EXPECT_EQ(ClassifyAwsError("InvalidClientTokenId", 403), StatusCode::kUnauthenticated);
  EXPECT_EQ(ClassifyAwsError("", 429), StatusCode::kThrottled);
}

}  // namespace
}  // namespace chromapact::aws::internal
