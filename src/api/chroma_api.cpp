#include "chromapact/api/chroma_api.h"

#include <chrono>
#include <exception>

#include "api_internal.h"
#include "chromapact/pipeline/json_nesting.h"

namespace chromapact::api {
namespace {

// A fixed id for the one database chromapact serves (Chroma gives each database a UUID).
constexpr const char* kDefaultDatabaseId = "00000000-0000-4000-8000-000000000000";

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    const size_t j = path.find('/', i);
    const size_t end = j == std::string::npos ? path.size() : j;
    if (end > i) out.push_back(path.substr(i, end - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

HttpResponse MethodNotAllowed(const HttpRequest& req) {
  return JsonResponse(405, {{"error", "MethodNotAllowed"},
                            {"message", "method " + req.method + " is not allowed on " + req.path}});
}

HttpResponse NotImplemented(const HttpRequest& req) {
  return JsonResponse(501, {{"error", "NotImplementedError"},
                            {"message", req.method + " " + req.path + " is not supported by chromapact"}});
}

HttpResponse UnknownRoute(const HttpRequest& req) {
  return JsonResponse(404, {{"error", "NotFoundError"}, {"message", "no route " + req.method + " " + req.path}});
}

bool Known(const std::string& tenant, const std::string& database) {
  return tenant == pipeline::kDefaultTenant && (database.empty() || database == pipeline::kDefaultDatabase);
}

HttpResponse TenantMissing(const std::string& tenant) {
  return ErrorResponse(NotFound("Tenant [" + tenant + "] not found"));
}

HttpResponse DatabaseMissing(const std::string& database) {
  return ErrorResponse(NotFound("Database [" + database + "] not found"));
}

nlohmann::json DatabaseJson() {
  return {{"id", kDefaultDatabaseId}, {"name", pipeline::kDefaultDatabase}, {"tenant", pipeline::kDefaultTenant}};
}

}  // namespace

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Result<nlohmann::json> ParseBody(const HttpRequest& request) {
  if (request.body.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("body: not JSON text");
  CP_RETURN_IF_ERROR(pipeline::CheckNesting(j, "body"));
  if (!j.is_object()) return InvalidArgument(std::string("body: expected a JSON object, got ") + j.type_name());
  return j;
}

HttpResponse ErrorResponse(const Status& status) {
  int code = 500;
  std::string name = "InternalError";
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kResourceExhausted:
    case StatusCode::kPreconditionFailed:
      code = 400;
      name = "InvalidArgumentError";
      break;
    case StatusCode::kNotFound:
      code = 404;
      name = "NotFoundError";
      break;
    case StatusCode::kAlreadyExists:
      code = 409;
      name = "UniqueConstraintError";
      break;
    case StatusCode::kThrottled:
      code = 429;
      name = "RateLimitError";
      break;
    case StatusCode::kUnavailable:
      code = 503;
      name = "ServiceUnavailableError";
      break;
    case StatusCode::kTimeout:
      code = 504;
      name = "TimeoutError";
      break;
    case StatusCode::kNotSupported:
      code = 501;
      name = "NotImplementedError";
      break;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      code = 403;
      name = "AuthorizationError";
      break;
    default:
      break;
  }
  return JsonResponse(code, {{"error", name}, {"message", status.message()}});
}

ChromaApi::ChromaApi(ChromaApiServices services, ChromaApiOptions options)
    : s_(services), options_(std::move(options)) {}

HttpResponse ChromaApi::Handle(const HttpRequest& req) {
  try {
    if (req.body.size() > options_.max_body_bytes) {
      HttpResponse r = ErrorResponse(InvalidArgument("body: " + std::to_string(req.body.size()) +
                                                     " bytes, over the limit of " +
                                                     std::to_string(options_.max_body_bytes)));
      r.status = 413;
      return r;
    }
    const std::vector<std::string> seg = Split(req.path);
    if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v2") return UnknownRoute(req);
    const std::string& top = seg[2];
    const bool get = req.method == "GET";
    if (seg.size() == 3) {
      if (top == "heartbeat" || top == "version" || top == "pre-flight-checks" || top == "healthcheck") {
        if (!get) return MethodNotAllowed(req);
        if (top == "heartbeat") {
          const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
          return JsonResponse(200, {{"nanosecond heartbeat", ns}});
        }
        if (top == "version") return JsonResponse(200, "1.0.0");
        if (top == "healthcheck") return JsonResponse(200, {{"is_executor_ready", true}, {"is_log_client_ready", true}});
        return JsonResponse(200, {{"max_batch_size", options_.max_batch_size}, {"supports_base64_encoding", true}});
      }
      if (top == "reset") return NotImplemented(req);
      if (top == "tenants") return req.method == "POST" ? NotImplemented(req) : MethodNotAllowed(req);
      return UnknownRoute(req);
    }
    if (top == "auth" && seg.size() == 4 && seg[3] == "identity") {
      if (!get) return MethodNotAllowed(req);
      return JsonResponse(200, {{"user_id", ""},
                                {"tenant", pipeline::kDefaultTenant},
                                {"databases", {pipeline::kDefaultDatabase}}});
    }
    if (top != "tenants") return UnknownRoute(req);
    const std::string& tenant = seg[3];
    if (seg.size() == 4) {
      if (!get) return req.method == "PATCH" ? NotImplemented(req) : MethodNotAllowed(req);
      if (!Known(tenant, "")) return TenantMissing(tenant);
      return JsonResponse(200, {{"name", tenant}});
    }
    if (seg[4] != "databases") return UnknownRoute(req);
    if (!Known(tenant, "")) return TenantMissing(tenant);
    if (seg.size() == 5) {
      if (req.method == "POST") return NotImplemented(req);
      if (!get) return MethodNotAllowed(req);
      return JsonResponse(200, nlohmann::json::array({DatabaseJson()}));
    }
    const std::string& database = seg[5];
    if (!Known(tenant, database)) return DatabaseMissing(database);
    if (seg.size() == 6) {
      if (req.method == "DELETE") return NotImplemented(req);
      if (!get) return MethodNotAllowed(req);
      return JsonResponse(200, DatabaseJson());
    }
    std::vector<std::string> rest(seg.begin() + 6, seg.end());
    return ChromaApiRoutes(*this).Collections(req, tenant, database, rest);
  } catch (const std::exception& e) {
    return ErrorResponse(Internal(std::string("unexpected exception: ") + e.what()));
  }
}

}  // namespace chromapact::api
