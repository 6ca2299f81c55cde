// The Store implementation (store.h): one SQLite connection + an in-memory HnswSegment per collection.
// Split by concept: store_open.cpp (open, load, log replay), store_collections.cpp,
// store_records.cpp (writes), store_read.cpp (get/query/count), store_persist.cpp, store_json.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "chromapact/store/filter.h"
#include "chromapact/store/store.h"
#include "store/filter_search.h"
#include "store/log_record.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace chromapact::store::internal {

struct CollectionState {
  CollectionInfo info;
  std::string topic;                    // embeddings_queue topic
  std::unique_ptr<HnswSegment> vectors;  // null until the dimension is known
  int64_t applied_seq = 0;               // last log seq of this topic applied to both segments
  int64_t vector_persisted_seq = 0;      // max_seq_id[VECTOR] on disk
  bool vectors_dirty = false;            // changed since load / last persist
  // OpenOptions::defer_vectors: the HNSW folder exists on disk but is not loaded (`vectors` is null);
  // LoadDeferredVectors loads it and replays the log past vector_persisted_seq.
  bool vectors_deferred = false;
  // Allow-lists of recent filtered queries (store_read.cpp); created by the first one.
  mutable std::shared_ptr<FilterCache> filter_cache;
};

class StoreImpl final : public Store {
 public:
  StoreImpl(std::string dir, const OpenOptions& options) : dir_(std::move(dir)), options_(options) {}

  Status Init();  // store_open.cpp

  Result<CollectionInfo> CreateCollection(const std::string& name, const CollectionOptions& options,
                                          bool get_or_create) override;
  Result<CollectionInfo> GetCollection(const std::string& name) const override;
  Result<std::vector<CollectionInfo>> ListCollections() const override;
  Result<size_t> CountCollections() const override;
  Status DeleteCollection(const std::string& name) override;

  Status Add(const std::string& collection, const RecordBatch& batch) override;
  Status Upsert(const std::string& collection, const RecordBatch& batch) override;
  Status Update(const std::string& collection, const RecordBatch& batch) override;
  Result<size_t> Delete(const std::string& collection, const std::optional<std::vector<std::string>>& ids,
                        const nlohmann::json& where, const nlohmann::json& where_document) override;

  Result<size_t> Count(const std::string& collection) const override;
  Result<GetResult> Get(const std::string& collection, const GetRequest& request) const override;
  Result<QueryResult> Query(const std::string& collection, const QueryRequest& request) const override;

  Status Persist(const PersistOptions& options) override;
  const std::string& dir() const override { return dir_; }
  Result<int64_t> LastSeqId() const override { return LastLogSeqId(*db_); }
  Result<uint64_t> VectorTailRecords(const std::string& collection) const override;
  Status LoadDeferredVectors(CollectionState* c);

 private:
  // store_open.cpp
  Status LoadCollections();
  Result<std::unique_ptr<CollectionState>> LoadCollection(const std::string& id, const std::string& name,
                                                          std::optional<size_t> dimension, const std::string& config,
                                                          const std::string& schema, const std::string& topic);
  // Applies log rows of `c.topic` past the segments' max_seq_ids; `write_meta` false = only HNSW.
  Status ReplayLog(CollectionState* c, int64_t meta_seq, int64_t vector_seq);
  // Applies one log record to the in-memory VECTOR segment with Chroma's op semantics.
  Status ApplyToVectors(CollectionState* c, const LogRecord& rec);
  Status EnsureVectors(CollectionState* c, size_t dim);

  // store_records.cpp
  Status Write(const std::string& collection, const RecordBatch& batch, Op op);
  Status WriteLogRecords(CollectionState* c, std::vector<LogRecord>* records);

  // store_read.cpp
  Result<CollectionState*> Find(const std::string& name) const;
  // (offset id, user id) of the records of `c` matching the filters, in offset order.
  Result<std::vector<std::pair<int64_t, std::string>>> Match(const CollectionState& c,
                                                             const std::optional<std::vector<std::string>>& ids,
                                                             const nlohmann::json& where,
                                                             const nlohmann::json& where_document,
                                                             std::optional<size_t> limit, size_t offset) const;
  // The live HNSW slots of the records matching the filters of `request` (at least one is set),
  // from c's filter cache or resolved through SQLite (then cached). Errors: as Match.
  Result<std::shared_ptr<const AllowList>> Allowed(const CollectionState& c, const QueryRequest& request) const;
  Status ReadColumns(const CollectionState& c, int64_t offset_id, const std::string& id, unsigned include,
                     std::vector<float>* embedding, std::optional<std::string>* document,
                     nlohmann::json* metadata) const;

  Status RequireWritable(const char* what) const;

  std::string dir_;
  OpenOptions options_;
  std::unique_ptr<SqliteDb> db_;
  SchemaInfo schema_;
  std::map<std::string, std::unique_ptr<CollectionState>> collections_;  // by name
};

// A random RFC 4122 version-4 UUID, lowercase and hyphenated.
std::string NewUuid();

}  // namespace chromapact::store::internal
