#include "store/metadata_segment.h"

#include <map>
#include <vector>

namespace chromapact::store::internal {
namespace {

Status DeleteDocument(const SqliteDb& db, int64_t oid) {
  CP_ASSIGN_OR_RETURN(Stmt * del_fts, db.Prepare("DELETE FROM embedding_fulltext_search WHERE rowid = ?"));
  del_fts->Bind(1, oid);
  CP_RETURN_IF_ERROR(del_fts->Run());
  CP_ASSIGN_OR_RETURN(Stmt * del_doc, db.Prepare("DELETE FROM embedding_metadata WHERE id = ? AND key = ?"));
  del_doc->Bind(1, oid).Bind(2, std::string_view(kDocumentKey));
  return del_doc->Run();
}

Status WriteDocument(const SqliteDb& db, int64_t oid, const std::string& doc) {
  CP_RETURN_IF_ERROR(DeleteDocument(db, oid));
  CP_ASSIGN_OR_RETURN(Stmt * ins_fts,
                      db.Prepare("INSERT INTO embedding_fulltext_search (rowid, string_value) VALUES (?, ?)"));
  ins_fts->Bind(1, oid).Bind(2, std::string_view(doc));
  CP_RETURN_IF_ERROR(ins_fts->Run());
  CP_ASSIGN_OR_RETURN(Stmt * ins, db.Prepare("INSERT INTO embedding_metadata (id, key, string_value) VALUES (?, ?, ?)"));
  ins->Bind(1, oid).Bind(2, std::string_view(kDocumentKey)).Bind(3, std::string_view(doc));
  return ins->Run();
}

// Writes the keys of `md` (merge); null values delete keys. `skip_nulls` for fresh records.
Status WriteMetadata(const SqliteDb& db, int64_t oid, const nlohmann::json& md, bool has_array_table) {
  if (!md.is_object()) return Status::Ok();
  for (auto it = md.begin(); it != md.end(); ++it) {
    const std::string& key = it.key();
    if (key == kDocumentKey) {
      if (it->is_string()) {
        CP_RETURN_IF_ERROR(WriteDocument(db, oid, it->get<std::string>()));
      } else if (it->is_null()) {
        CP_RETURN_IF_ERROR(DeleteDocument(db, oid));
      }
      continue;
    }
    CP_ASSIGN_OR_RETURN(Stmt * del, db.Prepare("DELETE FROM embedding_metadata WHERE id = ? AND key = ?"));
    del->Bind(1, oid).Bind(2, std::string_view(key));
    CP_RETURN_IF_ERROR(del->Run());
    if (has_array_table) {
      CP_ASSIGN_OR_RETURN(Stmt * del_arr, db.Prepare("DELETE FROM embedding_metadata_array WHERE id = ? AND key = ?"));
      del_arr->Bind(1, oid).Bind(2, std::string_view(key));
      CP_RETURN_IF_ERROR(del_arr->Run());
    }
    if (it->is_null()) continue;
    if (it->is_array()) {
      if (!has_array_table) return NotSupported("metadata key '" + key + "': arrays need Chroma 1.5's schema");
      CP_ASSIGN_OR_RETURN(Stmt * ins_arr, db.Prepare("INSERT INTO embedding_metadata_array (id, key, string_value, "
                                                     "int_value, float_value, bool_value) VALUES (?, ?, ?, ?, ?, ?)"));
      for (const auto& el : *it) {
        ins_arr->Reset();
        ins_arr->Bind(1, oid).Bind(2, std::string_view(key));
        BindTypedValue(ins_arr, 3, el);
        CP_RETURN_IF_ERROR(ins_arr->Run());
      }
      continue;
    }
    CP_ASSIGN_OR_RETURN(Stmt * ins, db.Prepare("INSERT INTO embedding_metadata (id, key, string_value, int_value, "
                                               "float_value, bool_value) VALUES (?, ?, ?, ?, ?, ?)"));
    ins->Bind(1, oid).Bind(2, std::string_view(key));
    BindTypedValue(ins, 3, *it);
    CP_RETURN_IF_ERROR(ins->Run());
  }
  return Status::Ok();
}

Status DeleteRecord(const SqliteDb& db, int64_t oid, bool has_array_table) {
  CP_RETURN_IF_ERROR(DeleteDocument(db, oid));
  CP_ASSIGN_OR_RETURN(Stmt * del_md, db.Prepare("DELETE FROM embedding_metadata WHERE id = ?"));
  del_md->Bind(1, oid);
  CP_RETURN_IF_ERROR(del_md->Run());
  if (has_array_table) {
    CP_ASSIGN_OR_RETURN(Stmt * del_arr, db.Prepare("DELETE FROM embedding_metadata_array WHERE id = ?"));
    del_arr->Bind(1, oid);
    CP_RETURN_IF_ERROR(del_arr->Run());
  }
  CP_ASSIGN_OR_RETURN(Stmt * del, db.Prepare("DELETE FROM embeddings WHERE id = ?"));
  del->Bind(1, oid);
  return del->Run();
}

}  // namespace

void BindTypedValue(Stmt* st, int first, const nlohmann::json& v) {
  st->BindNull(first).BindNull(first + 1).BindNull(first + 2).BindNull(first + 3);
  if (v.is_string()) {
    st->Bind(first, std::string_view(v.get_ref<const std::string&>()));
  } else if (v.is_boolean()) {
    st->Bind(first + 3, static_cast<int64_t>(v.get<bool>() ? 1 : 0));
  } else if (v.is_number_integer()) {
    st->Bind(first + 1, v.get<int64_t>());
  } else if (v.is_number_float()) {
    st->Bind(first + 2, v.get<double>());
  }
}

nlohmann::json ReadTypedValue(const Stmt& st, int col) {
  if (!st.IsNull(col)) return st.Text(col);
  if (!st.IsNull(col + 1)) return st.Int(col + 1);
  if (!st.IsNull(col + 2)) return st.Double(col + 2);
  if (!st.IsNull(col + 3)) return st.Int(col + 3) != 0;
  return nullptr;
}

Result<std::optional<int64_t>> OffsetIdOf(const SqliteDb& db, const std::string& segment_id, const std::string& id) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT id FROM embeddings WHERE segment_id = ? AND embedding_id = ?"));
  st->Bind(1, std::string_view(segment_id)).Bind(2, std::string_view(id));
  CP_ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<int64_t> out;
  if (row) out = st->Int(0);
  st->Reset();
  return out;
}

Status ApplyToMetadataSegment(const SqliteDb& db, const std::string& segment_id, const LogRecord& rec,
                              bool has_array_table) {
  CP_ASSIGN_OR_RETURN(auto oid, OffsetIdOf(db, segment_id, rec.id));
  Op op = rec.op;
  if (op == Op::kUpsert) op = oid ? Op::kUpdate : Op::kAdd;
  switch (op) {
    case Op::kAdd: {
      if (oid) return Status::Ok();  // Chroma ignores an add of an existing id
      CP_ASSIGN_OR_RETURN(Stmt * ins,
                          db.Prepare("INSERT INTO embeddings (segment_id, embedding_id, seq_id) VALUES (?, ?, ?)"));
      ins->Bind(1, std::string_view(segment_id)).Bind(2, std::string_view(rec.id)).Bind(3, rec.seq_id);
      CP_RETURN_IF_ERROR(ins->Run());
      int64_t new_oid = db.LastInsertRowid();
      return WriteMetadata(db, new_oid, rec.metadata, has_array_table);
    }
    case Op::kUpdate: {
      if (!oid) return Status::Ok();  // update of a missing id is ignored
      CP_ASSIGN_OR_RETURN(Stmt * up, db.Prepare("UPDATE embeddings SET seq_id = ? WHERE id = ?"));
      up->Bind(1, rec.seq_id).Bind(2, *oid);
      CP_RETURN_IF_ERROR(up->Run());
      return WriteMetadata(db, *oid, rec.metadata, has_array_table);
    }
    case Op::kDelete:
      if (!oid) return Status::Ok();
      return DeleteRecord(db, *oid, has_array_table);
    case Op::kUpsert:
      break;
  }
  return Internal("unreachable op");
}

Status ReadRecordMetadata(const SqliteDb& db, int64_t offset_id, bool has_array_table, nlohmann::json* metadata,
                          std::optional<std::string>* document) {
  *metadata = nullptr;
  document->reset();
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT key, string_value, int_value, float_value, bool_value "
                                            "FROM embedding_metadata WHERE id = ?"));
  st->Bind(1, offset_id);
  nlohmann::json md = nlohmann::json::object();
  while (true) {
    CP_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    std::string key = st->Text(0);
    if (key == kDocumentKey) {
      if (!st->IsNull(1)) *document = st->Text(1);
      continue;
    }
    md[key] = ReadTypedValue(*st, 1);
  }
  st->Reset();
  if (has_array_table) {
    CP_ASSIGN_OR_RETURN(Stmt * arr, db.Prepare("SELECT key, string_value, int_value, float_value, bool_value "
                                               "FROM embedding_metadata_array WHERE id = ? ORDER BY rowid"));
    arr->Bind(1, offset_id);
    while (true) {
      CP_ASSIGN_OR_RETURN(bool row, arr->Step());
      if (!row) break;
      std::string key = arr->Text(0);
      auto& slot = md[key];
      if (!slot.is_array()) slot = nlohmann::json::array();
      slot.push_back(ReadTypedValue(*arr, 1));
    }
    arr->Reset();
  }
  if (!md.empty()) *metadata = std::move(md);
  return Status::Ok();
}

Result<int64_t> ReadMaxSeqId(const SqliteDb& db, const std::string& segment_id) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT seq_id FROM max_seq_id WHERE segment_id = ?"));
  st->Bind(1, std::string_view(segment_id));
  CP_ASSIGN_OR_RETURN(bool row, st->Step());
  int64_t v = 0;
  if (row && !st->IsNull(0)) {
    auto r = ReadSeqId(*st, 0, "max_seq_id");
    if (!r.ok()) {
      st->Reset();
      return r.status();
    }
    v = *r;
  }
  st->Reset();
  return v;
}

Status WriteMaxSeqId(const SqliteDb& db, const std::string& segment_id, int64_t seq_id) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("INSERT OR REPLACE INTO max_seq_id (segment_id, seq_id) VALUES (?, ?)"));
  st->Bind(1, std::string_view(segment_id)).Bind(2, seq_id);
  return st->Run().WithContext("write max_seq_id");
}

}  // namespace chromapact::store::internal
