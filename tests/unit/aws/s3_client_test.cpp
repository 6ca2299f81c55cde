// S3Client against a scripted loopback server, for the faults moto cannot produce on demand:
// retries of 503 SlowDown and of a 200 carrying <Error> (re-signed, file body re-sent whole), a
// conditional PUT whose first answer was lost, no retry of permanent errors, and a multipart upload
// whose parts go out in parallel and which is aborted when a part fails.
#include "chromapact/aws/s3.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>

#include "chromapact/crypto.h"
#include "support/paths.h"
#include "support/scripted_http.h"

namespace chromapact::aws {
namespace {

using testing::ScriptedHttpServer;
using testing::ScriptedReply;
using testing::ScriptedRequest;

S3Options FastRetries() {
  S3Options o;
  o.retry = RetryOptions{3, 1, 5};
  o.part_size = 5 * kMiB;
  o.upload_concurrency = 3;
  return o;
}

ClientConfig Config(const std::string& endpoint) {
  ClientConfig c;
  c.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  c.region = "us-east-1";
  c.endpoint = endpoint;
  return c;
}

std::string WriteTemp(const std::string& name, const std::string& data) {
  const std::string path = testing::MakeTempDir("s3_client") + "/" + name;
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  return path;
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// S3 for a conditional PUT whose first attempt is stored but whose answer is lost: in each call the
// first PUT gets 500 and its retry 412 (it now conflicts with itself); HEAD answers *stored_etag.
ScriptedHttpServer::Handler LostAnswerThenConflict(const std::string* stored_etag) {
  auto puts = std::make_shared<std::atomic<int>>(0);
  return [stored_etag, puts](const ScriptedRequest& r) -> ScriptedReply {
    if (r.method == "HEAD") return {200, "", {{"ETag", *stored_etag}}};
    if ((*puts)++ % 2 == 0) return {500, "<Error><Code>InternalError</Code></Error>", {}};
    return {412, "<Error><Code>PreconditionFailed</Code></Error>", {}};
  };
}

TEST(S3ClientTest, RetriesSlowDownWithAFreshSignatureAndTheWholeFileBody) {
  const std::string data(300000, 'z');
  ScriptedHttpServer server([&](const ScriptedRequest& r) -> ScriptedReply {
    if (r.index == 0) return {503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>", {}};
    return {200, "", {{"ETag", Quoted(HexEncode(Md5(r.body)))}}};
  });
  S3Client s3(Config(server.endpoint()), FastRetries());
  auto put = s3.PutObjectFromFile("b", "k 1", WriteTemp("f.bin", data));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, Quoted(HexEncode(Md5(data))));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/b/k%201");
    EXPECT_TRUE(r.body == data);
    EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(data));
    EXPECT_EQ(r.Header("content-md5"), "");  // the signed SHA-256 is the integrity check
    EXPECT_NE(r.Header("authorization").find("Credential=AKIDEXAMPLE/"), std::string::npos);
  }
}

TEST(S3ClientTest, ErrorInsideA200CopyAnswerIsRetried) {
  ScriptedHttpServer server([](const ScriptedRequest& r) -> ScriptedReply {
    if (r.index == 0) return {200, "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>", {}};
    return {200, "<CopyObjectResult><ETag>&quot;abc&quot;</ETag></CopyObjectResult>", {}};
  });
  S3Client s3(Config(server.endpoint()), FastRetries());
  auto copy = s3.CopyObject("src", "a/b+c", "dst", "d");
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->etag, "\"abc\"");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Header("x-amz-copy-source"), "src/a/b%2Bc");
}

TEST(S3ClientTest, PermanentErrorsAreNotRetried) {
  ScriptedHttpServer server([](const ScriptedRequest&) -> ScriptedReply {
    return {412, "<Error><Code>PreconditionFailed</Code><Condition>If-None-Match</Condition></Error>",
            {{"x-amz-request-id", "RID-1"}}};
  });
  S3Client s3(Config(server.endpoint()), FastRetries());
  S3PutOptions o;
  o.if_none_match_any = true;
  auto put = s3.PutObject("b", "k", "v", o);
  ASSERT_EQ(put.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(put.status().aws()->request_id, "RID-1");
  EXPECT_EQ(server.requests().size(), 1u);  // no retry, and no HEAD after a first-attempt 412
  EXPECT_EQ(server.requests()[0].Header("if-none-match"), "*");
}

TEST(S3ClientTest, ConditionalPutWhoseAnswerWasLostSucceedsWhenTheObjectIsOurs) {
  const std::string body = "pointer-v2";
  std::string stored_etag = Quoted(HexEncode(Md5(body)));
  ScriptedHttpServer server(LostAnswerThenConflict(&stored_etag));
  S3Client s3(Config(server.endpoint()), FastRetries());
  S3PutOptions o;
  o.if_none_match_any = true;
  auto put = s3.PutObject("b", "ptr", body, o);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, stored_etag);
  EXPECT_EQ(server.requests().size(), 3u);
  for (const auto& r : server.requests()) {
    if (r.method != "PUT") continue;
    // From memory: the signed SHA-256 is the integrity check, no Content-MD5 pass over the body.
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(body));
    EXPECT_EQ(r.Header("content-md5"), "");
  }

  stored_etag = Quoted(HexEncode(Md5("someone else's bytes")));  // a real conflict stays one
  auto lost = s3.PutObject("b", "ptr", body, o);
  EXPECT_EQ(lost.status().code(), StatusCode::kPreconditionFailed) << lost.status().ToString();
  EXPECT_EQ(server.requests().size(), 6u);  // PUT, PUT, HEAD again
  EXPECT_EQ(server.requests()[5].method, "HEAD");
}

// A caller allowed to write the key but not to read it (the producer and its log) cannot compare:
// the outcome is unknown, which is not the same as losing to another writer.
TEST(S3ClientTest, ConditionalPutWhoseAnswerWasLostIsUnknownWhenTheObjectCannotBeRead) {
  auto puts = std::make_shared<std::atomic<int>>(0);
  ScriptedHttpServer server([puts](const ScriptedRequest& r) -> ScriptedReply {
    if (r.method == "HEAD") return {403, "", {}};
    if ((*puts)++ % 2 == 0) return {500, "<Error><Code>InternalError</Code></Error>", {}};
    return {412, "<Error><Code>PreconditionFailed</Code></Error>", {}};
  });
  S3Client s3(Config(server.endpoint()), FastRetries());
  S3PutOptions o;
  o.if_none_match_any = true;
  auto put = s3.PutObject("b", "deltas/c/0/00000000000000000001.cpd", "delta", o);
  ASSERT_EQ(put.status().code(), StatusCode::kTimeout) << put.status().ToString();
  EXPECT_NE(put.status().message().find("an earlier attempt may have written it"), std::string::npos)
      << put.status().ToString();
  ASSERT_EQ(server.requests().size(), 3u);  // PUT, PUT, HEAD
  EXPECT_EQ(server.requests()[2].method, "HEAD");
}

TEST(S3ClientTest, ConditionalPutFromFileWhoseAnswerWasLostComparesTheFilesMd5) {
  std::string body(70000, 'p');
  body += "end";
  std::string stored_etag = Quoted(HexEncode(Md5(body)));
  ScriptedHttpServer server(LostAnswerThenConflict(&stored_etag));
  S3Client s3(Config(server.endpoint()), FastRetries());
  S3PutOptions o;
  o.if_match = "\"base-etag\"";
  const std::string path = WriteTemp("ptr.bin", body);
  auto put = s3.PutObjectFromFile("b", "ptr", path, o);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, stored_etag);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].method, "HEAD");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(reqs[i].Header("if-match"), "\"base-etag\"");
    EXPECT_EQ(reqs[i].Header("content-md5"), "");
    EXPECT_EQ(reqs[i].Header("x-amz-content-sha256"), Sha256Hex(body));
  }

  stored_etag = Quoted(HexEncode(Md5(body + "x")));  // differs from the file: a real conflict
  auto lost = s3.PutObjectFromFile("b", "ptr", path, o);
  EXPECT_EQ(lost.status().code(), StatusCode::kPreconditionFailed) << lost.status().ToString();
  EXPECT_EQ(server.requests().size(), 6u);  // PUT, PUT, HEAD again
  EXPECT_EQ(server.requests()[5].method, "HEAD");
}

TEST(S3ClientTest, MultipartPartsGoOutInParallelAndAFailedPartAbortsTheUpload) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0, max_in_flight = 0;
  ScriptedHttpServer server([&](const ScriptedRequest& r) -> ScriptedReply {
    if (r.method == "POST" && r.target.find("?uploads") != std::string::npos) {
      return {200, "<InitiateMultipartUploadResult><UploadId>UP1</UploadId></InitiateMultipartUploadResult>", {}};
    }
    if (r.method == "PUT") {
      // Hold each part until two are in flight at once (deadline 5 s): proves parallel uploads.
      std::unique_lock<std::mutex> l(mu);
      max_in_flight = std::max(max_in_flight, ++in_flight);
      cv.notify_all();
      cv.wait_for(l, std::chrono::seconds(5), [&] { return max_in_flight >= 2; });
      --in_flight;
      if (r.target.find("partNumber=2&") != std::string::npos) {
        return {403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", {}};
      }
      return {200, "", {{"ETag", Quoted(HexEncode(Md5(r.body)))}}};
    }
    if (r.method == "DELETE") return {204, "", {}};
    return {400, "<Error><Code>Unexpected</Code></Error>", {}};
  });
  S3Client s3(Config(server.endpoint()), FastRetries());
  const std::string path = WriteTemp("big.bin", std::string(11 * kMiB, 'q'));  // 3 parts
  auto put = s3.UploadFileMultipart("b", "big", path);
  ASSERT_EQ(put.status().code(), StatusCode::kPermissionDenied) << put.status().ToString();
  EXPECT_EQ(put.status().aws()->error_code, "AccessDenied");
  EXPECT_GE(max_in_flight, 2);
  bool aborted = false, completed = false;
  for (const auto& r : server.requests()) {
    if (r.method == "DELETE" && r.target == "/b/big?uploadId=UP1") aborted = true;
    if (r.method == "POST" && r.target.find("uploadId=") != std::string::npos) completed = true;
    if (r.method == "PUT") {
      EXPECT_EQ(r.Header("content-md5"), "");
      EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(r.body));
      EXPECT_LE(r.body.size(), 5 * kMiB);
    }
  }
  EXPECT_TRUE(aborted);
  EXPECT_FALSE(completed);
  EXPECT_GE(server.connections(), 2);  // each uploading thread had its own connection
}

TEST(S3ClientTest, DeleteObjectsSplitsIntoRequestsOf1000KeysWithContentMd5) {
  ScriptedHttpServer server([](const ScriptedRequest& r) -> ScriptedReply {
    std::string out = "<DeleteResult>";
    size_t pos = 0;
    while ((pos = r.body.find("<Key>", pos)) != std::string::npos) {
      size_t end = r.body.find("</Key>", pos);
      out += "<Deleted>" + r.body.substr(pos, end + 6 - pos) + "</Deleted>";
      pos = end;
    }
    return {200, out + "</DeleteResult>", {}};
  });
  S3Client s3(Config(server.endpoint()), FastRetries());
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) keys.push_back("k&" + std::to_string(i));
  auto r = s3.DeleteObjects("b", keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->deleted, keys);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& q : reqs) {
    EXPECT_EQ(q.target, "/b?delete=");
    EXPECT_EQ(q.Header("content-md5"), Base64Encode(Md5(q.body)));
    EXPECT_EQ(q.Header("content-type"), "application/xml");
  }
  EXPECT_NE(reqs[0].body.find("<Key>k&amp;999</Key></Object></Delete>"), std::string::npos);
  EXPECT_NE(reqs[1].body.find("<Key>k&amp;1499</Key></Object></Delete>"), std::string::npos);
  keys.push_back("");  // an empty key fails the whole call before anything is deleted
  EXPECT_EQ(s3.DeleteObjects("b", keys).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 2u);
}

}  // namespace
}  // namespace chromapact::aws
