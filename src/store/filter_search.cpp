#include "store/filter_search.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "chromapact/store/store.h"

namespace chromapact::store::internal {
namespace {

std::optional<size_t>& LimitOverride() {
  static std::optional<size_t> limit;
  return limit;
}

}  // namespace

std::shared_ptr<const AllowList> FilterCache::Find(const CollectionStamp& stamp, const std::string& key) {
  if (!(stamp == stamp_)) return nullptr;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == key) {
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().second;
    }
  }
  return nullptr;
}

void FilterCache::Put(const CollectionStamp& stamp, std::string key, std::shared_ptr<const AllowList> list) {
  if (!(stamp == stamp_)) {
    entries_.clear();
    stamp_ = stamp;
  }
  entries_.remove_if([&key](const auto& e) { return e.first == key; });
  entries_.emplace_front(std::move(key), std::move(list));
  while (entries_.size() > kCapacity) entries_.pop_back();
}

std::string FilterKey(const std::string& where_json, const std::string& where_document_json,
                      const std::optional<std::vector<std::string>>& ids) {
  // '\n' cannot occur in compact JSON: the three parts cannot run into each other.
  std::string key = where_json + "\n" + where_document_json + "\n";
  key += ids ? nlohmann::json(*ids).dump() : std::string("-");
  return key;
}

std::shared_ptr<const AllowList> MakeAllowList(std::vector<uint32_t> slots, size_t record_count) {
  auto list = std::make_shared<AllowList>();
  list->bits.assign((record_count + 63) / 64, 0);
  for (uint32_t s : slots) list->bits[s >> 6] |= uint64_t{1} << (s & 63);
  list->slots = std::move(slots);
  return list;
}

// Exact search costs about c x matches (less for l2 and cosine, which abandon far records early), HNSW
// with an allow-list about the unfiltered search / selectivity^a: the break-even grows slower than the
// collection. Measured (bench/store/filtered_bench.cpp `sweep`, 384-d Gaussian clusters, l2 and cosine,
// k 10, ef_search 100, AVX-512): exact and HNSW cost the same at ~19k of 100k matches and ~6.5k of 20k,
// 8.8 x live^(2/3) at both sizes. 6 x live^(2/3) leans to HNSW, which is cheaper than the exact scan
// where records cannot be abandoned early (uniform random vectors: break-even ~10k of 100k).
size_t BruteForceLimit(size_t k, size_t live) {
  if (LimitOverride()) return *LimitOverride();
  const auto by_size = static_cast<size_t>(6.0 * std::cbrt(static_cast<double>(live) * static_cast<double>(live)));
  return std::max({kBruteForceThreshold, 10 * k, by_size});
}

void SetBruteForceThresholdForTesting(std::optional<size_t> limit) { LimitOverride() = limit; }

}  // namespace chromapact::store::internal
