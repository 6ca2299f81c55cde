#include "sqs_event.h"

#include <nlohmann/json.hpp>
#include <set>

#include "chromapact/crypto.h"

namespace chromapact::emulator {
namespace {

// arn:aws:sqs:REGION:ACCOUNT:NAME -> REGION ("" when the ARN has another shape).
std::string RegionOfArn(const std::string& arn) {
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  const size_t end = arn.find(':', pos);
  return end == std::string::npos ? "" : arn.substr(pos, end - pos);
}

BatchOutcome All(size_t n) {
  BatchOutcome o;
  for (size_t i = 0; i < n; ++i) o.delete_indexes.push_back(i);
  return o;
}

BatchOutcome None(std::string reason) {
  BatchOutcome o;
  o.reason = std::move(reason);
  return o;
}

}  // namespace

std::string BuildSqsEvent(const std::vector<aws::SqsMessage>& messages, const std::string& queue_arn,
                          const std::string& region) {
  const std::string aws_region = region.empty() ? RegionOfArn(queue_arn) : region;
  nlohmann::ordered_json records = nlohmann::ordered_json::array();
  for (const auto& m : messages) {
    nlohmann::ordered_json r;
    r["messageId"] = m.message_id;
    r["receiptHandle"] = m.receipt_handle;
    r["body"] = m.body;
    nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
    for (const auto& [k, v] : m.attributes) attrs[k] = v;  // all strings, as SQS sends them
    r["attributes"] = attrs;
    nlohmann::ordered_json mattrs = nlohmann::ordered_json::object();
    for (const auto& [name, a] : m.message_attributes) {
      nlohmann::ordered_json v;
      const bool binary = a.data_type.rfind("Binary", 0) == 0;
      if (binary) {
        v["binaryValue"] = Base64Encode(a.binary_value);
      } else {
        v["stringValue"] = a.string_value;
      }
      v["stringListValues"] = nlohmann::ordered_json::array();
      v["binaryListValues"] = nlohmann::ordered_json::array();
      v["dataType"] = a.data_type;
      mattrs[name] = v;
    }
    r["messageAttributes"] = mattrs;
    r["md5OfBody"] = m.md5_of_body.empty() ? HexEncode(Md5(m.body)) : m.md5_of_body;
    r["eventSource"] = "aws:sqs";
    r["eventSourceARN"] = queue_arn;
    r["awsRegion"] = aws_region;
    records.push_back(std::move(r));
  }
  nlohmann::ordered_json event;
  event["Records"] = std::move(records);
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

BatchOutcome DecideDeletes(const std::vector<aws::SqsMessage>& messages, bool function_error,
                           const std::string& response_body, bool fifo) {
  if (function_error) return None("function error: the whole batch returns to the queue");
  const auto blank = response_body.find_first_not_of(" \t\r\n");
  if (blank == std::string::npos) return All(messages.size());
  const nlohmann::json j = nlohmann::json::parse(response_body, nullptr, false);
  if (j.is_discarded()) return None("response is not JSON: the whole batch fails");
  if (j.is_null() || !j.is_object()) return All(messages.size());
  const auto it = j.find("batchItemFailures");
  if (it == j.end() || it->is_null()) return All(messages.size());
  if (!it->is_array()) return None("batchItemFailures is not a list: the whole batch fails");
  std::set<size_t> failed;
  for (const auto& entry : *it) {
    if (!entry.is_object()) return None("a batchItemFailures entry is not an object: the whole batch fails");
    const auto id = entry.find("itemIdentifier");
    if (id == entry.end() || !id->is_string() || id->get<std::string>().empty()) {
      return None("an itemIdentifier is empty or missing: the whole batch fails");
    }
    bool found = false;
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].message_id == id->get<std::string>()) {
        failed.insert(i);
        found = true;
      }
    }
    if (!found) return None("itemIdentifier " + id->get<std::string>() + " names no message of the batch");
  }
  if (failed.empty()) return All(messages.size());
  BatchOutcome o;
  const size_t first_failed = *failed.begin();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (fifo ? i < first_failed : failed.count(i) == 0) o.delete_indexes.push_back(i);
  }
  o.reason = std::to_string(messages.size() - o.delete_indexes.size()) + " of " + std::to_string(messages.size()) +
             " messages failed" + (fifo ? " (FIFO: kept from the first failure on)" : "");
  return o;
}

}  // namespace chromapact::emulator
