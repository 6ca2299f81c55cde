// Persist: HNSW folders of changed VECTOR segments (HnswSegment::Save, Chroma 1.5.9 layout) and
// max_seq_id of both segments = the last log seq applied (docs/chroma-format.md §6); optional log purge
// that keeps the row at min(max_seq_id) (gotcha (a), §3); optional VACUUM when a quarter of the
// file is free pages.
#include <filesystem>
#include <limits>

#include "store/metadata_segment.h"
#include "store/store_impl.h"

namespace chromapact::store::internal {
namespace fs = std::filesystem;

Status StoreImpl::Persist(const PersistOptions& options) {
  CP_RETURN_IF_ERROR(RequireWritable("persist"));
  std::vector<CollectionState*> saved;
  for (auto& [name, c] : collections_) {
    if (options.vectors) CP_RETURN_IF_ERROR(LoadDeferredVectors(c.get()));
    if (!c->vectors) continue;
    const fs::path folder = fs::path(dir_) / c->info.vector_segment_id;
    std::error_code ec;
    const bool missing = !fs::exists(folder / "header.bin", ec);
    if (!c->vectors_dirty && !missing && c->vector_persisted_seq >= c->applied_seq) continue;
    if (!options.vectors && !missing) continue;  // minor: the files stay, the tail is replayed
    CP_RETURN_IF_ERROR(c->vectors->Save(folder.string()).WithContext("persist collection " + name));
    saved.push_back(c.get());
  }
  CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*db_));
  for (CollectionState* c : saved) {
    if (c->applied_seq == 0) continue;
    CP_RETURN_IF_ERROR(WriteMaxSeqId(*db_, c->info.vector_segment_id, c->applied_seq));
    CP_RETURN_IF_ERROR(WriteMaxSeqId(*db_, c->info.metadata_segment_id, c->applied_seq));
  }
  // (The METADATA segment's max_seq_id is written with every write: store_records.cpp.)
  if (options.purge_log) {
    int64_t min_seq = std::numeric_limits<int64_t>::max();
    for (auto& [name, c] : collections_) {
      for (const std::string* seg : {&c->info.vector_segment_id, &c->info.metadata_segment_id}) {
        CP_ASSIGN_OR_RETURN(int64_t s, ReadMaxSeqId(*db_, *seg));
        min_seq = std::min(min_seq, s);
      }
    }
    if (!collections_.empty() && min_seq > 0) {
      CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare("DELETE FROM embeddings_queue WHERE seq_id < ?"));
      st->Bind(1, min_seq);
      CP_RETURN_IF_ERROR(st->Run().WithContext("purge embeddings_queue"));
    }
  }
  CP_RETURN_IF_ERROR(txn->Commit());
  if (options.vacuum) {
    int64_t page_count = 0, free_count = 0;
    {
      CP_ASSIGN_OR_RETURN(auto pages, db_->PrepareOnce("SELECT * FROM pragma_page_count(), pragma_freelist_count()"));
      CP_ASSIGN_OR_RETURN(bool row, pages->Step());
      if (row) {
        page_count = pages->Int(0);
        free_count = pages->Int(1);
      }
    }
    if (free_count * 4 > page_count) CP_RETURN_IF_ERROR(db_->Exec("VACUUM", "vacuum"));
  }
  for (CollectionState* c : saved) {
    c->vectors_dirty = false;
    c->vector_persisted_seq = std::max(c->vector_persisted_seq, c->applied_seq);
  }
  return Status::Ok();
}

Result<uint64_t> StoreImpl::VectorTailRecords(const std::string& collection) const {
  auto it = collections_.find(collection);
  if (it == collections_.end()) return NotFound("collection " + collection + " does not exist");
  const CollectionState& c = *it->second;
  if ((!c.vectors && !c.vectors_deferred) || c.applied_seq <= c.vector_persisted_seq) return uint64_t{0};
  return static_cast<uint64_t>(c.applied_seq - c.vector_persisted_seq);
}

}  // namespace chromapact::store::internal
