#include "chromapact/pipeline/json_nesting.h"

#include <utility>
#include <vector>

namespace chromapact::pipeline {

Status CheckNesting(const nlohmann::json& value, const std::string& what, int max_depth) {
  std::vector<std::pair<const nlohmann::json*, int>> todo{{&value, 1}};
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    if (depth > max_depth) {
      return InvalidArgument(what + ": nested deeper than " + std::to_string(max_depth) + " levels");
    }
    for (const auto& child : *v) todo.emplace_back(&child, depth + 1);
  }
  return Status::Ok();
}

}  // namespace chromapact::pipeline
