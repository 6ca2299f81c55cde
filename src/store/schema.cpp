#include "store/schema.h"

#include <map>
#include <set>
#include <string>
#include <utility>

#include "store/migrations.h"

namespace chromapact::store::internal {
namespace {

// Byte for byte what rust/sqlite/src/db.rs creates (compare reference_schema.sql).
constexpr const char* kCreateMigrations =
    "CREATE TABLE migrations (\n"
    "                dir TEXT NOT NULL,\n"
    "                version INTEGER NOT NULL,\n"
    "                filename TEXT NOT NULL,\n"
    "                sql TEXT NOT NULL,\n"
    "                hash TEXT NOT NULL,\n"
    "                PRIMARY KEY (dir, version)\n"
    "            )";
constexpr const char* kCreateAcquireWrite =
    "CREATE TABLE acquire_write (\n"
    "                id INTEGER PRIMARY KEY,\n"
    "                lock_status INTEGER NOT NULL\n"
    "            )";

Status ApplyMigration(const SqliteDb& db, const MigrationText& m) {
  CP_RETURN_IF_ERROR(db.Exec(m.sql, std::string("apply migration ") + m.dir + "/" + m.filename));
  CP_ASSIGN_OR_RETURN(Stmt * ins, db.Prepare("INSERT INTO migrations (dir, version, filename, sql, hash) "
                                             "VALUES (?, ?, ?, ?, ?)"));
  ins->Bind(1, std::string_view(m.dir)).Bind(2, static_cast<int64_t>(m.version));
  ins->Bind(3, std::string_view(m.filename)).Bind(4, m.sql).Bind(5, std::string_view(m.md5));
  return ins->Run().WithContext(std::string("record migration ") + m.dir + "/" + m.filename);
}

Result<bool> TableExists(const SqliteDb& db, const std::string& name) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?"));
  st->Bind(1, std::string_view(name));
  CP_ASSIGN_OR_RETURN(bool row, st->Step());
  st->Reset();
  return row;
}

Result<std::set<std::string>> Columns(const SqliteDb& db, const std::string& table) {
  CP_ASSIGN_OR_RETURN(Stmt * st, db.Prepare("SELECT name FROM pragma_table_info(?)"));
  st->Bind(1, std::string_view(table));
  std::set<std::string> out;
  while (true) {
    CP_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.insert(st->Text(0));
  }
  return out;
}

}  // namespace

Status CreateFreshSchema(const SqliteDb& db) {
  CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db));
  CP_RETURN_IF_ERROR(db.Exec(kCreateMigrations, "create table migrations"));
  CP_RETURN_IF_ERROR(db.Exec(kCreateAcquireWrite, "create table acquire_write"));
  for (const MigrationText& m : kChromaMigrations) CP_RETURN_IF_ERROR(ApplyMigration(db, m));
  CP_RETURN_IF_ERROR(db.Exec("INSERT OR IGNORE INTO acquire_write (id, lock_status) VALUES (1, 1)",
                             "insert acquire_write row"));
  return txn->Commit();
}

Result<SchemaInfo> CheckSchema(const SqliteDb& db, bool upgrade) {
  CP_ASSIGN_OR_RETURN(bool has_migrations, TableExists(db, "migrations"));
  if (!has_migrations) return NotSupported("not a Chroma database: no `migrations` table");
  for (const char* t : {"collections", "segments", "embeddings", "embedding_metadata", "embeddings_queue",
                        "max_seq_id"}) {
    CP_ASSIGN_OR_RETURN(bool ok, TableExists(db, t));
    if (!ok && !upgrade) return NotSupported(std::string("not a Chroma database: no `") + t + "` table");
  }

  std::map<std::pair<std::string, int>, std::string> applied;  // (dir, version) -> hash
  {
    auto prepared = db.Prepare("SELECT dir, version, hash FROM migrations");
    if (!prepared.ok()) return NotSupported("not a Chroma database: " + prepared.status().message());
    Stmt* st = *prepared;
    while (true) {
      CP_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      applied[{st->Text(0), static_cast<int>(st->Int(1))}] = st->Text(2);
    }
  }
  std::map<std::string, int> known_max;
  for (const MigrationText& m : kChromaMigrations) known_max[m.dir] = m.version;
  for (const auto& entry : applied) {
    const auto& key = entry.first;  // a plain reference: lambdas may not capture structured bindings (C++17)
    const std::string& hash = entry.second;
    auto it = known_max.find(key.first);
    if (it == known_max.end()) return NotSupported("migrations: unknown migration dir '" + key.first + "'");
    if (key.second > it->second) continue;  // newer Chroma than ours: accepted as Chroma does
    const MigrationText& m = [&]() -> const MigrationText& {
      for (const MigrationText& k : kChromaMigrations) {
        if (key.first == k.dir && key.second == k.version) return k;
      }
      return kChromaMigrations[0];
    }();
    if (hash != m.md5) {
      return NotSupported("migrations: " + key.first + "/" + std::to_string(key.second) + " has hash " + hash +
                          ", Chroma's is " + m.md5);
    }
  }
  // Missing migrations must be a suffix per dir (Chroma zips applied rows with the files in order).
  std::map<std::string, int> applied_max;
  for (const auto& [key, hash] : applied) {
    (void)hash;
    applied_max[key.first] = std::max(applied_max[key.first], key.second);
  }
  for (const auto& [dir, max_v] : applied_max) {
    for (int v = 1; v <= std::min(max_v, known_max[dir]); ++v) {
      if (!applied.count({dir, v})) {
        return NotSupported("migrations: " + dir + " has version " + std::to_string(max_v) + " but lacks " +
                            std::to_string(v));
      }
    }
  }

  SchemaInfo info;
  info.migrations_applied = static_cast<int>(applied.size());
  if (upgrade) {
    CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db));
    for (const MigrationText& m : kChromaMigrations) {
      if (applied.count({m.dir, m.version})) continue;
      CP_RETURN_IF_ERROR(ApplyMigration(db, m));
      ++info.migrations_applied;
    }
    CP_ASSIGN_OR_RETURN(bool has_aw, TableExists(db, "acquire_write"));
    if (!has_aw) CP_RETURN_IF_ERROR(db.Exec(kCreateAcquireWrite, "create table acquire_write"));
    CP_RETURN_IF_ERROR(txn->Commit());
  }
  CP_ASSIGN_OR_RETURN(auto cols, Columns(db, "collections"));
  info.collections_have_config = cols.count("config_json_str") > 0;
  info.collections_have_schema = cols.count("schema_str") > 0;
  info.collections_have_topic = cols.count("topic") > 0;
  CP_ASSIGN_OR_RETURN(info.has_array_table, TableExists(db, "embedding_metadata_array"));
  CP_ASSIGN_OR_RETURN(info.has_queue_config, TableExists(db, "embeddings_queue_config"));
  return info;
}

}  // namespace chromapact::store::internal
