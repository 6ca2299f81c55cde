#include "store/log_record.h"

#include <cctype>
#include <cstring>

namespace chromapact::store::internal {

std::string TopicFor(const std::string& collection_id) {
  return "persistent://default/default/" + collection_id;
}

Result<int64_t> ReadSeqId(const Stmt& st, int col, const char* what) {
  switch (st.Type(col)) {
    case SQLITE_INTEGER:
      return st.Int(col);
    case SQLITE_BLOB: {
      std::string_view b = st.Blob(col);
      if (b.size() != 8) return Corruption(std::string(what) + ": seq_id BLOB of " + std::to_string(b.size()) + " bytes");
      uint64_t v = 0;
      for (unsigned char c : b) v = (v << 8) | c;
      return static_cast<int64_t>(v);
    }
    default:
      return Corruption(std::string(what) + ": seq_id is neither INTEGER nor 8-byte BLOB");
  }
}

Status AppendLog(const SqliteDb& db, const std::string& topic, LogRecord* rec) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("INSERT INTO embeddings_queue (operation, topic, id, vector, encoding, "
                                            "metadata) VALUES (?, ?, ?, ?, ?, ?)"));
  st->Bind(1, static_cast<int64_t>(rec->op)).Bind(2, std::string_view(topic)).Bind(3, std::string_view(rec->id));
  if (rec->embedding) {
    std::string_view bytes(reinterpret_cast<const char*>(rec->embedding->data()), rec->embedding->size() * sizeof(float));
    st->BindBlob(4, bytes).Bind(5, std::string_view("FLOAT32"));
  } else {
    st->BindNull(4).BindNull(5);
  }
  if (rec->op == Op::kDelete) {
    st->Bind(6, std::string_view("{}"));
  } else if (rec->metadata.is_object()) {
    st->Bind(6, std::string_view(rec->metadata.dump()));
  } else {
    st->BindNull(6);
  }
  CP_RETURN_IF_ERROR(st->Run().WithContext("append to embeddings_queue"));
  rec->seq_id = db.LastInsertRowid();
  return Status::Ok();
}

Status ForEachLogRecord(const SqliteDb& db, const std::string& topic, int64_t after,
                        const std::function<Status(const LogRecord&)>& fn) {
  constexpr int64_t kChunk = 2000;
  int64_t cursor = after;
  while (true) {
    std::vector<LogRecord> chunk;
    {
      CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT seq_id, operation, id, vector, encoding, metadata "
                                                "FROM embeddings_queue WHERE topic = ? AND seq_id > ? "
                                                "ORDER BY seq_id LIMIT ?"));
      st->Bind(1, std::string_view(topic)).Bind(2, cursor).Bind(3, kChunk);
      while (true) {
        CP_ASSIGN_OR_RETURN(bool row, st->Step());
        if (!row) break;
        LogRecord r;
        r.seq_id = st->Int(0);
        cursor = r.seq_id;
        const std::string where = "embeddings_queue seq_id " + std::to_string(r.seq_id);
        int64_t op = st->Int(1);
        if (op < 0 || op > 4) return Corruption(where + ": unknown operation " + std::to_string(op));
        if (op == 4) continue;  // BackfillFn: nothing to apply here
        r.op = static_cast<Op>(op);
        r.id = st->Text(2);
        if (!st->IsNull(3)) {
          std::string enc = st->IsNull(4) ? "FLOAT32" : st->Text(4);
          for (auto& c : enc) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          if (enc != "FLOAT32") return NotSupported(where + ": vector encoding '" + enc + "'");
          std::string_view b = st->Blob(3);
          if (b.size() % sizeof(float) != 0) return Corruption(where + ": vector of " + std::to_string(b.size()) + " bytes");
          std::vector<float> v(b.size() / sizeof(float));
          if (!b.empty()) std::memcpy(v.data(), b.data(), b.size());
          r.embedding = std::move(v);
        }
        if (!st->IsNull(5)) {
          r.metadata = nlohmann::json::parse(st->Text(5), nullptr, false);
          if (r.metadata.is_discarded() || !(r.metadata.is_object() || r.metadata.is_null())) {
            return Corruption(where + ": metadata is not a JSON object");
          }
        }
        chunk.push_back(std::move(r));
      }
      st->Reset();
      if (cursor == after && chunk.empty()) break;
    }
    for (const LogRecord& r : chunk) CP_RETURN_IF_ERROR(fn(r));
    if (cursor == after) break;
    after = cursor;
  }
  return Status::Ok();
}

Result<int64_t> LastLogSeqId(const SqliteDb& db) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT max(seq_id) FROM embeddings_queue"));
  CP_ASSIGN_OR_RETURN(bool row, st->Step());
  int64_t v = (row && !st->IsNull(0)) ? st->Int(0) : 0;
  st->Reset();
  return v;
}

}  // namespace chromapact::store::internal
