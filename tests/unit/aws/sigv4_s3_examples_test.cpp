// Every example of ../shared/aws/s3-sigv4-examples.json (the S3 API Reference's published SigV4
// examples, docs/aws-notes.md §6): header-signed GET/PUT/?lifecycle/list, the presigned GET, the
// aws-chunked streaming PUT (seed signature and every chunk signature) and the signing-key
// examples. Our signer builds each request from the example's inputs and must reproduce the
// canonical request, string to sign, signature, Authorization header / URL. Skips without ../shared.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "chromapact/aws/sigv4.h"
#include "chromapact/crypto.h"
#include "support/paths.h"

namespace chromapact::aws {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The JSON's Authorization values use "," between components; ours uses ", " (both accepted by AWS,
// see the file's notes). Compare without the space.
std::string NoSpaceAfterComma(std::string s) {
  for (size_t p; (p = s.find(", ")) != std::string::npos;) s.erase(p + 1, 1);
  return s;
}

std::string HeaderValue(const SignableRequest& req, const std::string& name) {
  for (const auto& h : req.headers)
    if (Lower(h.first) == name) return h.second;
  return "";
}

class S3Examples : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shared = chromapact::testing::SharedDir();
    if (!shared) GTEST_SKIP() << "../shared not found (set CHROMAPACT_SHARED_DIR)";
    std::ifstream in(std::filesystem::path(*shared) / "aws/s3-sigv4-examples.json");
    ASSERT_TRUE(in) << "aws/s3-sigv4-examples.json missing in " << *shared;
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      doc_ = json::parse(ss.str());
      creds_ = Credentials{doc_.at("credentials").at("access_key_id"), doc_.at("credentials").at("secret_access_key"), ""};
      params_.region = doc_.at("region");
      params_.service = doc_.at("service");
      params_.amz_date = doc_.at("date");
    } catch (const json::exception& e) {
      FAIL() << "s3-sigv4-examples.json: " << e.what();
    }
    params_.s3_rules = true;
  }

  // The request described by `ex`, minus what the signer adds itself (x-amz-date,
  // x-amz-content-sha256); the added values are checked against the example's.
  SignableRequest Request(const json& ex, const std::string& payload_sha256) {
    SignableRequest req;
    req.method = ex.at("method");
    req.path = ex.at("path");
    req.payload_sha256 = payload_sha256;
    for (const auto& [name, value] : ex.at("headers").items()) {
      std::string n = Lower(name);
      if (n == "x-amz-date") {
        EXPECT_EQ(value.get<std::string>(), params_.amz_date);
      } else if (n == "x-amz-content-sha256") {
        EXPECT_EQ(value.get<std::string>(), payload_sha256);
      } else {
        req.headers.emplace_back(name, value.get<std::string>());
      }
    }
    return req;
  }

  json doc_;
  Credentials creds_;
  SigningParams params_;
};

TEST_F(S3Examples, EveryExample) {
  const json& examples = doc_.at("examples");
  int header = 0, presigned = 0, streaming = 0;
  for (const json& ex : examples) {
    SCOPED_TRACE(ex.at("name").get<std::string>());
    std::string kind = ex.at("kind");
    if (kind == "authorization-header") {
      SignableRequest req = Request(ex, Sha256Hex(ex.at("body").get<std::string>()));
      for (const auto& q : ex.at("query")) req.query.emplace_back(q.at(0).get<std::string>(), q.at(1).get<std::string>());
      auto r = SignHeaders(&req, creds_, params_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->canonical_request, ex.at("canonical_request"));
      EXPECT_EQ(Sha256Hex(r->canonical_request), ex.at("canonical_request_sha256"));
      EXPECT_EQ(r->string_to_sign, ex.at("string_to_sign"));
      EXPECT_EQ(r->signature, ex.at("signature"));
      EXPECT_EQ(NoSpaceAfterComma(r->authorization), ex.at("authorization"));
      EXPECT_EQ(HeaderValue(req, "authorization"), r->authorization);
      EXPECT_EQ(HeaderValue(req, "x-amz-content-sha256"), Sha256Hex(ex.at("body").get<std::string>()));
      ++header;
    } else if (kind == "query-string") {
      // The example's query lists the X-Amz-* parameters Presign adds; the expiry comes from there.
      SignableRequest req = Request(ex, ex.at("payload_hash"));
      int64_t expires = 0;
      for (const auto& q : ex.at("query"))
        if (q.at(0) == "X-Amz-Expires") expires = std::stoll(q.at(1).get<std::string>());
      ASSERT_GT(expires, 0);
      auto r = Presign(&req, creds_, params_, expires);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->canonical_request, ex.at("canonical_request"));
      EXPECT_EQ(r->string_to_sign, ex.at("string_to_sign"));
      EXPECT_EQ(r->signature, ex.at("signature"));
      EXPECT_EQ("https://" + HeaderValue(req, "host") + WireTarget(req), ex.at("url"));
      ++presigned;
    } else if (kind == "streaming") {
      SignableRequest req = Request(ex, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
      auto r = SignHeaders(&req, creds_, params_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->canonical_request, ex.at("canonical_request"));
      EXPECT_EQ(r->signature, ex.at("seed_signature"));
      // 66560 bytes of 'a' in 65536-byte chunks, then the final empty chunk (the example's name).
      const std::vector<std::string> chunks = {std::string(65536, 'a'), std::string(1024, 'a'), ""};
      const json& expected = ex.at("chunk_signatures");
      ASSERT_EQ(expected.size(), chunks.size());
      std::string previous = r->signature;
      for (size_t i = 0; i < chunks.size(); ++i) {
        auto sig = SignChunk(creds_, params_, previous, Sha256Hex(chunks[i]));
        ASSERT_TRUE(sig.ok()) << sig.status().ToString();
        EXPECT_EQ(*sig, expected[i]) << "chunk " << i;
        previous = *sig;
      }
      ++streaming;
    } else {
      ADD_FAILURE() << "unknown example kind " << kind;
    }
  }
  // The file holds GET, PUT, ?lifecycle, list (header), one presigned GET, one streaming PUT.
  EXPECT_EQ(header, 4);
  EXPECT_EQ(presigned, 1);
  EXPECT_EQ(streaming, 1);
}

TEST_F(S3Examples, SigningKeys) {
  EXPECT_EQ(HexEncode(DeriveSigningKey(creds_.secret_access_key, params_.amz_date.substr(0, 8), params_.region,
                                       params_.service)),
            doc_.at("signing_key_hex"));
  int n = 0;
  for (const json& k : doc_.at("signing_key_examples")) {
    EXPECT_EQ(HexEncode(DeriveSigningKey(k.at("secret"), k.at("date"), k.at("region"), k.at("service"))),
              k.at("signing_key_hex"))
        << k.at("source");
    ++n;
  }
  EXPECT_EQ(n, 2);
}

}  // namespace
}  // namespace chromapact::aws
