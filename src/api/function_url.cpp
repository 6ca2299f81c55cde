// Lambda Function URL events (payload format 2.0) <-> HttpRequest / HttpResponse (function_url.h).
#include "chromapact/api/function_url.h"

#include <cctype>
#include <string>

#include "chromapact/crypto.h"

namespace chromapact::api {
namespace {

using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The JSON type of `v` for error messages ("a number", "null", ...).
std::string TypeOf(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

Status Expected(const std::string& field, const char* what, const json& got) {
  return InvalidArgument(field + ": expected " + what + ", got " + TypeOf(got));
}

}  // namespace

Result<std::string> PercentDecode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {  // fewer than two characters follow the '%'
      return InvalidArgument("truncated percent escape '" + s.substr(i) + "' at offset " + std::to_string(i));
    }
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return InvalidArgument("'" + s.substr(i, 3) + "' at offset " + std::to_string(i) +
                             " is not a percent escape (% and two hex digits)");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseQueryString(const std::string& raw) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string::npos) end = raw.size();
    std::string pair = raw.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;  // "a=1&&b=2", a trailing '&'
    for (char& c : pair) {
      if (c == '+') c = ' ';  // application/x-www-form-urlencoded: '+' is a space
    }
    const size_t eq = pair.find('=');
    const std::string raw_name = pair.substr(0, eq);
    const std::string raw_value = eq == std::string::npos ? "" : pair.substr(eq + 1);
    auto name = PercentDecode(raw_name);
    if (!name.ok()) return name.status().WithContext("query parameter '" + raw_name + "'");
    auto value = PercentDecode(raw_value);
    if (!value.ok()) return value.status().WithContext("query parameter '" + *name + "'");
    out[*name] = std::move(value).value();  // a repeated name keeps the last value
  }
  return out;
}

Result<HttpRequest> ParseFunctionUrlEvent(const json& event) {
  if (!event.is_object()) return Expected("event", "a JSON object (a payload format 2.0 HTTP event)", event);
  HttpRequest req;

  // API Gateway's payload format 1.0 (httpMethod, path, queryStringParameters) is another shape;
  // a Function URL always sends 2.0. Events without "version" are taken as 2.0.
  if (auto v = event.find("version"); v != event.end() && !v->is_null()) {
    if (!v->is_string()) return Expected("version", "the string \"2.0\"", *v);
    if (v->get<std::string>() != "2.0") {
      return InvalidArgument("version: expected \"2.0\" (payload format 2.0), got \"" +
                             v->get<std::string>() + "\"");
    }
  }

  // requestContext.http.method
  auto ctx = event.find("requestContext");
  if (ctx == event.end()) return InvalidArgument("requestContext: missing");
  if (!ctx->is_object()) return Expected("requestContext", "an object", *ctx);
  auto http = ctx->find("http");
  if (http == ctx->end()) return InvalidArgument("requestContext.http: missing");
  if (!http->is_object()) return Expected("requestContext.http", "an object", *http);
  auto method = http->find("method");
  if (method == http->end()) return InvalidArgument("requestContext.http.method: missing");
  if (!method->is_string()) return Expected("requestContext.http.method", "a string", *method);
  req.method = Upper(method->get<std::string>());
  if (req.method.empty()) return InvalidArgument("requestContext.http.method: empty");

  // rawPath: the path as the client sent it (still percent-encoded).
  auto raw_path = event.find("rawPath");
  if (raw_path == event.end()) return InvalidArgument("rawPath: missing");
  if (!raw_path->is_string()) return Expected("rawPath", "a string", *raw_path);
  const std::string& rp = raw_path->get_ref<const std::string&>();
  if (rp.empty() || rp[0] != '/')
    return InvalidArgument("rawPath: expected a path starting with '/', got '" + rp + "'");
  auto path = PercentDecode(rp);
  if (!path.ok()) return path.status().WithContext("rawPath");
  req.path = std::move(path).value();

  // rawQueryString: "" (or absent) when the URL has none.
  if (auto q = event.find("rawQueryString"); q != event.end() && !q->is_null()) {
    if (!q->is_string()) return Expected("rawQueryString", "a string", *q);
    auto query = ParseQueryString(q->get<std::string>());
    if (!query.ok()) return query.status().WithContext("rawQueryString");
    req.query = std::move(query).value();
  }

  // headers: names are lower-case already on Lambda; lower-cased here for other senders too.
  if (auto h = event.find("headers"); h != event.end() && !h->is_null()) {
    if (!h->is_object()) return Expected("headers", "an object", *h);
    for (const auto& [name, value] : h->items()) {
      if (!value.is_string()) return Expected("headers." + name, "a string", value);
      req.headers[Lower(name)] = value.get<std::string>();
    }
  }
  // Payload 2.0 moves the Cookie header into "cookies" (one entry per cookie).
  if (auto c = event.find("cookies"); c != event.end() && !c->is_null()) {
    if (!c->is_array()) return Expected("cookies", "an array of strings", *c);
    std::string joined;
    for (size_t i = 0; i < c->size(); ++i) {
      const json& cookie = (*c)[i];
      if (!cookie.is_string()) return Expected("cookies[" + std::to_string(i) + "]", "a string", cookie);
      if (!joined.empty()) joined += "; ";
      joined += cookie.get<std::string>();
    }
    if (!joined.empty() && req.headers.count("cookie") == 0) req.headers["cookie"] = joined;
  }

  // body + isBase64Encoded (a GET has no body member).
  bool base64 = false;
  if (auto b = event.find("isBase64Encoded"); b != event.end() && !b->is_null()) {
    if (!b->is_boolean()) return Expected("isBase64Encoded", "a boolean", *b);
    base64 = b->get<bool>();
  }
  if (auto b = event.find("body"); b != event.end() && !b->is_null()) {
    if (!b->is_string()) return Expected("body", "a string", *b);
    if (base64) {
      auto decoded = Base64Decode(b->get_ref<const std::string&>());
      if (!decoded.ok())
        return InvalidArgument("body: not base64 (isBase64Encoded is true): " + decoded.status().message());
      req.body = std::move(decoded).value();
    } else {
      req.body = b->get<std::string>();
    }
  }
  return req;
}

json ToFunctionUrlResponse(const HttpResponse& response) {
  return {{"statusCode", response.status},
          {"headers", {{"content-type", response.content_type}}},
          {"body", response.body},
          {"isBase64Encoded", false}};
}

}  // namespace chromapact::api
