// SigV4 signer tests that need nothing outside the repository: the S3 API Reference's published
// example signatures written in as facts, and the rules the suites in ../shared do not cover (S3 vs
// other services' paths, re-signing, session tokens, errors, the key cache).
#include "chromapact/aws/sigv4.h"

#include <gtest/gtest.h>

#include <ctime>

#include "chromapact/crypto.h"

namespace chromapact::aws {
namespace {

// Published examples of the S3 API Reference, "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk" (GET Object, PUT Object, GET Bucket Lifecycle, Get Bucket)
// and "Authenticating Requests: Using Query Parameters" (presigned GET). Date 20130524T000000Z.
const Credentials kS3DocCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kS3DocHost = "examplebucket.s3.amazonaws.com";

SigningParams S3DocParams() {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "s3";
  p.amz_date = "20130524T000000Z";
  p.s3_rules = true;
  return p;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int CountHeader(const SignableRequest& req, const std::string& name) {
  int n = 0;
  for (const auto& h : req.headers) n += Lower(h.first) == name;
  return n;
}

std::string HeaderValue(const SignableRequest& req, const std::string& name) {
  for (const auto& h : req.headers)
    if (Lower(h.first) == name) return h.second;
  return "";
}

// Line `i` (0-based) of a canonical request.
std::string Line(const std::string& text, int i) {
  size_t b = 0;
  for (int k = 0; k < i; ++k) b = text.find('\n', b) + 1;
  return text.substr(b, text.find('\n', b) - b);
}

TEST(SigV4S3Doc, GetObjectWithRange) {
  SignableRequest req{"GET", "/test.txt", {}, {{"Host", kS3DocHost}, {"Range", "bytes=0-9"}}};
  auto r = SignHeaders(&req, kS3DocCreds, S3DocParams());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Sha256Hex(r->canonical_request), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(r->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(HeaderValue(req, "x-amz-content-sha256"), kEmptyPayloadSha256);
  EXPECT_EQ(HeaderValue(req, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(HeaderValue(req, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Doc, PutObjectDollarKey) {
  SignableRequest req{"PUT",
                      "/test$file.text",
                      {},
                      {{"Host", kS3DocHost},
                       {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                       {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                      Sha256Hex("Welcome to Amazon S3.")};
  auto r = SignHeaders(&req, kS3DocCreds, S3DocParams());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Line(r->canonical_request, 1), "/test%24file.text");  // S3: encoded once
  EXPECT_EQ(r->signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Doc, GetBucketLifecycle) {
  SignableRequest req{"GET", "/", {{"lifecycle", ""}}, {{"Host", kS3DocHost}}};
  auto r = SignHeaders(&req, kS3DocCreds, S3DocParams());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Line(r->canonical_request, 2), "lifecycle=");
  EXPECT_EQ(r->signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Doc, ListObjectsQuery) {
  // Given out of order: the signer sorts.
  SignableRequest req{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {{"Host", kS3DocHost}}};
  auto r = SignHeaders(&req, kS3DocCreds, S3DocParams());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Line(r->canonical_request, 2), "max-keys=2&prefix=J");
  EXPECT_EQ(r->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Doc, PresignedGet) {
  SignableRequest req{"GET", "/test.txt", {}, {{"Host", kS3DocHost}}, kUnsignedPayload};
  auto r = Presign(&req, kS3DocCreds, S3DocParams(), 86400);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(WireTarget(req),
            "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
            "%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(CountHeader(req, "authorization"), 0);
  EXPECT_EQ(CountHeader(req, "x-amz-content-sha256"), 0);  // presigned S3: payload hash only in the creq
}

TEST(SigV4S3Doc, SigningKey) {
  EXPECT_EQ(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130524", "us-east-1", "s3")),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
  EXPECT_EQ(HexEncode(ComputeSigningKey(kS3DocCreds.secret_access_key, "20130524", "us-east-1", "s3")),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
}

TEST(SigV4, SigningKeyCacheNeverMixesSecrets) {
  const std::string fact = "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378";
  EXPECT_EQ(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130524", "us-east-1", "s3")), fact);
  std::string other = HexEncode(DeriveSigningKey("another-secret", "20130524", "us-east-1", "s3"));
  EXPECT_NE(other, fact);
  EXPECT_EQ(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130524", "us-east-1", "s3")), fact);
  EXPECT_EQ(HexEncode(DeriveSigningKey("another-secret", "20130524", "us-east-1", "s3")), other);
  // Same secret, other day / region / service: other keys.
  EXPECT_NE(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130525", "us-east-1", "s3")), fact);
  EXPECT_NE(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130524", "eu-west-1", "s3")), fact);
  EXPECT_NE(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130524", "us-east-1", "sqs")), fact);
  // Many scopes (beyond the cache bound) still give the right key afterwards.
  for (int i = 0; i < 200; ++i) DeriveSigningKey("s" + std::to_string(i), "20130524", "us-east-1", "s3");
  EXPECT_EQ(HexEncode(DeriveSigningKey(kS3DocCreds.secret_access_key, "20130524", "us-east-1", "s3")), fact);
}

TEST(SigV4, UriEncodeEachCharacter) {
  EXPECT_EQ(UriEncode(" ", false), "%20");
  EXPECT_EQ(UriEncode("+", false), "%2B");
  EXPECT_EQ(UriEncode("=", false), "%3D");
  EXPECT_EQ(UriEncode("&", false), "%26");
  EXPECT_EQ(UriEncode("ü", false), "%C3%BC");
  EXPECT_EQ(UriEncode("~", false), "~");
  EXPECT_EQ(UriEncode("*", false), "%2A");
  EXPECT_EQ(UriEncode("(", false), "%28");
  EXPECT_EQ(UriEncode(")", false), "%29");
  EXPECT_EQ(UriEncode("/", false), "%2F");
  EXPECT_EQ(UriEncode("/", true), "/");
  EXPECT_EQ(UriEncode("%", false), "%25");
  EXPECT_EQ(UriEncode("AZaz09-_.", false), "AZaz09-_.");
  EXPECT_EQ(UriEncode("dir/my key+=&ü~*().txt", true), "dir/my%20key%2B%3D%26%C3%BC~%2A%28%29.txt");
}

SigningParams ServiceParams(const std::string& service) {
  SigningParams p;
  p.region = "us-east-1";
  p.service = service;
  p.amz_date = "20150830T123600Z";
  return p;
}

const Credentials kExampleCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

TEST(SigV4, S3PathEncodedOnceNeverNormalised) {
  SignableRequest req{"GET", "/bucket/a/./b/../c//my key+ü.txt", {}, {{"host", "h"}}};
  SigningParams p = ServiceParams("s3");
  p.s3_rules = true;
  auto r = SignHeaders(&req, kExampleCreds, p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Line(r->canonical_request, 1), "/bucket/a/./b/../c//my%20key%2B%C3%BC.txt");
  EXPECT_EQ(WireTarget(req), "/bucket/a/./b/../c//my%20key%2B%C3%BC.txt");
}

TEST(SigV4, OtherServicesNormaliseAndEncodeTwice) {
  SignableRequest req{"POST", "/a/./b/../c//my key+ü", {}, {{"host", "h"}}};
  auto r = SignHeaders(&req, kExampleCreds, ServiceParams("sqs"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Line(r->canonical_request, 1), "/a/c/my%2520key%252B%25C3%25BC");
  // Normalisation edge cases: ".." above the root, a trailing slash, only dots.
  for (const auto& [in, out] : std::vector<std::pair<std::string, std::string>>{
           {"/../x", "/x"}, {"/x/", "/x/"}, {"/./.", "/"}, {"//", "/"}, {"", "/"}, {"/x/y/..", "/x"}}) {
    SignableRequest q{"GET", in, {}, {{"host", "h"}}};
    auto rr = SignHeaders(&q, kExampleCreds, ServiceParams("dynamodb"));
    ASSERT_TRUE(rr.ok());
    EXPECT_EQ(Line(rr->canonical_request, 1), out) << in;
  }
}

TEST(SigV4, QueryAndHeaderCanonicalisation) {
  SignableRequest req{"GET",
                      "/",
                      {{"b", "2"}, {"a", "z"}, {"a", "y"}, {"c", ""}, {"a b", "x+y"}},
                      {{"Host", "h"}, {"X-Multi", "  one   two  "}, {"x-multi", "three"}, {"X-Folded", "l1\n   l2"}}};
  auto r = SignHeaders(&req, kExampleCreds, ServiceParams("service"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Line(r->canonical_request, 2), "a=y&a=z&a%20b=x%2By&b=2&c=");
  EXPECT_EQ(Line(r->canonical_request, 3), "host:h");
  EXPECT_EQ(Line(r->canonical_request, 5), "x-folded:l1 l2");
  EXPECT_EQ(Line(r->canonical_request, 6), "x-multi:one two,three");
  EXPECT_EQ(Line(r->canonical_request, 8), "host;x-amz-date;x-folded;x-multi");
  EXPECT_EQ(Line(r->canonical_request, 9), kEmptyPayloadSha256);
}

TEST(SigV4, ResigningReplacesEarlierAuthHeadersAndParams) {
  SignableRequest req{"PUT", "/k", {}, {{"host", "h"}}, Sha256Hex("x")};
  SigningParams p = ServiceParams("s3");
  p.s3_rules = true;
  auto first = SignHeaders(&req, kExampleCreds, p);
  ASSERT_TRUE(first.ok());
  p.amz_date = "20150830T123700Z";  // a retry a minute later
  auto second = SignHeaders(&req, kExampleCreds, p);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->signature, second->signature);
  for (const char* h : {"authorization", "x-amz-date", "x-amz-content-sha256", "host"}) EXPECT_EQ(CountHeader(req, h), 1) << h;
  EXPECT_EQ(HeaderValue(req, "x-amz-date"), "20150830T123700Z");

  SignableRequest q{"GET", "/k", {{"versionId", "1"}}, {{"host", "h"}}, kUnsignedPayload};
  ASSERT_TRUE(Presign(&q, kExampleCreds, p, 60).ok());
  ASSERT_TRUE(Presign(&q, kExampleCreds, p, 120).ok());
  EXPECT_EQ(q.query.size(), 7u);  // versionId + the six X-Amz-* parameters, once each
}

TEST(SigV4, SessionTokenSignedOrAddedAfter) {
  Credentials creds = kExampleCreds;
  creds.session_token = "TOKEN/with+chars==";
  SignableRequest a{"POST", "/", {}, {{"host", "h"}}};
  auto signed_r = SignHeaders(&a, creds, ServiceParams("dynamodb"));
  ASSERT_TRUE(signed_r.ok());
  EXPECT_NE(signed_r->canonical_request.find("\nx-amz-security-token:TOKEN/with+chars==\n"), std::string::npos);
  EXPECT_EQ(HeaderValue(a, "x-amz-security-token"), creds.session_token);

  SigningParams after = ServiceParams("dynamodb");
  after.sign_session_token = false;
  SignableRequest b{"POST", "/", {}, {{"host", "h"}}};
  auto after_r = SignHeaders(&b, creds, after);
  ASSERT_TRUE(after_r.ok());
  EXPECT_EQ(after_r->canonical_request.find("x-amz-security-token"), std::string::npos);
  EXPECT_EQ(HeaderValue(b, "x-amz-security-token"), creds.session_token);
  // Without the token the signature is that of plain credentials.
  SignableRequest c{"POST", "/", {}, {{"host", "h"}}};
  auto plain = SignHeaders(&c, kExampleCreds, ServiceParams("dynamodb"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(after_r->signature, plain->signature);
  EXPECT_NE(signed_r->signature, plain->signature);

  SignableRequest d{"GET", "/o", {}, {{"host", "h"}}, kUnsignedPayload};
  SigningParams s3 = ServiceParams("s3");
  s3.s3_rules = true;
  auto pre = Presign(&d, creds, s3, 60);
  ASSERT_TRUE(pre.ok());
  EXPECT_NE(pre->canonical_request.find("X-Amz-Security-Token=TOKEN%2Fwith%2Bchars%3D%3D"), std::string::npos);
}

TEST(SigV4, AmzDateDefaultsToNow) {
  SignableRequest req{"GET", "/", {}, {{"host", "h"}}};
  SigningParams p = ServiceParams("sqs");
  p.amz_date.clear();
  std::time_t before = std::time(nullptr);
  auto r = SignHeaders(&req, kExampleCreds, p);
  std::time_t after = std::time(nullptr);
  ASSERT_TRUE(r.ok());
  std::string d = HeaderValue(req, "x-amz-date");
  ASSERT_EQ(d.size(), 16u) << d;
  std::tm tm{};
  ASSERT_NE(strptime(d.c_str(), "%Y%m%dT%H%M%SZ", &tm), nullptr) << d;
  std::time_t t = timegm(&tm);
  EXPECT_GE(t, before);
  EXPECT_LE(t, after);
  EXPECT_NE(r->string_to_sign.find("\n" + d.substr(0, 8) + "/us-east-1/sqs/aws4_request\n"), std::string::npos);
}

TEST(SigV4, ErrorsLeaveTheRequestUnchangedAndNeverShowSecrets) {
  Credentials creds{"AKIDSECRETTEST", "very-secret-value", "very-secret-token"};
  SigningParams p = ServiceParams("s3");
  std::vector<Status> errors;
  SignableRequest no_host{"GET", "/", {}, {{"x-a", "1"}}};
  errors.push_back(SignHeaders(&no_host, creds, p).status());
  EXPECT_EQ(no_host.headers.size(), 1u);
  errors.push_back(Presign(&no_host, creds, p, 60).status());
  EXPECT_TRUE(no_host.query.empty());
  SignableRequest ok{"GET", "/", {}, {{"host", "h"}}};
  errors.push_back(Presign(&ok, creds, p, 0).status());
  errors.push_back(Presign(&ok, creds, p, 604801).status());
  SigningParams bad_date = p;
  bad_date.amz_date = "2015-08-30T12:36:00Z";
  errors.push_back(SignHeaders(&ok, creds, bad_date).status());
  errors.push_back(SignChunk(creds, bad_date, "prev", kEmptyPayloadSha256).status());
  SigningParams no_region = p;
  no_region.region.clear();
  errors.push_back(SignHeaders(&ok, creds, no_region).status());
  errors.push_back(SignHeaders(&ok, Credentials{"AKID", "", "very-secret-token"}, p).status());
  errors.push_back(SignHeaders(&ok, Credentials{"", "very-secret-value", ""}, p).status());
  EXPECT_EQ(ok.headers.size(), 1u);
  EXPECT_TRUE(ok.query.empty());
  for (const Status& s : errors) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.ToString().find("very-secret"), std::string::npos) << s.ToString();
  }
  EXPECT_TRUE(Presign(&ok, creds, p, 604800).ok());  // the limit itself is allowed
}

}  // namespace
}  // namespace chromapact::aws
