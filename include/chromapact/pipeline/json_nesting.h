// A guard for requests from outside: how deeply a JSON value nests. nlohmann::json copies and
// compares recursively, so a request nested a hundred thousand levels deep (a few hundred KB of
// "[[[[...") would overflow the stack on its first copy; this check walks it with its own stack.
#pragma once

#include <nlohmann/json.hpp>

#include "chromapact/status.h"

namespace chromapact::pipeline {

// Deepest nesting a request may have: arrays and objects inside each other, the outermost counted
// (store/filter.h's kMaxFilterDepth of 32 $and/$or levels nests 2 x 32 + 2 deep).
inline constexpr int kMaxRequestNesting = 100;

// OK when `value` nests at most `max_depth` arrays/objects deep (a scalar is depth 0). Iterative.
// Errors: kInvalidArgument "<what>: nested deeper than <max_depth> levels".
Status CheckNesting(const nlohmann::json& value, const std::string& what, int max_depth = kMaxRequestNesting);

}  // namespace chromapact::pipeline
