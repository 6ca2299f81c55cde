#include "smoke.h"

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/s3.h"
#include "chromapact/aws/sqs.h"

namespace chromapact::cli {
namespace {

using aws::AttributeValue;

struct Step {
  std::string name;
  std::function<Status()> run;
};

Result<aws::ClientConfig> ConfigFor(const std::string& service, const SmokeOptions& options) {
  CP_ASSIGN_OR_RETURN(aws::ClientConfig config, aws::ClientConfigFromEnvironment(service));
  if (!options.endpoint.empty()) config.endpoint = options.endpoint;
  return config;
}

// A write that had to lose: OK only for kPreconditionFailed.
Status ExpectLost(const Status& s, const std::string& what) {
  if (s.code() == StatusCode::kPreconditionFailed) return Status::Ok();
  if (s.ok()) return Internal(what + " won, but had to lose");
  return s;
}

}  // namespace

Status RunSmoke(const SmokeOptions& options) {
  const std::string prefix =
      options.prefix.empty() ? "chromapact-smoke-" + std::to_string(std::time(nullptr)) : options.prefix;
  CP_ASSIGN_OR_RETURN(aws::ClientConfig s3_config, ConfigFor("s3", options));
  CP_ASSIGN_OR_RETURN(aws::ClientConfig sqs_config, ConfigFor("sqs", options));
  CP_ASSIGN_OR_RETURN(aws::ClientConfig ddb_config, ConfigFor("dynamodb", options));
  std::fprintf(options.out, "smoke: s3=%s sqs=%s dynamodb=%s region=%s prefix=%s\n",
               s3_config.endpoint.empty() ? "<aws>" : s3_config.endpoint.c_str(),
               sqs_config.endpoint.empty() ? "<aws>" : sqs_config.endpoint.c_str(),
               ddb_config.endpoint.empty() ? "<aws>" : ddb_config.endpoint.c_str(), s3_config.region.c_str(),
               prefix.c_str());

  aws::S3Client s3(s3_config);
  aws::SqsClient sqs(sqs_config);
  aws::DynamoDbClient ddb(ddb_config);

  const std::string bucket = prefix;
  const std::string key = "smoke/hello world+1.txt";
  const std::string body = "hello from chromapact smoke\n";
  const std::string table = prefix + "-table";
  std::string etag, dlq_url, queue_url, receipt;

  std::vector<Step> steps = {
      {"s3 CreateBucket " + bucket, [&] { return s3.CreateBucket(bucket); }},
      {"s3 PutObject " + key,
       [&]() -> Status {
         CP_ASSIGN_OR_RETURN(auto put, s3.PutObject(bucket, key, body));
         etag = put.etag;
         return Status::Ok();
       }},
      {"s3 GetObject (bytes and ETag compared)",
       [&]() -> Status {
         CP_ASSIGN_OR_RETURN(auto got, s3.GetObject(bucket, key));
         if (got.body != body) return Internal("GetObject: body differs from what was put");
         if (got.info.etag != etag) return Internal("GetObject: ETag " + got.info.etag + ", PutObject said " + etag);
         return Status::Ok();
       }},
      {"s3 ListObjectsV2 prefix=smoke/",
       [&]() -> Status {
         aws::S3ListRequest req;
         req.bucket = bucket;
         req.prefix = "smoke/";
         CP_ASSIGN_OR_RETURN(auto page, s3.ListAllObjects(req));
         if (page.objects.size() != 1 || page.objects[0].key != key || page.objects[0].size != body.size()) {
           return Internal("ListObjectsV2: wanted exactly " + key + " with " + std::to_string(body.size()) + " bytes");
         }
         return Status::Ok();
       }},
      {"s3 PutObject If-None-Match:* on the existing key loses (412)",
       [&] {
         aws::S3PutOptions create_only;
         create_only.if_none_match_any = true;
         return ExpectLost(s3.PutObject(bucket, key, "other", create_only).status(), "create-only PutObject");
       }},
      {"s3 DeleteObject, then HeadObject is NotFound",
       [&]() -> Status {
         CP_RETURN_IF_ERROR(s3.DeleteObject(bucket, key));
         Status head = s3.HeadObject(bucket, key).status();
         if (head.code() == StatusCode::kNotFound) return Status::Ok();
         return head.ok() ? Internal("HeadObject found the deleted key") : head;
       }},
      {"sqs CreateQueue " + prefix + "-dlq.fifo",
       [&]() -> Status {
         CP_ASSIGN_OR_RETURN(dlq_url, sqs.CreateQueue(prefix + "-dlq.fifo", {{"FifoQueue", "true"}}));
         return Status::Ok();
       }},
      {"sqs CreateQueue " + prefix + ".fifo (redrive: 3 receives)",
       [&]() -> Status {
         CP_ASSIGN_OR_RETURN(auto attrs, sqs.GetQueueAttributes(dlq_url, {"QueueArn"}));
         auto arn = attrs.find("QueueArn");
         if (arn == attrs.end()) return Internal("GetQueueAttributes: DLQ has no QueueArn");
         CP_ASSIGN_OR_RETURN(queue_url, sqs.CreateQueue(prefix + ".fifo",
                                                        {{"FifoQueue", "true"},
                                                         {"ContentBasedDeduplication", "true"},
                                                         {"RedrivePolicy", aws::RedrivePolicyJson(arn->second, 3)}}));
         return Status::Ok();
       }},
      {"sqs SendMessage",
       [&]() -> Status {
         aws::SendMessageRequest req;
         req.queue_url = queue_url;
         req.body = body;
         req.message_group_id = "smoke";
         return sqs.SendMessage(req).status();
       }},
      {"sqs ReceiveMessage (body compared)",
       [&]() -> Status {
         aws::ReceiveMessageRequest req;
         req.queue_url = queue_url;
         req.wait_time_seconds = 5;  // long poll: returns as soon as the message is there
         CP_ASSIGN_OR_RETURN(auto msgs, sqs.ReceiveMessage(req));
         if (msgs.size() != 1) return Internal("ReceiveMessage: " + std::to_string(msgs.size()) + " messages, wanted 1");
         if (msgs[0].body != body) return Internal("ReceiveMessage: body differs from what was sent");
         receipt = msgs[0].receipt_handle;
         return Status::Ok();
       }},
      {"sqs DeleteMessage", [&] { return sqs.DeleteMessage(queue_url, receipt); }},
      {"sqs redrive: received 3 times (visibility 0), then it is in the DLQ",
       [&]() -> Status {
         aws::SendMessageRequest send;
         send.queue_url = queue_url;
         send.body = "poison";
         send.message_group_id = "smoke";
         CP_RETURN_IF_ERROR(sqs.SendMessage(send).status());
         aws::ReceiveMessageRequest req;
         req.queue_url = queue_url;
         req.wait_time_seconds = 1;
         for (int i = 1; i <= 3; ++i) {  // no consumer deletes it: each receive counts toward maxReceiveCount
           CP_ASSIGN_OR_RETURN(auto msgs, sqs.ReceiveMessage(req));
           if (msgs.size() != 1 || msgs[0].body != "poison") {
             return Internal("redrive: receive " + std::to_string(i) + " did not return the message");
           }
           CP_RETURN_IF_ERROR(sqs.ChangeMessageVisibility(queue_url, msgs[0].receipt_handle, 0));
         }
         req.wait_time_seconds = 0;
         CP_ASSIGN_OR_RETURN(auto after, sqs.ReceiveMessage(req));
         if (!after.empty()) return Internal("redrive: the message was delivered a 4th time instead of moving to the DLQ");
         req.queue_url = dlq_url;
         req.wait_time_seconds = 5;
         CP_ASSIGN_OR_RETURN(auto dead, sqs.ReceiveMessage(req));
         if (dead.size() != 1 || dead[0].body != "poison") return Internal("redrive: the DLQ does not hold the message");
         return sqs.DeleteMessage(dlq_url, dead[0].receipt_handle);
       }},
      {"dynamodb CreateTable " + table,
       [&]() -> Status {
         aws::CreateTableRequest req;
         req.table = table;
         req.partition_key = "pk";
         return ddb.CreateTable(req).status();
       }},
      {"dynamodb PutItem attribute_not_exists(pk) wins",
       [&]() -> Status {
         aws::PutItemRequest req;
         req.table = table;
         req.item = {{"pk", AttributeValue::S("lease")}, {"owner", AttributeValue::S("first")}};
         req.condition_expression = "attribute_not_exists(pk)";
         return ddb.PutItem(req).status();
       }},
      {"dynamodb PutItem attribute_not_exists(pk) again loses",
       [&]() -> Status {
         aws::PutItemRequest req;
         req.table = table;
         req.item = {{"pk", AttributeValue::S("lease")}, {"owner", AttributeValue::S("second")}};
         req.condition_expression = "attribute_not_exists(pk)";
         Status s = ddb.PutItem(req).status();
         if (s.code() == StatusCode::kPreconditionFailed &&
             (!s.aws() || s.aws()->error_code != "ConditionalCheckFailedException")) {
           return Internal("PutItem lost without ConditionalCheckFailedException: " + s.ToString());
         }
         return ExpectLost(s, "second create-only PutItem");
       }},
  };

  using Clock = std::chrono::steady_clock;
  const auto all_start = Clock::now();
  const size_t n = steps.size();
  for (size_t i = 0; i < n; ++i) {
    const auto start = Clock::now();
    Status s = steps[i].run();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::fprintf(options.out, "[%2zu/%zu] %-70s %s (%.1f ms)\n", i + 1, n, steps[i].name.c_str(),
                 s.ok() ? "ok" : "FAILED", ms);
    std::fflush(options.out);
    if (!s.ok()) return s.WithContext("smoke step " + std::to_string(i + 1) + " (" + steps[i].name + ")");
  }
  const double total = std::chrono::duration<double, std::milli>(Clock::now() - all_start).count();
  std::fprintf(options.out, "smoke: all %zu steps ok (%.1f ms)\n", n, total);
  return Status::Ok();
}

}  // namespace chromapact::cli
