// A collection's HNSW configuration as the Chroma REST API takes it (`configuration` of
// create_collection: {"hnsw": {"space", "ef_construction", "ef_search", "max_neighbors",
// "resize_factor", "sync_threshold"}}, Chroma 1.x chromadb/api/collection_configuration.py), kept on
// the collection's `COLL#<storage>` item (dimension_registry.h) as the attribute `configuration`
// (JSON text) so that whoever creates the collection's first store — the compactor's first version,
// the query's read of the log before any version — builds it with the same space and parameters.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/kv_store.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline {

// `defaults` with the keys `configuration.hnsw` gives (null or absent configuration / hnsw: the
// defaults). Errors: kInvalidArgument naming the key ("configuration.hnsw.space: expected one of l2,
// cosine, ip", "configuration.hnsw.max_neighbors: expected an integer >= 2", ...).
Result<store::HnswParams> HnswParamsFromConfiguration(const nlohmann::json& configuration,
                                                       const store::HnswParams& defaults);

// Chroma's configuration_json for `params`: {"hnsw": {...all six keys...}, "spann": null,
// "embedding_function": null}.
nlohmann::json ConfigurationJson(const store::HnswParams& params);

// Writes `configuration` on COLL#<storage> unless one is there already (first writer wins).
// Errors: KvStore's.
Status StoreCollectionConfiguration(KvStore* kv, const std::string& storage, const nlohmann::json& configuration);

// `defaults` with the HNSW parameters stored for `storage` (none stored: `defaults`).
// Errors: KvStore's; kCorruption when the stored configuration does not parse.
Result<store::CollectionOptions> LoadCollectionOptions(KvStore* kv, const std::string& storage,
                                                       store::CollectionOptions defaults);

}  // namespace chromapact::pipeline
