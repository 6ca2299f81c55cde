// header.bin codec (docs/chroma-format.md §4).
#include "store/hnsw_header.h"

#include <cstring>

namespace chromapact::store {

namespace {

template <typename T>
void PutPod(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // little-endian host (x86-64 / arm64 Lambda)
  out->append(buf, sizeof(T));
}

template <typename T>
T GetPod(const std::string& in, size_t* pos) {
  T v;
  std::memcpy(&v, in.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return v;
}

}  // namespace

std::string EncodeHnswHeader(const HnswHeader& h) {
  std::string out;
  out.reserve(kHnswHeaderSize);
  PutPod(&out, h.version);
  PutPod(&out, h.offset_level0);
  PutPod(&out, h.max_elements);
  PutPod(&out, h.cur_element_count);
  PutPod(&out, h.size_data_per_element);
  PutPod(&out, h.label_offset);
  PutPod(&out, h.offset_data);
  PutPod(&out, h.maxlevel);
  PutPod(&out, h.enterpoint_node);
  PutPod(&out, h.max_m);
  PutPod(&out, h.max_m0);
  PutPod(&out, h.m);
  PutPod(&out, h.mult);
  PutPod(&out, h.ef_construction);
  return out;
}

Result<HnswHeader> DecodeHnswHeader(const std::string& bytes) {
  if (bytes.size() != kHnswHeaderSize) {
    return Corruption("header.bin: " + std::to_string(bytes.size()) + " bytes, expected " +
                      std::to_string(kHnswHeaderSize));
  }
  size_t pos = 0;
  HnswHeader h;
  h.version = GetPod<int32_t>(bytes, &pos);
  if (h.version != kHnswPersistenceVersion) {
    return NotSupported("header.bin: PERSISTENCE_VERSION " + std::to_string(h.version) + " (only 1 is read)");
  }
  h.offset_level0 = GetPod<uint64_t>(bytes, &pos);
  h.max_elements = GetPod<uint64_t>(bytes, &pos);
  h.cur_element_count = GetPod<uint64_t>(bytes, &pos);
  h.size_data_per_element = GetPod<uint64_t>(bytes, &pos);
  h.label_offset = GetPod<uint64_t>(bytes, &pos);
  h.offset_data = GetPod<uint64_t>(bytes, &pos);
  h.maxlevel = GetPod<int32_t>(bytes, &pos);
  h.enterpoint_node = GetPod<uint32_t>(bytes, &pos);
  h.max_m = GetPod<uint64_t>(bytes, &pos);
  h.max_m0 = GetPod<uint64_t>(bytes, &pos);
  h.m = GetPod<uint64_t>(bytes, &pos);
  h.mult = GetPod<double>(bytes, &pos);
  h.ef_construction = GetPod<uint64_t>(bytes, &pos);
  return h;
}

}  // namespace chromapact::store
