// S3Client against moto_server with signature checking on (docs/aws-notes.md §1, §2): every operation,
// conditional writes and reads, odd keys, a parallel multipart upload read back byte-identical,
// paging, DeleteObjects, CopyObject, buckets, and the auth failures (wrong secret, unknown key,
// IAM policy) without the secret ever showing up in a Status.
#include "chromapact/aws/s3.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "support/moto.h"
#include "support/paths.h"

namespace chromapact::aws {
namespace {

using testing::MotoServer;

constexpr const char* kBucket = "cp-test";
const std::string kOddKey = "dir/my key+=&\xC3\xBC~*().txt";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = rng();
    for (size_t j = 0; j < 4 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

class S3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    // May write under delta/ only (moto enforces IAM policies: docs/aws-notes.md §1).
    auto writer = moto_->CreateUser(
        "s3-writer",
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cp-test/delta/*"}]})");
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::make_unique<Credentials>(*writer);
    // Temporary credentials of an assumed role, as a Lambda function gets them (session token).
    auto role_user = moto_->CreateUser(
        "s3-role-user", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]})");
    ASSERT_TRUE(role_user.ok()) << role_user.status().ToString();
    auto role = moto_->AssumeRole(
        "s3-role-user", *role_user, "s3-role",
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::cp-test/role/*"}]})");
    ASSERT_TRUE(role.ok()) << role.status().ToString();
    role_ = std::make_unique<Credentials>(*role);
    ASSERT_TRUE(moto_->EnableAuth().ok());
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok());
    S3Client setup(moto_->Config(*admin));
    Status st = setup.CreateBucket(kBucket);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static void TearDownTestSuite() {
    writer_.reset();
    role_.reset();
    moto_.reset();
  }

  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok());
    admin_ = *admin;
    S3Options o;
    o.multipart_threshold = 8 * kMiB;
    o.part_size = 5 * kMiB;
    o.upload_concurrency = 3;
    client_ = std::make_unique<S3Client>(moto_->Config(admin_), o);
    dir_ = testing::MakeTempDir("s3");
  }

  // Every error Status we look at goes through here: the secret must never be in it.
  void ExpectNoSecret(const Status& s) {
    EXPECT_EQ(s.ToString().find(admin_.secret_access_key), std::string::npos) << s.ToString();
    EXPECT_EQ(s.ToString().find(writer_->secret_access_key), std::string::npos) << s.ToString();
  }

  static std::unique_ptr<MotoServer> moto_;
  static std::unique_ptr<Credentials> writer_;
  static std::unique_ptr<Credentials> role_;
  Credentials admin_;
  std::unique_ptr<S3Client> client_;
  std::string dir_;
};

std::unique_ptr<MotoServer> S3Test::moto_;
std::unique_ptr<Credentials> S3Test::writer_;
std::unique_ptr<Credentials> S3Test::role_;

TEST_F(S3Test, PutGetHeadDeleteRoundTrip) {
  S3PutOptions po;
  po.content_type = "text/plain";
  po.metadata = {{"owner", "c1"}};
  auto put = client_->PutObject(kBucket, "rt/a.txt", "hello world", po);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");  // MD5("hello world")

  auto got = client_->GetObject(kBucket, "rt/a.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "hello world");
  EXPECT_FALSE(got->not_modified);
  EXPECT_EQ(got->content_length, 11u);
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.content_type, "text/plain");
  EXPECT_EQ(got->info.metadata["owner"], "c1");

  auto head = client_->HeadObject(kBucket, "rt/a.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 11u);
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_FALSE(head->last_modified.empty());

  // An empty body is stored as an empty object, not dropped or garbled (docs/aws-notes.md §2).
  ASSERT_TRUE(client_->PutObject(kBucket, "rt/empty", "").ok());
  auto empty = client_->GetObject(kBucket, "rt/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->body, "");

  ASSERT_TRUE(client_->DeleteObject(kBucket, "rt/a.txt").ok());
  auto gone = client_->HeadObject(kBucket, "rt/a.txt");
  ASSERT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
  EXPECT_EQ(gone.status().aws()->http_status, 404);
  auto missing = client_->GetObject(kBucket, "rt/a.txt");
  ASSERT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().aws()->error_code, "NoSuchKey");
  EXPECT_NE(missing.status().message().find("s3://cp-test/rt/a.txt"), std::string::npos);
  EXPECT_TRUE(client_->DeleteObject(kBucket, "rt/a.txt").ok());  // deleting a missing key succeeds
  auto no_bucket = client_->GetObject("no-such-bucket", "k");
  EXPECT_EQ(no_bucket.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_bucket.status().aws()->error_code, "NoSuchBucket");
}

TEST_F(S3Test, ConditionalWritesConflictWith412) {
  S3PutOptions create;
  create.if_none_match_any = true;
  auto first = client_->PutObject(kBucket, "cond/ptr", "v1", create);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = client_->PutObject(kBucket, "cond/ptr", "v1-other", create);
  ASSERT_EQ(again.status().code(), StatusCode::kPreconditionFailed) << again.status().ToString();
  EXPECT_EQ(again.status().aws()->http_status, 412);
  EXPECT_EQ(again.status().aws()->error_code, "PreconditionFailed");

  S3PutOptions cas;
  cas.if_match = first->etag;
  auto second = client_->PutObject(kBucket, "cond/ptr", "v2", cas);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->etag, first->etag);
  auto stale = client_->PutObject(kBucket, "cond/ptr", "v3", cas);  // still the old ETag
  ASSERT_EQ(stale.status().code(), StatusCode::kPreconditionFailed) << stale.status().ToString();
  EXPECT_EQ(client_->GetObject(kBucket, "cond/ptr")->body, "v2");

  S3PutOptions cas_missing;
  cas_missing.if_match = first->etag;
  auto none = client_->PutObject(kBucket, "cond/never", "x", cas_missing);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().ToString();
  ExpectNoSecret(again.status());
}

TEST_F(S3Test, ConditionalAndRangedGets) {
  const std::string data = "0123456789";
  auto put = client_->PutObject(kBucket, "get/digits", data);
  ASSERT_TRUE(put.ok());

  S3GetOptions same;
  same.if_none_match = put->etag;
  auto nm = client_->GetObject(kBucket, "get/digits", same);
  ASSERT_TRUE(nm.ok()) << nm.status().ToString();
  EXPECT_TRUE(nm->not_modified);
  EXPECT_TRUE(nm->body.empty());
  S3GetOptions other;
  other.if_none_match = "\"00000000000000000000000000000000\"";
  auto changed = client_->GetObject(kBucket, "get/digits", other);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(changed->not_modified);
  EXPECT_EQ(changed->body, data);

  S3GetOptions wrong;
  wrong.if_match = "\"00000000000000000000000000000000\"";
  auto lost = client_->GetObject(kBucket, "get/digits", wrong);
  EXPECT_EQ(lost.status().code(), StatusCode::kPreconditionFailed) << lost.status().ToString();

  S3GetOptions r;
  r.range = S3ByteRange{2, 5};
  auto mid = client_->GetObject(kBucket, "get/digits", r);
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  EXPECT_EQ(mid->body, "2345");
  EXPECT_EQ(mid->content_length, 4u);
  EXPECT_EQ(mid->info.size, 10u);  // whole object, from Content-Range
  r.range = S3ByteRange{7, -1};
  EXPECT_EQ(client_->GetObject(kBucket, "get/digits", r)->body, "789");
  r.range = S3ByteRange{8, 100};
  EXPECT_EQ(client_->GetObject(kBucket, "get/digits", r)->body, "89");
  r.range = S3ByteRange{50, -1};
  auto past = client_->GetObject(kBucket, "get/digits", r);
  EXPECT_EQ(past.status().code(), StatusCode::kInvalidArgument) << past.status().ToString();
  EXPECT_EQ(past.status().aws()->http_status, 416);
  r.range = S3ByteRange{5, 2};
  EXPECT_EQ(client_->GetObject(kBucket, "get/digits", r).status().code(), StatusCode::kInvalidArgument);

  // To a file: 304 leaves the file alone, a ranged get writes just the range.
  const std::string path = dir_ + "/out.bin";
  WriteFile(path, "untouched");
  auto nm_file = client_->GetObjectToFile(kBucket, "get/digits", path, same);
  ASSERT_TRUE(nm_file.ok());
  EXPECT_TRUE(nm_file->not_modified);
  EXPECT_EQ(ReadFile(path), "untouched");
  r.range = S3ByteRange{1, 3};
  auto ranged_file = client_->GetObjectToFile(kBucket, "get/digits", path, r);
  ASSERT_TRUE(ranged_file.ok()) << ranged_file.status().ToString();
  EXPECT_EQ(ReadFile(path), "123");
  EXPECT_TRUE(ranged_file->body.empty());
  EXPECT_EQ(ranged_file->content_length, 3u);
  auto missing_file = client_->GetObjectToFile(kBucket, "get/none", dir_ + "/none.bin");
  EXPECT_EQ(missing_file.status().code(), StatusCode::kNotFound);
}

TEST_F(S3Test, OddKeysRoundTripExactly) {
  const std::vector<std::string> keys = {kOddKey, "odd/a//b", "odd/a/b", "odd/./x", "odd/sp ace/\xE2\x82\xAC%41"};
  for (size_t i = 0; i < keys.size(); ++i) {
    auto put = client_->PutObject(kBucket, keys[i], "body-" + std::to_string(i));
    ASSERT_TRUE(put.ok()) << keys[i] << ": " << put.status().ToString();
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    auto got = client_->GetObject(kBucket, keys[i]);
    ASSERT_TRUE(got.ok()) << keys[i] << ": " << got.status().ToString();
    EXPECT_EQ(got->body, "body-" + std::to_string(i)) << keys[i];  // "a//b" and "a/b" stay distinct
    EXPECT_TRUE(client_->HeadObject(kBucket, keys[i]).ok()) << keys[i];
  }
  S3ListRequest list;
  list.bucket = kBucket;
  list.prefix = "odd/";
  auto page = client_->ListObjectsV2(list);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> listed;
  for (const auto& o : page->objects) listed.push_back(o.key);
  EXPECT_EQ(listed, (std::vector<std::string>{"odd/./x", "odd/a//b", "odd/a/b", "odd/sp ace/\xE2\x82\xAC%41"}));
  list.prefix = "dir/my key+";
  page = client_->ListObjectsV2(list);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, kOddKey);

  auto copy = client_->CopyObject(kBucket, kOddKey, kBucket, "odd/copy of " + kOddKey);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(client_->GetObject(kBucket, "odd/copy of " + kOddKey)->body, "body-0");
  auto del = client_->DeleteObjects(kBucket, keys);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->deleted.size(), keys.size());
  EXPECT_TRUE(del->errors.empty());
  EXPECT_EQ(client_->HeadObject(kBucket, kOddKey).status().code(), StatusCode::kNotFound);
}

TEST_F(S3Test, FilesStreamBothWays) {
  const std::string src = dir_ + "/src.bin";
  const std::string data = RandomBytes(3 * kMiB + 123, 7);
  WriteFile(src, data);
  auto put = client_->PutFile(kBucket, "files/small.bin", src);  // below the 8 MiB threshold: one PUT
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag.find('-'), std::string::npos) << put->etag;  // single-part ETag
  const std::string dst = dir_ + "/dst.bin";
  auto got = client_->GetObjectToFile(kBucket, "files/small.bin", dst);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->content_length, data.size());
  EXPECT_TRUE(ReadFile(dst) == data);
  EXPECT_EQ(client_->PutObjectFromFile(kBucket, "files/x", dir_ + "/missing").status().code(), StatusCode::kIOError);
}

TEST_F(S3Test, MultipartUploadOf20MiBReadsBackByteIdentical) {
  const std::string src = dir_ + "/big.bin";
  const std::string data = RandomBytes(20 * kMiB + 4321, 42);
  WriteFile(src, data);
  S3PutOptions po;
  po.if_none_match_any = true;
  po.metadata = {{"kind", "snapshot"}};
  auto put = client_->PutFile(kBucket, "mp/big.bin", src, po);  // 5 parts of 5 MiB, 3 threads
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_NE(put->etag.find("-5\""), std::string::npos) << put->etag;

  auto head = client_->HeadObject(kBucket, "mp/big.bin");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->metadata["kind"], "snapshot");
  const std::string dst = dir_ + "/big.out";
  ASSERT_TRUE(client_->GetObjectToFile(kBucket, "mp/big.bin", dst).ok());
  EXPECT_TRUE(ReadFile(dst) == data) << "multipart object differs from the source file";
  // A range across the first part boundary.
  S3GetOptions r;
  r.range = S3ByteRange{5 * kMiB - 10, static_cast<int64_t>(5 * kMiB + 9)};
  auto mid = client_->GetObject(kBucket, "mp/big.bin", r);
  ASSERT_TRUE(mid.ok());
  EXPECT_TRUE(mid->body == data.substr(5 * kMiB - 10, 20));

  // The same conditional upload again loses at CompleteMultipartUpload and is aborted.
  auto again = client_->UploadFileMultipart(kBucket, "mp/big.bin", src, po);
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed) << again.status().ToString();
  // A failing upload (no such bucket) reports the first error.
  auto bad = client_->UploadFileMultipart("no-such-bucket", "k", src);
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound) << bad.status().ToString();
}

TEST_F(S3Test, ListObjectsV2PagesAndDelimiter) {
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i) keys.push_back("list/k" + std::to_string(i));
  for (const auto& k : keys) ASSERT_TRUE(client_->PutObject(kBucket, k, k).ok());
  S3ListRequest req;
  req.bucket = kBucket;
  req.prefix = "list/";
  req.max_keys = 3;
  std::vector<std::string> seen;
  std::vector<size_t> sizes;
  int pages = 0;
  while (true) {
    auto page = client_->ListObjectsV2(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    sizes.push_back(page->objects.size());
    for (const auto& o : page->objects) {
      seen.push_back(o.key);
      EXPECT_EQ(o.size, o.key.size());
      EXPECT_FALSE(o.etag.empty());
    }
    if (!page->is_truncated) break;
    ASSERT_FALSE(page->next_continuation_token.empty());
    req.continuation_token = page->next_continuation_token;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(seen, keys);
  req.continuation_token.clear();
  auto all = client_->ListAllObjects(req);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->objects.size(), 7u);
  EXPECT_EQ(all->objects.back().key, "list/k6");
  req.start_after = "list/k4";
  all = client_->ListAllObjects(req);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->objects.size(), 2u);

  for (const char* k : {"tree/a/1", "tree/a/2", "tree/b/1", "tree/c"}) ASSERT_TRUE(client_->PutObject(kBucket, k, "x").ok());
  S3ListRequest tree;
  tree.bucket = kBucket;
  tree.prefix = "tree/";
  tree.delimiter = "/";
  auto grouped = client_->ListAllObjects(tree);
  ASSERT_TRUE(grouped.ok()) << grouped.status().ToString();
  EXPECT_EQ(grouped->common_prefixes, (std::vector<std::string>{"tree/a/", "tree/b/"}));
  ASSERT_EQ(grouped->objects.size(), 1u);
  EXPECT_EQ(grouped->objects[0].key, "tree/c");
  tree.max_keys = 1001;
  EXPECT_EQ(client_->ListObjectsV2(tree).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3Test, DeleteObjectsReportsEveryKey) {
  std::vector<std::string> keys = {"del/a", "del/b", "del/c d&e"};
  for (const auto& k : keys) ASSERT_TRUE(client_->PutObject(kBucket, k, "x").ok());
  keys.push_back("del/never-existed");
  auto r = client_->DeleteObjects(kBucket, keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> deleted = r->deleted;
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"del/a", "del/b", "del/c d&e", "del/never-existed"}));
  EXPECT_TRUE(r->errors.empty());
  S3ListRequest req;
  req.bucket = kBucket;
  req.prefix = "del/";
  EXPECT_TRUE(client_->ListObjectsV2(req)->objects.empty());
  auto none = client_->DeleteObjects(kBucket, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->deleted.empty());
}

TEST_F(S3Test, CopyObjectKeepsOrReplacesMetadata) {
  S3PutOptions po;
  po.content_type = "application/json";
  po.metadata = {{"v", "1"}};
  auto src = client_->PutObject(kBucket, "copy/src", "{\"a\":1}", po);
  ASSERT_TRUE(src.ok());
  auto kept = client_->CopyObject(kBucket, "copy/src", kBucket, "copy/kept");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->etag, src->etag);
  auto kept_head = client_->HeadObject(kBucket, "copy/kept");
  ASSERT_TRUE(kept_head.ok());
  EXPECT_EQ(kept_head->metadata["v"], "1");
  S3PutOptions replace;
  replace.metadata = {{"v", "2"}};
  ASSERT_TRUE(client_->CopyObject(kBucket, "copy/src", kBucket, "copy/replaced", replace).ok());
  auto replaced = client_->GetObject(kBucket, "copy/replaced");
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->body, "{\"a\":1}");
  EXPECT_EQ(replaced->info.metadata["v"], "2");
  auto missing = client_->CopyObject(kBucket, "copy/none", kBucket, "copy/x");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST_F(S3Test, BucketLifecycle) {
  ASSERT_TRUE(client_->CreateBucket("cp-life").ok());
  // us-east-1 answers 200 for a bucket the caller already owns (S3 API Reference CreateBucket);
  // every other region answers 409 BucketAlreadyOwnedByYou.
  EXPECT_TRUE(client_->CreateBucket("cp-life").ok());
  ClientConfig eu = moto_->Config(admin_);
  eu.region = "eu-west-1";
  S3Client eu_client(eu);
  ASSERT_TRUE(eu_client.CreateBucket("cp-life-eu").ok());
  Status dup = eu_client.CreateBucket("cp-life-eu");
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_TRUE(eu_client.DeleteBucket("cp-life-eu").ok());
  ASSERT_TRUE(client_->PutObject("cp-life", "k", "v").ok());
  Status not_empty = client_->DeleteBucket("cp-life");
  EXPECT_EQ(not_empty.code(), StatusCode::kInvalidArgument) << not_empty.ToString();
  EXPECT_EQ(not_empty.aws()->error_code, "BucketNotEmpty");
  ASSERT_TRUE(client_->DeleteObject("cp-life", "k").ok());
  ASSERT_TRUE(client_->DeleteBucket("cp-life").ok());
  EXPECT_EQ(client_->GetObject("cp-life", "k").status().aws()->error_code, "NoSuchBucket");
  EXPECT_EQ(client_->CreateBucket("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->PutObject(kBucket, "", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3Test, WrongSecretIsUnauthenticatedAndNeverQuoted) {
  Credentials bad = admin_;
  bad.secret_access_key = "WRONG/secret+value/thatIsNotTheRealOne00";
  S3Client wrong(moto_->Config(bad));
  auto put = wrong.PutObject(kBucket, "auth/x", "x");
  ASSERT_EQ(put.status().code(), StatusCode::kUnauthenticated) << put.status().ToString();
  EXPECT_EQ(put.status().aws()->error_code, "SignatureDoesNotMatch");
  EXPECT_EQ(put.status().aws()->http_status, 403);
  EXPECT_EQ(put.status().ToString().find(bad.secret_access_key), std::string::npos);
  auto get = wrong.GetObject(kBucket, "get/digits");
  EXPECT_EQ(get.status().code(), StatusCode::kUnauthenticated) << get.status().ToString();
  EXPECT_EQ(get.status().ToString().find(bad.secret_access_key), std::string::npos);
  ExpectNoSecret(put.status());

  Credentials unknown{"AKIAUNKNOWNKEY000000", admin_.secret_access_key, ""};
  S3Client stranger(moto_->Config(unknown));
  S3ListRequest lr;
  lr.bucket = kBucket;
  auto list = stranger.ListObjectsV2(lr);
  ASSERT_EQ(list.status().code(), StatusCode::kUnauthenticated) << list.status().ToString();
  EXPECT_EQ(list.status().aws()->error_code, "InvalidAccessKeyId");
  ExpectNoSecret(list.status());
}

TEST_F(S3Test, IamPolicyForbidsCallsOutsideIt) {
  S3Client writer(moto_->Config(*writer_));
  auto allowed = writer.PutObject(kBucket, "delta/a", "d");
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  auto outside = writer.PutObject(kBucket, "snapshot/x", "s");
  ASSERT_EQ(outside.status().code(), StatusCode::kPermissionDenied) << outside.status().ToString();
  EXPECT_EQ(outside.status().aws()->error_code, "AccessDenied");
  auto read = writer.GetObject(kBucket, "delta/a");
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied) << read.status().ToString();
  S3ListRequest lr;
  lr.bucket = kBucket;
  lr.prefix = "delta/";
  auto list = writer.ListObjectsV2(lr);
  EXPECT_EQ(list.status().code(), StatusCode::kPermissionDenied) << list.status().ToString();
  ExpectNoSecret(outside.status());
  ExpectNoSecret(list.status());
}

TEST_F(S3Test, AssumedRoleSessionCredentialsAreSignedAndEnforced) {
  ASSERT_FALSE(role_->session_token.empty());
  S3Client role(moto_->Config(*role_));
  auto put = role.PutObject(kBucket, "role/x", "from a role");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto got = role.GetObject(kBucket, "role/x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "from a role");
  Status del = role.DeleteObject(kBucket, "role/x");  // not in the role's policy
  EXPECT_EQ(del.code(), StatusCode::kPermissionDenied) << del.ToString();

  Credentials bad_token = *role_;
  bad_token.session_token = "FQoGZXIvYXdzEBogus" + role_->session_token.substr(0, 8);
  auto bad = S3Client(moto_->Config(bad_token)).GetObject(kBucket, "role/x");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated) << bad.status().ToString();
  EXPECT_EQ(bad.status().aws()->error_code, "InvalidToken");
  Credentials no_token = *role_;
  no_token.session_token.clear();
  auto missing = S3Client(moto_->Config(no_token)).GetObject(kBucket, "role/x");
  EXPECT_EQ(missing.status().code(), StatusCode::kUnauthenticated) << missing.status().ToString();
  EXPECT_EQ(missing.status().aws()->error_code, "InvalidAccessKeyId");  // ASIA key without its token
  for (const Status& s : {del, bad.status(), missing.status()}) {
    EXPECT_EQ(s.ToString().find(role_->secret_access_key), std::string::npos) << s.ToString();
    EXPECT_EQ(s.ToString().find(role_->session_token), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace chromapact::aws
