// chromapact serve: Chroma's REST API v2 (api/chroma_api.h) on a local HTTP port, against the same
// AWS endpoints the functions use, so `new ChromaClient({host: "127.0.0.1", port})` and
// `chromadb.HttpClient(host, port)` work on a laptop. Prints "CHROMA_URL=http://HOST:PORT" on
// stdout once it listens; serves until SIGINT or SIGTERM. Requests are answered one at a time.
#include <httplib.h>
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <mutex>
#include <thread>

#include "chromapact/api/chroma_api.h"
#include "chromapact/embed/openai_embeddings.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "commands.h"

namespace chromapact::cli {
namespace {

struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 8000;
  int max_batch_size = 500;
  int64_t tail_ttl_ms = 0;
  int64_t min_position_wait_ms = 2000;
};

api::HttpRequest FromHttplib(const httplib::Request& r) {
  api::HttpRequest out;
  out.method = r.method;
  out.path = r.path;
  for (const auto& [k, v] : r.params) out.query[k] = v;
  for (const auto& [k, v] : r.headers) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = v;
  }
  out.body = r.body;
  return out;
}

Status Serve(Context* ctx, const ServeArgs& a) {
  pipeline::ObjectStore* objects = nullptr;
  pipeline::KvStore* kv = nullptr;
  std::string scratch;
  CP_RETURN_IF_ERROR(ctx->Connect(&objects, &kv, "serve", &scratch));
  CP_ASSIGN_OR_RETURN(pipeline::Queue * queue, ctx->Queue());
  CP_ASSIGN_OR_RETURN(auto embedder, embed::EmbeddingFunctionFromEnv());
  pipeline::PointerTable pointers(kv, &ctx->clock);
  pipeline::PointerCache cache(&pointers, &ctx->clock, a.tail_ttl_ms);
  pipeline::QueryServiceOptions read_options;
  read_options.cache_dir = scratch;
  read_options.shards = ctx->shards;
  read_options.kv = kv;
  read_options.tail_ttl_ms = a.tail_ttl_ms;
  read_options.min_position_wait_ms = a.min_position_wait_ms;
  read_options.embedding_function = embedder.get();
  pipeline::QueryService reads(objects, &cache, read_options);
  pipeline::DimensionRegistry dimensions(kv);
  pipeline::CollectionRegistry collections(kv, &ctx->clock);
  api::ChromaApiOptions options;
  options.shards = ctx->shards;
  options.max_batch_size = a.max_batch_size;
  options.producer_id = "chromapact-serve";
  options.embedding_function = embedder.get();
  api::ChromaApi handler({kv, objects, queue, &dimensions, &collections, &reads}, options);

  httplib::Server server;
  std::mutex one_at_a_time;  // ChromaApi and the clients under it are not thread-safe
  auto route = [&](const httplib::Request& req, httplib::Response& res) {
    api::HttpResponse out;
    {
      std::lock_guard<std::mutex> lock(one_at_a_time);
      out = handler.Handle(FromHttplib(req));
    }
    res.status = out.status;
    res.set_content(out.body, out.content_type);
  };
  const char* any = R"(/.*)";
  server.Get(any, route);
  server.Post(any, route);
  server.Put(any, route);
  server.Delete(any, route);
  server.Patch(any, route);
  server.Options(any, route);
  int port = a.port;
  if (port == 0) {
    port = server.bind_to_any_port(a.host);
  } else if (!server.bind_to_port(a.host, port)) {
    port = -1;
  }
  if (port < 0) return Unavailable("serve: cannot listen on " + a.host + ":" + std::to_string(a.port));

  // SIGINT / SIGTERM stop the server from a thread that waits for them (no work in a signal handler).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  std::printf("CHROMA_URL=http://%s:%d\n", a.host.c_str(), port);
  std::fflush(stdout);
  std::fprintf(stderr, "chromapact serve: Chroma REST API v2 on http://%s:%d (bucket %s, table %s, %d shard(s))\n",
               a.host.c_str(), port, ctx->bucket.c_str(), ctx->table.c_str(), ctx->shards);
  const bool listened = server.listen_after_bind();
  if (!listened) pthread_kill(waiter.native_handle(), SIGTERM);  // let the waiter return
  waiter.join();
  return listened ? Status::Ok() : Unavailable("serve: the server stopped unexpectedly");
}

}  // namespace

void AddServeCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("serve", "Chroma's REST API v2 on a local port (for the official Chroma clients)");
  auto a = std::make_shared<ServeArgs>();
  cmd->add_option("--host", a->host, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", a->port, "Port (default 8000; 0 = any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--max-batch-size", a->max_batch_size, "pre-flight max_batch_size (default 500)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tail-ttl-ms", a->tail_ttl_ms,
                  "How long a read trusts its last look at the pointer and the log, ms (default 0: every read looks)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-position-wait-ms", a->min_position_wait_ms,
                  "How long a read waits for the log to be readable past this server's own writes (default 2000)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([ctx, a] { ExitOnError("serve", Serve(ctx, *a)); });
}

}  // namespace chromapact::cli
