// chromapact query COLLECTION (--embedding JSON | --text TEXT): the query function's answer
// (pipeline/query_service.h) from this machine: the committed snapshots fetched into the scratch
// folder, the request in Chroma's shape, the answer as Chroma's REST body (--json) or one line per hit.
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/query_service.h"
#include "commands.h"
#include "chromapact/embed/openai_embeddings.h"

namespace chromapact::cli {
namespace {

struct QueryArgs {
  std::string collection, embedding, text, where, where_document;
  std::vector<std::string> include;
  int n_results = 10;
};

Result<nlohmann::json> ParseJsonFlag(const std::string& flag, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(flag + ": not JSON text: " + text);
  return j;
}

Result<nlohmann::json> BuildRequest(const QueryArgs& a) {
  nlohmann::json req = {{"collection", a.collection}, {"action", "query"}, {"n_results", a.n_results}};
  if (a.embedding.empty() == a.text.empty()) return InvalidArgument("give exactly one of --embedding and --text");
  if (!a.embedding.empty()) {
    CP_ASSIGN_OR_RETURN(nlohmann::json e, ParseJsonFlag("--embedding", a.embedding));
    if (!e.is_array() || e.empty()) return InvalidArgument("--embedding: expected a list of numbers");
    req["query_embeddings"] = e.front().is_array() ? e : nlohmann::json::array({e});
  } else {
    req["query_texts"] = nlohmann::json::array({a.text});
  }
  if (!a.where.empty()) {
    CP_ASSIGN_OR_RETURN(req["where"], ParseJsonFlag("--where", a.where));
  }
  if (!a.where_document.empty()) {
    CP_ASSIGN_OR_RETURN(req["where_document"], ParseJsonFlag("--where-document", a.where_document));
  }
  if (!a.include.empty()) req["include"] = a.include;
  return req;
}

void PrintHits(const nlohmann::json& answer) {
  const auto& ids = answer["ids"];
  for (size_t q = 0; q < ids.size(); ++q) {
    if (ids.size() > 1) std::printf("query %zu:\n", q);
    for (size_t i = 0; i < ids[q].size(); ++i) {
      std::string line = std::to_string(i + 1) + ". " + ids[q][i].get<std::string>();
      if (answer.contains("distances") && answer["distances"].is_array()) {
        char d[32];
        std::snprintf(d, sizeof d, "  distance %.6g", answer["distances"][q][i].get<double>());
        line += d;
      }
      if (answer.contains("documents") && answer["documents"].is_array() && answer["documents"][q][i].is_string()) {
        std::string doc = answer["documents"][q][i].get<std::string>();
        if (doc.size() > 80) doc = doc.substr(0, 77) + "...";
        line += "  " + doc;
      }
      std::printf("%s\n", line.c_str());
    }
  }
}

}  // namespace

void AddQueryCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("query", "k-nearest-neighbour query of a collection's committed versions");
  auto a = std::make_shared<QueryArgs>();
  cmd->add_option("collection", a->collection, "Collection")->required();
  cmd->add_option("--embedding", a->embedding, "Query vector as a JSON list (or a list of lists)");
  cmd->add_option("--text", a->text, "Query text, embedded through $CHROMAPACT_EMBEDDING_URL");
  cmd->add_option("--n-results", a->n_results, "Neighbours per query (default 10)")->check(CLI::PositiveNumber);
  cmd->add_option("--where", a->where, "Chroma `where` filter (JSON)");
  cmd->add_option("--where-document", a->where_document, "Chroma `where_document` filter (JSON)");
  cmd->add_option("--include", a->include, "documents, metadatas, embeddings, distances");
  cmd->callback([ctx, a] {
    auto req = BuildRequest(*a);
    ExitOnError("query", req.status());
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    std::string scratch;
    ExitOnError("query", ctx->Connect(&objects, &kv, "query", &scratch));
    auto embedder = embed::EmbeddingFunctionFromEnv();
    ExitOnError("query", embedder.status());
    pipeline::PointerTable pointers(kv, &ctx->clock);
    pipeline::PointerCache cache(&pointers, &ctx->clock, 0);
    pipeline::QueryServiceOptions options;
    options.cache_dir = scratch;
    options.shards = ctx->shards;
    options.embedding_function = embedder->get();  // nullptr: --text answers "no embedding function configured"
    pipeline::QueryService service(objects, &cache, options);
    auto answer = service.Handle(*req);
    ExitOnError("query", answer.status());
    if (ctx->json) {
      PrintJson(*answer);
    } else {
      PrintHits(*answer);
    }
  });
}

}  // namespace chromapact::cli
