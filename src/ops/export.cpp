#include <filesystem>
#include <system_error>

#include "chromapact/ops/transfer.h"
#include "chromapact/pipeline/snapshot.h"

namespace chromapact::ops {
namespace fs = std::filesystem;

Result<ExportResult> ExportCollection(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                      const pipeline::Clock* clock, const std::string& out_dir,
                                      const ExportOptions& o) {
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_empty(out_dir, ec)) {
    return Status(StatusCode::kAlreadyExists, "out_dir: '" + out_dir + "' exists and is not empty");
  }
  ExportResult r;
  if (o.shards == 1) {
    // The version itself, fetched straight into out_dir (verified), without manifest.json.
    pipeline::PointerTable pointers(kv, clock);
    CP_ASSIGN_OR_RETURN(auto ptr, pointers.Read({o.collection, 0}));
    if (!ptr) return NotFound("collection '" + o.collection + "' has no committed version");
    fs::create_directories(out_dir, ec);
    pipeline::FetchStats stats;
    CP_ASSIGN_OR_RETURN(auto m, pipeline::FetchSnapshot(objects, ptr->manifest_key, out_dir, &stats));
    fs::remove(fs::path(out_dir) / "manifest.json", ec);
    r.bytes_fetched = stats.bytes_fetched;
    r.versions.push_back(ptr->version);
    r.log_positions.push_back(m.log_position);
    r.records = m.record_count;
    if (o.progress) o.progress(r.records, r.records);
    return r;
  }

  CP_ASSIGN_OR_RETURN(auto committed, FetchCommittedShards(objects, kv, clock, o.collection, o.shards, o.work_dir,
                                                          &r.bytes_fetched));
  uint64_t total = 0;
  for (auto& c : committed) {
    r.versions.push_back(c.pointer.version);
    r.log_positions.push_back(c.manifest.log_position);
    total += c.manifest.record_count;
  }

  // Several shards: one new directory holding every shard's records.
  store::CollectionInfo info;
  CP_ASSIGN_OR_RETURN(info, committed.front().store->GetCollection(o.collection));
  auto out_or = store::Store::Open(out_dir, {});
  if (!out_or.ok()) return out_or.status();
  std::unique_ptr<store::Store> out = std::move(out_or).value();
  store::CollectionOptions copts;
  copts.hnsw = info.hnsw;
  copts.metadata = info.metadata;
  copts.dimension = info.dimension;
  CP_RETURN_IF_ERROR(out->CreateCollection(o.collection, copts).status());
  for (auto& c : committed) {
    CP_RETURN_IF_ERROR(ForEachRecordPage(*c.store, o.collection, o.page, [&](const store::GetResult& page) {
      store::RecordBatch b;
      b.ids = page.ids;
      for (const auto& e : *page.embeddings) b.embeddings.insert(b.embeddings.end(), e.begin(), e.end());
      b.documents = *page.documents;
      b.metadatas = *page.metadatas;
      CP_RETURN_IF_ERROR(out->Add(o.collection, b));
      r.records += page.ids.size();
      if (o.progress) o.progress(r.records, total);
      return Status::Ok();
    }));
  }
  CP_RETURN_IF_ERROR(out->Persist());
  return r;
}

}  // namespace chromapact::ops
