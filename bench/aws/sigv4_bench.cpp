// Signing cost per request:
//  * S3 PUT, header form, signing key already cached (the steady state of a Lambda);
//  * DynamoDB JSON POST with a hashed ~300-byte body (the hash is included: a client pays it too);
//  * the signing-key derivation alone: ComputeSigningKey (four HMAC-SHA256, what a cache miss costs)
//    and DeriveSigningKey on a hit (the cache lookup, including the SHA-256 of the secret).
// Run: cmake -S . -B build -DCHROMAPACT_BENCH=ON && cmake --build build --target bench_aws_sigv4_bench &&
//      build/bench/bench_aws_sigv4_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>

#include "chromapact/aws/sigv4.h"
#include "chromapact/crypto.h"

namespace chromapact::aws {
namespace {

const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

void BM_SignS3PutCachedKey(benchmark::State& state) {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "s3";
  p.amz_date = "20261122T120000Z";
  p.s3_rules = true;
  const std::string body_sha = Sha256Hex("payload computed once by the caller when it streams the file");
  for (auto _ : state) {
    SignableRequest req{"PUT",
                        "/chromapact-bucket/snapshots/01JD0000000000000000000000/chroma.sqlite3",
                        {},
                        {{"Host", "127.0.0.1:5000"},
                         {"Content-Type", "application/octet-stream"},
                         {"Content-Length", "1048576"},
                         {"If-None-Match", "*"}},
                        body_sha};
    auto r = SignHeaders(&req, kCreds, p);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SignS3PutCachedKey);

void BM_SignDynamoDbJsonPost(benchmark::State& state) {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "dynamodb";
  p.amz_date = "20261122T120000Z";
  const std::string body =
      R"({"TableName":"chromapact-state","Key":{"pk":{"S":"collection#6a2f"},"sk":{"S":"head"}},)"
      R"("UpdateExpression":"SET #v = :v, #s = :s","ConditionExpression":"#v = :old",)"
      R"("ExpressionAttributeNames":{"#v":"version","#s":"snapshot"},)"
      R"("ExpressionAttributeValues":{":v":{"N":"42"},":old":{"N":"41"},":s":{"S":"01JD000000"}},)"
      R"("ReturnValues":"ALL_NEW"})";
  for (auto _ : state) {
    SignableRequest req{"POST",
                        "/",
                        {},
                        {{"Host", "dynamodb.us-east-1.amazonaws.com"},
                         {"Content-Type", "application/x-amz-json-1.0"},
                         {"X-Amz-Target", "DynamoDB_20120810.UpdateItem"}},
                        Sha256Hex(body)};
    auto r = SignHeaders(&req, kCreds, p);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_SignDynamoDbJsonPost);

void BM_DeriveSigningKeyUncached(benchmark::State& state) {
  for (auto _ : state) {
    auto k = ComputeSigningKey(kCreds.secret_access_key, "20261122", "us-east-1", "s3");
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_DeriveSigningKeyUncached);

void BM_DeriveSigningKeyCached(benchmark::State& state) {
  for (auto _ : state) {
    auto k = DeriveSigningKey(kCreds.secret_access_key, "20261122", "us-east-1", "s3");
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_DeriveSigningKeyCached);

}  // namespace
}  // namespace chromapact::aws
BENCHMARK_MAIN();
