#include "chromapact/codec/ulid.h"
#include "chromapact/ops/transfer.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/pipeline/snapshot.h"
#include "source_dir.h"

namespace chromapact::ops {

namespace {

// Appends record i of `page` to `batch`.
void AppendRecord(const store::GetResult& page, size_t i, store::RecordBatch* batch) {
  batch->ids.push_back(page.ids[i]);
  const auto& e = (*page.embeddings)[i];
  batch->embeddings.insert(batch->embeddings.end(), e.begin(), e.end());
  batch->documents.push_back((*page.documents)[i]);
  batch->metadatas.push_back((*page.metadatas)[i]);
}

}  // namespace

Result<ImportResult> ImportCollection(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                      const pipeline::Clock* clock, const std::string& persist_dir,
                                      const ImportOptions& o) {
  if (o.shards < 1) return InvalidArgument("shards: expected >= 1, got " + std::to_string(o.shards));
  CP_RETURN_IF_ERROR(pipeline::ValidateShardId({o.collection, 0}));
  // Nothing is uploaded when any shard already has a version.
  pipeline::PointerTable pointers(kv, clock);
  for (int s = 0; s < o.shards; ++s) {
    CP_ASSIGN_OR_RETURN(auto ptr, pointers.Read({o.collection, s}));
    if (ptr) {
      return Status(StatusCode::kAlreadyExists, "collection '" + o.collection + "' shard " + std::to_string(s) +
                                                    " already has version " + std::to_string(ptr->version) +
                                                    ": import writes only a collection's first version");
    }
  }

  // The source, copied and opened read-write there (older layouts migrate in the copy only).
  CP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> src, OpenSourceCopy(persist_dir, o.work_dir));
  CP_ASSIGN_OR_RETURN(store::CollectionInfo info, PickCollection(*src, o.source_collection, o.collection));
  CP_ASSIGN_OR_RETURN(size_t total, src->Count(info.name));

  ImportResult r;
  r.source_collection = info.name;
  store::CollectionOptions copts;
  copts.hnsw = info.hnsw;
  copts.metadata = info.metadata;
  copts.dimension = info.dimension;
  std::vector<std::unique_ptr<store::Store>> shards;
  for (int s = 0; s < o.shards; ++s) {
    auto st = store::Store::Open(o.work_dir + "/shard-" + std::to_string(s), {});
    if (!st.ok()) return st.status();
    CP_RETURN_IF_ERROR(st.value()->CreateCollection(o.collection, copts).status());
    shards.push_back(std::move(st).value());
  }
  CP_RETURN_IF_ERROR(ForEachRecordPage(*src, info.name, o.page, [&](const store::GetResult& page) -> Status {
    std::vector<store::RecordBatch> batches(shards.size());
    for (size_t i = 0; i < page.ids.size(); ++i) {
      AppendRecord(page, i, &batches[pipeline::ShardForId(page.ids[i], o.shards)]);
    }
    for (size_t s = 0; s < shards.size(); ++s) {
      if (batches[s].ids.empty()) continue;
      if (Status st = shards[s]->Add(o.collection, batches[s]); !st.ok()) {
        return st.WithContext("add to shard " + std::to_string(s));
      }
    }
    r.records += page.ids.size();
    if (o.progress) o.progress(r.records, total);
    return Status::Ok();
  }));
  src.reset();

  // Each shard: persist, publish as version 1 (log_position 0).
  CP_ASSIGN_OR_RETURN(std::string ulid, codec::NewUlid());
  std::vector<std::string> keys;
  for (int s = 0; s < o.shards; ++s) {
    store::Store* st = shards[s].get();
    CP_ASSIGN_OR_RETURN(store::CollectionInfo now, st->GetCollection(o.collection));
    if (now.dimension) r.dimension = static_cast<uint32_t>(*now.dimension);
    codec::Manifest m;
    m.collection = o.collection;
    m.shard = static_cast<uint32_t>(s);
    m.version = 1;
    m.log_position = 0;
    CP_ASSIGN_OR_RETURN(m.record_count, st->Count(o.collection));
    m.dimension = now.dimension ? static_cast<uint32_t>(*now.dimension) : 0;
    m.created_at_ms = clock->NowMs();
    m.base_created_at_ms = m.created_at_ms;  // a major version: its HNSW files hold everything
    m.writer_id = o.writer_id + "." + ulid;
    store::PersistOptions persist;
    persist.purge_log = true;
    persist.vacuum = true;
    CP_RETURN_IF_ERROR(st->Persist(persist));
    shards[s].reset();
    CP_ASSIGN_OR_RETURN(auto pub, pipeline::PublishSnapshot(objects, {o.collection, s},
                                                            o.work_dir + "/shard-" + std::to_string(s), &m));
    r.bytes_uploaded += pub.bytes;
    keys.push_back(pub.manifest_key);
  }
  // The dimension before the pointers, so that no producer can write another one in between.
  if (r.dimension > 0) {
    pipeline::DimensionRegistry dims(kv);
    CP_RETURN_IF_ERROR(dims.Check(o.collection, r.dimension));
  }
  for (int s = 0; s < o.shards; ++s) {
    auto created = pointers.Create({o.collection, s}, 1, keys[s], 0);
    if (!created.ok()) {
      if (created.status().code() == StatusCode::kPreconditionFailed) {
        return Status(StatusCode::kAlreadyExists, created.status().message() +
                                                      " (a compactor committed first; the import's versions are unreferenced)");
      }
      return created.status();
    }
  }
  r.manifest_keys = std::move(keys);
  return r;
}

}  // namespace chromapact::ops
