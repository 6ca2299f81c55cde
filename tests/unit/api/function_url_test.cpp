// api/function_url.h: Lambda Function URL events (payload format 2.0) to HttpRequest, HttpResponse to
// the Function URL response. The events have the shape of the AWS Lambda Developer Guide's example
// ("Invoking Lambda function URLs", request payload format) and of what the Chroma clients send.
#include "chromapact/api/function_url.h"

#include <gtest/gtest.h>

#include <string>

#include "chromapact/crypto.h"

namespace chromapact::api {
namespace {

using nlohmann::json;

// The Developer Guide's example event, with `method`, `raw_path`, `raw_query` and `body` filled in.
json Event(const std::string& method, const std::string& raw_path, const std::string& raw_query = "",
           const std::string& body = "", bool base64 = false) {
  json e = json::parse(R"({
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1=a", "cookie2=b"],
    "headers": {"header1": "value1", "header2": "value1,value2", "content-type": "application/json",
                "host": "abcdefghij.lambda-url.us-west-2.on.aws", "x-amzn-trace-id": "Root=1-5e6b1e3a-12345"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
      "accountId": "123456789012",
      "apiId": "abcdefghij",
      "authentication": null,
      "authorizer": {"iam": {"accessKey": "AKIAIOSFODNN7EXAMPLE", "accountId": "111122223333",
                             "callerId": "AIDACKCEVSQ6C2EXAMPLE", "cognitoIdentity": null, "principalOrgId": null,
                             "userArn": "arn:aws:iam::111122223333:user/example-user",
                             "userId": "AIDACOSFODNN7EXAMPLE2"}},
      "domainName": "abcdefghij.lambda-url.us-west-2.on.aws",
      "domainPrefix": "abcdefghij",
      "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "123.123.123.123",
               "userAgent": "agent"},
      "requestId": "id",
      "routeKey": "$default",
      "stage": "$default",
      "time": "12/Mar/2020:19:03:58 +0000",
      "timeEpoch": 1583348638390
    },
    "body": "Hello from client!",
    "pathParameters": null,
    "isBase64Encoded": false,
    "stageVariables": null
  })");
  e["requestContext"]["http"]["method"] = method;
  e["rawPath"] = raw_path;
  e["requestContext"]["http"]["path"] = raw_path;
  e["rawQueryString"] = raw_query;
  if (body.empty()) {
    e.erase("body");  // as Lambda sends a GET
  } else {
    e["body"] = body;
  }
  e["isBase64Encoded"] = base64;
  return e;
}

// The error message of a malformed event (and that it is kInvalidArgument).
std::string ErrorOf(const json& event) {
  auto r = ParseFunctionUrlEvent(event);
  EXPECT_FALSE(r.ok()) << event.dump();
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  return r.status().message();
}

#define EXPECT_STARTS_WITH(s, prefix) EXPECT_EQ((s).rfind((prefix), 0), 0u) << (s)

TEST(FunctionUrlEvent, TheDeveloperGuidesExampleEvent) {
  json e =
      Event("POST", "/my/path", "parameter1=value1&parameter1=value2&parameter2=value", "Hello from client!");
  auto r = ParseFunctionUrlEvent(e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/my/path");
  // A repeated name keeps the last value (http_message.h).
  EXPECT_EQ(r->query,
            (std::map<std::string, std::string>{{"parameter1", "value2"}, {"parameter2", "value"}}));
  EXPECT_EQ(r->headers.at("header2"), "value1,value2");  // repeated headers arrive joined by commas
  EXPECT_EQ(r->headers.at("content-type"), "application/json");
  EXPECT_EQ(r->headers.at("host"), "abcdefghij.lambda-url.us-west-2.on.aws");
  EXPECT_EQ(r->headers.at("cookie"), "cookie1=a; cookie2=b");  // payload 2.0's "cookies" as the header
  EXPECT_EQ(r->body, "Hello from client!");
}

TEST(FunctionUrlEvent, ChromaClientRequests) {
  // The JS client's heartbeat: a GET without body or query string.
  auto hb = ParseFunctionUrlEvent(Event("GET", "/api/v2/heartbeat"));
  ASSERT_TRUE(hb.ok()) << hb.status().ToString();
  EXPECT_EQ(hb->method, "GET");
  EXPECT_EQ(hb->path, "/api/v2/heartbeat");
  EXPECT_TRUE(hb->query.empty());
  EXPECT_EQ(hb->body, "");

  // A listing with limit/offset.
  auto list = ParseFunctionUrlEvent(Event(
      "GET", "/api/v2/tenants/default_tenant/databases/default_database/collections", "limit=10&offset=20"));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->query, (std::map<std::string, std::string>{{"limit", "10"}, {"offset", "20"}}));

  // An add whose JSON body Lambda delivered base64-encoded.
  const std::string add = R"({"ids":["a","b"],"embeddings":[[1,2],[3,4]],"documents":["ü","x"]})";
  auto w = ParseFunctionUrlEvent(Event("post",
                                       "/api/v2/tenants/default_tenant/databases/default_database/"
                                       "collections/0f3c7f3e-1111-4222-8333-444455556666/add",
                                       "", Base64Encode(add), true));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->method, "POST");  // upper-cased
  EXPECT_EQ(w->body, add);
}

TEST(FunctionUrlEvent, Base64BodiesAreDecodedToTheirBytes) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);  // not UTF-8: why Lambda base64-encodes
  auto r = ParseFunctionUrlEvent(Event("PUT", "/x", "", Base64Encode(bytes), true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, bytes);
  for (const std::string s : {"a", "ab", "abc"}) {  // every padding length
    auto p = ParseFunctionUrlEvent(Event("POST", "/x", "", Base64Encode(s), true));
    ASSERT_TRUE(p.ok()) << s;
    EXPECT_EQ(p->body, s);
  }
  // The same text with isBase64Encoded false is the body itself.
  auto plain = ParseFunctionUrlEvent(Event("POST", "/x", "", "YWJj", false));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->body, "YWJj");
}

TEST(FunctionUrlEvent, PathAndQueryArePercentDecoded) {
  auto r =
      ParseFunctionUrlEvent(Event("GET", "/api/v2/tenants/my%20tenant/databases/d%C3%BC/collections/a%2Bb+c",
                                  "q=x%20y&plus=a+b&enc=%2B%26%3D&utf=%C3%BC&empty=&flag&a%5B0%5D=v"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // In a path '+' stays '+'; in a query string it is a space (form encoding).
  EXPECT_EQ(r->path, "/api/v2/tenants/my tenant/databases/d\xC3\xBC/collections/a+b+c");
  EXPECT_EQ(r->query.at("q"), "x y");
  EXPECT_EQ(r->query.at("plus"), "a b");
  EXPECT_EQ(r->query.at("enc"), "+&=");
  EXPECT_EQ(r->query.at("utf"), "\xC3\xBC");
  EXPECT_EQ(r->query.at("empty"), "");
  EXPECT_EQ(r->query.at("flag"), "");
  EXPECT_EQ(r->query.at("a[0]"), "v");
  EXPECT_EQ(r->query.size(), 7u);
}

TEST(FunctionUrlEvent, HeadersAreLowerCased) {
  json e = Event("GET", "/api/v2/version");
  e["headers"] = {{"Content-Type", "application/json"}, {"X-Chroma-Token", "t"}};
  e.erase("cookies");
  auto r = ParseFunctionUrlEvent(e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->headers, (std::map<std::string, std::string>{{"content-type", "application/json"},
                                                            {"x-chroma-token", "t"}}));
}

TEST(FunctionUrlEvent, AMinimalEventIsEnough) {
  auto r = ParseFunctionUrlEvent(json{{"rawPath", "/"}, {"requestContext", {{"http", {{"method", "GET"}}}}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, "/");
  EXPECT_TRUE(r->query.empty() && r->headers.empty() && r->body.empty());
  // null members (Python senders, API Gateway) count as absent.
  auto n = ParseFunctionUrlEvent(json{{"rawPath", "/"},
                                      {"rawQueryString", nullptr},
                                      {"headers", nullptr},
                                      {"cookies", nullptr},
                                      {"body", nullptr},
                                      {"isBase64Encoded", nullptr},
                                      {"requestContext", {{"http", {{"method", "DELETE"}}}}}});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->method, "DELETE");
}

TEST(FunctionUrlEvent, MalformedEventsNameTheField) {
  EXPECT_STARTS_WITH(ErrorOf(json::array()), "event: expected a JSON object");
  EXPECT_STARTS_WITH(ErrorOf(json("GET /")), "event: expected a JSON object");

  json no_method = Event("GET", "/x");
  no_method["requestContext"]["http"].erase("method");
  EXPECT_EQ(ErrorOf(no_method), "requestContext.http.method: missing");
  json number_method = Event("GET", "/x");
  number_method["requestContext"]["http"]["method"] = 1;
  EXPECT_EQ(ErrorOf(number_method), "requestContext.http.method: expected a string, got a number");
  json empty_method = Event("", "/x");
  EXPECT_EQ(ErrorOf(empty_method), "requestContext.http.method: empty");
  json no_http = Event("GET", "/x");
  no_http["requestContext"].erase("http");
  EXPECT_EQ(ErrorOf(no_http), "requestContext.http: missing");
  json no_ctx = Event("GET", "/x");
  no_ctx.erase("requestContext");
  EXPECT_EQ(ErrorOf(no_ctx), "requestContext: missing");
  json ctx_string = Event("GET", "/x");
  ctx_string["requestContext"] = "x";
  EXPECT_EQ(ErrorOf(ctx_string), "requestContext: expected an object, got a string");

  json no_path = Event("GET", "/x");
  no_path.erase("rawPath");
  EXPECT_EQ(ErrorOf(no_path), "rawPath: missing");
  EXPECT_STARTS_WITH(ErrorOf(Event("GET", "api/v2/heartbeat")), "rawPath: expected a path starting with '/'");
  EXPECT_STARTS_WITH(ErrorOf(Event("GET", "/a%2")), "rawPath: truncated percent escape '%2'");
  EXPECT_STARTS_WITH(ErrorOf(Event("GET", "/a%zzb")), "rawPath: '%zz' at offset 2 is not a percent escape");
  json path_array = Event("GET", "/x");
  path_array["rawPath"] = json::array({"/x"});
  EXPECT_EQ(ErrorOf(path_array), "rawPath: expected a string, got an array");

  EXPECT_STARTS_WITH(ErrorOf(Event("GET", "/x", "a=%G1")), "rawQueryString: query parameter 'a': '%G1'");
  EXPECT_STARTS_WITH(ErrorOf(Event("GET", "/x", "a%=1")), "rawQueryString: query parameter 'a%': truncated");
  json query_number = Event("GET", "/x");
  query_number["rawQueryString"] = 5;
  EXPECT_EQ(ErrorOf(query_number), "rawQueryString: expected a string, got a number");

  json body_object = Event("POST", "/x");
  body_object["body"] = {{"ids", {"a"}}};  // a JSON body must arrive as text
  EXPECT_EQ(ErrorOf(body_object), "body: expected a string, got an object");
  EXPECT_STARTS_WITH(ErrorOf(Event("POST", "/x", "", "not base64!", true)), "body: not base64");
  EXPECT_STARTS_WITH(ErrorOf(Event("POST", "/x", "", "YWJ", true)), "body: not base64");
  json b64_string = Event("POST", "/x", "", "YWJj");
  b64_string["isBase64Encoded"] = "true";
  EXPECT_EQ(ErrorOf(b64_string), "isBase64Encoded: expected a boolean, got a string");

  json header_number = Event("GET", "/x");
  header_number["headers"]["content-length"] = 12;
  EXPECT_EQ(ErrorOf(header_number), "headers.content-length: expected a string, got a number");
  json headers_array = Event("GET", "/x");
  headers_array["headers"] = json::array();
  EXPECT_EQ(ErrorOf(headers_array), "headers: expected an object, got an array");
  json cookie_number = Event("GET", "/x");
  cookie_number["cookies"] = {"a=1", 2};
  EXPECT_EQ(ErrorOf(cookie_number), "cookies[1]: expected a string, got a number");

  // API Gateway's payload format 1.0 is another shape.
  json v1 = Event("GET", "/x");
  v1["version"] = "1.0";
  EXPECT_STARTS_WITH(ErrorOf(v1), "version: expected \"2.0\"");
}

TEST(FunctionUrlResponse, HasTheFunctionUrlShape) {
  HttpResponse resp;
  resp.status = 404;
  resp.body = R"({"error":"NotFoundError","message":"Collection [x] does not exist"})";
  const json out = ToFunctionUrlResponse(resp);
  EXPECT_EQ(out, json({{"statusCode", 404},
                       {"headers", {{"content-type", "application/json"}}},
                       {"body", resp.body},
                       {"isBase64Encoded", false}}));
  EXPECT_TRUE(out["statusCode"].is_number_integer());
  EXPECT_TRUE(out["body"].is_string());  // the body stays text, not parsed JSON

  HttpResponse text;
  text.content_type = "text/plain; charset=utf-8";
  text.body = "ok";
  EXPECT_EQ(ToFunctionUrlResponse(text)["headers"]["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(ToFunctionUrlResponse(text)["statusCode"], 200);
}

TEST(PercentDecode, DecodesEscapesAndKeepsPlus) {
  EXPECT_EQ(PercentDecode("a%20b+c%2b%2B%41").value(), "a b+c++A");
  EXPECT_EQ(PercentDecode("").value(), "");
  EXPECT_EQ(PercentDecode("%00").value(), std::string(1, '\0'));
  EXPECT_EQ(PercentDecode("%25").value(), "%");
  EXPECT_EQ(PercentDecode("%2525").value(), "%25");  // decoded once
  for (const char* bad : {"%", "%4", "a%", "%g0", "%0g", "% 1"}) {
    auto r = PercentDecode(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseQueryString, FormEncoding) {
  EXPECT_EQ(ParseQueryString("a=1&b=x%20y").value(),
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "x y"}}));
  EXPECT_EQ(ParseQueryString("").value(), (std::map<std::string, std::string>{}));
  EXPECT_EQ(ParseQueryString("&&a=1&").value(), (std::map<std::string, std::string>{{"a", "1"}}));
  EXPECT_EQ(ParseQueryString("a=1&a=2").value(), (std::map<std::string, std::string>{{"a", "2"}}));
  EXPECT_EQ(ParseQueryString("k+1=v+1%2B").value(), (std::map<std::string, std::string>{{"k 1", "v 1+"}}));
  EXPECT_EQ(ParseQueryString("eq=a=b").value(), (std::map<std::string, std::string>{{"eq", "a=b"}}));
  EXPECT_EQ(ParseQueryString("a=%ZZ").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chromapact::api
