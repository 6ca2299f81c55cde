// Chroma's `where` and `where_document` filters, compiled to SQL over Chroma's metadata segment
// tables (schema: docs/chroma-format.md §2-§3).
//
// Grammar (Chroma API docs "Metadata filtering" / "Full-text search"; chromadb/api/types.py
// validate_where, validate_where_document):
//   where          := { key: value }                     (implicit $eq)
//                   | { key: { op: value } }             op in $eq $ne $gt $gte $lt $lte $in $nin
//                   | { "$and" | "$or": [where, ...] }   (any length: [] is true for $and, false for $or)
//   where_document := { "$contains" | "$not_contains" | "$regex" | "$not_regex": string }
//                   | { "$and" | "$or": [where_document, ...] }
// Values are str, int, float or bool and are compared with the stored typed column the way Chroma
// does (bool only with bool_value; int/float numerically; str only with string_value).
// Exact semantics, as observed on real Chroma 1.5.9, are listed in docs/chroma-filters.md.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chromapact/status.h"

struct sqlite3;

namespace chromapact::store {

using SqlParam = std::variant<int64_t, double, std::string>;

// A boolean SQL expression over the row alias `e` of table `embeddings` (columns id, segment_id,
// embedding_id, seq_id), with `?` placeholders bound in order to `params`. Used as
// `... FROM embeddings e WHERE e.segment_id = ? AND (<sql>)`. The expression uses `e.id [NOT] IN
// (SELECT ...)` subqueries on embedding_metadata (column `id` = e.id), embedding_metadata_array
// (only for $contains/$not_contains on a metadata key) and embedding_fulltext_search (rowid = e.id).
struct SqlFilter {
  std::string sql = "1";  // "1" = no filter
  std::vector<SqlParam> params;
};

// Deepest nesting of objects in a `where` or `where_document` ($and/$or inside $and/$or ...), the
// outermost counted: deeper filters are kInvalidArgument instead of deep recursion here and a SQL
// expression past SQLite's expression depth limit (SQLITE_MAX_EXPR_DEPTH, 1000).
inline constexpr int kMaxFilterDepth = 32;

// Compiles a `where` object; a null or empty object means no filter (Chroma's REST API rejects a
// top-level {}; an empty object nested in $and/$or is an error here too).
// Errors: kInvalidArgument naming the offending key or operator, e.g.
// "where: unknown operator '$foo' for key 'year'", "where: $in for key 'k' needs a non-empty list",
// "where: nested deeper than 32 levels of $and/$or".
Result<SqlFilter> CompileWhere(const nlohmann::json& where);

// Compiles a `where_document` object; null or empty means no filter. $regex uses SQLite REGEXP,
// which the store registers on every connection (RegisterRegexp below gives Chroma's dialect;
// a plain std::regex ECMAScript REGEXP also works for patterns in the common subset).
// The pattern is validated here (Chroma answers a bad regex with an error, not an empty result).
// Errors: kInvalidArgument naming the operator.
Result<SqlFilter> CompileWhereDocument(const nlohmann::json& where_document);

// Registers the SQL function regexp(pattern, text) (what `text REGEXP pattern` calls) on `db`,
// implementing Chroma's $regex dialect (Rust `regex` crate syntax, unanchored search over Unicode
// code points): leading (?i)/(?m)/(?s)/(?x) flags, (?P<name>..), \x{HEX}, \A, \z; look-around
// and backreferences are errors as in Chroma (src/store/filter_regex.h lists the subset).
// NULL pattern or text gives NULL. A bad pattern makes the statement fail with "$regex: ...".
// Errors: kInternal when SQLite refuses the registration.
Status RegisterRegexp(sqlite3* db);

// AND of two filters (either may be the no-filter "1").
SqlFilter And(SqlFilter a, SqlFilter b);

}  // namespace chromapact::store
