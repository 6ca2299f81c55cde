#include "sqs_wire.h"

#include <set>

#include "chromapact/crypto.h"

namespace chromapact::aws {

std::string RedrivePolicyJson(const std::string& dead_letter_queue_arn, int max_receive_count) {
  return nlohmann::json{{"deadLetterTargetArn", dead_letter_queue_arn}, {"maxReceiveCount", max_receive_count}}
      .dump();
}

namespace sqs_wire {
namespace {

using nlohmann::json;

constexpr size_t kMaxBatch = 10;  // SQS: "up to 10 messages" per batch call

Status CheckQueueUrl(const std::string& op, const std::string& url) {
  if (url.empty()) return InvalidArgument(op + ": QueueUrl is empty");
  return Status::Ok();
}

Result<json> AttributesToJson(const std::string& where, const SqsMessageAttributes& attrs) {
  json out = json::object();
  for (const auto& [name, a] : attrs) {
    if (name.empty()) return InvalidArgument(where + ": empty message attribute name");
    if (a.data_type.empty()) return InvalidArgument(where + "." + name + ": DataType is empty");
    json v = {{"DataType", a.data_type}};
    if (a.data_type.rfind("Binary", 0) == 0) {
      v["BinaryValue"] = Base64Encode(a.binary_value);
    } else {
      v["StringValue"] = a.string_value;
    }
    out[name] = std::move(v);
  }
  return out;
}

Result<SqsMessageAttributes> AttributesFromJson(const json& j) {
  SqsMessageAttributes out;
  if (!j.is_object()) return Internal("MessageAttributes is not an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const json& v = it.value();
    SqsMessageAttribute a;
    a.data_type = v.value("DataType", "");
    a.string_value = v.value("StringValue", "");
    if (v.contains("BinaryValue")) {
      auto raw = Base64Decode(v["BinaryValue"].get<std::string>());
      if (!raw.ok()) return Internal("MessageAttributes." + it.key() + ".BinaryValue: bad base64");
      a.binary_value = std::move(raw).value();
    }
    out.emplace(it.key(), std::move(a));
  }
  return out;
}

Status CheckEntryIds(const std::string& op, const std::vector<std::string>& ids) {
  if (ids.empty()) return InvalidArgument(op + ": no entries (EmptyBatchRequest)");
  if (ids.size() > kMaxBatch) {
    return InvalidArgument(op + ": " + std::to_string(ids.size()) + " entries, at most 10 allowed");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) return InvalidArgument(op + ": Entries[" + std::to_string(i) + "].Id is empty");
    if (!seen.insert(ids[i]).second) return InvalidArgument(op + ": duplicate entry Id '" + ids[i] + "'");
  }
  return Status::Ok();
}

bool TruthyJson(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return v.get<std::string>() == "true";
  return false;
}

std::vector<SqsBatchError> ParseFailed(const json& body) {
  std::vector<SqsBatchError> out;
  auto it = body.find("Failed");
  if (it == body.end() || !it->is_array()) return out;
  for (const auto& f : *it) {
    SqsBatchError e;
    e.id = f.value("Id", "");
    e.code = f.value("Code", "");
    e.message = f.value("Message", "");
    if (f.contains("SenderFault")) e.sender_fault = TruthyJson(f["SenderFault"]);
    out.push_back(std::move(e));
  }
  return out;
}

template <typename F>
auto Guard(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const json::exception& e) {
    return Internal(std::string(what) + ": unexpected response shape: " + e.what());
  }
}

}  // namespace

std::string Target(const std::string& op) { return "AmazonSQS." + op; }

Result<json> BuildSendMessage(const SendMessageRequest& req) {
  CP_RETURN_IF_ERROR(CheckQueueUrl("SendMessage", req.queue_url));
  // moto answers a missing body with HTTP 500 (docs/aws-notes.md §3); SQS requires 1 byte at least.
  if (req.body.empty()) return InvalidArgument("SendMessage: MessageBody is empty");
  json body = {{"QueueUrl", req.queue_url}, {"MessageBody", req.body}};
  if (req.delay_seconds >= 0) {
    if (req.delay_seconds > 900) return InvalidArgument("SendMessage: DelaySeconds must be 0..900");
    body["DelaySeconds"] = req.delay_seconds;
  }
  if (!req.message_group_id.empty()) body["MessageGroupId"] = req.message_group_id;
  if (!req.message_deduplication_id.empty()) body["MessageDeduplicationId"] = req.message_deduplication_id;
  if (!req.message_attributes.empty()) {
    CP_ASSIGN_OR_RETURN(body["MessageAttributes"], AttributesToJson("SendMessage.MessageAttributes", req.message_attributes));
  }
  return body;
}

Result<json> BuildSendMessageBatch(const std::string& queue_url, const std::vector<SendMessageBatchEntry>& entries) {
  CP_RETURN_IF_ERROR(CheckQueueUrl("SendMessageBatch", queue_url));
  std::vector<std::string> ids;
  for (const auto& e : entries) ids.push_back(e.id);
  CP_RETURN_IF_ERROR(CheckEntryIds("SendMessageBatch", ids));
  json arr = json::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string where = "SendMessageBatch.Entries[" + std::to_string(i) + "]";
    if (e.body.empty()) return InvalidArgument(where + ".MessageBody is empty");
    json j = {{"Id", e.id}, {"MessageBody", e.body}};
    if (e.delay_seconds >= 0) {
      if (e.delay_seconds > 900) return InvalidArgument(where + ".DelaySeconds must be 0..900");
      j["DelaySeconds"] = e.delay_seconds;
    }
    if (!e.message_group_id.empty()) j["MessageGroupId"] = e.message_group_id;
    if (!e.message_deduplication_id.empty()) j["MessageDeduplicationId"] = e.message_deduplication_id;
    if (!e.message_attributes.empty()) {
      CP_ASSIGN_OR_RETURN(j["MessageAttributes"], AttributesToJson(where + ".MessageAttributes", e.message_attributes));
    }
    arr.push_back(std::move(j));
  }
  return json{{"QueueUrl", queue_url}, {"Entries", std::move(arr)}};
}

Result<json> BuildReceiveMessage(const ReceiveMessageRequest& req) {
  CP_RETURN_IF_ERROR(CheckQueueUrl("ReceiveMessage", req.queue_url));
  if (req.max_number_of_messages < 1 || req.max_number_of_messages > 10) {
    return InvalidArgument("ReceiveMessage: MaxNumberOfMessages must be 1..10");
  }
  json body = {{"QueueUrl", req.queue_url}, {"MaxNumberOfMessages", req.max_number_of_messages}};
  if (req.wait_time_seconds >= 0) {
    if (req.wait_time_seconds > 20) return InvalidArgument("ReceiveMessage: WaitTimeSeconds must be 0..20");
    body["WaitTimeSeconds"] = req.wait_time_seconds;
  }
  if (req.visibility_timeout >= 0) {
    if (req.visibility_timeout > 43200) return InvalidArgument("ReceiveMessage: VisibilityTimeout must be 0..43200");
    body["VisibilityTimeout"] = req.visibility_timeout;
  }
  if (!req.system_attribute_names.empty()) body["MessageSystemAttributeNames"] = req.system_attribute_names;
  if (!req.message_attribute_names.empty()) body["MessageAttributeNames"] = req.message_attribute_names;
  if (!req.receive_request_attempt_id.empty()) body["ReceiveRequestAttemptId"] = req.receive_request_attempt_id;
  return body;
}

Result<json> BuildReceiptBatch(const std::string& queue_url, const std::vector<ReceiptEntry>& entries,
                               bool with_visibility) {
  const std::string op = with_visibility ? "ChangeMessageVisibilityBatch" : "DeleteMessageBatch";
  CP_RETURN_IF_ERROR(CheckQueueUrl(op, queue_url));
  std::vector<std::string> ids;
  for (const auto& e : entries) ids.push_back(e.id);
  CP_RETURN_IF_ERROR(CheckEntryIds(op, ids));
  json arr = json::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.receipt_handle.empty()) {
      return InvalidArgument(op + ".Entries[" + std::to_string(i) + "].ReceiptHandle is empty");
    }
    json j = {{"Id", e.id}, {"ReceiptHandle", e.receipt_handle}};
    if (with_visibility) {
      if (e.visibility_timeout < 0 || e.visibility_timeout > 43200) {
        return InvalidArgument(op + ".Entries[" + std::to_string(i) + "].VisibilityTimeout must be 0..43200");
      }
      j["VisibilityTimeout"] = e.visibility_timeout;
    }
    arr.push_back(std::move(j));
  }
  return json{{"QueueUrl", queue_url}, {"Entries", std::move(arr)}};
}

Result<SendMessageResult> ParseSendMessage(const json& body) {
  return Guard("SendMessage", [&]() -> Result<SendMessageResult> {
    SendMessageResult r;
    r.message_id = body.at("MessageId").get<std::string>();
    r.md5_of_body = body.value("MD5OfMessageBody", "");
    r.sequence_number = body.value("SequenceNumber", "");
    return r;
  });
}

Result<SendMessageBatchResult> ParseSendMessageBatch(const json& body) {
  return Guard("SendMessageBatch", [&]() -> Result<SendMessageBatchResult> {
    SendMessageBatchResult r;
    if (auto it = body.find("Successful"); it != body.end() && it->is_array()) {
      for (const auto& s : *it) {
        SendMessageBatchResult::Sent sent;
        sent.id = s.at("Id").get<std::string>();
        sent.message_id = s.at("MessageId").get<std::string>();
        sent.md5_of_body = s.value("MD5OfMessageBody", "");
        sent.sequence_number = s.value("SequenceNumber", "");
        r.successful.push_back(std::move(sent));
      }
    }
    r.failed = ParseFailed(body);
    return r;
  });
}

Result<std::vector<SqsMessage>> ParseReceiveMessage(const json& body) {
  return Guard("ReceiveMessage", [&]() -> Result<std::vector<SqsMessage>> {
    std::vector<SqsMessage> out;
    auto it = body.find("Messages");
    if (it == body.end() || it->is_null()) return out;
    for (const auto& m : *it) {
      SqsMessage msg;
      msg.message_id = m.at("MessageId").get<std::string>();
      msg.receipt_handle = m.at("ReceiptHandle").get<std::string>();
      msg.body = m.value("Body", "");
      msg.md5_of_body = m.value("MD5OfBody", "");
      if (auto a = m.find("Attributes"); a != m.end() && a->is_object()) {
        for (auto kv = a->begin(); kv != a->end(); ++kv) {
          msg.attributes[kv.key()] = kv.value().is_string() ? kv.value().get<std::string>() : kv.value().dump();
        }
      }
      if (auto a = m.find("MessageAttributes"); a != m.end() && !a->is_null()) {
        CP_ASSIGN_OR_RETURN(msg.message_attributes, AttributesFromJson(*a));
      }
      out.push_back(std::move(msg));
    }
    return out;
  });
}

Result<SqsBatchResult> ParseReceiptBatch(const json& body) {
  return Guard("batch", [&]() -> Result<SqsBatchResult> {
    SqsBatchResult r;
    if (auto it = body.find("Successful"); it != body.end() && it->is_array()) {
      for (const auto& s : *it) r.successful.push_back(s.at("Id").get<std::string>());
    }
    r.failed = ParseFailed(body);
    return r;
  });
}

Result<SqsQueueAttributes> ParseQueueAttributes(const json& body) {
  return Guard("GetQueueAttributes", [&]() -> Result<SqsQueueAttributes> {
    SqsQueueAttributes out;
    auto it = body.find("Attributes");
    if (it == body.end() || it->is_null()) return out;
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      out[kv.key()] = kv.value().is_string() ? kv.value().get<std::string>() : kv.value().dump();
    }
    return out;
  });
}

Result<std::string> ParseQueueUrl(const json& body) {
  return Guard("QueueUrl", [&]() -> Result<std::string> {
    std::string url = body.at("QueueUrl").get<std::string>();
    if (url.empty()) return Internal("QueueUrl is empty in the response");
    return url;
  });
}

}  // namespace sqs_wire
}  // namespace chromapact::aws
