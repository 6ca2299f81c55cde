// chromapact lease release COLLECTION [--shard N] --force: break-glass for a stuck compaction lease
// (pipeline/lease.h ForceRelease): the owner removed and the fence bumped, so the old holder's next
// heartbeat — the one before its pointer CAS included — fails and it commits nothing.
#include "chromapact/ops/collection_status.h"
#include "chromapact/pipeline/lease.h"
#include "commands.h"

namespace chromapact::cli {

void AddLeaseCommand(CLI::App* app, Context* ctx) {
  auto* lease = app->add_subcommand("lease", "Compaction leases");
  lease->require_subcommand(1);
  auto* cmd = lease->add_subcommand("release", "Break a stuck lease (needs --force)");
  auto collection = std::make_shared<std::string>();
  auto shards = std::make_shared<std::vector<int>>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("collection", *collection, "Collection")->required();
  cmd->add_option("--shard", *shards, "Shard (repeatable; default: every shard)");
  cmd->add_flag("--force", *force, "Release even though a holder may still be working (it will not commit)");
  cmd->callback([ctx, collection, shards, force] {
    if (!*force) {
      ExitOnError("lease release", InvalidArgument("--force: required. Releasing makes the current holder stop "
                                                   "before its commit; a healthy lease ends by itself"));
    }
    auto kv = ctx->Kv();
    ExitOnError("lease release", kv.status());
    *shards = ctx->ShardsOrAll(*shards);
    pipeline::LeaseTable leases(*kv, &ctx->clock);
    nlohmann::json doc = nlohmann::json::array();
    for (int s : *shards) {
      const pipeline::ShardId shard{*collection, s};
      auto before = leases.Read(shard);
      ExitOnError("lease release", before.status());
      auto after = leases.ForceRelease(shard);
      ExitOnError("lease release", after.status());
      const bool was_held = *before && (*before)->HeldAt(ctx->clock.NowMs());
      const std::string owner = *before ? (*before)->owner : "";
      doc.push_back({{"shard", s},
                     {"previous_owner", owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(owner)},
                     {"was_held", was_held},
                     {"fence", after->fence}});
      if (!ctx->json) {
        std::printf("%s: released%s, fence now %lld\n", pipeline::LeaseKey(shard).c_str(),
                    was_held ? (" (was held by " + owner + ")").c_str() : " (was free)",
                    static_cast<long long>(after->fence));
      }
    }
    if (ctx->json) PrintJson({{"collection", *collection}, {"shards", doc}});
  });
}

}  // namespace chromapact::cli
