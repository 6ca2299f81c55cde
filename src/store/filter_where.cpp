// CompileWhere: Chroma `where` -> SQL over embedding_metadata / embedding_metadata_array.
// Every rule below was observed on real Chroma 1.5.9 (docs/chroma-filters.md has the table).
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "chromapact/store/filter.h"
#include "store/filter_sql.h"

namespace chromapact::store {
namespace {

using nlohmann::json;
using internal::Scalar;
using internal::ScalarKind;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// Compiles one `{key: value}` or `{key: {op: value}}` term.
class WhereCompiler {
 public:
  Result<SqlFilter> Compile(const json& where) {
    if (!where.is_object()) return InvalidArgument("where: expected an object, got " + internal::TypeName(where));
    if (++depth_ > kMaxFilterDepth) {
      return InvalidArgument("where: nested deeper than " + std::to_string(kMaxFilterDepth) + " levels of $and/$or");
    }
    struct Leave {
      int* d;
      ~Leave() { --*d; }
    } leave{&depth_};
    if (where.size() != 1) {
      return InvalidArgument("where: an object must have exactly one key (use $and to combine), got " +
                             std::to_string(where.size()) + " keys" + KeyList(where));
    }
    const std::string& key = where.begin().key();
    const json& value = where.begin().value();
    if (key == "$and" || key == "$or") return Logical(key, value);
    if (!key.empty() && key[0] == '$') return InvalidArgument("where: unknown operator '" + key + "'");
    if (value.is_object()) {
      if (value.size() != 1) {
        return InvalidArgument("where: the operator object for key " + Quote(key) +
                               " must have exactly one operator, got " + std::to_string(value.size()) +
                               KeyList(value));
      }
      const std::string& op = value.begin().key();
      const json& operand = value.begin().value();
      return Operator(key, op, operand);
    }
    return Operator(key, "$eq", value);
  }

 private:
  int depth_ = 0;  // objects being compiled, outermost included

  static std::string KeyList(const json& obj) {
    std::string out;
    for (auto it = obj.begin(); it != obj.end(); ++it) out += (out.empty() ? " (" : ", ") + Quote(it.key());
    return out.empty() ? out : out + ")";
  }

  Result<SqlFilter> Logical(const std::string& op, const json& list) {
    if (!list.is_array()) return InvalidArgument("where: " + op + " needs a list, got " + internal::TypeName(list));
    std::vector<SqlFilter> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      const json& sub = list[i];
      if (!sub.is_object() || sub.empty()) {
        return InvalidArgument("where: " + op + " element " + std::to_string(i) + " must be a non-empty object");
      }
      auto part = Compile(sub);
      if (!part.ok()) return part.status();
      parts.push_back(std::move(part).value());
    }
    return internal::Join(std::move(parts), op == "$and" ? " AND " : " OR ", op == "$and" ? "1" : "0");
  }

  static Result<Scalar> Value(const std::string& key, const std::string& op, const json& v) {
    auto s = internal::ToScalar(v);
    if (!s.ok()) {
      return InvalidArgument("where: operator '" + op + "' for key " + Quote(key) + ": " + s.status().message());
    }
    return s;
  }

  // The metadata-row condition for `typed column = v` the way Chroma 1.5.9 compares: bool only
  // with bool_value, str only with string_value; a number with both int_value and float_value,
  // where an int operand is compared with float_value as a double and a float operand is compared
  // with int_value after truncation toward zero, saturating at the int64 range
  // ({"x": 2.5} matches x = 2; {"x": {"$lt": 1.0000001}} does not match x = 1).
  static void TypedCompare(const Scalar& v, const char* cmp, SqlFilter& out) {
    std::string c = std::string(" ") + cmp + " ?";
    switch (v.kind) {
      case ScalarKind::kString:
        out.sql += "string_value" + c;
        out.params.emplace_back(v.s);
        break;
      case ScalarKind::kBool:
        out.sql += "bool_value" + c;
        out.params.emplace_back(int64_t{v.b ? 1 : 0});
        break;
      case ScalarKind::kInt:
        out.sql += "(int_value" + c + " OR float_value" + c + ")";
        out.params.emplace_back(v.i);
        out.params.emplace_back(static_cast<double>(v.i));
        break;
      case ScalarKind::kFloat:
        out.sql += "(int_value" + c + " OR float_value" + c + ")";
        out.params.emplace_back(internal::TruncToInt64(v.d));
        out.params.emplace_back(v.d);
        break;
    }
  }

  static SqlFilter MetaIn(const std::string& key, bool negate) {
    SqlFilter f;
    f.sql = std::string("e.id ") + (negate ? "NOT IN" : "IN") + " (SELECT id FROM embedding_metadata WHERE key = ? AND ";
    f.params.emplace_back(key);
    return f;
  }

  Result<SqlFilter> Operator(const std::string& key, const std::string& op, const json& operand) {
    if (op == "$eq" || op == "$ne") {
      CP_ASSIGN_OR_RETURN(Scalar v, Value(key, op, operand));
      // $ne is the complement of $eq: records without the key, or with another type, match.
      SqlFilter f = MetaIn(key, op == "$ne");
      TypedCompare(v, "=", f);
      f.sql += ")";
      return f;
    }
    if (op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") {
      CP_ASSIGN_OR_RETURN(Scalar v, Value(key, op, operand));
      if (v.kind != ScalarKind::kInt && v.kind != ScalarKind::kFloat) {
        return InvalidArgument("where: operator '" + op + "' for key " + Quote(key) + " needs a number, got " +
                               internal::TypeName(operand));
      }
      const char* cmp = op == "$gt" ? ">" : op == "$gte" ? ">=" : op == "$lt" ? "<" : "<=";
      SqlFilter f = MetaIn(key, false);
      TypedCompare(v, cmp, f);
      f.sql += ")";
      return f;
    }
    if (op == "$in" || op == "$nin") return InList(key, op, operand);
    if (op == "$contains" || op == "$not_contains") {
      // On metadata, $contains tests membership in an array value (embedding_metadata_array), with
      // exact types: 2 does not match [2.0] and a scalar string value never matches.
      CP_ASSIGN_OR_RETURN(Scalar v, Value(key, op, operand));
      SqlFilter f;
      f.sql = std::string("e.id ") + (op == "$not_contains" ? "NOT IN" : "IN") +
              " (SELECT id FROM embedding_metadata_array WHERE key = ? AND ";
      f.params.emplace_back(key);
      switch (v.kind) {
        case ScalarKind::kString:
          f.sql += "string_value = ?)";
          f.params.emplace_back(v.s);
          break;
        case ScalarKind::kBool:
          f.sql += "bool_value = ?)";
          f.params.emplace_back(int64_t{v.b ? 1 : 0});
          break;
        case ScalarKind::kInt:
          f.sql += "int_value = ?)";
          f.params.emplace_back(v.i);
          break;
        case ScalarKind::kFloat:
          f.sql += "float_value = ?)";
          f.params.emplace_back(v.d);
          break;
      }
      return f;
    }
    return InvalidArgument("where: unknown operator '" + op + "' for key " + Quote(key));
  }

  Result<SqlFilter> InList(const std::string& key, const std::string& op, const json& list) {
    if (!list.is_array() || list.empty()) {
      return InvalidArgument("where: " + op + " for key " + Quote(key) + " needs a non-empty list");
    }
    std::vector<Scalar> values;
    for (size_t i = 0; i < list.size(); ++i) {
      auto v = internal::ToScalar(list[i]);
      if (!v.ok()) {
        return InvalidArgument("where: " + op + " for key " + Quote(key) + " element " + std::to_string(i) + ": " +
                               v.status().message());
      }
      // Chroma rejects mixed lists, int and float included ([1, 2.5] is an error; [1.0, 2.5] is not).
      if (!values.empty() && v->kind != values.front().kind) {
        return InvalidArgument("where: " + op + " for key " + Quote(key) + " mixes " +
                               internal::KindName(values.front().kind) + " and " + internal::KindName(v->kind) +
                               " values");
      }
      values.push_back(std::move(v).value());
    }
    SqlFilter f = MetaIn(key, op == "$nin");
    auto placeholders = [&values] {
      std::string p = "(";
      for (size_t i = 0; i < values.size(); ++i) p += i ? ",?" : "?";
      return p + ")";
    };
    switch (values.front().kind) {
      case ScalarKind::kString:
        f.sql += "string_value IN " + placeholders();
        for (const auto& v : values) f.params.emplace_back(v.s);
        break;
      case ScalarKind::kBool:
        f.sql += "bool_value IN " + placeholders();
        for (const auto& v : values) f.params.emplace_back(int64_t{v.b ? 1 : 0});
        break;
      case ScalarKind::kInt:
        f.sql += "(int_value IN " + placeholders() + " OR float_value IN " + placeholders() + ")";
        for (const auto& v : values) f.params.emplace_back(v.i);
        for (const auto& v : values) f.params.emplace_back(static_cast<double>(v.i));
        break;
      case ScalarKind::kFloat:
        f.sql += "(int_value IN " + placeholders() + " OR float_value IN " + placeholders() + ")";
        for (const auto& v : values) f.params.emplace_back(internal::TruncToInt64(v.d));
        for (const auto& v : values) f.params.emplace_back(v.d);
        break;
    }
    f.sql += ")";
    return f;
  }
};

}  // namespace

Result<SqlFilter> CompileWhere(const json& where) {
  if (where.is_null() || (where.is_object() && where.empty())) return SqlFilter{};
  return WhereCompiler().Compile(where);
}

SqlFilter And(SqlFilter a, SqlFilter b) {
  if (a.sql == "1") return b;
  if (b.sql == "1") return a;
  std::vector<SqlFilter> parts;
  parts.push_back(std::move(a));
  parts.push_back(std::move(b));
  return internal::Join(std::move(parts), " AND ", "1");
}

}  // namespace chromapact::store
