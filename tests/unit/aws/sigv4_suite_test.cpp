// Every case of the aws-c-auth SigV4 test suite (../shared/aws/sigv4-suite/aws-c-auth), header and
// query (presigned) forms: canonical request, string to sign and signature must equal the files.
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

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && i + 2 <= s.size() - 1) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Parses request.txt: "METHOD /path?query HTTP/1.1", header lines (a line starting with white space
// continues the previous value), an empty line, then the body.
SignableRequest ParseRequest(const std::string& text) {
  SignableRequest req;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  req.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string qs = target.substr(q + 1);
    size_t i = 0;
    while (i <= qs.size() && !qs.empty()) {
      size_t j = qs.find('&', i);
      if (j == std::string::npos) j = qs.size();
      std::string kv = qs.substr(i, j - i);
      size_t eq = kv.find('=');
      req.query.emplace_back(PercentDecode(kv.substr(0, eq)),
                             eq == std::string::npos ? "" : PercentDecode(kv.substr(eq + 1)));
      i = j + 1;
    }
  }
  std::string body;
  bool in_body = false;
  while (std::getline(in, line)) {
    if (in_body) {
      body += (body.empty() ? "" : "\n") + line;
    } else if (Trim(line).empty()) {
      in_body = true;
    } else if ((line[0] == ' ' || line[0] == '\t') && !req.headers.empty()) {
      req.headers.back().second += " " + Trim(line);
    } else {
      size_t c = line.find(':');
      req.headers.emplace_back(line.substr(0, c), line.substr(c + 1));
    }
  }
  req.payload_sha256 = chromapact::Sha256Hex(body);
  return req;
}

TEST(SigV4Suite, AwsCAuthEveryCase) {
  CP_REQUIRE_SHARED(shared);
  fs::path root = fs::path(shared) / "aws/sigv4-suite/aws-c-auth/tests/aws-signing-test-suite/v4";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int cases = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!fs::exists(dir.path() / "context.json")) continue;
    SCOPED_TRACE(dir.path().filename().string());
    auto ctx = nlohmann::json::parse(Slurp(dir.path() / "context.json"));
    Credentials creds{ctx["credentials"]["access_key_id"], ctx["credentials"]["secret_access_key"],
                      ctx["credentials"].value("token", "")};
    SigningParams params;
    params.region = ctx["region"];
    params.service = ctx["service"];
    std::string ts = ctx["timestamp"];  // 2015-08-30T12:36:00Z
    params.amz_date = ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2) + "T" + ts.substr(11, 2) +
                      ts.substr(14, 2) + ts.substr(17, 2) + "Z";
    params.s3_rules = !ctx.value("normalize", true);  // unnormalized cases = S3 path rules
    params.sign_session_token = !ctx.value("omit_session_token", false);
    std::string raw = Slurp(dir.path() / "request.txt");
    for (const char* form : {"header", "query"}) {
      SCOPED_TRACE(form);
      SignableRequest req = ParseRequest(raw);
      // The body is hashed in both forms; aws-c-auth's sign_body also signs x-amz-content-sha256.
      if (ctx.value("sign_body", false) && std::string(form) == "header")
        req.headers.emplace_back("x-amz-content-sha256", req.payload_sha256);
      SigningParams p = params;
      p.s3_rules = false;
      p.normalize_path = ctx.value("normalize", true);
      Result<SigningResult> r = std::string(form) == "header"
                                    ? SignHeaders(&req, creds, p)
                                    : Presign(&req, creds, p, ctx.value("expiration_in_seconds", 3600));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::string f(form);
      EXPECT_EQ(r->canonical_request, Slurp(dir.path() / (f + "-canonical-request.txt")));
      EXPECT_EQ(r->string_to_sign, Slurp(dir.path() / (f + "-string-to-sign.txt")));
      EXPECT_EQ(r->signature, Trim(Slurp(dir.path() / (f + "-signature.txt"))));
    }
    ++cases;
  }
  EXPECT_EQ(cases, 38);  // the case folders present in ../shared (aws-c-auth @ 495329c)
}

// Every case of botocore's copy of the classic AWS suite (../shared/aws/sigv4-suite/botocore): .req
// is the request (with its X-Amz-Date), .creq/.sts/.authz the expected canonical request, string to
// sign and Authorization header. A session token appears in the .req (signed after the fact when the
// .creq does not list it) or, for get-vanilla-with-session-token, only in the .creq.
TEST(SigV4Suite, BotocoreEveryCase) {
  CP_REQUIRE_SHARED(shared);
  fs::path root = fs::path(shared) / "aws/sigv4-suite/botocore/tests/unit/auth/aws4_testsuite";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int cases = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().extension() != ".req") continue;
    fs::path base = e.path();
    base.replace_extension();
    SCOPED_TRACE(base.filename().string());
    std::string creq = Slurp(base.string() + ".creq");
    SignableRequest req = ParseRequest(Slurp(e.path()));
    Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    SigningParams p;
    p.region = "us-east-1";
    p.service = "service";
    p.amz_date = "20150830T123600Z";
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& h : req.headers) {
      std::string n = h.first;
      for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (n == "x-amz-date") continue;
      if (n == "x-amz-security-token") {
        creds.session_token = Trim(h.second);
        continue;
      }
      kept.push_back(h);
    }
    req.headers = kept;
    size_t tok = creq.find("\nx-amz-security-token:");
    if (tok != std::string::npos && creds.session_token.empty()) {
      size_t b = tok + 22, end = creq.find('\n', b);
      creds.session_token = creq.substr(b, end - b);
    }
    p.sign_session_token = tok != std::string::npos;
    Result<SigningResult> r = SignHeaders(&req, creds, p);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->canonical_request, creq);
    EXPECT_EQ(r->string_to_sign, Slurp(base.string() + ".sts"));
    EXPECT_EQ(r->authorization, Trim(Slurp(base.string() + ".authz")));
    ++cases;
  }
  EXPECT_EQ(cases, 34);  // .req files present in ../shared (botocore @ 0e6e240)
}

}  // namespace
}  // namespace chromapact::aws
