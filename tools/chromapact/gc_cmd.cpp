// chromapact gc COLLECTION [--shard N]... [--keep N] [--min-age-ms MS] [--dry-run]: removes old
// snapshot versions, abandoned uploads and the log entries no retained version needs (ops/gc.h
// has the rules), under the shard's compaction lease.
#include <cinttypes>
#include <cstdio>

#include "chromapact/ops/gc.h"
#include "commands.h"

namespace chromapact::cli {
namespace {

void PrintGc(const ops::GcResult& r) {
  const char* would = r.dry_run ? "would delete" : "deleted";
  std::printf("%s#%d%s: pointer %s\n", r.shard.collection.c_str(), r.shard.shard, r.dry_run ? " (dry run)" : "",
              r.pointer ? ("version " + std::to_string(r.pointer->version) + " -> " + r.pointer->manifest_key).c_str()
                        : "none (nothing committed yet)");
  for (const auto& v : r.retained) {
    std::string why;
    if (v.current) why += " current";
    if (v.newest) why += " newest";
    if (v.young) why += " young";
    std::printf("  kept    %6" PRIu64 "  log_position %" PRIu64 "  %s (%s)\n", v.version, v.log_position,
                v.manifest_key.c_str(), why.substr(1).c_str());
  }
  for (const auto& p : r.deleted_versions) std::printf("  %s version %s\n", would, p.c_str());
  for (const auto& p : r.deleted_unfinished) std::printf("  %s unfinished upload %s\n", would, p.c_str());
  std::printf("  %s %" PRIu64 " snapshot objects (%" PRIu64 " bytes), %" PRIu64 " chunks (%" PRIu64
              " bytes), %" PRIu64 " log entries (%" PRIu64 " bytes, through %" PRIu64 "); log cut at %" PRIu64 "\n",
              would, r.objects_deleted, r.bytes_deleted, r.chunks_deleted, r.chunk_bytes_deleted,
              r.log_entries_deleted, r.log_bytes_deleted, r.log_deleted_through, r.log_cut);
}

}  // namespace

void AddGcCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand(
      "gc", "Delete old snapshot versions, abandoned uploads and log entries no retained version needs");
  auto collection = std::make_shared<std::string>();
  auto shards = std::make_shared<std::vector<int>>();
  auto options = std::make_shared<ops::GcOptions>();
  cmd->add_option("collection", *collection, "Collection (its storage key)")->required();
  cmd->add_option("--shard", *shards, "Shard (repeatable; default: every shard)");
  cmd->add_option("--keep", options->keep_versions,
                  "Newest complete versions kept (default 3); the current one is kept anyway");
  cmd->add_option("--min-age-ms", options->min_age_ms,
                  "Nothing younger is deleted (default 3600000 = 1 h; at least 900000)");
  cmd->add_flag("--dry-run", options->dry_run, "Report what would be deleted, delete nothing");
  cmd->callback([ctx, collection, shards, options] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    ExitOnError("gc", ctx->Connect(&objects, &kv));
    *shards = ctx->ShardsOrAll(*shards);
    nlohmann::json doc = nlohmann::json::array();
    for (int s : *shards) {
      auto r = ops::CollectGarbage(objects, kv, &ctx->clock, {*collection, s}, *options);
      ExitOnError("gc", r.status());
      if (ctx->json) {
        doc.push_back(ops::ToJson(*r));
      } else {
        PrintGc(*r);
      }
    }
    if (ctx->json) PrintJson({{"collection", *collection}, {"shards", doc}});
  });
}

}  // namespace chromapact::cli
