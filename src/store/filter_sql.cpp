#include "store/filter_sql.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace chromapact::store::internal {

Result<Scalar> ToScalar(const nlohmann::json& v) {
  Scalar s;
  if (v.is_string()) {
    s.kind = ScalarKind::kString;
    s.s = v.get<std::string>();
  } else if (v.is_boolean()) {
    s.kind = ScalarKind::kBool;
    s.b = v.get<bool>();
  } else if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgument("integer " + std::to_string(u) + " does not fit in int64");
    }
    s.kind = ScalarKind::kInt;
    s.i = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    s.kind = ScalarKind::kInt;
    s.i = v.get<int64_t>();
  } else if (v.is_number_float()) {
    s.kind = ScalarKind::kFloat;
    s.d = v.get<double>();
  } else {
    return InvalidArgument("expected a string, int, float or bool, got " + TypeName(v));
  }
  return s;
}

const char* KindName(ScalarKind k) {
  switch (k) {
    case ScalarKind::kString: return "string";
    case ScalarKind::kInt: return "int";
    case ScalarKind::kFloat: return "float";
    case ScalarKind::kBool: return "bool";
  }
  return "?";
}

std::string TypeName(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  if (v.is_array()) return "list";
  if (v.is_object()) return "object";
  return "other";
}

int64_t TruncToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);  // truncates toward zero
}

SqlFilter Join(std::vector<SqlFilter> parts, const char* sep, const char* empty_sql) {
  SqlFilter out;
  if (parts.empty()) {
    out.sql = empty_sql;
    return out;
  }
  if (parts.size() == 1) return std::move(parts.front());
  out.sql.clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.sql += sep;
    out.sql += "(" + parts[i].sql + ")";
    for (auto& p : parts[i].params) out.params.push_back(std::move(p));
  }
  return out;
}

}  // namespace chromapact::store::internal
