// chromapact import / export / diff: a Chroma persist directory in, a collection out as one, and
// the reconciliation between the two (ops/transfer.h, ops/diff.h).
#include "chromapact/ops/diff.h"
#include "chromapact/ops/transfer.h"
#include "commands.h"

namespace chromapact::cli {
namespace {

std::string Join(const std::vector<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id;
  return s;
}

}  // namespace

void AddImportCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("import", "Upload a Chroma persist directory (0.4 .. 1.5) as a collection's first version");
  auto o = std::make_shared<ops::ImportOptions>();
  auto dir = std::make_shared<std::string>();
  cmd->add_option("persist_dir", *dir, "Chroma persist directory (holds chroma.sqlite3)")->required();
  cmd->add_option("--collection", o->collection, "Name of the chromapact collection to create")->required();
  cmd->add_option("--source-collection", o->source_collection,
                  "Collection in the directory (default: its only one, else --collection)");
  cmd->callback([ctx, o, dir] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    std::string scratch;
    ExitOnError("import", ctx->Connect(&objects, &kv, "import", &scratch));
    o->shards = ctx->shards;
    o->work_dir = scratch;
    ProgressLine progress("import " + o->collection);
    o->progress = [&progress](uint64_t d, uint64_t t) { progress(d, t); };
    auto r = ops::ImportCollection(objects, kv, &ctx->clock, *dir, *o);
    ExitOnError("import", r.status());
    if (ctx->json) {
      PrintJson({{"collection", o->collection},
                 {"source_collection", r->source_collection},
                 {"records", r->records},
                 {"dimension", r->dimension},
                 {"version", 1},
                 {"manifest_keys", r->manifest_keys},
                 {"bytes_uploaded", r->bytes_uploaded}});
    } else {
      std::printf("imported %llu records (dimension %u) from '%s' as version 1 of %s (%d shard(s), %llu bytes uploaded)\n",
                  static_cast<unsigned long long>(r->records), r->dimension, r->source_collection.c_str(),
                  o->collection.c_str(), o->shards, static_cast<unsigned long long>(r->bytes_uploaded));
    }
  });
}

void AddExportCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("export", "Write a collection's committed versions as a directory real Chroma opens");
  auto o = std::make_shared<ops::ExportOptions>();
  auto dir = std::make_shared<std::string>();
  cmd->add_option("collection", o->collection, "Collection")->required();
  cmd->add_option("dir", *dir, "Output directory (must not exist or be empty)")->required();
  cmd->callback([ctx, o, dir] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    std::string scratch;
    ExitOnError("export", ctx->Connect(&objects, &kv, "export", &scratch));
    o->shards = ctx->shards;
    o->work_dir = scratch;
    ProgressLine progress("export " + o->collection);
    o->progress = [&progress](uint64_t d, uint64_t t) { progress(d, t); };
    auto r = ops::ExportCollection(objects, kv, &ctx->clock, *dir, *o);
    ExitOnError("export", r.status());
    if (ctx->json) {
      PrintJson({{"collection", o->collection},
                 {"dir", *dir},
                 {"records", r->records},
                 {"versions", r->versions},
                 {"log_positions", r->log_positions},
                 {"bytes_fetched", r->bytes_fetched}});
    } else {
      std::string positions;
      for (uint64_t p : r->log_positions) positions += (positions.empty() ? "" : ", ") + std::to_string(p);
      std::printf("exported %llu records of %s to %s (log positions %s; later writes are not in it)\n",
                  static_cast<unsigned long long>(r->records), o->collection.c_str(), dir->c_str(),
                  positions.c_str());
    }
  });
}

void AddDiffCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("diff", "Compare a collection with a Chroma persist directory (exit 1 when records differ)");
  auto o = std::make_shared<ops::DiffOptions>();
  auto dir = std::make_shared<std::string>();
  auto min_overlap = std::make_shared<double>(0.9);
  cmd->add_option("collection", o->collection, "Collection")->required();
  cmd->add_option("persist_dir", *dir, "Chroma persist directory")->required();
  cmd->add_option("--source-collection", o->source_collection,
                  "Collection in the directory (default: its only one, else the collection's name)");
  cmd->add_option("--queries", o->queries, "k-NN queries asked of both (default 20)");
  cmd->add_option("--n-results", o->n_results, "k of those queries (default 10)");
  cmd->add_option("--min-overlap", *min_overlap, "Fail when the queries' mean top-k overlap is lower (default 0.9)");
  cmd->callback([ctx, o, dir, min_overlap] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    std::string scratch;
    ExitOnError("diff", ctx->Connect(&objects, &kv, "diff", &scratch));
    o->shards = ctx->shards;
    o->work_dir = scratch;
    auto r = ops::DiffCollection(objects, kv, &ctx->clock, *dir, *o);
    ExitOnError("diff", r.status());
    const bool queries_ok = r->mean_overlap >= *min_overlap;
    if (ctx->json) {
      nlohmann::json doc = ops::ToJson(*r);
      doc["queries"]["ok"] = queries_ok;
      PrintJson(doc);
    } else {
      std::printf("records: %llu in the collection, %llu in the directory\n",
                  static_cast<unsigned long long>(r->collection_records),
                  static_cast<unsigned long long>(r->directory_records));
      std::printf("only in the collection: %llu%s%s\n", static_cast<unsigned long long>(r->only_in_collection),
                  r->only_in_collection_ids.empty() ? "" : ": ", Join(r->only_in_collection_ids).c_str());
      std::printf("only in the directory: %llu%s%s\n", static_cast<unsigned long long>(r->only_in_directory),
                  r->only_in_directory_ids.empty() ? "" : ": ", Join(r->only_in_directory_ids).c_str());
      std::printf("differing: %llu documents, %llu metadatas, %llu embeddings%s%s\n",
                  static_cast<unsigned long long>(r->documents_differ),
                  static_cast<unsigned long long>(r->metadatas_differ),
                  static_cast<unsigned long long>(r->embeddings_differ), r->differing_ids.empty() ? "" : ": ",
                  Join(r->differing_ids).c_str());
      std::printf("queries: %llu asked, %llu identical, mean top-%zu overlap %.3f\n",
                  static_cast<unsigned long long>(r->queries), static_cast<unsigned long long>(r->queries_identical),
                  o->n_results, r->mean_overlap);
      std::printf("%s\n", r->records_equal() && queries_ok ? "equal" : "DIFFERENT");
    }
    if (!r->records_equal() || !queries_ok) throw CLI::RuntimeError(1);
  });
}

}  // namespace chromapact::cli
