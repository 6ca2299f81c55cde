// S3 PUT + GET throughput of our S3Client against the endpoint in AWS_ENDPOINT_URL(_S3), for
// bench/aws/s3_vs_boto3.sh (which starts a loopback moto and runs the boto3 twin s3_boto3.py with the
// same arguments). A plain main, not Google Benchmark: each repetition is one PutObject (from memory,
// one request, hashed payload) and one GetObject (into memory) of the same object, timed separately.
//
// usage: bench_aws_s3_bench BUCKET SIZE_MIB[,SIZE_MIB...] REPETITIONS
// Output, one CSV row per repetition on stdout: impl,size_mib,rep,put_ms,get_ms,put_cpu_ms,get_cpu_ms
// (impl = "chromapact"; *_ms wall time, *_cpu_ms this process's CPU time (user+sys, all threads):
// against a local moto the wall time is mostly the server's, the CPU time is the client's own cost).
// The bucket is created when missing. Exit 1 on any error or when a GET returns other bytes.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chromapact/aws/s3.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// CPU time of this process so far, ms.
double CpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    for (int b = 0; b < 8; ++b) s[i + b] = static_cast<char>(v >> (8 * b));
  }
  return s;
}

int Fail(const std::string& what, const chromapact::Status& s) {
  std::fprintf(stderr, "s3_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chromapact;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s BUCKET SIZE_MIB[,SIZE_MIB...] REPETITIONS\n", argv[0]);
    return 2;
  }
  const std::string bucket = argv[1];
  std::vector<int> sizes;
  std::stringstream list(argv[2]);
  for (std::string item; std::getline(list, item, ',');) sizes.push_back(std::atoi(item.c_str()));
  const int reps = std::atoi(argv[3]);

  auto client = aws::S3Client::FromEnvironment();
  if (!client.ok()) return Fail("config", client.status());
  aws::S3Client& s3 = **client;
  Status created = s3.CreateBucket(bucket);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return Fail("CreateBucket", created);

  std::printf("impl,size_mib,rep,put_ms,get_ms,put_cpu_ms,get_cpu_ms\n");
  for (int mib : sizes) {
    const std::string body = RandomBytes(static_cast<size_t>(mib) * aws::kMiB, 42 + mib);
    const std::string key = "bench/ours-" + std::to_string(mib) + "MiB";
    for (int rep = 0; rep < reps; ++rep) {
      const double c0 = CpuMs();
      const auto t0 = Clock::now();
      auto put = s3.PutObject(bucket, key, body);
      const auto t1 = Clock::now();
      const double c1 = CpuMs();
      if (!put.ok()) return Fail("PutObject " + key, put.status());
      auto get = s3.GetObject(bucket, key);
      const auto t2 = Clock::now();
      const double c2 = CpuMs();
      if (!get.ok()) return Fail("GetObject " + key, get.status());
      if (get->body != body) return Fail("GetObject " + key, Internal("bytes differ from what was put"));
      std::printf("chromapact,%d,%d,%.3f,%.3f,%.3f,%.3f\n", mib, rep + 1, Ms(t0, t1), Ms(t1, t2), c1 - c0, c2 - c1);
      std::fflush(stdout);
    }
  }
  return 0;
}
