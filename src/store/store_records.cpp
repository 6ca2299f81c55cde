// Writes: every Add/Upsert/Update/Delete appends log rows to embeddings_queue and applies them to the
// METADATA segment (with max_seq_id[METADATA]) in one SQLite transaction, then to the in-memory
// VECTOR segment (persisted by Persist()). Semantics: store.h, rust/segment/src/sqlite_metadata.rs.
#include "store/metadata_segment.h"
#include "store/record_batch.h"
#include "store/store_impl.h"

namespace chromapact::store::internal {

Status StoreImpl::WriteLogRecords(CollectionState* c, std::vector<LogRecord>* records) {
  for (LogRecord& rec : *records) {
    CP_RETURN_IF_ERROR(AppendLog(*db_, c->topic, &rec));
    CP_RETURN_IF_ERROR(ApplyToMetadataSegment(*db_, c->info.metadata_segment_id, rec, schema_.has_array_table)
                           .WithContext("record '" + rec.id + "'"));
  }
  if (!records->empty()) CP_RETURN_IF_ERROR(WriteMaxSeqId(*db_, c->info.metadata_segment_id, records->back().seq_id));
  return Status::Ok();
}

Status StoreImpl::Write(const std::string& collection, const RecordBatch& batch, Op op) {
  const char* what = op == Op::kAdd ? "add" : op == Op::kUpsert ? "upsert" : "update";
  CP_RETURN_IF_ERROR(RequireWritable(what));
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(collection));
  size_t dim = 0;
  CP_RETURN_IF_ERROR(ValidateBatch(batch, op, c->info.dimension, &dim).WithContext(std::string(what) + " to " + collection));
  std::vector<LogRecord> records = ToLogRecords(batch, op, dim);
  const bool set_dim = !c->info.dimension && !batch.embeddings.empty();
  {
    CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*db_));
    if (set_dim) {
      CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare("UPDATE collections SET dimension = ? WHERE id = ?"));
      st->Bind(1, static_cast<int64_t>(dim)).Bind(2, std::string_view(c->info.id));
      CP_RETURN_IF_ERROR(st->Run().WithContext("set collection dimension"));
    }
    CP_RETURN_IF_ERROR(WriteLogRecords(c, &records).WithContext(std::string(what) + " to " + collection));
    CP_RETURN_IF_ERROR(txn->Commit());
  }
  if (set_dim) CP_RETURN_IF_ERROR(EnsureVectors(c, dim));
  if (c->vectors && !batch.embeddings.empty()) CP_RETURN_IF_ERROR(c->vectors->Reserve(c->vectors->size() + records.size()));
  for (const LogRecord& rec : records) {
    CP_RETURN_IF_ERROR(ApplyToVectors(c, rec).WithContext(std::string(what) + " to " + collection));
    c->applied_seq = rec.seq_id;
  }
  return Status::Ok();
}

Status StoreImpl::Add(const std::string& collection, const RecordBatch& batch) {
  return Write(collection, batch, Op::kAdd);
}
Status StoreImpl::Upsert(const std::string& collection, const RecordBatch& batch) {
  return Write(collection, batch, Op::kUpsert);
}
Status StoreImpl::Update(const std::string& collection, const RecordBatch& batch) {
  return Write(collection, batch, Op::kUpdate);
}

Result<size_t> StoreImpl::Delete(const std::string& collection, const std::optional<std::vector<std::string>>& ids,
                                 const nlohmann::json& where, const nlohmann::json& where_document) {
  CP_RETURN_IF_ERROR(RequireWritable("delete"));
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(collection));
  const bool has_where = where.is_object() && !where.empty();
  const bool has_doc = where_document.is_object() && !where_document.empty();
  if (!ids && !has_where && !has_doc) return InvalidArgument("delete: give ids, where or where_document");
  CP_ASSIGN_OR_RETURN(auto matched, Match(*c, ids, where, where_document, std::nullopt, 0));
  if (matched.empty()) return size_t{0};
  std::vector<LogRecord> records(matched.size());
  for (size_t i = 0; i < matched.size(); ++i) {
    records[i].op = Op::kDelete;
    records[i].id = matched[i].second;
  }
  {
    CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*db_));
    CP_RETURN_IF_ERROR(WriteLogRecords(c, &records).WithContext("delete from " + collection));
    CP_RETURN_IF_ERROR(txn->Commit());
  }
  for (const LogRecord& rec : records) {
    CP_RETURN_IF_ERROR(ApplyToVectors(c, rec).WithContext("delete from " + collection));
    c->applied_seq = rec.seq_id;
  }
  return matched.size();
}

}  // namespace chromapact::store::internal
