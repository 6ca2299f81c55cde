// Fuzz target: the pickle VM and the index_metadata.pickle reader. Whatever parses must also survive
// the writer; an id map that parses must re-serialise and parse back to the same map.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "chromapact/store/hnsw_id_map.h"
#include "chromapact/store/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chromapact::store;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto value = ParsePickle(bytes);
  if (value.ok()) (void)WritePickle(*value);  // may refuse tuples/objects, must not crash
  auto map = ParseHnswIdMap(bytes);
  if (map.ok()) {
    const std::string again = WriteHnswIdMap(*map);
    auto back = ParseHnswIdMap(again);
    if (!back.ok() || WriteHnswIdMap(*back) != again) std::abort();
  }
  return 0;
}
