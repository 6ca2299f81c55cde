// The few signed S3 calls the smoke program needs, made directly with SignHeaders + HttpClient.
// Interim: the S3 client of issue 2 item 5 (include/chromapact/aws/s3.h) replaces this file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/http.h"
#include "chromapact/status.h"

namespace chromapact::cli {

class S3Mini {
 public:
  explicit S3Mini(aws::ClientConfig config) : config_(std::move(config)) {}

  // Path-style request to endpoint + "/" + bucket [+ "/" + key] (decoded; encoded once by S3 rules),
  // signed with the payload's SHA-256. Any HTTP status is OK here; errors are transport failures.
  Result<aws::HttpResponse> Call(const std::string& method, const std::string& bucket, const std::string& key,
                                 std::vector<std::pair<std::string, std::string>> query = {},
                                 const std::string& body = "", aws::HttpHeaders extra_headers = {});

 private:
  aws::ClientConfig config_;
  aws::HttpClient http_;
};

}  // namespace chromapact::cli
