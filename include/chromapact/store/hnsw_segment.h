// The VECTOR segment of a Chroma collection: an HNSW index over (user id -> embedding), persisted as
// the folder Chroma 1.x writes: header.bin, data_level0.bin, length.bin, link_lists.bin,
// index_metadata.pickle (layout: docs/chroma-format.md §4; built with Debian's hnswlib
// 0.6.2, whose in-memory layout equals Chroma's fork's).
//
// Distances follow Chroma: l2 = squared Euclidean; cosine = 1 - dot(a/|a|, b/|b|); ip = 1 - dot(a, b).
// Embeddings are float32, `dim` values per vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::store {

enum class Space { kL2, kCosine, kIp };

// "l2" / "cosine" / "ip". ParseSpace errors: kInvalidArgument naming the value.
const char* SpaceName(Space space);
Result<Space> ParseSpace(const std::string& name);

// Chroma's HNSW defaults (rust/types/src/hnsw_configuration.rs).
struct HnswParams {
  Space space = Space::kL2;
  size_t M = 16;                  // max_neighbors
  size_t ef_construction = 100;
  size_t ef_search = 100;
  double resize_factor = 1.2;
  size_t sync_threshold = 1000;
};

// Distance between two `dim`-vectors by Chroma's definition for `space` (cosine normalises both).
float Distance(Space space, const float* a, const float* b, size_t dim);

// The five files of a segment folder as bytes (the unit Save/Load and S3 uploads deal in).
// `pickle` empty with has_pickle == false means index_metadata.pickle is absent.
struct HnswFolderBytes {
  std::string header;       // header.bin (100 bytes)
  std::string data_level0;  // data_level0.bin
  std::string length;       // length.bin
  std::string link_lists;   // link_lists.bin
  std::string pickle;       // index_metadata.pickle
  bool has_pickle = false;
};

// File names inside a segment folder, in the order Save writes them.
extern const char* const kHnswFileNames[5];

struct Neighbor {
  std::string id;
  float distance = 0;
};

// Thread safety: const methods may run concurrently with each other; mutators need exclusive access.
class HnswSegment {
 public:
  // An empty index. Errors: kInvalidArgument for dim == 0 or M < 2.
  static Result<std::unique_ptr<HnswSegment>> Create(size_t dim, const HnswParams& params);

  // Reads a segment folder written by Chroma 0.4 .. 1.5 or by Save(). A missing pickle, or one with an
  // empty id_to_label, is an empty index (Chroma rebuilds it from the log). Only cur_element_count
  // records are read; DELETE_MARK records and labels absent from label_to_id are skipped; cosine
  // vectors are un-normalised with length.bin. `dim` comes from collections.dimension.
  // Errors: kCorruption (truncated/inconsistent file, bad pickle, size mismatch with dim),
  // kNotSupported (PERSISTENCE_VERSION != 1), kIOError (unreadable file).
  static Result<std::unique_ptr<HnswSegment>> Load(const std::string& dir, size_t dim, const HnswParams& params);

  // Load() over bytes already in memory (same rules and errors, no kIOError).
  static Result<std::unique_ptr<HnswSegment>> LoadFromBytes(const HnswFolderBytes& files, size_t dim,
                                                            const HnswParams& params);

  virtual ~HnswSegment() = default;

  // Inserts or replaces `id`'s embedding (`dim` floats). A new id gets label total_elements_added + 1
  // (Chroma 1.x label order); an existing id keeps its label and internal slot (hnswlib updatePoint).
  // Errors: kInvalidArgument for an empty id or a non-finite value (naming the index of the value).
  virtual Status Upsert(const std::string& id, const float* embedding) = 0;
  // Marks `id` deleted (Chroma keeps the slot with DELETE_MARK and drops it from the pickle maps).
  // Errors: kNotFound when the id is not live.
  virtual Status Delete(const std::string& id) = 0;

  virtual bool Contains(const std::string& id) const = 0;
  virtual size_t size() const = 0;  // live ids
  virtual size_t dim() const = 0;
  virtual const HnswParams& params() const = 0;
  // The original (for cosine: un-normalised) embedding of `id`. Errors: kNotFound.
  virtual Result<std::vector<float>> Get(const std::string& id) const = 0;
  // Calls fn for every live id (in label order) with its original embedding.
  virtual void ForEach(const std::function<void(const std::string&, const float*)>& fn) const = 0;

  // The k nearest live ids to `query` (`dim` floats), closest first, searched with
  // max(ef_search, k). When `filter` is set only ids for which it returns true are candidates
  // (hnswlib filter functor). Fewer than k when fewer match.
  virtual std::vector<Neighbor> Search(const float* query, size_t k,
                                       const std::function<bool(const std::string&)>* filter) const = 0;

  // --- Slots: the index's internal ids 0 .. record_count() - 1, how the store's filtered query names an
  // allowed set without strings. A live id keeps its slot until it is deleted (an update keeps it too).
  // The slot of a live id; nullopt when `id` is not live.
  virtual std::optional<uint32_t> Slot(const std::string& id) const = 0;
  // Search() restricted to the live slots whose bit is set in `allowed`: bit (s % 64) of allowed[s / 64]
  // for slot s, (record_count() + 63) / 64 words. Disallowed nodes are traversed but never returned
  // (hnswlib's filter functor), so a very selective set may return fewer than k: see ExactAmong.
  virtual std::vector<Neighbor> SearchAllowed(const float* query, size_t k, const uint64_t* allowed) const = 0;
  // Exact k nearest among the `n` slots at `slots` (each a live slot), closest first, ties broken by
  // position in `slots`. Distances are computed with the index's own kernel over its stored vectors,
  // the values Search() returns for the same records (Chroma's definitions, float rounding aside).
  virtual std::vector<Neighbor> ExactAmong(const float* query, size_t k, const uint32_t* slots, size_t n) const = 0;

  // Writes the five files into `dir` (created if missing) in Chroma 1.5.9's layout: 100-byte header,
  // full-capacity data_level0.bin and length.bin, link_lists.bin, dict-form protocol-3 pickle with
  // labels, total_elements_added, max_seq_id None, id_to_seq_id {}. Errors: kIOError.
  virtual Status Save(const std::string& dir) const = 0;
  // The bytes Save() writes (has_pickle is always true).
  virtual HnswFolderBytes Serialize() const = 0;

  // Grows the capacity (max_elements) so that `n` records fit, as Chroma does before a batch insert:
  // next power of two of n, at least 100 (rust/index/src/hnsw.rs). Upsert grows one record at a
  // time by the same rule. Errors: kResourceExhausted when memory runs out.
  virtual Status Reserve(size_t n) = 0;
  // Capacity in records (header max_elements_) and records stored incl. deleted (cur_element_count).
  virtual size_t capacity() const = 0;
  virtual size_t record_count() const = 0;
  // Chroma's total_elements_added: the next new id gets label total_elements_added() + 1.
  virtual uint64_t total_elements_added() const = 0;
  // Label of a live id. Errors: kNotFound.
  virtual Result<uint64_t> Label(const std::string& id) const = 0;
};

}  // namespace chromapact::store
