// S3 wire format without a server: addressing, signed request building (checked against the S3 API
// Reference's published signatures), XML bodies we send, XML answers we parse, error mapping.
#include "aws/s3_wire.h"

#include <gtest/gtest.h>

#include <fstream>

#include "aws/xml.h"
#include "chromapact/crypto.h"
#include "support/paths.h"

namespace chromapact::aws::s3_wire {
namespace {

ClientConfig Cfg(const std::string& endpoint, const std::string& region = "us-east-1") {
  ClientConfig c;
  c.credentials = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  c.region = region;
  c.endpoint = endpoint;
  return c;
}

std::string Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    std::string lk = k;
    for (auto& ch : lk) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lk == name) return v;
  }
  return "";
}

TEST(S3WireTest, CustomEndpointIsPathStyle) {
  Endpoint ep = ResolveEndpoint(Cfg("http://127.0.0.1:5000/"), "bkt");
  EXPECT_EQ(ep.origin, "http://127.0.0.1:5000");
  EXPECT_EQ(ep.host, "127.0.0.1:5000");
  EXPECT_TRUE(ep.path_style);
  EXPECT_EQ(ResourcePath(ep, "bkt", "a//b"), "/bkt/a//b");
  EXPECT_EQ(ResourcePath(ep, "bkt", ""), "/bkt");
  Endpoint prefixed = ResolveEndpoint(Cfg("https://gw.example.com/s3"), "bkt");
  EXPECT_EQ(prefixed.host, "gw.example.com");
  EXPECT_EQ(ResourcePath(prefixed, "bkt", "k"), "/s3/bkt/k");
}

TEST(S3WireTest, AwsEndpointIsVirtualHostUnlessTheBucketHasDots) {
  Endpoint ep = ResolveEndpoint(Cfg("", "eu-west-1"), "my-bucket");
  EXPECT_EQ(ep.origin, "https://my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(ep.path_style);
  EXPECT_EQ(ResourcePath(ep, "my-bucket", "x/y.txt"), "/x/y.txt");
  EXPECT_EQ(ResourcePath(ep, "my-bucket", ""), "/");
  Endpoint dotted = ResolveEndpoint(Cfg("", "eu-west-1"), "my.bucket");
  EXPECT_EQ(dotted.origin, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResourcePath(dotted, "my.bucket", "k"), "/my.bucket/k");
}

// S3 API Reference "Signature Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk": GET Object with a Range, and GET Bucket lifecycle (published signatures).
TEST(S3WireTest, BuildSignedReproducesTheS3DocExamples) {
  const ClientConfig c = Cfg("https://examplebucket.s3.amazonaws.com");
  RequestSpec get;
  get.key = "test.txt";
  get.headers = {{"range", "bytes=0-9"}};
  auto r = BuildSigned(c, get, "20130524T000000Z");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, "https://examplebucket.s3.amazonaws.com/test.txt");
  EXPECT_NE(Header(*r, "authorization").find("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
            std::string::npos)
      << Header(*r, "authorization");
  EXPECT_EQ(Header(*r, "x-amz-content-sha256"), kEmptyPayloadSha256);

  RequestSpec lifecycle;
  lifecycle.query = {{"lifecycle", ""}};
  r = BuildSigned(c, lifecycle, "20130524T000000Z");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, "https://examplebucket.s3.amazonaws.com/?lifecycle=");
  EXPECT_NE(Header(*r, "authorization").find("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
            std::string::npos);
}

TEST(S3WireTest, OddKeysAreEncodedOnceAndNeverNormalised) {
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = "b";
  spec.key = "my key+=&\xC3\xBC~*().txt";
  auto r = BuildSigned(Cfg("http://127.0.0.1:9"), spec, "20261201T000000Z");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url, "http://127.0.0.1:9/b/my%20key%2B%3D%26%C3%BC~%2A%28%29.txt");
  spec.key = "a//b/./c/../d";
  r = BuildSigned(Cfg("http://127.0.0.1:9"), spec, "20261201T000000Z");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url, "http://127.0.0.1:9/b/a//b/./c/../d");
  spec.query = {{"prefix", "delta/"}, {"continuation-token", "a+b="}};
  r = BuildSigned(Cfg("http://127.0.0.1:9"), spec, "20261201T000000Z");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->url.find("?prefix=delta%2F&continuation-token=a%2Bb%3D"), std::string::npos) << r->url;
}

TEST(S3WireTest, RangeAndPutHeaders) {
  EXPECT_EQ(*RangeHeader({2, 5}), "bytes=2-5");
  EXPECT_EQ(*RangeHeader({7, -1}), "bytes=7-");
  EXPECT_EQ(RangeHeader({5, 2}).status().code(), StatusCode::kInvalidArgument);
  S3PutOptions o;
  o.if_none_match_any = true;
  o.if_match = "\"abc\"";
  o.metadata = {{"Owner", "c1"}};
  HttpHeaders h;
  AddPutHeaders(o, true, true, &h);
  EXPECT_EQ(h, (HttpHeaders{{"content-type", "application/octet-stream"},
                            {"x-amz-meta-owner", "c1"},
                            {"if-none-match", "*"},
                            {"if-match", "\"abc\""}}));
  h.clear();
  AddPutHeaders(o, false, false, &h);
  EXPECT_TRUE(h.empty());
}

TEST(S3WireTest, InfoFromHeadersUsesTheContentRangeTotal) {
  HttpResponse resp;
  resp.status = 206;
  resp.headers = {{"etag", "\"e\""}, {"content-length", "4"}, {"content-range", "bytes 2-5/100"},
                  {"content-type", "text/plain"}, {"x-amz-meta-owner", "c1"}, {"last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"}};
  S3ObjectInfo info = InfoFromHeaders(resp);
  EXPECT_EQ(info.etag, "\"e\"");
  EXPECT_EQ(info.size, 100u);
  EXPECT_EQ(info.content_type, "text/plain");
  EXPECT_EQ(info.metadata.at("owner"), "c1");
  resp.headers = {{"content-length", "42"}};
  EXPECT_EQ(InfoFromHeaders(resp).size, 42u);
}

TEST(S3WireTest, ParsesListObjectsV2WithUrlEncoding) {
  const std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>d%2F</Prefix>
<MaxKeys>2</MaxKeys><KeyCount>3</KeyCount><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>
<Contents><Key>d/my+key%2B%3D%26%C3%BC.txt</Key><LastModified>2026-12-01T10:00:00.000Z</LastModified>
<ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>d/a//b</Key><ETag>"x-2"</ETag><Size>10485760</Size></Contents>
<CommonPrefixes><Prefix>d/sub%20dir/</Prefix></CommonPrefixes>
<NextContinuationToken>0123abcd</NextContinuationToken></ListBucketResult>)";
  auto page = ParseListObjectsV2(body);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "d/my key+=&\xC3\xBC.txt");
  EXPECT_EQ(page->objects[0].etag, "\"abc\"");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].last_modified, "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(page->objects[1].key, "d/a//b");
  EXPECT_EQ(page->objects[1].size, 10485760u);
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"d/sub dir/"});
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "0123abcd");

  auto plain = ParseListObjectsV2("<ListBucketResult><Contents><Key>a+b</Key><Size>1</Size></Contents>"
                                  "<IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->objects[0].key, "a+b");  // no EncodingType: taken literally
  EXPECT_FALSE(plain->is_truncated);

  EXPECT_EQ(ParseListObjectsV2("<Error><Code>X</Code></Error>").status().code(), StatusCode::kInternal);
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents>"
                                  "</ListBucketResult>").ok());
}

TEST(S3WireTest, DeleteObjectsBodyAndResult) {
  std::string body = DeleteObjectsBody({"a&b<c>", "x"});
  EXPECT_NE(body.find("<Quiet>false</Quiet><Object><Key>a&amp;b&lt;c&gt;</Key></Object><Object><Key>x</Key>"),
            std::string::npos)
      << body;
  auto doc = xml::Parse(body);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Children("Object")[0]->ChildText("Key"), "a&b<c>");

  auto r = ParseDeleteResult(R"(<?xml version="1.0"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Deleted><Key>a&amp;b</Key></Deleted><Error><Key>locked</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
</DeleteResult>)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->deleted, std::vector<std::string>{"a&b"});
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].key, "locked");
  EXPECT_EQ(r->errors[0].code, "AccessDenied");
  EXPECT_EQ(r->errors[0].message, "Access Denied");
}

TEST(S3WireTest, MultipartBodies) {
  EXPECT_EQ(*ParseUploadId("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>XyZ9</UploadId>"
                           "</InitiateMultipartUploadResult>"),
            "XyZ9");
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult/>").ok());
  EXPECT_EQ(CompleteMultipartBody({{1, "\"a\""}, {2, "\"b\""}}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber>"
            "<ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
  EXPECT_EQ(*ParseResultEtag("<CompleteMultipartUploadResult><ETag>\"m-2\"</ETag></CompleteMultipartUploadResult>"),
            "\"m-2\"");
  EXPECT_EQ(*ParseResultEtag("<CopyObjectResult><LastModified>t</LastModified><ETag>&quot;c&quot;</ETag></CopyObjectResult>"),
            "\"c\"");
  EXPECT_TRUE(IsErrorDocument("<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>"));
  EXPECT_FALSE(IsErrorDocument("<CopyObjectResult><ETag>x</ETag></CopyObjectResult>"));
  EXPECT_EQ(CreateBucketBody("us-east-1"), "");
  EXPECT_NE(CreateBucketBody("eu-west-1").find("<LocationConstraint>eu-west-1</LocationConstraint>"), std::string::npos);
}

TEST(S3WireTest, ErrorsMapToStatusWithAwsInfo) {
  HttpResponse r;
  r.status = 404;
  r.headers = {{"x-amz-request-id", "REQ1"}};
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does "
           "not exist.</Message><Key>k</Key><RequestId>XMLREQ</RequestId></Error>";
  Status s = ErrorFromResponse("GetObject s3://b/k", r);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "GetObject s3://b/k: HTTP 404 NoSuchKey: The specified key does not exist.");
  EXPECT_EQ(s.aws()->error_code, "NoSuchKey");
  EXPECT_EQ(s.aws()->http_status, 404);
  EXPECT_EQ(s.aws()->request_id, "REQ1");

  auto code_of = [](int status, const std::string& body) {
    HttpResponse x;
    x.status = status;
    x.body = body;
    Status st = ErrorFromResponse("op", x);
    return std::make_pair(st.code(), st.aws()->error_code);
  };
  EXPECT_EQ(code_of(404, ""), std::make_pair(StatusCode::kNotFound, std::string("NotFound")));  // HEAD
  EXPECT_EQ(code_of(412, ""), std::make_pair(StatusCode::kPreconditionFailed, std::string("PreconditionFailed")));
  EXPECT_EQ(code_of(403, ""), std::make_pair(StatusCode::kPermissionDenied, std::string("Forbidden")));
  EXPECT_EQ(code_of(412, "<Error><Code>PreconditionFailed</Code><Condition>If-None-Match</Condition></Error>"),
            std::make_pair(StatusCode::kPreconditionFailed, std::string("PreconditionFailed")));
  EXPECT_EQ(code_of(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>"),
            std::make_pair(StatusCode::kUnauthenticated, std::string("SignatureDoesNotMatch")));
  EXPECT_EQ(code_of(403, "<Error><Code>InvalidAccessKeyId</Code></Error>"),
            std::make_pair(StatusCode::kUnauthenticated, std::string("InvalidAccessKeyId")));
  EXPECT_EQ(code_of(403, "<ErrorResponse><Errors><Error><Code>AccessDenied</Code></Error></Errors></ErrorResponse>"),
            std::make_pair(StatusCode::kPermissionDenied, std::string("AccessDenied")));
  EXPECT_EQ(code_of(503, "<Error><Code>SlowDown</Code></Error>"),
            std::make_pair(StatusCode::kThrottled, std::string("SlowDown")));
  EXPECT_EQ(code_of(500, "<Error><Code>InternalError</Code></Error>"),
            std::make_pair(StatusCode::kUnavailable, std::string("InternalError")));
  EXPECT_EQ(code_of(409, "<Error><Code>BucketAlreadyOwnedByYou</Code></Error>"),
            std::make_pair(StatusCode::kAlreadyExists, std::string("BucketAlreadyOwnedByYou")));
  EXPECT_EQ(code_of(409, "<Error><Code>BucketNotEmpty</Code></Error>"),
            std::make_pair(StatusCode::kInvalidArgument, std::string("BucketNotEmpty")));
  EXPECT_EQ(code_of(416, "<Error><Code>InvalidRange</Code></Error>"),
            std::make_pair(StatusCode::kInvalidArgument, std::string("InvalidRange")));
}

TEST(S3WireTest, UrlDecode) {
  EXPECT_EQ(UrlDecode("a%20b+c%2Bd%C3%BC%zz%4", true), "a b c+d\xC3\xBC%zz%4");
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
}

TEST(S3WireTest, FileRangeDigestsMatchInMemoryDigests) {
  const std::string dir = testing::MakeTempDir("s3_wire");
  const std::string path = dir + "/f.bin";
  std::string data;
  for (int i = 0; i < 3 * 1024 * 1024 + 17; ++i) data.push_back(static_cast<char>((i * 131) ^ (i >> 9)));
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  constexpr auto kSha256 = DigestAlgorithm::kSha256;
  constexpr auto kMd5 = DigestAlgorithm::kMd5;
  auto whole = FileRangeDigest(path, 0, data.size(), kSha256);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, Sha256Hex(data));
  auto whole_md5 = FileRangeDigest(path, 0, data.size(), kMd5);
  ASSERT_TRUE(whole_md5.ok());
  EXPECT_EQ(*whole_md5, HexEncode(Md5(data)));
  const std::string middle = data.substr(1000, 2 * 1024 * 1024);
  auto part = FileRangeDigest(path, 1000, middle.size(), kSha256);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, Sha256Hex(middle));
  auto part_md5 = FileRangeDigest(path, 1000, middle.size(), kMd5);
  ASSERT_TRUE(part_md5.ok());
  EXPECT_EQ(*part_md5, HexEncode(Md5(middle)));
  auto empty = FileRangeDigest(path, 5, 0, kMd5);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "d41d8cd98f00b204e9800998ecf8427e");  // MD5 of no bytes (RFC 1321 A.5)
  EXPECT_EQ(FileRangeDigest(path, 10, data.size(), kSha256).status().code(), StatusCode::kIOError);
  EXPECT_EQ(FileRangeDigest(dir + "/missing", 0, 1, kMd5).status().code(), StatusCode::kIOError);
}

TEST(XmlTest, ParsesEntitiesCdataCommentsAndRejectsMalformedXml) {
  auto d = xml::Parse("<?xml version='1.0'?><!-- c --><R a=\"x>y\"><K>&lt;&#x41;&#66;&amp;&#xFC;</K>"
                      "<E/><T><![CDATA[<raw&>]]></T><K>2</K></R>");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "R");
  EXPECT_EQ(d->ChildText("K"), "<AB&\xC3\xBC");
  EXPECT_EQ(d->Children("K").size(), 2u);
  EXPECT_NE(d->Child("E"), nullptr);
  EXPECT_EQ(d->ChildText("T"), "<raw&>");
  EXPECT_EQ(d->ChildText("missing"), "");
  EXPECT_FALSE(xml::Parse("<a><b></a>").ok());
  EXPECT_FALSE(xml::Parse("<a>").ok());
  EXPECT_FALSE(xml::Parse("<a>&bogus;</a>").ok());
  EXPECT_FALSE(xml::Parse("").ok());
  EXPECT_FALSE(xml::Parse("<a/><b/>").ok());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<x>";
  EXPECT_FALSE(xml::Parse(deep).ok());
  EXPECT_EQ(xml::Escape("a&<>\"'"), "a&amp;&lt;&gt;&quot;&apos;");
}

}  // namespace
}  // namespace chromapact::aws::s3_wire
