#include "json_service.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "chromapact/aws/sigv4.h"
#include "chromapact/crypto.h"

namespace chromapact::aws::internal {
namespace {

bool HasCode(const std::set<std::string>& set, const std::string& code) { return set.count(code) > 0; }

// Text of the first <tag>...</tag> in `xml`, with the five predefined entities unescaped.
std::string XmlText(const std::string& xml, const std::string& tag) {
  const std::string open = "<" + tag + ">";
  const std::string close = "</" + tag + ">";
  size_t a = xml.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  size_t b = xml.find(close, a);
  if (b == std::string::npos) return "";
  std::string raw = xml.substr(a, b - a);
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [ent, ch] : kEntities) {
    size_t pos = 0;
    while ((pos = raw.find(ent, pos)) != std::string::npos) {
      raw.replace(pos, std::strlen(ent), ch);
      pos += std::strlen(ch);
    }
  }
  return raw;
}

std::string AfterHash(const std::string& type) {
  size_t h = type.rfind('#');
  return h == std::string::npos ? type : type.substr(h + 1);
}

std::string Authority(const std::string& url) {
  size_t s = url.find("://");
  size_t start = s == std::string::npos ? 0 : s + 3;
  size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

StatusCode ClassifyAwsError(const std::string& code, int http_status) {
  static const std::set<std::string> kNotFound = {
      "ResourceNotFoundException", "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
      "NonExistentQueue", "TableNotFoundException", "NoSuchKey", "NoSuchBucket", "NoSuchUpload"};
  static const std::set<std::string> kPrecondition = {"ConditionalCheckFailedException", "PreconditionFailed",
                                                      "TransactionCanceledException"};
  static const std::set<std::string> kExists = {"ResourceInUseException", "QueueAlreadyExists", "QueueNameExists",
                                                "TableAlreadyExistsException", "BucketAlreadyExists",
                                                "BucketAlreadyOwnedByYou", "ResourceExistsException"};
  static const std::set<std::string> kDenied = {"AccessDenied", "AccessDeniedException"};
  static const std::set<std::string> kUnauth = {
      "SignatureDoesNotMatch", "InvalidSignatureException", "InvalidAccessKeyId", "InvalidClientTokenId",
      "UnrecognizedClientException", "InvalidToken", "MissingAuthenticationToken",
      "MissingAuthenticationTokenException", "IncompleteSignature", "IncompleteSignatureException",
      "ExpiredToken", "ExpiredTokenException"};
  if (HasCode(kNotFound, code)) return StatusCode::kNotFound;
  if (HasCode(kPrecondition, code)) return StatusCode::kPreconditionFailed;
  if (HasCode(kExists, code)) return StatusCode::kAlreadyExists;
  if (HasCode(kDenied, code)) return StatusCode::kPermissionDenied;
  if (HasCode(kUnauth, code)) return StatusCode::kUnauthenticated;
  if (RetryPolicy::IsThrottlingCode(code) || http_status == 429) return StatusCode::kThrottled;
  if (http_status >= 500) return StatusCode::kUnavailable;
  if (http_status == 403) return StatusCode::kPermissionDenied;
  if (http_status == 404) return StatusCode::kNotFound;
  if (http_status == 412) return StatusCode::kPreconditionFailed;
  if (http_status >= 400) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

Status JsonProtocolError(const std::string& op, const HttpResponse& resp) {
  AwsErrorInfo info;
  info.http_status = resp.status;
  info.request_id = resp.Header("x-amzn-requestid");
  if (info.request_id.empty()) info.request_id = resp.Header("x-amz-request-id");
  std::string message;
  nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (j.contains("__type") && j["__type"].is_string()) info.error_code = AfterHash(j["__type"].get<std::string>());
    if (j.contains("message") && j["message"].is_string()) message = j["message"].get<std::string>();
    if (message.empty() && j.contains("Message") && j["Message"].is_string()) message = j["Message"].get<std::string>();
  } else if (resp.body.find("<Code>") != std::string::npos) {
    // moto answers auth failures in the query protocol's XML even for JSON services (docs/aws-notes.md §1).
    info.error_code = XmlText(resp.body, "Code");
    message = XmlText(resp.body, "Message");
    if (info.request_id.empty()) info.request_id = XmlText(resp.body, "RequestId");
  }
  if (info.error_code.empty()) {
    std::string h = resp.Header("x-amzn-errortype");
    info.error_code = AfterHash(h.substr(0, h.find(':')));
  }
  StatusCode code = ClassifyAwsError(info.error_code, resp.status);
  std::string text = op + ": HTTP " + std::to_string(resp.status);
  if (!info.error_code.empty()) text += " " + info.error_code;
  if (!message.empty()) text += ": " + message;
  return Status(code, std::move(text), std::move(info));
}

JsonService::JsonService(ClientConfig config, JsonServiceSpec spec, JsonCallOptions options)
    : config_(std::move(config)),
      spec_(std::move(spec)),
      options_(options),
      retry_(RetryOptions{options.max_attempts, options.base_delay_ms, options.cap_delay_ms}),
      http_(std::make_unique<HttpClient>()) {
  std::string base = config_.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty()) base = "https://" + spec_.endpoint_prefix + "." + config_.region + ".amazonaws.com";
  url_ = base + "/";
  host_ = Authority(url_);
}

JsonService::~JsonService() = default;

Result<nlohmann::json> JsonService::Call(const std::string& target, const nlohmann::json& body,
                                         nlohmann::json* error_body, int64_t extra_timeout_ms) {
  const std::string op = target.substr(target.find('.') + 1);
  const std::string payload = body.dump();
  const std::string payload_sha = Sha256Hex(payload);
  nlohmann::json answer;
  // Every JSON-protocol call is treated as idempotent, as the AWS SDKs do (sqs.h, dynamodb.h).
  Status st = retry_.Run(/*idempotent=*/true, [&](int) -> Status {
    SignableRequest sreq;
    sreq.method = "POST";
    sreq.path = "/";
    sreq.headers = {{"host", host_},
                    {"content-type", spec_.content_type},
                    {"x-amz-target", target}};
    sreq.payload_sha256 = payload_sha;
    SigningParams params;
    params.region = config_.region;
    params.service = spec_.signing_name;
    auto signed_req = SignHeaders(&sreq, config_.credentials, params);
    if (!signed_req.ok()) return signed_req.status().WithContext(op + ": signing");

    HttpRequest hreq;
    hreq.method = "POST";
    hreq.url = url_;
    hreq.headers = sreq.headers;
    hreq.body = payload;
    hreq.timeout_ms = options_.timeout_ms + extra_timeout_ms;
    auto resp = http_->Send(hreq);
    if (!resp.ok()) return resp.status().WithContext(op);
    if (resp->status >= 200 && resp->status < 300) {
      if (resp->body.empty()) {
        answer = nlohmann::json::object();
        return Status::Ok();
      }
      answer = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
      if (answer.is_discarded()) return Internal(op + ": response body is not JSON");
      return Status::Ok();
    }
    if (error_body != nullptr) {
      *error_body = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
      if (error_body->is_discarded()) *error_body = nullptr;
    }
    return JsonProtocolError(op, *resp);
  });
  if (!st.ok()) return st;
  return answer;
}

}  // namespace chromapact::aws::internal
