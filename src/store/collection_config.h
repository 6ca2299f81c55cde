// Collection configuration as Chroma stores it: the 1.0-style config_json_str we write, and the HNSW
// parameters read back from any version's row (1.3+ schema_str, 1.0 config JSON, 0.5/0.6 legacy
// config JSON, hnsw:* metadata keys). Facts: docs/chroma-format.md §3.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/status.h"
#include "chromapact/store/hnsw_segment.h"

namespace chromapact::store::internal {

// {"vector_index":{"hnsw":{"space":..,"ef_construction":..,"ef_search":..,"max_neighbors":..,
//  "resize_factor":..,"sync_threshold":..}},"embedding_function":{"type":"legacy"}}
std::string ConfigJsonFor(const HnswParams& params);

// Reads HNSW parameters. `config_json` / `schema_json` may be empty (NULL column). `legacy` holds the
// collection's and then the segments' hnsw:* metadata (JSON object); those keys apply when the
// configuration is Chroma's default (get_internal_hnsw_config_with_legacy_fallback).
// Errors: kCorruption when a present JSON column does not parse or names an unknown space.
Result<HnswParams> ParseHnswParams(const std::string& config_json, const std::string& schema_json,
                                   const nlohmann::json& legacy);

// Chroma's collection name rule (chromadb/api/types.py validate / rust/types/src/collection.rs):
// 3..512 characters of [a-zA-Z0-9._-], starting and ending with [a-zA-Z0-9], no "..", not an IPv4
// address. Errors: kInvalidArgument quoting the name.
Status ValidateCollectionName(const std::string& name);

// Checks HNSW parameters (M >= 2, ef_construction >= 1, ef_search >= 1). Errors: kInvalidArgument.
Status ValidateHnswParams(const HnswParams& params);

}  // namespace chromapact::store::internal
