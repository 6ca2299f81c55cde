// One HTTP exchange as the Chroma REST API handler (chroma_api.h) sees it, independent of how it
// arrived: a Lambda Function URL event (function_url.h) or `chromapact serve`'s local server.
#pragma once

#include <map>
#include <string>

namespace chromapact::api {

struct HttpRequest {
  std::string method;  // upper case: "GET", "POST", "PUT", "DELETE", ...
  std::string path;    // percent-decoded path, e.g. "/api/v2/heartbeat"; no query string
  // Query parameters, percent-decoded; a repeated name keeps the last value.
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // raw bytes (base64 already decoded)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

}  // namespace chromapact::api
