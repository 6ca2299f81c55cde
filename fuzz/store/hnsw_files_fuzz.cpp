// Fuzz target: HnswSegment::LoadFromBytes over arbitrary segment files.
// Input: [u8 space][u8 dim-1][u16 header len][u16 data_level0 len][u16 link_lists len][u16 length len]
// then those four files back to back, the rest is index_metadata.pickle. A segment that loads must
// answer a search, take an upsert, and re-serialise to bytes that load again.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "chromapact/store/hnsw_segment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chromapact::store;
  if (size < 10) return 0;
  HnswParams params;
  params.space = static_cast<Space>(data[0] % 3);
  const size_t dim = 1 + data[1] % 16;
  size_t pos = 10;
  HnswFolderBytes files;
  std::string* parts[4] = {&files.header, &files.data_level0, &files.link_lists, &files.length};
  for (int i = 0; i < 4; ++i) {
    uint16_t len;
    std::memcpy(&len, data + 2 + 2 * i, 2);
    const size_t take = len < size - pos ? len : size - pos;
    parts[i]->assign(reinterpret_cast<const char*>(data + pos), take);
    pos += take;
  }
  files.pickle.assign(reinterpret_cast<const char*>(data + pos), size - pos);
  files.has_pickle = true;

  auto loaded = HnswSegment::LoadFromBytes(files, dim, params);
  if (!loaded.ok()) return 0;
  HnswSegment& seg = **loaded;
  std::vector<float> q(dim, 0.25f);
  (void)seg.Search(q.data(), 5, nullptr);
  std::function<bool(const std::string&)> odd = [](const std::string& id) { return id.size() % 2 == 1; };
  (void)seg.Search(q.data(), 3, &odd);
  seg.ForEach([](const std::string&, const float*) {});
  if (!seg.Upsert("fuzz-new-id", q.data()).ok()) std::abort();
  const HnswFolderBytes again = seg.Serialize();
  auto reloaded = HnswSegment::LoadFromBytes(again, dim, params);
  if (!reloaded.ok() || (*reloaded)->size() != seg.size()) std::abort();
  return 0;
}
