// Chroma's `where` and `where_document` filters, compiled to SQL over Chroma's metadata segment
// tables (schema: ../shared/chroma/reference_schema.sql).
//
// Grammar (Chroma API docs "Metadata filtering" / "Full-text search"; chromadb/api/types.py
// validate_where, validate_where_document):
//   where          := { key: value }                     (implicit $eq)
//                   | { key: { op: value } }             op in $eq $ne $gt $gte $lt $lte $in $nin
//                   | { "$and" | "$or": [where, ...] }   (at least two? see docs; we accept >= 1)
//   where_document := { "$contains" | "$not_contains" | "$regex" | "$not_regex": string }
//                   | { "$and" | "$or": [where_document, ...] }
// Values are str, int, float or bool and are compared with the stored typed column the way Chroma
// does (bool only with bool_value; int/float numerically; str only with string_value).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chromapact/status.h"

namespace chromapact::store {

using SqlParam = std::variant<int64_t, double, std::string>;

// A boolean SQL expression over the row alias `e` of table `embeddings` (columns id, segment_id,
// embedding_id, seq_id), with `?` placeholders bound in order to `params`. Used as
// `... FROM embeddings e WHERE e.segment_id = ? AND (<sql>)`. The expression may use correlated
// subqueries on embedding_metadata (column `id` = e.id) and embedding_fulltext_search (rowid = e.id).
struct SqlFilter {
  std::string sql = "1";  // "1" = no filter
  std::vector<SqlParam> params;
};

// Compiles a `where` object; a null or empty object means no filter.
// Errors: kInvalidArgument naming the offending key or operator, e.g.
// "where: unknown operator '$foo' for key 'year'", "where: $in for key 'k' needs a non-empty list".
Result<SqlFilter> CompileWhere(const nlohmann::json& where);

// Compiles a `where_document` object; null or empty means no filter. $regex uses SQLite REGEXP,
// which the store registers on every connection (ECMAScript syntax via std::regex).
// Errors: kInvalidArgument naming the operator.
Result<SqlFilter> CompileWhereDocument(const nlohmann::json& where_document);

// AND of two filters (either may be the no-filter "1").
SqlFilter And(SqlFilter a, SqlFilter b);

}  // namespace chromapact::store
