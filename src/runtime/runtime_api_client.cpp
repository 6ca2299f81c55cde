#include "runtime_api_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

namespace chromapact::runtime::internal {
namespace {

constexpr char kBasePath[] = "/2018-06-01/runtime";

struct Reply {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    for (const auto& h : headers) {
      if (h.first == lower_name) return h.second;
    }
    return "";
  }
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<Reply*>(user)->body.append(data, size * n);
  return size * n;
}

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* reply = static_cast<Reply*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    reply->headers.clear();  // a new response (e.g. after 100 Continue) starts over
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  reply->headers.emplace_back(Trim(name), Trim(line.substr(colon + 1)));
  return size * n;
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Snippet(const std::string& body) { return body.size() <= 256 ? body : body.substr(0, 256) + "…"; }

int64_t ParseInt64(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  return (end != nullptr && *end == '\0') ? static_cast<int64_t>(v) : 0;
}

}  // namespace

struct RuntimeApiClient::Impl {
  std::string base_url;  // http://host:port/2018-06-01/runtime
  CURL* curl = nullptr;

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  // One request. `step` names it in error messages. Transport errors are kUnavailable.
  Result<Reply> Do(const std::string& step, const std::string& method, const std::string& path,
                   const std::string* body, const std::vector<std::string>& extra_headers, bool no_timeout) {
    Reply reply;
    curl_easy_reset(curl);
    const std::string url = base_url + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // the Runtime API is local; never via a proxy
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
    // runtimes-api.html: "Do not set a timeout on the GET request": the sandbox may be frozen
    // between invocations. 0 = no timeout for the transfer; connecting gets curl's default.
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 0L);
    if (!no_timeout) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_slist* headers = nullptr;
    for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
    if (method == "POST") {
      headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for big bodies
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      return Unavailable(step + ": " + method + " " + url + ": " + curl_easy_strerror(rc));
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
  }

  // Request ids come from the server; escape them so that an odd one cannot change the path.
  std::string Escape(const std::string& s) {
    char* e = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
    std::string out = e != nullptr ? e : "";
    curl_free(e);
    return out;
  }

  Status Post(const std::string& step, const std::string& path, const std::string& body,
              std::vector<std::string> headers) {
    CP_ASSIGN_OR_RETURN(Reply reply, Do(step, "POST", path, &body, headers, false));
    if (reply.status >= 200 && reply.status < 300) return Status::Ok();
    const std::string what = step + ": HTTP " + std::to_string(reply.status) + ": " + Snippet(reply.body);
    if (reply.status == 413) return ResourceExhausted(what);
    if (reply.status >= 500) return Unavailable(what);
    return Internal(what);
  }
};

RuntimeApiClient::RuntimeApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuntimeApiClient::~RuntimeApiClient() = default;

Result<std::unique_ptr<RuntimeApiClient>> RuntimeApiClient::Create(const std::string& host_port) {
  if (host_port.empty()) return InvalidArgument("AWS_LAMBDA_RUNTIME_API: empty");
  GlobalInitOnce();
  auto impl = std::make_unique<Impl>();
  impl->base_url = "http://" + host_port + kBasePath;
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return Internal("runtime api: curl_easy_init failed");
  return std::make_unique<RuntimeApiClient>(std::move(impl));
}

Result<NextInvocation> RuntimeApiClient::Next() {
  CP_ASSIGN_OR_RETURN(Reply reply, impl_->Do("GET /next", "GET", "/invocation/next", nullptr, {}, true));
  if (reply.status >= 500) {
    return Unavailable("GET /next: HTTP " + std::to_string(reply.status) + ": " + Snippet(reply.body));
  }
  if (reply.status != 200) {
    return Internal("GET /next: HTTP " + std::to_string(reply.status) + ": " + Snippet(reply.body));
  }
  NextInvocation next;
  next.context.request_id = reply.Header("lambda-runtime-aws-request-id");
  if (next.context.request_id.empty()) {
    return Unavailable("GET /next: 200 without a Lambda-Runtime-Aws-Request-Id header");
  }
  next.context.deadline_ms = ParseInt64(reply.Header("lambda-runtime-deadline-ms"));
  next.context.function_arn = reply.Header("lambda-runtime-invoked-function-arn");
  next.context.trace_id = reply.Header("lambda-runtime-trace-id");
  next.context.client_context = reply.Header("lambda-runtime-client-context");
  next.context.cognito_identity = reply.Header("lambda-runtime-cognito-identity");
  next.context.tenant_id = reply.Header("lambda-runtime-aws-tenant-id");
  next.event = std::move(reply.body);
  return next;
}

Status RuntimeApiClient::PostResponse(const std::string& request_id, const std::string& payload,
                                      const std::string& content_type) {
  return impl_->Post("POST /response", "/invocation/" + impl_->Escape(request_id) + "/response", payload,
                     {"Content-Type: " + content_type});
}

Status RuntimeApiClient::PostError(const std::string& request_id, const FunctionError& error) {
  return impl_->Post("POST /error", "/invocation/" + impl_->Escape(request_id) + "/error", ErrorJson(error),
                     {"Content-Type: application/json",
                      "Lambda-Runtime-Function-Error-Type: " + ErrorTypeHeader(error.type)});
}

Status RuntimeApiClient::PostInitError(const FunctionError& error) {
  return impl_->Post("POST /init/error", "/init/error", ErrorJson(error),
                     {"Content-Type: application/json",
                      "Lambda-Runtime-Function-Error-Type: " + ErrorTypeHeader(error.type)});
}

}  // namespace chromapact::runtime::internal
