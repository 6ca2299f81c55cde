// Fuzz target: Chroma's REST API v2 handler (api/chroma_api.h) on any request: routing, query
// parameters, JSON bodies, embeddings (base64 and lists), where / where_document / include, batch
// limits. Storage is inert (inert_services.h): one collection exists, every write fails. Every
// answer must be JSON; an error must be Chroma's {"error", "message"}; and no request may reach
// 500 (an unexpected exception or an unmapped error is a bug in input checking).
//
// Input: byte 0 picks the method; up to the first '\n' is the target (path[?query], where "{id}"
// stands for the collection's UUID); the rest is the body. CHROMAPACT_FUZZ_TRACE=1 prints each
// request and answer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/api/chroma_api.h"
#include "chromapact/api/function_url.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "inert_services.h"

namespace {

using namespace chromapact;

struct Handler {
  fuzz::InertKv kv;
  fuzz::InertObjects objects;
  fuzz::InertQueue queue;
  pipeline::PointerTable pointers{&kv, pipeline::SystemClock::Default()};
  pipeline::PointerCache cache{&pointers, pipeline::SystemClock::Default(), 0};
  std::unique_ptr<pipeline::QueryService> reads;
  pipeline::DimensionRegistry dimensions{&kv};
  pipeline::CollectionRegistry collections{&kv, pipeline::SystemClock::Default()};
  std::unique_ptr<api::ChromaApi> api;
  std::string id;

  Handler() {
    pipeline::QueryServiceOptions o;
    o.cache_dir = (std::filesystem::temp_directory_path() / "chromapact-handler-fuzz").string();
    o.kv = &kv;
    o.tail_ttl_ms = 0;
    o.min_position_wait_ms = 0;
    reads = std::make_unique<pipeline::QueryService>(&objects, &cache, o);
    api::ChromaApiOptions options;
    options.max_batch_size = 8;
    options.max_body_bytes = 64 * 1024;
    api = std::make_unique<api::ChromaApi>(
        api::ChromaApiServices{&kv, &objects, &queue, &dimensions, &collections, reads.get()}, options);
    api::HttpRequest create{"POST", "/api/v2/tenants/default_tenant/databases/default_database/collections",
                            {}, {}, R"({"name": "fuzzed", "configuration": {"hnsw": {"space": "cosine"}}})"};
    const api::HttpResponse r = api->Handle(create);
    if (r.status != 200) std::abort();
    id = nlohmann::json::parse(r.body)["id"].get<std::string>();
    kv.setup = false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Handler* h = new Handler();  // leaked on purpose: lives for the whole run
  if (size == 0) return 0;
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nl = in.find('\n');
  std::string target = in.substr(0, nl);
  for (size_t at; (at = target.find("{id}")) != std::string::npos;) target.replace(at, 4, h->id);
  api::HttpRequest req;
  req.method = kMethods[data[0] % 6];
  const size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    auto query = api::ParseQueryString(target.substr(q + 1));
    if (!query.ok()) return 0;  // a server answers that before the handler
    req.query = std::move(query).value();
  }
  if (nl != std::string::npos) req.body = in.substr(nl + 1);
  const api::HttpResponse r = h->api->Handle(req);
  static const bool trace = std::getenv("CHROMAPACT_FUZZ_TRACE") != nullptr;
  if (trace) std::fprintf(stderr, "%s %s -> %d %s\n", req.method.c_str(), req.path.c_str(), r.status, r.body.c_str());
  const auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) std::abort();
  if (r.status >= 500 && r.status != 501 && r.status != 503) std::abort();
  if (r.status >= 400 && !(body.is_object() && body.contains("error") && body["error"].is_string() &&
                           body.contains("message") && body["message"].is_string())) {
    std::abort();
  }
  return 0;
}
