// index_metadata.pickle of an HNSW segment folder: the label <-> user id map (Chroma 1.x struct IdMap in
// rust/segment/src/local_hnsw.rs; 0.x class PersistentData in
// chromadb/segment/impl/vector/local_persistent_hnsw.py). Layout facts: docs/chroma-format.md §4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::store {

struct HnswIdMap {
  std::optional<int64_t> dimensionality;  // 1.x writes None
  int64_t total_elements_added = 0;
  std::optional<int64_t> max_seq_id;  // legacy (0.x); 1.x writes None
  // Pairs in the order they appear in (or will be written to) the pickle.
  std::vector<std::pair<std::string, int64_t>> id_to_label;
  std::vector<std::pair<int64_t, std::string>> label_to_id;
  std::vector<std::pair<std::string, int64_t>> id_to_seq_id;  // 1.x leaves it empty
};

// Reads either pickle form. A missing key is treated as its empty value (None / 0 / {}).
// Errors: kCorruption (bad pickle, a top-level value that is not a dict or a PersistentData object, a
// map key/value of the wrong type), kNotSupported (pickle protocol > 5).
Result<HnswIdMap> ParseHnswIdMap(const std::string& pickle_bytes);

// The 1.x dict form byte for byte as serde_pickle writes it: keys dimensionality, total_elements_added,
// max_seq_id, id_to_label, label_to_id, id_to_seq_id in that order, pairs in vector order.
std::string WriteHnswIdMap(const HnswIdMap& map);

}  // namespace chromapact::store
