// CompileWhereDocument: Chroma `where_document` -> SQL over embedding_fulltext_search.
// Rules observed on real Chroma 1.5.9 (docs/chroma-filters.md).
#include <nlohmann/json.hpp>

#include "chromapact/store/filter.h"
#include "store/filter_regex_match.h"
#include "store/filter_sql.h"

namespace chromapact::store {
namespace {

using nlohmann::json;

// A GLOB pattern matching `needle` as a literal substring: * ? [ are bracket-escaped.
std::string SubstringGlob(const std::string& needle) {
  std::string g = "*";
  for (char c : needle) {
    if (c == '*') g += "[*]";
    else if (c == '?') g += "[?]";
    else if (c == '[') g += "[[]";
    else g += c;
  }
  return g + "*";
}

Result<SqlFilter> CompileDoc(const json& wd, int depth) {
  if (depth > kMaxFilterDepth) {
    return InvalidArgument("where_document: nested deeper than " + std::to_string(kMaxFilterDepth) +
                           " levels of $and/$or");
  }
  if (!wd.is_object() || wd.size() != 1) {
    return InvalidArgument("where_document: expected an object with exactly one operator, got " +
                           (wd.is_object() ? std::to_string(wd.size()) + " keys" : internal::TypeName(wd)));
  }
  const std::string& op = wd.begin().key();
  const json& value = wd.begin().value();
  if (op == "$and" || op == "$or") {
    if (!value.is_array()) {
      return InvalidArgument("where_document: " + op + " needs a list, got " + internal::TypeName(value));
    }
    std::vector<SqlFilter> parts;
    for (size_t i = 0; i < value.size(); ++i) {
      auto part = CompileDoc(value[i], depth + 1);
      if (!part.ok()) return part.status();
      parts.push_back(std::move(part).value());
    }
    return internal::Join(std::move(parts), op == "$and" ? " AND " : " OR ", op == "$and" ? "1" : "0");
  }
  bool contains = op == "$contains" || op == "$not_contains";
  bool regex = op == "$regex" || op == "$not_regex";
  if (!contains && !regex) return InvalidArgument("where_document: unknown operator '" + op + "'");
  if (!value.is_string()) {
    return InvalidArgument("where_document: " + op + " needs a string, got " + internal::TypeName(value));
  }
  const std::string s = value.get<std::string>();
  if (regex) {
    auto compiled = internal::ChromaRegexMatcher::Compile(s);
    if (!compiled.ok()) return InvalidArgument("where_document: " + op + ": " + compiled.status().message());
  }
  // Records without a document have no FTS row: $contains/$regex never match them and the
  // negated forms always do (they are the complement of the positive form).
  bool negate = op == "$not_contains" || op == "$not_regex";
  SqlFilter f;
  f.sql = std::string("e.id ") + (negate ? "NOT IN" : "IN") +
          " (SELECT rowid FROM embedding_fulltext_search WHERE string_value " + (regex ? "REGEXP" : "GLOB") +
          " ?)";
  f.params.emplace_back(regex ? s : SubstringGlob(s));
  return f;
}

}  // namespace

Result<SqlFilter> CompileWhereDocument(const json& where_document) {
  if (where_document.is_null() || (where_document.is_object() && where_document.empty())) return SqlFilter{};
  return CompileDoc(where_document, 1);
}

}  // namespace chromapact::store
