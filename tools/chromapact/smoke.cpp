#include "smoke.h"

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/sqs.h"
#include "s3_mini.h"

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

// A status from an unexpected S3 answer (the interim S3 helper does not map errors).
Status Expect(const Result<aws::HttpResponse>& r, int want, const std::string& what) {
  if (!r.ok()) return r.status();
  if (r->status == want) return Status::Ok();
  return Status(StatusCode::kInternal, what + ": HTTP " + std::to_string(r->status) + " (wanted " +
                                           std::to_string(want) + ") " + r->body.substr(0, 200));
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

  S3Mini s3(s3_config);
  aws::SqsClient sqs(sqs_config);
  aws::DynamoDbClient ddb(ddb_config);

  const std::string bucket = prefix;
  const std::string key = "smoke/hello world+1.txt";
  const std::string body = "hello from chromapact smoke\n";
  const std::string table = prefix + "-table";
  std::string dlq_url, queue_url, receipt;

  std::vector<Step> steps = {
      {"s3 CreateBucket " + bucket, [&] { return Expect(s3.Call("PUT", bucket, ""), 200, "CreateBucket"); }},
      {"s3 PutObject " + key, [&] { return Expect(s3.Call("PUT", bucket, key, {}, body), 200, "PutObject"); }},
      {"s3 GetObject (bytes compared)",
       [&]() -> Status {
         auto r = s3.Call("GET", bucket, key);
         CP_RETURN_IF_ERROR(Expect(r, 200, "GetObject"));
         if (r->body != body) return Internal("GetObject: body differs from what was put");
         return Status::Ok();
       }},
      {"s3 ListObjectsV2 prefix=smoke/",
       [&]() -> Status {
         auto r = s3.Call("GET", bucket, "", {{"list-type", "2"}, {"prefix", "smoke/"}});
         CP_RETURN_IF_ERROR(Expect(r, 200, "ListObjectsV2"));
         if (r->body.find("<Key>" + key + "</Key>") == std::string::npos) {
           return Internal("ListObjectsV2: " + key + " not listed");
         }
         return Status::Ok();
       }},
      {"s3 PutObject If-None-Match:* on the existing key loses (412)",
       [&] {
         return Expect(s3.Call("PUT", bucket, key, {}, "other", {{"if-none-match", "*"}}), 412,
                       "create-only PutObject");
       }},
      {"s3 DeleteObject, then HeadObject is 404",
       [&]() -> Status {
         CP_RETURN_IF_ERROR(Expect(s3.Call("DELETE", bucket, key), 204, "DeleteObject"));
         return Expect(s3.Call("HEAD", bucket, key), 404, "HeadObject after delete");
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
