#include <filesystem>

#include "chromapact/ops/transfer.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/snapshot.h"

namespace chromapact::ops {

Result<std::vector<CommittedShard>> FetchCommittedShards(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                                         const pipeline::Clock* clock, const std::string& collection,
                                                         int shards, const std::string& work_dir,
                                                         uint64_t* bytes_fetched) {
  if (shards < 1) return InvalidArgument("shards: expected >= 1, got " + std::to_string(shards));
  pipeline::PointerTable pointers(kv, clock);
  std::vector<CommittedShard> out;
  for (int s = 0; s < shards; ++s) {
    const pipeline::ShardId shard{collection, s};
    CP_RETURN_IF_ERROR(pipeline::ValidateShardId(shard));
    CP_ASSIGN_OR_RETURN(auto ptr, pointers.Read(shard));
    if (!ptr) continue;
    CommittedShard c;
    c.shard = s;
    c.pointer = *ptr;
    c.dir = work_dir + "/shard-" + std::to_string(s);
    pipeline::FetchStats stats;
    CP_ASSIGN_OR_RETURN(c.manifest, pipeline::FetchSnapshot(objects, ptr->manifest_key, c.dir, &stats));
    if (bytes_fetched != nullptr) *bytes_fetched += stats.bytes_fetched;
    store::OpenOptions open;
    open.read_only = true;
    open.immutable = true;
    auto st = store::Store::Open(c.dir, open);
    if (!st.ok()) return st.status().WithContext("open " + shard.ToString() + " version " + std::to_string(ptr->version));
    c.store = std::move(st).value();
    out.push_back(std::move(c));
  }
  if (out.empty()) return NotFound("collection '" + collection + "' has no committed version on any of its " +
                                   std::to_string(shards) + " shard(s)");
  return out;
}

Status ForEachRecordPage(const store::Store& store, const std::string& collection, size_t page,
                         const std::function<Status(const store::GetResult&)>& sink) {
  if (page == 0) return InvalidArgument("page: expected >= 1");
  for (size_t offset = 0;; offset += page) {
    store::GetRequest req;
    req.limit = page;
    req.offset = offset;
    req.include = store::kIncludeEmbeddings | store::kIncludeDocuments | store::kIncludeMetadatas;
    CP_ASSIGN_OR_RETURN(store::GetResult got, store.Get(collection, req));
    if (got.ids.empty()) return Status::Ok();
    CP_RETURN_IF_ERROR(sink(got));
    if (got.ids.size() < page) return Status::Ok();
  }
}

}  // namespace chromapact::ops
