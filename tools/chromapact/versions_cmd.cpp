// chromapact versions COLLECTION [--shard N]: the snapshot versions in S3 (ops/versions.h), the
// current one marked; chromapact rollback COLLECTION --to MANIFEST_KEY | --version N [--shard N]:
// points the shard back at a retained version; the next compaction applies the log after it again.
#include <cinttypes>
#include <cstdio>

#include "chromapact/ops/collection_status.h"
#include "chromapact/ops/versions.h"
#include "commands.h"

namespace chromapact::cli {
namespace {

void PrintVersions(const ops::ShardVersions& sv) {
  std::printf("%s#%d: pointer %s\n", sv.shard.collection.c_str(), sv.shard.shard,
              sv.pointer ? ("version " + std::to_string(sv.pointer->version) + " -> " + sv.pointer->manifest_key).c_str()
                         : "none (nothing committed yet)");
  for (const auto& v : sv.versions) {
    if (v.manifest_key.empty()) {
      std::printf("    %6" PRIu64 "  %-40s unfinished upload: %" PRIu64 " objects, %" PRIu64 " bytes, last %s\n",
                  v.version, v.writer_id.c_str(), v.objects, v.bytes, ops::FormatUtcMs(v.last_modified_ms).c_str());
      continue;
    }
    std::printf("  %s %6" PRIu64 "  %-40s log_position %" PRIu64 " (%s), %" PRIu64 " records, %" PRIu64
                " bytes, created %s%s\n",
                v.current ? "*" : " ", v.version, v.writer_id.c_str(), v.log_position,
                v.base_log_position == v.log_position ? "major"
                                                      : ("minor, HNSW at " + std::to_string(v.base_log_position)).c_str(),
                v.record_count, v.snapshot_bytes, ops::FormatUtcMs(v.created_at_ms).c_str(),
                v.files_present ? "" : "  FILES MISSING");
  }
}

}  // namespace

void AddVersionsCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("versions", "List a collection's snapshot versions in S3 (* = current)");
  auto collection = std::make_shared<std::string>();
  auto shards = std::make_shared<std::vector<int>>();
  cmd->add_option("collection", *collection, "Collection (its storage key)")->required();
  cmd->add_option("--shard", *shards, "Shard (repeatable; default: every shard)");
  cmd->callback([ctx, collection, shards] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    ExitOnError("versions", ctx->Connect(&objects, &kv));
    *shards = ctx->ShardsOrAll(*shards);
    nlohmann::json doc = nlohmann::json::array();
    for (int s : *shards) {
      auto sv = ops::ListVersions(objects, kv, &ctx->clock, {*collection, s});
      ExitOnError("versions", sv.status());
      if (ctx->json) {
        doc.push_back(ops::ToJson(*sv));
      } else {
        PrintVersions(*sv);
      }
    }
    if (ctx->json) PrintJson({{"collection", *collection}, {"shards", doc}});
  });
}

void AddRollbackCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand(
      "rollback", "Point a shard back at a retained version; the next compaction applies the log after it again");
  auto collection = std::make_shared<std::string>();
  auto shard = std::make_shared<int>(0);
  auto to = std::make_shared<std::string>();
  auto version = std::make_shared<uint64_t>(0);
  cmd->add_option("collection", *collection, "Collection (its storage key)")->required();
  cmd->add_option("--shard", *shard, "Shard (default 0)");
  auto* to_opt = cmd->add_option("--to", *to, "Manifest key of the target version (chromapact versions --json)");
  cmd->add_option("--version", *version, "Target version number (when one complete version has it)")
      ->excludes(to_opt);
  cmd->callback([ctx, collection, shard, to, version] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    ExitOnError("rollback", ctx->Connect(&objects, &kv));
    const pipeline::ShardId id{*collection, *shard};
    std::string key = *to;
    if (key.empty()) {
      if (*version == 0) ExitOnError("rollback", InvalidArgument("--to or --version: one is required"));
      auto sv = ops::ListVersions(objects, kv, &ctx->clock, id);
      ExitOnError("rollback", sv.status());
      std::vector<std::string> keys;
      for (const auto& v : sv->versions) {
        if (v.version == *version && !v.manifest_key.empty()) keys.push_back(v.manifest_key);
      }
      if (keys.size() != 1) {
        std::string list;
        for (const auto& k : keys) list += "\n  " + k;
        ExitOnError("rollback", keys.empty() ? NotFound("--version " + std::to_string(*version) +
                                                        ": no complete version has it (chromapact versions)")
                                             : InvalidArgument("--version " + std::to_string(*version) + ": " +
                                                               std::to_string(keys.size()) +
                                                               " complete versions have it; name one with --to:" + list));
      }
      key = keys[0];
    }
    pipeline::Queue* queue = nullptr;
    if (!ctx->queue_url.empty()) {
      auto q = ctx->Queue();
      ExitOnError("rollback", q.status());
      queue = *q;
    }
    auto r = ops::Rollback(objects, kv, queue, &ctx->clock, id, key);
    ExitOnError("rollback", r.status());
    if (ctx->json) {
      PrintJson({{"collection", *collection},
                 {"shard", *shard},
                 {"from", {{"version", r->before.version}, {"manifest_key", r->before.manifest_key}}},
                 {"to", {{"version", r->after.version}, {"manifest_key", r->after.manifest_key}}},
                 {"log_position", r->target.log_position},
                 {"triggered", r->triggered}});
      return;
    }
    std::printf("%s: pointer version %lld -> %lld, now naming %s (log_position %llu)%s\n",
                pipeline::PointerKey(id).c_str(), static_cast<long long>(r->before.version),
                static_cast<long long>(r->after.version), r->after.manifest_key.c_str(),
                static_cast<unsigned long long>(r->target.log_position),
                r->triggered ? "; compaction triggered"
                             : "; no --queue-url: the next scheduled compaction applies the log after it");
  });
}

}  // namespace chromapact::cli
