// The HnswSegment implementation over Debian's hnswlib 0.6.2 HierarchicalNSW. Include only from the .inc
// files compiled by hnsw_unit.cpp: hnswlib 0.6.2 may be included by one translation unit per program.
#pragma once

#include <hnswlib/hnswlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chromapact/store/hnsw_segment.h"
#include "store/hnsw_math.h"
#include "store/simd_distance.h"

namespace chromapact::store {

using HnswGraph = hnswlib::HierarchicalNSW<float>;

// hnswlib 0.6.2's searchBaseLayer reads one neighbour id past the end of a full upper-level link list
// (the prefetch of datal[j + 1]) while it allocates only `size * level + 1` bytes; upper-level link
// lists therefore get this many zeroed bytes of slack (found by fuzz/store/hnsw_files_fuzz.cpp + ASan).
constexpr size_t kLinkListSlack = sizeof(uint32_t);

// hnswlib's space over a distance kernel chosen for this CPU at run time (simd_distance.h): squared
// L2 for l2, 1 - dot for ip and cosine (normalised vectors), as hnswlib's L2Space /
// InnerProductSpace define them.
class KernelSpace final : public hnswlib::SpaceInterface<float> {
 public:
  KernelSpace(size_t dim, internal::DistanceFn fn) : dim_(dim), fn_(fn) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return fn_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
  internal::DistanceFn fn_;
};

class HnswIndex final : public HnswSegment {
 public:
  // Builds an empty index with `capacity` records of room. Errors: kResourceExhausted.
  static Result<std::unique_ptr<HnswIndex>> Make(size_t dim, const HnswParams& params, size_t capacity);
  // Use Make(); public only for std::make_unique.
  HnswIndex(size_t dim, const HnswParams& params) : dim_(dim), params_(params) {}

  Status Upsert(const std::string& id, const float* embedding) override;
  Status Delete(const std::string& id) override;
  bool Contains(const std::string& id) const override;
  size_t size() const override { return id_to_slot_.size(); }
  size_t dim() const override { return dim_; }
  const HnswParams& params() const override { return params_; }
  Result<std::vector<float>> Get(const std::string& id) const override;
  void ForEach(const std::function<void(const std::string&, const float*)>& fn) const override;
  std::vector<Neighbor> Search(const float* query, size_t k,
                               const std::function<bool(const std::string&)>* filter) const override;
  std::optional<uint32_t> Slot(const std::string& id) const override;
  std::vector<Neighbor> SearchAllowed(const float* query, size_t k, const uint64_t* allowed) const override;
  std::vector<Neighbor> ExactAmong(const float* query, size_t k, const uint32_t* slots, size_t n) const override;
  Status Save(const std::string& dir) const override;
  HnswFolderBytes Serialize() const override;
  Status Reserve(size_t n) override;
  size_t capacity() const override { return graph_->max_elements_; }
  size_t record_count() const override { return graph_->cur_element_count; }
  uint64_t total_elements_added() const override { return total_elements_added_; }
  Result<uint64_t> Label(const std::string& id) const override;

  // --- used by the file reader ---
  HnswGraph& graph() { return *graph_; }
  // Marks slot `slot` (< record_count) as the live record of `id`; `norm` is its original L2 norm.
  void AdoptSlot(uint32_t slot, const std::string& id, float norm);
  void SetNorm(uint32_t slot, float norm) { norms_[slot] = norm; }
  void set_total_elements_added(uint64_t n) { total_elements_added_ = n; }
  void set_params(const HnswParams& p) { params_ = p; }

 private:
  // Original embedding of a slot into out (un-normalised for cosine).
  void Original(uint32_t slot, float* out) const;
  // Live slots sorted by label.
  std::vector<uint32_t> LiveSlotsByLabel() const;
  Status EnsureRoomForOne();
  // The query as the graph stores vectors (normalised into *buf for cosine).
  const float* PrepareQuery(const float* query, std::vector<float>* buf) const;
  // hnswlib's searchKnn (upper-layer descent, then the base layer with ef = max(ef_search, k)) keeping
  // only slots for which allowed(slot) holds among live ones (hnsw_search.inc).
  template <typename Allowed>
  std::vector<Neighbor> SearchImpl(const float* query, size_t k, const Allowed& allowed) const;

  size_t dim_;
  HnswParams params_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;  // must outlive graph_
  std::unique_ptr<HnswGraph> graph_;
  std::unordered_map<std::string, uint32_t> id_to_slot_;
  std::vector<std::string> slot_ids_;  // by internal id; meaningful where live_[slot]
  std::vector<bool> live_;
  std::vector<float> norms_;  // by internal id: original L2 norm (length.bin)
  uint64_t total_elements_added_ = 0;
};

}  // namespace chromapact::store
