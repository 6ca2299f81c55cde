// Fuzz target: `where` and `where_document` compilation (store/filter.h) on any JSON, as the REST API
// and the query function receive it. Nothing may crash or recurse without bound; a filter that
// compiles must be SQL that SQLite accepts against Chroma's schema, with exactly one parameter per
// `?`, and must run without an error over a one-record collection (so $regex and $contains run).
#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "chromapact/store/filter.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace {

using chromapact::store::SqlFilter;
using chromapact::store::internal::SqliteDb;

const SqliteDb& Db() {
  static std::unique_ptr<SqliteDb> db = [] {
    auto opened = SqliteDb::Open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!opened.ok() || !chromapact::store::internal::CreateFreshSchema(**opened).ok()) std::abort();
    const char* kRecord =
        "INSERT INTO embeddings (id, segment_id, embedding_id, seq_id) VALUES (1, 'segment', 'a', 1);"
        "INSERT INTO embedding_metadata (id, key, string_value) VALUES (1, 'chroma:document', 'Hello wood glue');"
        "INSERT INTO embedding_metadata (id, key, string_value) VALUES (1, 'k', 'v');"
        "INSERT INTO embedding_metadata (id, key, int_value) VALUES (1, 'n', 3);"
        "INSERT INTO embedding_metadata (id, key, float_value) VALUES (1, 'f', 0.5);"
        "INSERT INTO embedding_metadata (id, key, bool_value) VALUES (1, 'b', 1);"
        "INSERT INTO embedding_fulltext_search (rowid, string_value) VALUES (1, 'Hello wood glue');";
    if (!(*opened)->Exec(kRecord, "fuzz record").ok()) std::abort();
    return std::move(opened).value();
  }();
  return *db;
}

void MustRun(const SqlFilter& f) {
  auto st = Db().PrepareOnce("SELECT e.id FROM embeddings e WHERE e.segment_id = ? AND (" + f.sql + ")");
  if (!st.ok()) std::abort();  // compiled SQL that SQLite rejects
  if (sqlite3_bind_parameter_count((*st)->raw()) != static_cast<int>(f.params.size()) + 1) std::abort();
  (*st)->Bind(1, std::string_view("segment"));
  int i = 2;
  for (const auto& p : f.params) {
    if (const auto* iv = std::get_if<int64_t>(&p)) {
      (*st)->Bind(i++, *iv);
    } else if (const auto* dv = std::get_if<double>(&p)) {
      (*st)->Bind(i++, *dv);
    } else {
      (*st)->Bind(i++, std::string_view(std::get<std::string>(p)));
    }
  }
  auto row = (*st)->Step();
  if (!row.ok()) {
    // A $regex pattern the engine refuses surfaces while running; anything else is a bug.
    if (row.status().message().find("regex") == std::string::npos) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks where (even) or where_document (odd); the rest is the JSON text.
  if (size == 0) return 0;
  const bool document = data[0] & 1;
  const auto json = nlohmann::json::parse(data + 1, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  auto f = document ? chromapact::store::CompileWhereDocument(json) : chromapact::store::CompileWhere(json);
  if (f.ok()) MustRun(*f);
  return 0;
}
