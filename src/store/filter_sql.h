// Internal helpers shared by the `where` and `where_document` compilers (filter.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chromapact/status.h"
#include "chromapact/store/filter.h"

namespace chromapact::store::internal {

enum class ScalarKind { kString, kInt, kFloat, kBool };

// A filter operand: a JSON string, integer (must fit int64), float or bool.
struct Scalar {
  ScalarKind kind = ScalarKind::kString;
  std::string s;
  int64_t i = 0;
  double d = 0;
  bool b = false;
};

// kInvalidArgument for null, arrays, objects and integers outside int64 (Chroma rejects 2^64-1).
Result<Scalar> ToScalar(const nlohmann::json& v);

// "string", "int", "float", "bool".
const char* KindName(ScalarKind k);

// JSON type for messages: "null", "string", "int", "float", "bool", "list", "object".
std::string TypeName(const nlohmann::json& v);

// Rust's `f64 as i64`: truncation toward zero, saturating at the int64 range (NaN -> 0).
int64_t TruncToInt64(double d);

// "(a) <sep> (b) ..." with params concatenated in order; `empty_sql` when `parts` is empty.
SqlFilter Join(std::vector<SqlFilter> parts, const char* sep, const char* empty_sql);

}  // namespace chromapact::store::internal
