#include "chromapact/aws/sqs.h"

#include "json_service.h"
#include "sqs_wire.h"

namespace chromapact::aws {

struct SqsClient::Impl {
  internal::JsonService service;
  Impl(ClientConfig config, SqsOptions options)
      : service(std::move(config), {"sqs", "sqs"}, {options.max_attempts, options.timeout_ms}) {}

  Result<nlohmann::json> Call(const std::string& op, const nlohmann::json& body, int64_t extra_timeout_ms = 0) {
    return service.Call(sqs_wire::Target(op), body, nullptr, extra_timeout_ms);
  }
};

namespace {
Status CheckUrl(const char* op, const std::string& url) {
  return url.empty() ? InvalidArgument(std::string(op) + ": QueueUrl is empty") : Status::Ok();
}
}  // namespace

SqsClient::SqsClient(ClientConfig config, SqsOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {}

SqsClient::~SqsClient() = default;

Result<std::unique_ptr<SqsClient>> SqsClient::FromEnvironment(SqsOptions options) {
  CP_ASSIGN_OR_RETURN(ClientConfig config, ClientConfigFromEnvironment("sqs"));
  return std::make_unique<SqsClient>(std::move(config), options);
}

Result<std::string> SqsClient::CreateQueue(const std::string& name, const SqsQueueAttributes& attributes) {
  if (name.empty()) return InvalidArgument("CreateQueue: QueueName is empty");
  nlohmann::json body = {{"QueueName", name}};
  if (!attributes.empty()) body["Attributes"] = attributes;
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("CreateQueue", body));
  return sqs_wire::ParseQueueUrl(resp);
}

Result<std::string> SqsClient::GetQueueUrl(const std::string& name) {
  if (name.empty()) return InvalidArgument("GetQueueUrl: QueueName is empty");
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("GetQueueUrl", {{"QueueName", name}}));
  return sqs_wire::ParseQueueUrl(resp);
}

Status SqsClient::DeleteQueue(const std::string& queue_url) {
  CP_RETURN_IF_ERROR(CheckUrl("DeleteQueue", queue_url));
  return impl_->Call("DeleteQueue", {{"QueueUrl", queue_url}}).status();
}

Status SqsClient::PurgeQueue(const std::string& queue_url) {
  CP_RETURN_IF_ERROR(CheckUrl("PurgeQueue", queue_url));
  return impl_->Call("PurgeQueue", {{"QueueUrl", queue_url}}).status();
}

Result<SqsQueueAttributes> SqsClient::GetQueueAttributes(const std::string& queue_url,
                                                        const std::vector<std::string>& names) {
  CP_RETURN_IF_ERROR(CheckUrl("GetQueueAttributes", queue_url));
  nlohmann::json body = {{"QueueUrl", queue_url},
                         {"AttributeNames", names.empty() ? std::vector<std::string>{"All"} : names}};
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("GetQueueAttributes", body));
  return sqs_wire::ParseQueueAttributes(resp);
}

Result<SendMessageResult> SqsClient::SendMessage(const SendMessageRequest& req) {
  CP_ASSIGN_OR_RETURN(auto body, sqs_wire::BuildSendMessage(req));
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("SendMessage", body));
  return sqs_wire::ParseSendMessage(resp);
}

Result<SendMessageBatchResult> SqsClient::SendMessageBatch(const std::string& queue_url,
                                                           const std::vector<SendMessageBatchEntry>& entries) {
  CP_ASSIGN_OR_RETURN(auto body, sqs_wire::BuildSendMessageBatch(queue_url, entries));
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("SendMessageBatch", body));
  return sqs_wire::ParseSendMessageBatch(resp);
}

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessage(const ReceiveMessageRequest& req) {
  CP_ASSIGN_OR_RETURN(auto body, sqs_wire::BuildReceiveMessage(req));
  // A long poll may hold the answer for up to 20 s: the HTTP timeout must outlast it.
  const int64_t wait_ms = (req.wait_time_seconds > 0 ? req.wait_time_seconds : 20) * int64_t{1000};
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("ReceiveMessage", body, wait_ms));
  return sqs_wire::ParseReceiveMessage(resp);
}

Status SqsClient::DeleteMessage(const std::string& queue_url, const std::string& receipt_handle) {
  CP_RETURN_IF_ERROR(CheckUrl("DeleteMessage", queue_url));
  if (receipt_handle.empty()) return InvalidArgument("DeleteMessage: ReceiptHandle is empty");
  return impl_->Call("DeleteMessage", {{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}}).status();
}

Result<SqsBatchResult> SqsClient::DeleteMessageBatch(const std::string& queue_url,
                                                     const std::vector<ReceiptEntry>& entries) {
  CP_ASSIGN_OR_RETURN(auto body, sqs_wire::BuildReceiptBatch(queue_url, entries, false));
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("DeleteMessageBatch", body));
  return sqs_wire::ParseReceiptBatch(resp);
}

Status SqsClient::ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle,
                                          int visibility_timeout) {
  CP_RETURN_IF_ERROR(CheckUrl("ChangeMessageVisibility", queue_url));
  if (receipt_handle.empty()) return InvalidArgument("ChangeMessageVisibility: ReceiptHandle is empty");
  if (visibility_timeout < 0 || visibility_timeout > 43200) {
    return InvalidArgument("ChangeMessageVisibility: VisibilityTimeout must be 0..43200");
  }
  return impl_
      ->Call("ChangeMessageVisibility",
             {{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}, {"VisibilityTimeout", visibility_timeout}})
      .status();
}

Result<SqsBatchResult> SqsClient::ChangeMessageVisibilityBatch(const std::string& queue_url,
                                                               const std::vector<ReceiptEntry>& entries) {
  CP_ASSIGN_OR_RETURN(auto body, sqs_wire::BuildReceiptBatch(queue_url, entries, true));
  CP_ASSIGN_OR_RETURN(auto resp, impl_->Call("ChangeMessageVisibilityBatch", body));
  return sqs_wire::ParseReceiptBatch(resp);
}

}  // namespace chromapact::aws
