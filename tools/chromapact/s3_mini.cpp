#include "s3_mini.h"

#include "chromapact/aws/sigv4.h"
#include "chromapact/crypto.h"

namespace chromapact::cli {

Result<aws::HttpResponse> S3Mini::Call(const std::string& method, const std::string& bucket, const std::string& key,
                                       std::vector<std::pair<std::string, std::string>> query,
                                       const std::string& body, aws::HttpHeaders extra_headers) {
  if (config_.endpoint.empty()) return InvalidArgument("smoke S3: AWS_ENDPOINT_URL(_S3) must be set");
  const std::string base = config_.endpoint;
  aws::SignableRequest req;
  req.method = method;
  req.path = "/" + bucket + (key.empty() ? "" : "/" + key);
  req.query = std::move(query);
  req.headers = {{"host", base.substr(base.find("://") + 3)}};
  if (method == "PUT" || method == "POST") req.headers.emplace_back("content-type", "application/octet-stream");
  for (auto& h : extra_headers) req.headers.push_back(std::move(h));
  req.payload_sha256 = Sha256Hex(body);
  aws::SigningParams params;
  params.region = config_.region;
  params.service = "s3";
  params.s3_rules = true;
  CP_RETURN_IF_ERROR(aws::SignHeaders(&req, config_.credentials, params).status());
  aws::HttpRequest http_req;
  http_req.method = method;
  http_req.url = base + aws::WireTarget(req);
  http_req.headers = req.headers;
  http_req.body = body;
  return http_.Send(http_req);
}

}  // namespace chromapact::cli
