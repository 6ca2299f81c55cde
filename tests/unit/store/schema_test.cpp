// Chroma's SQLite schema: a fresh database (18 embedded migrations) has exactly the `.schema` of
// ../shared/chroma/reference_schema.sql and migration rows equal to Chroma 1.5.9's files
// (../shared/chroma/migrations-1.5.9, reference data); existing databases are checked and upgraded.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "chromapact/crypto.h"
#include "store/migrations.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "support/paths.h"

namespace chromapact::store::internal {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<SqliteDb> OpenFile(const std::string& path) {
  auto db = SqliteDb::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

// What `sqlite3 db .schema` prints: each sqlite_master sql in rowid order followed by ";"; virtual
// tables get an extra "/* name(columns) */" comment line, which we drop from both sides.
std::string SchemaOf(const SqliteDb& db) {
  auto st = db.Prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid");
  EXPECT_TRUE(st.ok());
  std::string out;
  while (true) {
    auto row = (*st)->Step();
    EXPECT_TRUE(row.ok());
    if (!row.ok() || !*row) break;
    std::string sql = (*st)->Text(0);
    // The CLI prints a quoted table name (a renamed table, FTS5 shadow tables) as IF NOT EXISTS.
    if (sql.rfind("CREATE TABLE '", 0) == 0 || sql.rfind("CREATE TABLE \"", 0) == 0) {
      sql.insert(13, "IF NOT EXISTS ");
    }
    out += sql + ";\n";
  }
  return out;
}

// The CLI's "\n/* name(columns) */" after a virtual table's DDL, which sqlite_master does not hold.
std::string DropVirtualTableComments(const std::string& s) {
  static const std::regex kComment(R"(\n/\*[^*]*\*/;)");
  return std::regex_replace(s, kComment, ";");
}

TEST(SchemaTest, FreshDatabaseMatchesReferenceSchema) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = chromapact::testing::MakeTempDir("schema");
  auto db = OpenFile(dir + "/chroma.sqlite3");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(CreateFreshSchema(*db).ok());
  const std::string reference = ReadAll(shared + "/chroma/reference_schema.sql");
  ASSERT_FALSE(reference.empty());
  EXPECT_EQ(SchemaOf(*db), DropVirtualTableComments(reference));
}

TEST(SchemaTest, MigrationRowsAreChromasFiles) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = chromapact::testing::MakeTempDir("schema");
  auto db = OpenFile(dir + "/chroma.sqlite3");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(CreateFreshSchema(*db).ok());
  auto st = db->Prepare("SELECT dir, version, filename, sql, hash FROM migrations ORDER BY rowid");
  ASSERT_TRUE(st.ok());
  size_t n = 0;
  while (true) {
    auto row = (*st)->Step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    ++n;
    const std::string d = (*st)->Text(0), file = (*st)->Text(2), sql = (*st)->Text(3), hash = (*st)->Text(4);
    EXPECT_EQ((*st)->Type(3), SQLITE_TEXT) << file;
    const std::string text = ReadAll(shared + "/chroma/migrations-1.5.9/" + d + "/" + file);
    ASSERT_FALSE(text.empty()) << d << "/" << file;
    EXPECT_EQ(sql, text) << d << "/" << file;
    EXPECT_EQ(hash, HexEncode(Md5(text))) << d << "/" << file;
    EXPECT_EQ((*st)->Int(1), std::stoi(file.substr(0, 5))) << d << "/" << file;
  }
  EXPECT_EQ(n, 18u);
}

TEST(SchemaTest, EmbeddedTextsHashToTheirRecordedMd5InApplyOrder) {
  const char* order[] = {"sysdb", "metadb", "embeddings_queue"};
  size_t group = 0;
  int last_version = 0;
  for (const MigrationText& m : kChromaMigrations) {
    EXPECT_EQ(HexEncode(Md5(m.sql)), m.md5) << m.dir << "/" << m.filename;
    if (std::string(m.dir) != order[group]) {
      ++group;
      last_version = 0;
    }
    ASSERT_LT(group, 3u);
    EXPECT_EQ(std::string(m.dir), order[group]);
    EXPECT_EQ(m.version, last_version + 1) << m.dir;
    last_version = m.version;
  }
}

TEST(SchemaTest, CheckAcceptsFreshAndRejectsForeignDatabases) {
  const std::string dir = chromapact::testing::MakeTempDir("schema");
  {
    auto db = OpenFile(dir + "/fresh.sqlite3");
    ASSERT_TRUE(CreateFreshSchema(*db).ok());
    auto info = CheckSchema(*db, false);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->migrations_applied, 18);
    EXPECT_TRUE(info->collections_have_config);
    EXPECT_TRUE(info->collections_have_schema);
    EXPECT_FALSE(info->collections_have_topic);
    EXPECT_TRUE(info->has_array_table);
  }
  {
    auto db = OpenFile(dir + "/foreign.sqlite3");
    ASSERT_TRUE(db->Exec("CREATE TABLE t (x)", "create").ok());
    auto info = CheckSchema(*db, true);
    EXPECT_EQ(info.status().code(), StatusCode::kNotSupported) << info.status().ToString();
  }
  {
    auto db = OpenFile(dir + "/badhash.sqlite3");
    ASSERT_TRUE(CreateFreshSchema(*db).ok());
    ASSERT_TRUE(db->Exec("UPDATE migrations SET hash = 'ffff' WHERE dir = 'metadb' AND version = 2", "tamper").ok());
    auto info = CheckSchema(*db, false);
    EXPECT_EQ(info.status().code(), StatusCode::kNotSupported);
    EXPECT_NE(info.status().message().find("metadb/2"), std::string::npos) << info.status().ToString();
  }
}

TEST(SchemaTest, UpgradeAppliesMissingMigrationsInPlace) {
  // A 1.0-style database: everything but sysdb/10 and metadb/6, as Chroma 1.0..1.2 left it.
  const std::string dir = chromapact::testing::MakeTempDir("schema");
  auto db = OpenFile(dir + "/old.sqlite3");
  ASSERT_TRUE(CreateFreshSchema(*db).ok());
  ASSERT_TRUE(db->Exec("DROP TABLE embedding_metadata_array; ALTER TABLE collections DROP COLUMN schema_str; "
                       "DELETE FROM migrations WHERE (dir='sysdb' AND version=10) OR (dir='metadb' AND version=6)",
                       "downgrade")
                  .ok());
  auto ro = CheckSchema(*db, false);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ(ro->migrations_applied, 16);
  EXPECT_FALSE(ro->has_array_table);
  EXPECT_FALSE(ro->collections_have_schema);
  auto up = CheckSchema(*db, true);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->migrations_applied, 18);
  EXPECT_TRUE(up->has_array_table);
  EXPECT_TRUE(up->collections_have_schema);
}

TEST(SchemaTest, GarbageFileIsNotADatabase) {
  const std::string dir = chromapact::testing::MakeTempDir("schema");
  {
    std::ofstream out(dir + "/junk.sqlite3", std::ios::binary);
    out << std::string(4096, 'x');
  }
  auto db = SqliteDb::Open(dir + "/junk.sqlite3", SQLITE_OPEN_READWRITE);
  if (!db.ok()) {
    EXPECT_NE(db.status().code(), StatusCode::kOk);
    return;
  }
  auto info = CheckSchema(**db, false);
  EXPECT_FALSE(info.ok());
  EXPECT_TRUE(info.status().code() == StatusCode::kCorruption || info.status().code() == StatusCode::kNotSupported)
      << info.status().ToString();
}

}  // namespace
}  // namespace chromapact::store::internal
