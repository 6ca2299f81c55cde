#include "http_front.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "chromapact/crypto.h"
#include "error_body.h"

namespace chromapact::emulator {
namespace {

constexpr char kHost[] = "127.0.0.1";
// Bodies up to this size reach the handlers (which apply Lambda's limits and fail the invocation);
// only larger ones are refused by httplib itself.
constexpr size_t kHttpPayloadCap = 64 * 1024 * 1024;

void Send(httplib::Response& res, const RuntimeReply& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(r.body, r.content_type.c_str());
}

void Configure(httplib::Server& s, size_t threads) {
  s.new_task_queue = [threads] { return std::make_unique<httplib::ThreadPool>(threads).release(); };
  s.set_tcp_nodelay(true);  // headers and body go out as separate writes: no Nagle/delayed-ACK stall
  s.set_keep_alive_max_count(100000);
  s.set_keep_alive_timeout(60);
  s.set_read_timeout(60);
  s.set_write_timeout(60);
  s.set_payload_max_length(kHttpPayloadCap);
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(MakeErrorJson(res.status == 404 ? "NotFound" : "Error",
                                  req.method + " " + req.path + ": HTTP " + std::to_string(res.status)),
                    "application/json");
  });
}

}  // namespace

HttpFront::HttpFront(Emulator& emulator)
    : emulator_(emulator), runtime_(std::make_unique<httplib::Server>()), invoke_(std::make_unique<httplib::Server>()) {
  Configure(*runtime_, 8);
  Configure(*invoke_, 64);  // each queued invoke holds a worker while it waits its turn
  Routes();
}

HttpFront::~HttpFront() { Stop(); }

void HttpFront::Routes() {
  runtime_->Get("/2018-06-01/runtime/invocation/next",
                [this](const httplib::Request&, httplib::Response& res) { Send(res, emulator_.Next()); });
  runtime_->Post(R"(/2018-06-01/runtime/invocation/([^/]+)/response)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   Send(res, emulator_.PostResponse(req.matches[1], req.body, req.get_header_value("Content-Type")));
                 });
  runtime_->Post(R"(/2018-06-01/runtime/invocation/([^/]+)/error)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   Send(res, emulator_.PostError(req.matches[1],
                                                 req.get_header_value("Lambda-Runtime-Function-Error-Type"), req.body));
                 });
  runtime_->Post("/2018-06-01/runtime/init/error", [this](const httplib::Request& req, httplib::Response& res) {
    Send(res, emulator_.PostInitError(req.get_header_value("Lambda-Runtime-Function-Error-Type"), req.body));
  });

  invoke_->Post(R"(/2015-03-31/functions/([^/]+)/invocations)", [this](const httplib::Request& req,
                                                                        httplib::Response& res) {
    const std::string type = req.get_header_value("X-Amz-Invocation-Type");
    if (!type.empty() && type != "RequestResponse" && type != "DryRun") {
      res.status = 400;
      res.set_header("X-Amzn-ErrorType", "InvalidParameterValueException");
      res.set_content(R"({"Type":"User","message":"this emulator supports only RequestResponse and DryRun"})",
                      "application/json");
      return;
    }
    if (req.body.size() > kMaxInvokePayloadBytes) {
      res.status = 413;
      res.set_header("X-Amzn-ErrorType", "RequestTooLargeException");
      res.set_content(R"({"Type":"User","message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"})",
                      "application/json");
      return;
    }
    if (type == "DryRun") {
      res.status = 204;
      return;
    }
    InvokeOptions options;
    options.trace_id = req.get_header_value("X-Amzn-Trace-Id");
    const std::string cc = req.get_header_value("X-Amz-Client-Context");
    if (!cc.empty()) {
      auto decoded = Base64Decode(cc);
      if (!decoded.ok()) {
        res.status = 400;
        res.set_header("X-Amzn-ErrorType", "InvalidRequestContentException");
        res.set_content(R"({"Type":"User","message":"X-Amz-Client-Context must be base64"})", "application/json");
        return;
      }
      options.client_context = *decoded;
    }
    InvokeResult r = emulator_.Invoke(req.body, options);
    res.status = r.http_status;
    if (!r.function_error.empty()) res.set_header("X-Amz-Function-Error", r.function_error);
    if (!r.request_id.empty()) res.set_header("X-Amzn-RequestId", r.request_id);
    res.set_header("X-Amz-Executed-Version", "$LATEST");
    res.set_content(r.body, r.content_type.c_str());
  });
}

Status HttpFront::Bind(int invoke_port, int runtime_port) {
  auto bind = [](httplib::Server& s, int port, const char* what) -> Result<int> {
    if (port == 0) {
      const int p = s.bind_to_any_port(kHost);
      if (p <= 0) return Unavailable(std::string(what) + ": cannot bind 127.0.0.1 to any port");
      return p;
    }
    if (!s.bind_to_port(kHost, port)) {
      return Unavailable(std::string(what) + ": cannot bind 127.0.0.1:" + std::to_string(port));
    }
    return port;
  };
  CP_ASSIGN_OR_RETURN(invoke_port_, bind(*invoke_, invoke_port, "invoke port"));
  CP_ASSIGN_OR_RETURN(runtime_port_, bind(*runtime_, runtime_port, "runtime api port"));
  return Status::Ok();
}

void HttpFront::Start() {
  runtime_thread_ = std::thread([this] { runtime_->listen_after_bind(); });
  invoke_thread_ = std::thread([this] { invoke_->listen_after_bind(); });
}

void HttpFront::Stop() {
  runtime_->stop();
  invoke_->stop();
  if (runtime_thread_.joinable()) runtime_thread_.join();
  if (invoke_thread_.joinable()) invoke_thread_.join();
}

}  // namespace chromapact::emulator
