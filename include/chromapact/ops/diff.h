// `chromapact diff`: the reconciliation a migration needs between a chromapact collection (its
// committed versions, every shard) and a Chroma persist directory: ids on one side only, records
// whose document, metadata or embedding differ, and the same k-NN queries answered by both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/ops/transfer.h"

namespace chromapact::ops {

struct DiffOptions {
  std::string collection;         // the chromapact collection
  std::string source_collection;  // in the directory; empty: its only collection, else `collection`
  int shards = 1;
  std::string work_dir;           // scratch (created; the caller removes it)
  size_t queries = 20;            // k-NN queries asked of both (the embeddings of evenly spaced ids)
  size_t n_results = 10;
  float tolerance = 1e-6f;        // largest |a - b| per embedding component still equal
  size_t max_listed = 20;         // ids listed per kind of difference (all are counted)
};

struct DiffResult {
  uint64_t collection_records = 0;
  uint64_t directory_records = 0;
  uint64_t only_in_collection = 0;
  uint64_t only_in_directory = 0;
  uint64_t documents_differ = 0;
  uint64_t metadatas_differ = 0;
  uint64_t embeddings_differ = 0;
  // First max_listed ids of each kind, sorted.
  std::vector<std::string> only_in_collection_ids, only_in_directory_ids, differing_ids;
  uint64_t queries = 0;            // asked of both
  uint64_t queries_identical = 0;  // same ids in the same order
  double mean_overlap = 1.0;       // |top-k ∩ top-k'| / k averaged over the queries
  std::vector<uint64_t> log_positions;  // per shard, what the collection side covers

  // True when the record sets are equal (ids, documents, metadatas, embeddings within tolerance).
  bool records_equal() const {
    return only_in_collection + only_in_directory + documents_differ + metadatas_differ + embeddings_differ == 0;
  }
};

// Compares. Metadata is compared as JSON values (1 and 1.0 differ, as Chroma keeps int and float
// apart). Errors: FetchCommittedShards'; kNotFound / kInvalidArgument for the directory's collection
// (as ImportCollection); Store errors.
Result<DiffResult> DiffCollection(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                  const pipeline::Clock* clock, const std::string& persist_dir,
                                  const DiffOptions& options);

// {"records": {"collection", "directory"}, "only_in_collection": {"count", "ids"}, "only_in_directory":
// {...}, "differ": {"documents", "metadatas", "embeddings", "ids"}, "queries": {"asked", "identical",
// "mean_overlap"}, "log_positions": [...], "equal": bool}.
nlohmann::json ToJson(const DiffResult& diff);

}  // namespace chromapact::ops
