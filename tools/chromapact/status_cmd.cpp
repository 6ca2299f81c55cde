// chromapact status [COLLECTION...]: pointer, version, log position, pending deltas, lease and DLQ
// depth. Without a collection: every collection that has a log or a snapshot in the bucket.
#include <set>

#include "chromapact/aws/sqs.h"
#include "chromapact/aws/credentials.h"
#include "chromapact/ops/collection_status.h"
#include "commands.h"

namespace chromapact::cli {
namespace {

// Collections with objects under deltas/ or snapshots/ (ListObjectsV2 with delimiter "/").
Result<std::vector<std::string>> ListCollections(Context* ctx) {
  CP_ASSIGN_OR_RETURN(aws::S3Client * s3, ctx->S3());
  std::set<std::string> names;
  for (const std::string root : {"deltas/", "snapshots/"}) {
    aws::S3ListRequest req;
    req.bucket = ctx->bucket;
    req.prefix = root;
    req.delimiter = "/";
    CP_ASSIGN_OR_RETURN(aws::S3ListPage page, s3->ListAllObjects(req));
    for (const std::string& p : page.common_prefixes) {
      std::string name = p.substr(root.size());
      if (!name.empty() && name.back() == '/') name.pop_back();
      if (!name.empty()) names.insert(name);
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

// ApproximateNumberOfMessages (+ NotVisible) of the DLQ; nullopt without --dlq-url.
Result<std::optional<int64_t>> DlqDepth(Context* ctx) {
  if (ctx->dlq_url.empty()) return std::optional<int64_t>();
  CP_ASSIGN_OR_RETURN(auto config, aws::ClientConfigFromEnvironment("sqs"));
  aws::SqsClient sqs(config);
  CP_ASSIGN_OR_RETURN(auto attrs, sqs.GetQueueAttributes(ctx->dlq_url, {"ApproximateNumberOfMessages",
                                                                        "ApproximateNumberOfMessagesNotVisible"}));
  int64_t n = 0;
  for (const char* k : {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}) {
    auto it = attrs.find(k);
    if (it != attrs.end()) n += std::stoll(it->second);
  }
  return std::optional<int64_t>(n);
}

void PrintText(const ops::CollectionStatus& st) {
  std::printf("collection %s: %llu records, %llu pending log entries, %zu shard(s)\n", st.collection.c_str(),
              static_cast<unsigned long long>(st.record_count), static_cast<unsigned long long>(st.pending),
              st.shards.size());
  for (const ops::ShardStatus& s : st.shards) {
    if (s.pointer) {
      std::printf("  shard %d: version %lld (committed %s), log_position %llu, %llu records, dim %u",
                  s.shard, static_cast<long long>(s.pointer->version),
                  ops::FormatUtcMs(s.pointer->committed_at_ms).c_str(),
                  static_cast<unsigned long long>(s.log_position), static_cast<unsigned long long>(s.record_count),
                  s.dimension);
      if (s.skipped > 0) std::printf(", %llu skipped", static_cast<unsigned long long>(s.skipped));
      std::printf("\n");
    } else {
      std::printf("  shard %d: no version yet\n", s.shard);
    }
    std::printf("    log: last sequence %llu, %llu pending\n", static_cast<unsigned long long>(s.last_sequence),
                static_cast<unsigned long long>(s.pending));
    if (s.lease && s.lease_held) {
      std::printf("    lease: held by %s (fence %lld) until %s\n", s.lease->owner.c_str(),
                  static_cast<long long>(s.lease->fence), ops::FormatUtcMs(s.lease->expires_at_ms).c_str());
    } else {
      std::printf("    lease: free (fence %lld)\n", static_cast<long long>(s.lease ? s.lease->fence : 0));
    }
  }
}

}  // namespace

void AddStatusCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("status", "Pointer, version, log position, pending deltas, lease and DLQ depth");
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_option("collection", *names, "Collections (default: every collection in the bucket)");
  cmd->callback([ctx, names] {
    pipeline::ObjectStore* objects = nullptr;
    pipeline::KvStore* kv = nullptr;
    ExitOnError("status", ctx->Connect(&objects, &kv));
    if (names->empty()) {
      auto all = ListCollections(ctx);
      ExitOnError("status", all.status());
      *names = *all;
    }
    auto depth = DlqDepth(ctx);
    ExitOnError("status", depth.status());
    nlohmann::json doc = {{"collections", nlohmann::json::array()}, {"dlq_depth", nullptr}};
    if (*depth) doc["dlq_depth"] = **depth;
    for (const std::string& name : *names) {
      auto st = ops::ReadCollectionStatus(objects, kv, &ctx->clock, name, ctx->shards);
      ExitOnError("status", st.status());
      if (ctx->json) {
        doc["collections"].push_back(ops::ToJson(*st));
      } else {
        PrintText(*st);
      }
    }
    if (ctx->json) {
      PrintJson(doc);
    } else {
      if (names->empty()) std::printf("no collections in bucket %s\n", ctx->bucket.c_str());
      if (*depth) std::printf("dead-letter queue: %lld message(s)\n", static_cast<long long>(**depth));
    }
  });
}

}  // namespace chromapact::cli
