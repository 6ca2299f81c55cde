// The Chroma-compatible store: a persist directory (chroma.sqlite3 + one HNSW folder per VECTOR
// segment) that real Chroma 1.5.9 opens as it is, read and written through Chroma's API shapes.
//
// Layout and semantics: docs/chroma-format.md (§2 the 18 migrations, §3 records and log, §6 the layout
// we write). Every write appends rows to `embeddings_queue` (the log),
// applies them to the METADATA segment in the same SQLite transaction, and to the in-memory VECTOR
// segment (HnswSegment). Persist() writes the HNSW folders and sets max_seq_id[VECTOR]; until then
// a reopen replays the log tail, as Chroma itself does (rust/log/src/local_compaction_manager.rs).
//
// Semantics follow Chroma 1.x (rust/segment/src/sqlite_metadata.rs, types/src/log_record.rs):
//   add     of an existing id is ignored;      update of a missing id is ignored;
//   upsert  inserts or updates (metadata merges into the stored one);
//   update  is partial: embedding and/or document and/or metadata; metadata keys merge and a JSON
//           null value deletes that key;
//   delete  of a missing id is ignored.
// Metadata values are JSON strings, integers, floats or booleans (Chroma's str/int/float/bool), or
// (records only, Chroma 1.5) lists of one of those types;
// the document is kept apart (key "chroma:document" in the tables and in the log).
//
// Not thread-safe: one Store is used by one thread at a time (const queries included, since they
// share the SQLite connection and its prepared statements).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/status.h"
#include "chromapact/store/hnsw_segment.h"

namespace chromapact::store {

// Chroma's default tenant and database (inserted by migration sysdb/00004).
inline constexpr const char* kDefaultTenant = "default_tenant";
inline constexpr const char* kDefaultDatabaseId = "00000000-0000-0000-0000-000000000000";
inline constexpr const char* kDefaultDatabaseName = "default_database";
// File name of the SQLite database inside a persist directory.
inline constexpr const char* kSqliteFileName = "chroma.sqlite3";

struct OpenOptions {
  // Read-only: SQLite is opened with `file:...?mode=ro` and nothing on disk is changed. When the
  // METADATA segment lags the log (max_seq_id[METADATA] < last log row), the database is copied into
  // memory and the tail is applied there.
  bool read_only = false;
  // Read-only and the files cannot change while open (a published snapshot): adds `immutable=1`.
  bool immutable = false;
  // Read-write only: create the directory and a fresh database (18 migrations) when absent.
  bool create_if_missing = true;
  // Read-write only: an existing HNSW folder is not loaded at open, and writes go to the log and
  // the METADATA segment only (what a minor Persist needs: the compactor's work copy). The index is
  // loaded, with the log past max_seq_id[VECTOR] replayed into it, by a major Persist (vectors true).
  // Until then Query, and Get with embeddings included, answer kNotSupported.
  bool defer_vectors = false;
};

// What a new collection gets. Defaults are Chroma's (rust/types/src/hnsw_configuration.rs):
// space l2, M 16, ef_construction 100, ef_search 100.
struct CollectionOptions {
  HnswParams hnsw;
  // JSON object of str/int/float/bool values (collection_metadata rows), or null for none.
  nlohmann::json metadata = nullptr;
  // Set now, or by the first add/upsert (Chroma does the same).
  std::optional<size_t> dimension;
};

struct CollectionInfo {
  std::string id;    // collection UUID (lowercase, hyphenated)
  std::string name;
  std::optional<size_t> dimension;
  nlohmann::json metadata = nullptr;  // object, or null when the collection has none
  HnswParams hnsw;                    // from config_json_str / schema_str / legacy hnsw:* keys
  std::string metadata_segment_id;    // segments row, scope METADATA
  std::string vector_segment_id;      // segments row, scope VECTOR (= the HNSW folder name)
};

// A batch of records for Add / Upsert / Update. n = ids.size().
struct RecordBatch {
  std::vector<std::string> ids;
  // n x dim float32, row-major; empty = no embeddings given (required for Add and Upsert).
  std::vector<float> embeddings;
  // Empty = none given; else n entries (nullopt = no document for that record / unchanged on Update).
  std::vector<std::optional<std::string>> documents;
  // Empty = none given; else n entries, each a JSON object or null (null = none / unchanged).
  std::vector<nlohmann::json> metadatas;
};

// What Get/Query return besides ids (which always come back). Values combine with |.
enum Include : unsigned {
  kIncludeEmbeddings = 1u,
  kIncludeDocuments = 2u,
  kIncludeMetadatas = 4u,
  kIncludeDistances = 8u,  // Query only
};
// Chroma's defaults: get ["metadatas", "documents"]; query adds "distances".
inline constexpr unsigned kDefaultGetInclude = kIncludeDocuments | kIncludeMetadatas;
inline constexpr unsigned kDefaultQueryInclude = kIncludeDocuments | kIncludeMetadatas | kIncludeDistances;
// Parses Chroma's include list (["embeddings","documents","metadatas","distances"]; "uris" and
// "data" are accepted and ignored). Errors: kInvalidArgument naming the unknown entry.
Result<unsigned> ParseInclude(const nlohmann::json& include);

struct GetRequest {
  std::optional<std::vector<std::string>> ids;  // restrict to these ids (missing ids are skipped)
  nlohmann::json where = nullptr;               // Chroma `where` (filter.h), null = none
  nlohmann::json where_document = nullptr;      // Chroma `where_document`, null = none
  std::optional<size_t> limit;
  size_t offset = 0;
  unsigned include = kDefaultGetInclude;
};

// Column-of-lists, one entry per record, in storage order (the metadata segment's offset id,
// i.e. insertion order, as Chroma 1.x returns them). A column is present iff included.
struct GetResult {
  std::vector<std::string> ids;
  std::optional<std::vector<std::vector<float>>> embeddings;
  std::optional<std::vector<std::optional<std::string>>> documents;
  std::optional<std::vector<nlohmann::json>> metadatas;  // object or null per record
  unsigned include = kDefaultGetInclude;
};

struct QueryRequest {
  // q x dim float32, row-major: q queries (q >= 1).
  std::vector<float> query_embeddings;
  size_t n_results = 10;
  std::optional<std::vector<std::string>> ids;  // candidates restricted to these ids
  nlohmann::json where = nullptr;
  nlohmann::json where_document = nullptr;
  unsigned include = kDefaultQueryInclude;
};

// One inner list per query, each sorted by distance ascending (Chroma's definitions per space:
// hnsw_segment.h). Inner lists hold min(n_results, matching records) entries.
struct QueryResult {
  std::vector<std::vector<std::string>> ids;
  std::optional<std::vector<std::vector<std::vector<float>>>> embeddings;
  std::optional<std::vector<std::vector<std::optional<std::string>>>> documents;
  std::optional<std::vector<std::vector<nlohmann::json>>> metadatas;
  std::optional<std::vector<std::vector<float>>> distances;
  unsigned include = kDefaultQueryInclude;
};

// Chroma's REST (API v2) response bodies: keys ids, embeddings, documents, uris, metadatas,
// (distances,) include; a column not included (and uris, always) is null; "include" lists the
// included names in the order documents, metadatas, embeddings, distances. Embeddings and distances
// are float32 values written as JSON numbers.
nlohmann::json ToJson(const GetResult& result);
nlohmann::json ToJson(const QueryResult& result);

struct PersistOptions {
  // Delete log rows below min(max_seq_id) of every segment (Chroma's purge; the row at the minimum is
  // kept, gotcha (a) of docs/chroma-format.md §3). Off: the whole log stays, as real Chroma reads it.
  bool purge_log = false;
  // After the commit, when free pages are more than a quarter of the file (e.g. after a purge),
  // VACUUM the database so the file shrinks (the same as `chroma utils vacuum`; schema and rows are
  // unchanged). Costs a rewrite of the live pages. Errors: kIOError naming the step.
  bool vacuum = false;
  // Write the HNSW files of changed VECTOR segments and move max_seq_id[VECTOR] (a "major"
  // persist). False (a "minor" persist): the HNSW folders and max_seq_id[VECTOR] stay as they are on
  // disk; the records past it stay in embeddings_queue (a purge keeps them: it cuts below
  // min(max_seq_id)), and every reader of the directory, this Store and Chroma alike, replays them
  // into the index on open (docs/chroma-format.md "A reader must replay the log tail"; Chroma itself
  // persists HNSW only every sync_threshold records). A segment whose folder does not exist yet is
  // written anyway, so a directory always has its HNSW files once it has vectors.
  bool vectors = true;
};

// An unfiltered query over at most this many records scans them exactly instead of searching HNSW;
// a filtered query does so up to max(this, 10 x n_results, 6 x records^(2/3)) matching records (the
// break-even of exact search and HNSW with an allow-list, measured by bench/store/filtered_bench.cpp
// `sweep`: ~19k of 100k, ~6.5k of 20k 384-d records).
inline constexpr size_t kBruteForceThreshold = 1000;

class Store {
 public:
  // Opens (or, read-write with create_if_missing, creates) the persist directory `dir`.
  // A fresh database gets `migrations` + `acquire_write`, the 18 migrations in order and their rows.
  // An existing one is checked: its migration rows must be a prefix-compatible subset of Chroma's
  // (hash per (dir, version)); read-write opens apply the missing ones (0.4 .. 1.4 upgrade in place as
  // Chroma 1.x does). Then every collection's VECTOR segment is loaded (HnswSegment::Load when its
  // folder exists) and both segments are brought up to the log's end by replaying embeddings_queue
  // rows of the collection's topic past each segment's max_seq_id (INTEGER or 8-byte big-endian
  // BLOB seq ids).
  // Errors: kNotFound (dir or database missing and not creating), kNotSupported (a database that is
  // not Chroma's, or a migration hash we do not know), kCorruption (unreadable rows, HNSW files),
  // kIOError (file system / SQLite open failures).
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, const OpenOptions& options = {});

  virtual ~Store() = default;

  // --- collections (default tenant/database) ---
  // Creates collection `name` (Chroma's name rule: 3..512 chars of [a-zA-Z0-9._-], starting and
  // ending alphanumeric, no ".."). Writes the collections row (dimension when known, 1.0-style
  // config_json_str, schema_str NULL), collection_metadata rows and the METADATA + VECTOR segments.
  // get_or_create: return the existing collection instead of kAlreadyExists (options are ignored then).
  // Errors: kInvalidArgument (name, metadata value types, HNSW params), kAlreadyExists, kNotSupported
  // on a read-only store.
  virtual Result<CollectionInfo> CreateCollection(const std::string& name, const CollectionOptions& options,
                                                  bool get_or_create = false) = 0;
  // Errors: kNotFound.
  virtual Result<CollectionInfo> GetCollection(const std::string& name) const = 0;
  // All collections, ordered by name.
  virtual Result<std::vector<CollectionInfo>> ListCollections() const = 0;
  virtual Result<size_t> CountCollections() const = 0;
  // Removes the collection's rows (collection, metadata, segments, records, its log rows, max_seq_id)
  // and its HNSW folder. Errors: kNotFound, kNotSupported on a read-only store, kIOError.
  virtual Status DeleteCollection(const std::string& name) = 0;

  // --- records ---
  // Validation for Add / Upsert / Update (kInvalidArgument, message names the record index or key):
  // empty id, duplicate id in the batch, column sizes != n, embeddings.size() != n x dim
  // ("expected dimension 8, got 10 per record ..."), NaN/Inf values ("record 3: value 5 is not
  // finite"), metadata not an object, a value that is not str/int/float/bool or a list of one of
  // those types (Chroma 1.5 arrays, stored in embedding_metadata_array; an empty list stores nothing),
  // keys starting with "chroma:".
  // Add and Upsert need embeddings; Update may omit them. The first write to a collection whose
  // dimension is unset sets it. Errors also: kNotFound (collection), kNotSupported (read-only).
  virtual Status Add(const std::string& collection, const RecordBatch& batch) = 0;
  virtual Status Upsert(const std::string& collection, const RecordBatch& batch) = 0;
  virtual Status Update(const std::string& collection, const RecordBatch& batch) = 0;
  // Deletes the records matching all given parts (ids and/or where and/or where_document; at least
  // one must be given, else kInvalidArgument). Returns the number deleted.
  virtual Result<size_t> Delete(const std::string& collection, const std::optional<std::vector<std::string>>& ids,
                                const nlohmann::json& where = nullptr,
                                const nlohmann::json& where_document = nullptr) = 0;

  // Live records. Errors: kNotFound.
  virtual Result<size_t> Count(const std::string& collection) const = 0;
  // Errors: kNotFound (collection), kInvalidArgument (filter, include).
  virtual Result<GetResult> Get(const std::string& collection, const GetRequest& request) const = 0;
  // k-NN per query embedding. With filters, the matching records are resolved through SQLite into an
  // allow-list (kept for the next queries with the same filters until the collection changes); the
  // top-k among them is exact when they are at most max(kBruteForceThreshold, 10 x n_results,
  // 6 x records^(2/3)), else HNSW with the allow-list (falling back to exact search if it returns fewer
  // than min(k, matches)). Without filters exact up to kBruteForceThreshold records, else HNSW.
  // Errors: kNotFound (collection), kInvalidArgument (query size not a multiple of dim, NaN/Inf,
  // n_results == 0, filter).
  virtual Result<QueryResult> Query(const std::string& collection, const QueryRequest& request) const = 0;

  // Writes every VECTOR segment changed since open/last persist into `<dir>/<segment id>/`
  // (HnswSegment::Save, Chroma 1.5.9 layout) and sets max_seq_id of both segments to the last log
  // seq applied. Errors: kIOError, kNotSupported on a read-only store.
  virtual Status Persist(const PersistOptions& options = {}) = 0;

  // The persist directory and the last seq_id in embeddings_queue (0 when the log is empty).
  virtual const std::string& dir() const = 0;
  virtual Result<int64_t> LastSeqId() const = 0;

  // How many log records of `collection` its VECTOR segment's files on disk do not hold: the last
  // seq applied minus max_seq_id[VECTOR] as read at open or written by the last major Persist
  // (0 for a collection without vectors). A minor Persist leaves it as it is; a major one makes it 0.
  // Errors: kNotFound (no such collection).
  virtual Result<uint64_t> VectorTailRecords(const std::string& collection) const = 0;
};

}  // namespace chromapact::store
