#include "chromapact/aws/sigv4.h"

#include <gtest/gtest.h>

namespace chromapact::aws {
namespace {

// Published examples of the S3 API Reference, "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk" and "Authenticating Requests: Using Query Parameters".
const Credentials kS3DocCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

SigningParams S3DocParams() {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "s3";
  p.amz_date = "20130524T000000Z";
  p.s3_rules = true;
  return p;
}

TEST(SigV4, S3DocGetObjectWithRange) {
  SignableRequest req{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}}};
  auto r = SignHeaders(&req, kS3DocCreds, S3DocParams());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3DocListObjectsQuery) {
  SignableRequest req{"GET", "/", {{"max-keys", "2"}, {"prefix", "J"}}, {{"Host", "examplebucket.s3.amazonaws.com"}}};
  auto r = SignHeaders(&req, kS3DocCreds, S3DocParams());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3DocPresignedGet) {
  SignableRequest req{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}}, kUnsignedPayload};
  SigningParams p = S3DocParams();
  auto r = Presign(&req, kS3DocCreds, p, 86400);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(UriEncode("a b+=&ü~*()/x", false), "a%20b%2B%3D%26%C3%BC~%2A%28%29%2Fx");
  EXPECT_EQ(UriEncode("a/b", true), "a/b");
}

TEST(SigV4, MissingHostOrCredentialsIsAnError) {
  SignableRequest req{"GET", "/", {}, {}};
  EXPECT_EQ(SignHeaders(&req, kS3DocCreds, S3DocParams()).status().code(), StatusCode::kInvalidArgument);
  SignableRequest req2{"GET", "/", {}, {{"host", "h"}}};
  EXPECT_EQ(SignHeaders(&req2, Credentials{}, S3DocParams()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chromapact::aws
