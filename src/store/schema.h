// Chroma's SQLite schema: creating a fresh 1.5.9 database from the embedded migrations, and checking
// (and, read-write, upgrading in place as Chroma 1.x does) an existing one.
// Rules: docs/chroma-format.md §2 (rust/sqlite/src/db.rs validate_migrations_and_get_unapplied).
#pragma once

#include "chromapact/status.h"
#include "store/sqlite_db.h"

namespace chromapact::store::internal {

// What the existing schema offers (older layouts lack some columns).
struct SchemaInfo {
  int migrations_applied = 0;
  bool collections_have_config = false;  // collections.config_json_str (sysdb 7)
  bool collections_have_schema = false;  // collections.schema_str (sysdb 10, 1.3+)
  bool collections_have_topic = false;   // collections.topic (0.4; removed by sysdb 5)
  bool has_array_table = false;          // embedding_metadata_array (metadb 6, 1.5+)
  bool has_queue_config = false;         // embeddings_queue_config
};

// Creates `migrations` and `acquire_write` exactly as Chroma 1.x does, applies the 18 migrations in
// order and inserts their rows (sql = exact text, hash = md5 hex), all in one transaction.
Status CreateFreshSchema(const SqliteDb& db);

// Validates the migration rows of an existing database against Chroma's (per dir and version: the
// hash, and for rows we know, the filename). Rows beyond ours are accepted (a newer Chroma).
// With `upgrade`, applies the missing migrations in order and inserts their rows.
// Errors: kNotSupported (no migrations table: not Chroma's; an unknown hash; a gap in versions),
// kCorruption/kIOError from SQLite.
Result<SchemaInfo> CheckSchema(const SqliteDb& db, bool upgrade);

}  // namespace chromapact::store::internal
