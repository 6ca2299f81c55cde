// header.bin of a Chroma HNSW segment folder: int32 PERSISTENCE_VERSION (1) followed by the 13 fields of
// the fork's HEADER_FIELDS, little-endian, 100 bytes (docs/chroma-format.md §4).
#pragma once

#include <cstdint>
#include <string>

#include "chromapact/status.h"

namespace chromapact::store {

constexpr size_t kHnswHeaderSize = 100;
constexpr int32_t kHnswPersistenceVersion = 1;

struct HnswHeader {
  int32_t version = kHnswPersistenceVersion;
  uint64_t offset_level0 = 0;
  uint64_t max_elements = 0;
  uint64_t cur_element_count = 0;
  uint64_t size_data_per_element = 0;
  uint64_t label_offset = 0;
  uint64_t offset_data = 0;
  int32_t maxlevel = -1;
  uint32_t enterpoint_node = 0xffffffffu;
  uint64_t max_m = 0;
  uint64_t max_m0 = 0;
  uint64_t m = 0;
  double mult = 0;
  uint64_t ef_construction = 0;
};

// Errors: kCorruption when `bytes` is not exactly 100 bytes; kNotSupported for a version other than 1.
Result<HnswHeader> DecodeHnswHeader(const std::string& bytes);
std::string EncodeHnswHeader(const HnswHeader& header);

}  // namespace chromapact::store
