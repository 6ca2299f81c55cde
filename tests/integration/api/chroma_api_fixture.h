// Shared set-up of the REST API integration tests (tests/integration/api): one
// chromapact::api::ChromaApi in-process over the services lambdas/api/main.cpp and
// `chromapact serve` wire up (registry, dimension registry, producer path to S3 + SQS FIFO, query
// service over the pointer cache with the log tail read on every request), all on the suite's
// moto_server with signature checking on (support/pipeline_fixture.h). Requests are HttpRequest
// values as the local server or the Function URL adapter would hand them over. Also: a base64
// float32 encoder written here from the format's definition (little-endian IEEE 754 binary32,
// RFC 4648 alphabet with padding), independent of chromapact's own crypto.h.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chromapact/api/chroma_api.h"
#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "support/pipeline_fixture.h"

namespace chromapact::api::testfixture {

using nlohmann::json;
using pipeline::fixture::PipelineMotoTest;
using pipeline::fixture::Seams;

inline constexpr const char* kDb = "/api/v2/tenants/default_tenant/databases/default_database";

// RFC 4648 base64 (standard alphabet, '=' padding) of `bytes`.
inline std::string B64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// The little-endian bytes of float32 words given by their bit patterns.
inline std::string Float32Bytes(const std::vector<uint32_t>& bits) {
  std::string out;
  for (uint32_t b : bits) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((b >> (8 * k)) & 0xff));
  }
  return out;
}

// What Python's struct.pack("<%df") + base64 gives for `v` (chromadb pack_embedding_safely).
inline std::string PackFloats(const std::vector<float>& v) {
  std::vector<uint32_t> bits;
  for (float f : v) {
    uint32_t u = 0;
    std::memcpy(&u, &f, 4);
    bits.push_back(u);
  }
  return B64(Float32Bytes(bits));
}

inline std::string CollectionsPath() {
  return std::string(kDb) + "/collections";
}
inline std::string RecordPath(const std::string& id, const std::string& op) {
  return CollectionsPath() + "/" + id + "/" + op;
}

class ChromaApiMotoTest : public PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    seams_ = NewSeams(CreateFifoQueue("api-" + std::to_string(++n_)));
    dimensions_ = std::make_unique<pipeline::DimensionRegistry>(seams_.kv.get());
    collections_ = std::make_unique<pipeline::CollectionRegistry>(seams_.kv.get(), &clock_);
    pointers_ = std::make_unique<pipeline::PointerTable>(seams_.kv.get(), &clock_);
    cache_ = std::make_unique<pipeline::PointerCache>(pointers_.get(), &clock_, 0);
    pipeline::QueryServiceOptions reads;
    reads.cache_dir = testing::MakeTempDir("api-reads");
    reads.shards = 1;
    reads.kv = seams_.kv.get();
    reads.read_log_tail = true;
    reads.tail_ttl_ms = 0;
    reads.min_position_wait_ms = 5000;  // the product's bounded wait for this handler's own writes
    reads_ = std::make_unique<pipeline::QueryService>(seams_.objects.get(), cache_.get(), reads);
    api_ = std::make_unique<ChromaApi>(
        ChromaApiServices{seams_.kv.get(), seams_.objects.get(), seams_.queue.get(), dimensions_.get(),
                          collections_.get(), reads_.get()},
        Options());
  }
  // Overridden by suites that want other limits.
  virtual ChromaApiOptions Options() const {
    ChromaApiOptions o;
    o.shards = 1;
    o.producer_id = "api-test";
    return o;
  }

  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::map<std::string, std::string>& query = {}) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = query;
    r.body = body;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    return api_->Handle(r);
  }
  HttpResponse Call(const std::string& method, const std::string& path, const json& body) {
    return Call(method, path, body.dump());
  }
  // The answer's JSON (a test failure and null when it is not JSON).
  static json Body(const HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
    return j.is_discarded() ? json() : j;
  }
  static std::string Collections() { return CollectionsPath(); }
  static std::string Record(const std::string& id, const std::string& op) { return RecordPath(id, op); }
  // Creates `name` through the API (a test failure unless 200); returns its Collection JSON.
  json Create(const std::string& name, const json& extra = json::object()) {
    json body = {{"name", name}};
    body.update(extra);
    HttpResponse r = Call("POST", Collections(), body);
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }
  // Every key under deltas/ in the bucket.
  std::vector<std::string> DeltaKeys() {
    auto listed = seams_.objects->List("deltas/");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const auto& m : *listed) keys.push_back(m.key);
    }
    return keys;
  }

  static inline int n_ = 0;
  pipeline::ManualClock clock_{1'760'000'000'000};
  Seams seams_;
  std::unique_ptr<pipeline::DimensionRegistry> dimensions_;
  std::unique_ptr<pipeline::CollectionRegistry> collections_;
  std::unique_ptr<pipeline::PointerTable> pointers_;
  std::unique_ptr<pipeline::PointerCache> cache_;
  std::unique_ptr<pipeline::QueryService> reads_;
  std::unique_ptr<ChromaApi> api_;
};

}  // namespace chromapact::api::testfixture
