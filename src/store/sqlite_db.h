// A thin RAII layer over one SQLite connection: prepared-statement cache, typed binds and columns,
// transactions, and the REGEXP function Chroma's $regex filter needs (filter.h RegisterRegexp).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chromapact/status.h"

namespace chromapact::store::internal {

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds are 1-based like SQLite's.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);  // TEXT
  Stmt& BindBlob(int i, std::string_view v);
  Stmt& BindNull(int i);
  // true: a row is ready; false: done. Errors: kIOError / kCorruption with SQLite's message.
  Result<bool> Step();
  // Runs to completion (for writes).
  Status Run();
  void Reset();

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int Type(int col) const { return sqlite3_column_type(stmt_, col); }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  std::string_view Blob(int col) const;
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // `uri` may be a plain path or a file: URI (SQLITE_OPEN_URI is always set). Registers REGEXP (RegisterRegexp).
  // Errors: kIOError naming the path and SQLite's message.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& uri, int flags);
  explicit SqliteDb(sqlite3* db) : db_(db) {}  // takes ownership
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs one or more statements without results. Errors name `what`.
  Status Exec(std::string_view sql, const std::string& what) const;
  // A cached statement for `sql`, reset and with bindings cleared. Errors: SQLite's prepare message.
  Result<Stmt*> Prepare(const std::string& sql) const;
  // An uncached statement (for SQL whose text varies, e.g. compiled filters), finalized when dropped.
  Result<std::unique_ptr<Stmt>> PrepareOnce(const std::string& sql) const;
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  std::string ErrorMessage() const { return sqlite3_errmsg(db_); }
  // Copies this database into a fresh in-memory connection (sqlite3 backup API).
  Result<std::unique_ptr<SqliteDb>> CopyToMemory() const;

 private:
  sqlite3* db_;
  mutable std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// BEGIN IMMEDIATE .. COMMIT; rolls back when destroyed uncommitted.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(const SqliteDb& db);
  explicit Transaction(const SqliteDb& db) : db_(db) {}  // use Begin()
  ~Transaction();
  Status Commit();

 private:
  const SqliteDb& db_;
  bool done_ = false;
};

}  // namespace chromapact::store::internal
