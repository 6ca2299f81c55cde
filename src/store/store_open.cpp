// Store::Open: the database (fresh or checked/upgraded), every collection's segments, and the log tail
// replayed past each segment's max_seq_id (docs/chroma-format.md §3 "seq_id / max_seq_id / backfill").
#include <filesystem>
#include <random>

#include "store/collection_config.h"
#include "store/metadata_segment.h"
#include "store/store_impl.h"

namespace chromapact::store {
namespace fs = std::filesystem;

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const OpenOptions& options) {
  auto store = std::make_unique<internal::StoreImpl>(dir, options);
  CP_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

namespace internal {
namespace {

// file: URI for `path` (RFC 3986 escaping of the characters SQLite's URI parser treats specially).
std::string FileUri(const std::string& path, const std::string& query) {
  std::string out = "file:";
  for (unsigned char c : fs::absolute(path).string()) {
    if (c == '?' || c == '#' || c == '%' || c < 0x20 || c >= 0x7f) {
      static const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "?" + query;
}

constexpr const char* kQueueConfig = R"({"automatically_purge":true,"_type":"EmbeddingsQueueConfigurationInternal"})";

// Rows of collection_metadata / segment_metadata as a JSON object (null when none).
Result<nlohmann::json> ReadKeyValues(const SqliteDb& db, const std::string& table, const std::string& id_col,
                                     const std::string& id) {
  std::string sql = "SELECT key, str_value, int_value, float_value, bool_value FROM " + table + " WHERE " + id_col +
                    " = ? ORDER BY key";
  auto prepared = db.Prepare(sql);
  if (!prepared.ok()) {  // 0.4: no bool_value column yet
    prepared = db.Prepare("SELECT key, str_value, int_value, float_value, NULL FROM " + table + " WHERE " + id_col +
                          " = ? ORDER BY key");
  }
  if (!prepared.ok()) return prepared.status();
  Stmt* st = *prepared;
  st->Bind(1, std::string_view(id));
  nlohmann::json out = nlohmann::json::object();
  while (true) {
    CP_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out[st->Text(0)] = ReadTypedValue(*st, 1);
  }
  st->Reset();
  if (out.empty()) return nlohmann::json(nullptr);
  return out;
}

}  // namespace

std::string NewUuid() {
  std::random_device rd;
  unsigned char b[16];
  for (size_t i = 0; i < 16; i += 4) {
    uint32_t r = rd();
    for (size_t j = 0; j < 4; ++j) b[i + j] = static_cast<unsigned char>(r >> (8 * j));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

Status StoreImpl::Init() {
  const bool ro = options_.read_only || options_.immutable;
  options_.read_only = ro;
  const std::string db_path = (fs::path(dir_) / kSqliteFileName).string();
  std::error_code ec;
  const bool exists = fs::exists(db_path, ec);
  if (!exists) {
    if (ro || !options_.create_if_missing) return NotFound("persist directory " + dir_ + ": no " + kSqliteFileName);
    fs::create_directories(dir_, ec);
    if (ec) return IOError("create persist directory " + dir_ + ": " + ec.message());
    CP_ASSIGN_OR_RETURN(db_, SqliteDb::Open(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    CP_RETURN_IF_ERROR(CreateFreshSchema(*db_).WithContext("create " + db_path));
    CP_ASSIGN_OR_RETURN(Stmt * cfg, db_->Prepare("INSERT INTO embeddings_queue_config (id, config_json_str) "
                                                 "VALUES (1, ?)"));
    cfg->Bind(1, std::string_view(kQueueConfig));
    CP_RETURN_IF_ERROR(cfg->Run().WithContext("write embeddings_queue_config"));
  } else if (ro) {
    const std::string query = options_.immutable ? "mode=ro&immutable=1" : "mode=ro";
    CP_ASSIGN_OR_RETURN(db_, SqliteDb::Open(FileUri(db_path, query), SQLITE_OPEN_READONLY));
  } else {
    CP_ASSIGN_OR_RETURN(db_, SqliteDb::Open(db_path, SQLITE_OPEN_READWRITE));
  }
  auto info = CheckSchema(*db_, !ro);
  if (!info.ok()) return info.status().WithContext(db_path);
  schema_ = *info;
  if (!ro && schema_.has_queue_config) {
    // Chroma 1.x: with no config row, purge is on for an empty log and off otherwise.
    CP_ASSIGN_OR_RETURN(int64_t last, LastLogSeqId(*db_));
    CP_ASSIGN_OR_RETURN(Stmt * cfg, db_->Prepare("INSERT OR IGNORE INTO embeddings_queue_config (id, "
                                                 "config_json_str) VALUES (1, ?)"));
    const std::string off = R"({"automatically_purge":false,"_type":"EmbeddingsQueueConfigurationInternal"})";
    cfg->Bind(1, std::string_view(last == 0 ? std::string(kQueueConfig) : off));
    CP_RETURN_IF_ERROR(cfg->Run().WithContext("write embeddings_queue_config"));
  }
  return LoadCollections().WithContext(dir_);
}

Status StoreImpl::LoadCollections() {
  struct Row {
    std::string id, name, config, schema, topic;
    std::optional<size_t> dim;
  };
  std::vector<Row> rows;
  {
    std::string sql = std::string("SELECT id, name, dimension, ") +
                      (schema_.collections_have_config ? "config_json_str" : "NULL") + ", " +
                      (schema_.collections_have_schema ? "schema_str" : "NULL") + ", " +
                      (schema_.collections_have_topic ? "topic" : "NULL") +
                      " FROM collections WHERE database_id = ? ORDER BY name";
    auto prepared = db_->Prepare(sql);
    if (!prepared.ok()) return NotSupported("not a Chroma database: " + prepared.status().message());
    Stmt* st = *prepared;
    st->Bind(1, std::string_view(kDefaultDatabaseId));
    while (true) {
      CP_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      Row r;
      r.id = st->Text(0);
      r.name = st->Text(1);
      if (!st->IsNull(2)) {
        if (st->Int(2) <= 0) return Corruption("collection " + r.name + ": dimension " + std::to_string(st->Int(2)));
        r.dim = static_cast<size_t>(st->Int(2));
      }
      r.config = st->Text(3);
      r.schema = st->Text(4);
      r.topic = st->Text(5);
      rows.push_back(std::move(r));
    }
  }
  // Replay may write (metadata segment catch-up): read-only stores work on an in-memory copy then.
  bool copied = false;
  for (const Row& r : rows) {
    CP_ASSIGN_OR_RETURN(auto c, LoadCollection(r.id, r.name, r.dim, r.config, r.schema, r.topic));
    CP_ASSIGN_OR_RETURN(int64_t meta_seq, ReadMaxSeqId(*db_, c->info.metadata_segment_id));
    CP_ASSIGN_OR_RETURN(int64_t vec_seq, ReadMaxSeqId(*db_, c->info.vector_segment_id));
    c->vector_persisted_seq = vec_seq;
    if (options_.read_only && !copied) {
      CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare("SELECT max(seq_id) FROM embeddings_queue WHERE topic = ?"));
      st->Bind(1, std::string_view(c->topic));
      CP_ASSIGN_OR_RETURN(bool row, st->Step());
      int64_t last = (row && !st->IsNull(0)) ? st->Int(0) : 0;
      st->Reset();
      if (last > meta_seq) {
        CP_ASSIGN_OR_RETURN(db_, db_->CopyToMemory());
        copied = true;
      }
    }
    CP_RETURN_IF_ERROR(ReplayLog(c.get(), meta_seq, vec_seq).WithContext("collection " + r.name));
    collections_[r.name] = std::move(c);
  }
  return Status::Ok();
}

Result<std::unique_ptr<CollectionState>> StoreImpl::LoadCollection(const std::string& id, const std::string& name,
                                                                   std::optional<size_t> dimension,
                                                                   const std::string& config,
                                                                   const std::string& schema,
                                                                   const std::string& topic) {
  auto c = std::make_unique<CollectionState>();
  c->info.id = id;
  c->info.name = name;
  c->info.dimension = dimension;
  c->topic = topic.empty() ? TopicFor(id) : topic;
  {
    CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare("SELECT id, scope FROM segments WHERE collection = ?"));
    st->Bind(1, std::string_view(id));
    while (true) {
      CP_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      const std::string scope = st->Text(1);
      if (scope == "METADATA") c->info.metadata_segment_id = st->Text(0);
      if (scope == "VECTOR") c->info.vector_segment_id = st->Text(0);
    }
    st->Reset();
  }
  if (c->info.metadata_segment_id.empty() || c->info.vector_segment_id.empty()) {
    return Corruption("collection " + name + ": lacks a METADATA or VECTOR segment row");
  }
  CP_ASSIGN_OR_RETURN(c->info.metadata, ReadKeyValues(*db_, "collection_metadata", "collection_id", id));
  nlohmann::json legacy = nlohmann::json::object();
  if (c->info.metadata.is_object()) legacy.update(c->info.metadata);
  CP_ASSIGN_OR_RETURN(auto seg_md, ReadKeyValues(*db_, "segment_metadata", "segment_id", c->info.vector_segment_id));
  if (seg_md.is_object()) legacy.update(seg_md);
  CP_ASSIGN_OR_RETURN(c->info.hnsw, ParseHnswParams(config, schema, legacy));
  if (dimension) {
    const std::string folder = (fs::path(dir_) / c->info.vector_segment_id).string();
    std::error_code ec;
    if (options_.defer_vectors && !options_.read_only && fs::exists(fs::path(folder) / "header.bin", ec)) {
      c->vectors_deferred = true;
    } else if (fs::exists(fs::path(folder) / "header.bin", ec)) {
      auto loaded = HnswSegment::Load(folder, *dimension, c->info.hnsw);
      if (!loaded.ok()) return loaded.status().WithContext("collection " + name + ": HNSW segment " + folder);
      c->vectors = std::move(*loaded);
    } else {
      CP_ASSIGN_OR_RETURN(c->vectors, HnswSegment::Create(*dimension, c->info.hnsw));
    }
  }
  return c;
}

Status StoreImpl::EnsureVectors(CollectionState* c, size_t dim) {
  if (c->vectors) {
    if (c->vectors->dim() != dim) {
      return InvalidArgument("expected dimension " + std::to_string(c->vectors->dim()) + ", got " +
                             std::to_string(dim));
    }
    return Status::Ok();
  }
  CP_ASSIGN_OR_RETURN(c->vectors, HnswSegment::Create(dim, c->info.hnsw));
  c->info.dimension = dim;
  return Status::Ok();
}

Status StoreImpl::ApplyToVectors(CollectionState* c, const LogRecord& rec) {
  if (c->vectors_deferred) return Status::Ok();  // the log holds it; LoadDeferredVectors replays it
  if (rec.embedding && !c->vectors) CP_RETURN_IF_ERROR(EnsureVectors(c, rec.embedding->size()));
  if (!c->vectors) return Status::Ok();
  HnswSegment& v = *c->vectors;
  if (rec.embedding && rec.embedding->size() != v.dim()) {
    return Corruption("log seq_id " + std::to_string(rec.seq_id) + ": vector of dimension " +
                      std::to_string(rec.embedding->size()) + ", collection has " + std::to_string(v.dim()));
  }
  const bool present = v.Contains(rec.id);
  switch (rec.op) {
    case Op::kAdd:
      if (present || !rec.embedding) return Status::Ok();
      break;
    case Op::kUpdate:
      if (!present || !rec.embedding) return Status::Ok();
      break;
    case Op::kUpsert:
      if (!rec.embedding) return Status::Ok();
      break;
    case Op::kDelete:
      if (!present) return Status::Ok();
      c->vectors_dirty = true;
      return v.Delete(rec.id);
  }
  c->vectors_dirty = true;
  return v.Upsert(rec.id, rec.embedding->data());
}

Status StoreImpl::ReplayLog(CollectionState* c, int64_t meta_seq, int64_t vector_seq) {
  c->applied_seq = std::max(meta_seq, vector_seq);
  const int64_t start = std::min(meta_seq, vector_seq);
  std::unique_ptr<Transaction> txn;
  int64_t meta_last = meta_seq;
  std::optional<size_t> dim_before = c->info.dimension;
  Status s = ForEachLogRecord(*db_, c->topic, start, [&](const LogRecord& rec) -> Status {
    if (rec.seq_id > vector_seq) CP_RETURN_IF_ERROR(ApplyToVectors(c, rec));
    if (rec.seq_id > meta_seq) {
      if (!txn) {
        CP_ASSIGN_OR_RETURN(txn, Transaction::Begin(*db_));
      }
      CP_RETURN_IF_ERROR(ApplyToMetadataSegment(*db_, c->info.metadata_segment_id, rec, schema_.has_array_table));
      meta_last = rec.seq_id;
    }
    c->applied_seq = std::max(c->applied_seq, rec.seq_id);
    return Status::Ok();
  });
  CP_RETURN_IF_ERROR(s.WithContext("replay embeddings_queue"));
  if (txn) {
    CP_RETURN_IF_ERROR(WriteMaxSeqId(*db_, c->info.metadata_segment_id, meta_last));
    if (!dim_before && c->info.dimension) {
      CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare("UPDATE collections SET dimension = ? WHERE id = ?"));
      st->Bind(1, static_cast<int64_t>(*c->info.dimension)).Bind(2, std::string_view(c->info.id));
      CP_RETURN_IF_ERROR(st->Run());
    }
    CP_RETURN_IF_ERROR(txn->Commit());
  }
  return Status::Ok();
}

Status StoreImpl::LoadDeferredVectors(CollectionState* c) {
  if (!c->vectors_deferred) return Status::Ok();
  const std::string folder = (fs::path(dir_) / c->info.vector_segment_id).string();
  auto loaded = HnswSegment::Load(folder, *c->info.dimension, c->info.hnsw);
  if (!loaded.ok()) return loaded.status().WithContext("collection " + c->info.name + ": HNSW segment " + folder);
  c->vectors = std::move(*loaded);
  c->vectors_deferred = false;
  const int64_t from = c->vector_persisted_seq;
  Status s = ForEachLogRecord(*db_, c->topic, from, [&](const LogRecord& rec) -> Status {
    if (rec.seq_id > from) CP_RETURN_IF_ERROR(ApplyToVectors(c, rec));
    return Status::Ok();
  });
  return s.WithContext("collection " + c->info.name + ": replay embeddings_queue into the deferred index");
}

Status StoreImpl::RequireWritable(const char* what) const {
  if (options_.read_only) return NotSupported(std::string(what) + ": the store is open read-only");
  return Status::Ok();
}

}  // namespace internal
}  // namespace chromapact::store
