// Test support for the filter tests: a real SQLite DB holding Chroma's metadata-segment tables
// (our own DDL, or Chroma's reference schema), records stored the way Chroma 1.5.9 stores them, the
// compiled filter run as SQL, and an independent in-memory reference evaluator over the same records.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chromapact/store/filter.h"

namespace chromapact::store::testing {

using nlohmann::json;

struct Rec {
  std::string id;
  json metadata;  // object or null; list values are Chroma 1.5 array metadata
  std::optional<std::string> document;
};

// The schema of the tables the filters read, as Chroma creates them (reference_schema.sql).
inline const char* kOwnDdl = R"sql(
CREATE TABLE embeddings (id INTEGER PRIMARY KEY, segment_id TEXT NOT NULL, embedding_id TEXT NOT NULL,
  seq_id BLOB NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, UNIQUE (segment_id, embedding_id));
CREATE TABLE embedding_metadata (id INTEGER REFERENCES embeddings(id), key TEXT NOT NULL, string_value TEXT,
  int_value INTEGER, float_value REAL, bool_value INTEGER, PRIMARY KEY (id, key));
CREATE TABLE embedding_metadata_array (id INTEGER NOT NULL REFERENCES embeddings(id), key TEXT NOT NULL,
  string_value TEXT, int_value INTEGER, float_value REAL, bool_value INTEGER);
CREATE VIRTUAL TABLE embedding_fulltext_search USING fts5(string_value, tokenize='trigram');
CREATE INDEX embedding_metadata_int_value ON embedding_metadata (key, int_value) WHERE int_value IS NOT NULL;
CREATE INDEX embedding_metadata_float_value ON embedding_metadata (key, float_value) WHERE float_value IS NOT NULL;
CREATE INDEX embedding_metadata_string_value ON embedding_metadata (key, string_value) WHERE string_value IS NOT NULL;
)sql";

class FilterDb {
 public:
  // `ddl` creates the tables; REGEXP is registered with RegisterRegexp.
  explicit FilterDb(const std::string& ddl) {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec(ddl);
    EXPECT_TRUE(RegisterRegexp(db_).ok());
  }
  ~FilterDb() { sqlite3_close(db_); }
  FilterDb(const FilterDb&) = delete;
  FilterDb& operator=(const FilterDb&) = delete;

  sqlite3* db() { return db_; }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << "\n" << sql;
    sqlite3_free(err);
  }

  // Stores records like Chroma's metadata segment writer: one embedding_metadata row per scalar key,
  // one embedding_metadata_array row per list element, the document as key 'chroma:document' and as
  // the FTS row with rowid = embeddings.id.
  void Insert(const std::string& segment, const std::vector<Rec>& recs) {
    for (const auto& r : recs) {
      Run("INSERT INTO embeddings (segment_id, embedding_id, seq_id) VALUES (?, ?, ?)", {segment, r.id, ++seq_});
      int64_t rowid = sqlite3_last_insert_rowid(db_);
      if (r.metadata.is_object()) {
        for (auto it = r.metadata.begin(); it != r.metadata.end(); ++it) {
          const std::string& k = it.key();
          const json& v = it.value();
          if (v.is_array()) {
            for (const auto& el : v) InsertTyped("embedding_metadata_array", rowid, k, el);
          } else {
            InsertTyped("embedding_metadata", rowid, k, v);
          }
        }
      }
      if (r.document) {
        InsertTyped("embedding_metadata", rowid, "chroma:document", json(*r.document));
        Run("INSERT INTO embedding_fulltext_search (rowid, string_value) VALUES (?, ?)", {rowid, *r.document});
      }
    }
  }

  // Ids (sorted) of `segment` selected by the filter, or the SQLite error text prefixed "ERR ".
  std::vector<std::string> Select(const std::string& segment, const SqlFilter& f, std::string* error = nullptr) {
    std::string sql =
        "SELECT e.embedding_id FROM embeddings e WHERE e.segment_id = ? AND (" + f.sql + ") ORDER BY e.embedding_id";
    std::vector<SqlParam> params{segment};
    params.insert(params.end(), f.params.begin(), f.params.end());
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      if (error) *error = sqlite3_errmsg(db_);
      ADD_FAILURE() << "prepare: " << sqlite3_errmsg(db_) << "\n" << sql;
      return out;
    }
    Bind(st, params);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    if (rc != SQLITE_DONE) {
      if (error) *error = sqlite3_errmsg(db_);
      else ADD_FAILURE() << "step: " << sqlite3_errmsg(db_) << "\n" << sql;
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  void Bind(sqlite3_stmt* st, const std::vector<SqlParam>& params) {
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (auto* p = std::get_if<int64_t>(&params[i])) sqlite3_bind_int64(st, idx, *p);
      else if (auto* d = std::get_if<double>(&params[i])) sqlite3_bind_double(st, idx, *d);
      else sqlite3_bind_text(st, idx, std::get<std::string>(params[i]).c_str(), -1, SQLITE_TRANSIENT);
    }
  }

  void Run(const std::string& sql, const std::vector<SqlParam>& params) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    Bind(st, params);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(st);
  }

  void InsertTyped(const std::string& table, int64_t rowid, const std::string& key, const json& v) {
    std::string col = v.is_string() ? "string_value" : v.is_boolean() ? "bool_value"
                      : v.is_number_float()                           ? "float_value"
                                                                       : "int_value";
    SqlParam p = v.is_string()           ? SqlParam(v.get<std::string>())
                 : v.is_boolean()        ? SqlParam(int64_t{v.get<bool>() ? 1 : 0})
                 : v.is_number_float()   ? SqlParam(v.get<double>())
                                         : SqlParam(v.get<int64_t>());
    Run("INSERT INTO " + table + " (id, key, " + col + ") VALUES (?, ?, ?)", {rowid, key, p});
  }

  sqlite3* db_ = nullptr;
  int64_t seq_ = 0;
};

// ---- Reference evaluator: walks the JSON filter over in-memory records (no SQL). ----

// The stored value of `key` ('chroma:document' is the document, as in Chroma's metadata table).
inline const json* Lookup(const Rec& r, const std::string& key, json& scratch) {
  if (key == "chroma:document") {
    if (!r.document) return nullptr;
    scratch = *r.document;
    return &scratch;
  }
  if (!r.metadata.is_object() || !r.metadata.contains(key)) return nullptr;
  return &r.metadata.at(key);
}

// Rust `as i64`.
inline int64_t RefTrunc(double d) {
  if (d >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::trunc(d));
}

// -1/0/+1 comparison of a stored scalar with an operand, or nullopt when the types never compare.
inline std::optional<int> RefCompare(const json& stored, const json& operand) {
  auto sign = [](auto a, auto b) { return a < b ? -1 : a > b ? 1 : 0; };
  if (stored.is_array() || stored.is_null()) return std::nullopt;
  if (stored.is_string() || operand.is_string()) {
    if (!(stored.is_string() && operand.is_string())) return std::nullopt;
    return sign(stored.get<std::string>(), operand.get<std::string>());
  }
  if (stored.is_boolean() || operand.is_boolean()) {
    if (!(stored.is_boolean() && operand.is_boolean())) return std::nullopt;
    return sign(int{stored.get<bool>()}, int{operand.get<bool>()});
  }
  bool s_int = !stored.is_number_float(), o_int = !operand.is_number_float();
  if (s_int && o_int) return sign(stored.get<int64_t>(), operand.get<int64_t>());
  if (s_int) return sign(stored.get<int64_t>(), RefTrunc(operand.get<double>()));  // int column vs float operand
  return sign(stored.get<double>(), operand.get<double>());                          // float column
}

inline bool RefWhere(const json& w, const Rec& r) {
  const std::string& key = w.begin().key();
  const json& val = w.begin().value();
  if (key == "$and") {
    for (const auto& sub : val)
      if (!RefWhere(sub, r)) return false;
    return true;
  }
  if (key == "$or") {
    for (const auto& sub : val)
      if (RefWhere(sub, r)) return true;
    return false;
  }
  std::string op = "$eq";
  json operand = val;
  if (val.is_object()) {
    op = val.begin().key();
    operand = val.begin().value();
  }
  json scratch;
  const json* stored = Lookup(r, key, scratch);
  auto eq = [&](const json& x) {
    if (!stored) return false;
    auto c = RefCompare(*stored, x);
    return c && *c == 0;
  };
  if (op == "$eq") return eq(operand);
  if (op == "$ne") return !eq(operand);
  if (op == "$in" || op == "$nin") {
    bool any = false;
    for (const auto& x : operand) any = any || eq(x);
    return op == "$in" ? any : !any;
  }
  if (op == "$contains" || op == "$not_contains") {
    bool has = false;
    if (stored && stored->is_array()) {
      for (const auto& el : *stored) {
        bool same_type = el.type() == operand.type() ||
                         (el.is_number_integer() && operand.is_number_integer());  // signed/unsigned
        has = has || (same_type && el == operand);
      }
    }
    return op == "$contains" ? has : !has;
  }
  if (!stored) return false;
  auto c = RefCompare(*stored, operand);
  if (!c || stored->is_boolean() || stored->is_string()) return false;
  if (op == "$gt") return *c > 0;
  if (op == "$gte") return *c >= 0;
  if (op == "$lt") return *c < 0;
  if (op == "$lte") return *c <= 0;
  ADD_FAILURE() << "reference evaluator: unexpected operator " << op;
  return false;
}

// $regex uses narrow std::regex ECMAScript: only for patterns in the common (ASCII) subset.
inline bool RefDocument(const json& w, const Rec& r) {
  const std::string& op = w.begin().key();
  const json& val = w.begin().value();
  if (op == "$and") {
    for (const auto& sub : val)
      if (!RefDocument(sub, r)) return false;
    return true;
  }
  if (op == "$or") {
    for (const auto& sub : val)
      if (RefDocument(sub, r)) return true;
    return false;
  }
  std::string s = val.get<std::string>();
  bool hit = false;
  if (r.document) {
    if (op == "$contains" || op == "$not_contains") hit = r.document->find(s) != std::string::npos;
    else hit = std::regex_search(*r.document, std::regex(s, std::regex::ECMAScript));
  }
  return (op == "$contains" || op == "$regex") ? hit : !hit;
}

inline std::vector<std::string> RefSelect(const std::vector<Rec>& recs, const json& where, const json& where_doc) {
  std::vector<std::string> out;
  for (const auto& r : recs) {
    bool ok = (where.is_null() || where.empty() || RefWhere(where, r)) &&
              (where_doc.is_null() || where_doc.empty() || RefDocument(where_doc, r));
    if (ok) out.push_back(r.id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace chromapact::store::testing
