// The filtered query's allowed set (store_read.cpp): the records matching `ids` / `where` /
// `where_document`, resolved once through SQLite into HNSW slots, kept per collection for the next
// query with the same filters, and the rule that picks exact search or HNSW for a set of that size.
// Internal to the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/store/hnsw_segment.h"

namespace chromapact::store::internal {

// The live records matching a filter, as slots of the collection's HnswSegment.
struct AllowList {
  std::vector<uint32_t> slots;  // in metadata offset-id order (insertion order: exact search's tie order)
  std::vector<uint64_t> bits;   // bitset over slots, HnswSegment::SearchAllowed's layout
};

// What the collection looked like when an allow-list was resolved. Every write the store applies
// advances applied_seq (and adds, deletes and updates of vectors change the counts), so an equal stamp
// means the same records, metadata and documents.
struct CollectionStamp {
  const HnswSegment* segment = nullptr;
  int64_t applied_seq = 0;
  uint64_t total_elements_added = 0;
  size_t live = 0;
  size_t records = 0;
  bool operator==(const CollectionStamp& o) const {
    return segment == o.segment && applied_seq == o.applied_seq && total_elements_added == o.total_elements_added &&
           live == o.live && records == o.records;
  }
};

// The last kCapacity allow-lists of one collection, by filter key (FilterKey), least recently used
// dropped first; all of them dropped when the stamp changes. Memory: per entry record_count / 8 bytes
// of bits plus 4 bytes per allowed record. Not thread-safe (the Store is used by one thread at a time).
class FilterCache {
 public:
  static constexpr size_t kCapacity = 8;
  // The list for `key` resolved at `stamp`, or null.
  std::shared_ptr<const AllowList> Find(const CollectionStamp& stamp, const std::string& key);
  void Put(const CollectionStamp& stamp, std::string key, std::shared_ptr<const AllowList> list);

 private:
  CollectionStamp stamp_;
  std::list<std::pair<std::string, std::shared_ptr<const AllowList>>> entries_;  // most recent first
};

// The cache key of a request's filters: where, where_document and ids as canonical JSON (nlohmann
// sorts object keys), so equal filters give equal keys whatever their key order.
std::string FilterKey(const std::string& where_json, const std::string& where_document_json,
                      const std::optional<std::vector<std::string>>& ids);

// An AllowList over `record_count` slots from slots in offset order (each < record_count).
std::shared_ptr<const AllowList> MakeAllowList(std::vector<uint32_t> slots, size_t record_count);

// Exact search over the allowed set when it has at most this many records, else HNSW with the
// allow-list: max(kBruteForceThreshold (store.h), 10 x k, 6 x live^(2/3)) for a collection of `live`
// records (12.9k of 100k, 4.4k of 20k; the measurement is in filter_search.cpp). A test override
// replaces the whole rule.
size_t BruteForceLimit(size_t k, size_t live);

// Tests and benchmarks: force the limit (SIZE_MAX = always exact, 0 = always HNSW); nullopt restores
// the rule. Process-wide; not thread-safe.
void SetBruteForceThresholdForTesting(std::optional<size_t> limit);

}  // namespace chromapact::store::internal
