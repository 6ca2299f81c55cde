#include "store/sqlite_db.h"

#include "chromapact/store/filter.h"

namespace chromapact::store::internal {
namespace {

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Corruption(msg);
  if (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_RANGE) {
    return InvalidArgument(msg);
  }
  return IOError(msg);
}

}  // namespace

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::BindBlob(int i, std::string_view v) {
  sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  Status s = SqliteError(db, rc, std::string("sqlite step `") + sqlite3_sql(stmt_) + "`");
  sqlite3_reset(stmt_);
  return s;
}

Status Stmt::Run() {
  while (true) {
    CP_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  sqlite3_reset(stmt_);
  return Status::Ok();
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::string_view Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string_view();
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& uri, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &db, flags | SQLITE_OPEN_URI, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "open " + uri);
    sqlite3_close(db);
    return s;
  }
  auto out = std::make_unique<SqliteDb>(db);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  CP_RETURN_IF_ERROR(RegisterRegexp(db).WithContext("open " + uri));  // Chroma's $regex dialect (filter.h)
  return out;
}

SqliteDb::~SqliteDb() {
  cache_.clear();
  sqlite3_close(db_);
}

Status SqliteDb::Exec(std::string_view sql, const std::string& what) const {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = what + ": " + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    int primary = rc & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Corruption(msg);
    return IOError(msg);
  }
  return Status::Ok();
}

Result<Stmt*> SqliteDb::Prepare(const std::string& sql) const {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                              nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare `" + sql + "`");
  auto stmt = std::make_unique<Stmt>(raw);
  Stmt* p = stmt.get();
  cache_.emplace(sql, std::move(stmt));
  return p;
}

Result<std::unique_ptr<Stmt>> SqliteDb::PrepareOnce(const std::string& sql) const {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare `" + sql + "`");
  return std::make_unique<Stmt>(raw);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::CopyToMemory() const {
  CP_ASSIGN_OR_RETURN(auto mem, Open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3_backup* b = sqlite3_backup_init(mem->db_, "main", db_, "main");
  if (b == nullptr) return IOError("copy database to memory: " + mem->ErrorMessage());
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return SqliteError(mem->db_, rc, "copy database to memory");
  return mem;
}

Result<std::unique_ptr<Transaction>> Transaction::Begin(const SqliteDb& db) {
  CP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "begin transaction"));
  return std::make_unique<Transaction>(db);
}

Transaction::~Transaction() {
  if (!done_) (void)db_.Exec("ROLLBACK", "rollback");
}

Status Transaction::Commit() {
  done_ = true;
  Status s = db_.Exec("COMMIT", "commit");
  if (!s.ok()) (void)db_.Exec("ROLLBACK", "rollback");
  return s;
}

}  // namespace chromapact::store::internal
