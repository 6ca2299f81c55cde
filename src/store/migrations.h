// Chroma 1.5.9's 18 SQLite migrations, embedded at build time by scripts/chroma-migrations.py (the
// texts come from Chroma's npm artifact and are checked by length and MD5; never committed).
#pragma once

#include <cstddef>
#include <string_view>

namespace chromapact::store::internal {

struct MigrationText {
  const char* dir;       // "sysdb" | "metadb" | "embeddings_queue"
  int version;           // 1-based within dir
  const char* filename;  // e.g. "00001-collections.sqlite.sql"
  const char* md5;       // lowercase hex MD5 of sql (the `hash` column)
  std::string_view sql;  // exact file text
};

inline constexpr size_t kChromaMigrationCount = 18;
// In Chroma 1.x apply order: sysdb 1..10, metadb 1..6, embeddings_queue 1..2.
extern const MigrationText kChromaMigrations[kChromaMigrationCount];

}  // namespace chromapact::store::internal
