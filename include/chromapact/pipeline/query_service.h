// The query side (docs/design/overview.md §1): answers Chroma-shaped reads from the committed
// snapshots of a collection's shards and the log past them. Per shard: the pointer through a
// PointerCache (so DynamoDB is read at most once per CHROMAPACT_POINTER_TTL_MS), the snapshot fetched
// into <cache_dir>/<collection>#<shard>/ when the pointer names another manifest than the open one
// (pipeline/snapshot.h FetchSnapshot: only chunks it lacks move), a Store opened read-only + immutable
// on it, and — with read_log_tail — the shard's log entries after the version's log_position
// (listed at most once per tail_ttl_ms, each fetched once) applied in order to a private copy in
// <cache_dir>/<collection>#<shard>.tail/, with the compactor's rules (so the answer is the log
// applied up to the last entry before the first gap: every write acknowledged before the request,
// unless its delta is still behind a hole). Reads fan out over every shard and merge: query = top n_results by distance,
// get = shard results concatenated in shard order then offset/limit, count = sum.
// No Lambda types: lambdas/query adapts an invocation to Handle().
//
// Request (JSON object; Chroma's argument names, chromadb/api/models/Collection.py):
//   {"collection"?: name (default QueryServiceOptions::default_collection),
//    "action"?: "query" (default) | "get" | "count",
//    query:  "query_embeddings": q lists of d numbers, or "query_texts": q strings (a single string
//            is one query) embedded by QueryServiceOptions::embedding_function (exactly one of the
//            two, as Chroma's Collection.query), "n_results"?: int >= 1 (default 10), "where"?,
//            "where_document"?, "ids"?, "include"? (default documents, metadatas, distances)
//    get:    "ids"?, "where"?, "where_document"?, "limit"?, "offset"?, "include"? (default documents,
//            metadatas),
//    every action: "min_log_positions"?: the producer's acknowledgement list [{"shard", "log_position"}]
//            (or "min_log_position": one number for a one-shard collection): read-your-writes — the
//            answer includes the log of each shard at least up to that position, waiting up to
//            min_position_wait_ms for it to become readable}
// Answers: query/get the Chroma REST bodies of store.h ToJson (column-of-lists); count {"count": n}.
// A shard without a pointer yet is read from its log alone (read_log_tail); a collection with no
// version and nothing in its logs is kNotFound.
//
// Not thread-safe (one per Lambda sandbox; invocations are sequential).
#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/embed/embedding_function.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "chromapact/pipeline/shard_id.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline {
namespace internal {
struct ShardTail;
}

struct QueryServiceOptions {
  std::string cache_dir = "/tmp/chromapact";  // CHROMAPACT_CACHE_DIR
  int shards = 1;                             // CHROMAPACT_SHARDS, >= 1
  std::string default_collection;             // CHROMAPACT_COLLECTION; empty = events must name one
  // Embeds query_texts (borrowed; must outlive the service). nullptr = none configured: a query
  // with query_texts is then kPreconditionFailed (embed::NotConfigured). Its dimension() must be
  // the collection's (else kInvalidArgument "Collection expecting embedding with dimension of D, got d").
  embed::EmbeddingFunction* embedding_function = nullptr;
  // Where the collections' configuration is read (collection_options.h) for a shard that has a log
  // but no version yet: its log is read on an empty store made with it. Borrowed; nullptr = the
  // default configuration.
  KvStore* kv = nullptr;
  // Read each shard's log past its committed version (CHROMAPACT_READ_LOG_TAIL, default on): a write
  // is visible to queries once the producer acknowledged it, before any compaction. The tail is
  // listed at most once per tail_ttl_ms (CHROMAPACT_TAIL_TTL_MS) unless a request asks for more
  // (min_log_positions), and at most max_tail_entries entries are applied per listing.
  bool read_log_tail = true;
  int64_t tail_ttl_ms = 1000;
  size_t max_tail_entries = 1000;
  // How long a request's min_log_positions may wait for the log to be readable that far
  // (CHROMAPACT_MIN_POSITION_WAIT_MS), ms; then kTimeout.
  int64_t min_position_wait_ms = 2000;
  // With read_log_tail: for how long (ms, steady clock, from when a version was opened) a shard may
  // keep answering from the version it has plus its log tail when the pointer moves to a newer
  // version whose log_position that tail already covers (read from the new version's manifest, one
  // GET; the tail is first read up to it). Such a version holds nothing the answer lacks, so it is
  // not downloaded and reopened in the request path, which at 100k records takes seconds. A version
  // whose log_position is not above the one served (a rollback; a version not made from the log) is
  // always fetched, as is any version once the one served is older than this
  // (CHROMAPACT_KEEP_VERSION_MS; keep it well under the GC retention, which keeps the deltas after
  // every retained version, 1 h by default). 0 = fetch every new version.
  int64_t keep_version_ms = 300000;
};

// What the last Handle() did, for metrics and tests.
struct QueryStats {
  int snapshots_fetched = 0;      // shards whose snapshot was (re)fetched
  uint64_t bytes_fetched = 0;     // snapshot bytes downloaded, manifests included
  int64_t versions_max = 0;       // highest pointer version among the shards answered
  uint64_t tail_applied = 0;      // log positions read past the versions by this request
  int versions_covered = 0;       // newer versions not fetched: the log tail already covered them
};

class QueryService {
 public:
  // Borrows `objects` and `pointers`; both must outlive the service.
  QueryService(ObjectStore* objects, PointerCache* pointers, QueryServiceOptions options);
  ~QueryService();

  // Answers one request. Errors: kInvalidArgument naming the key for a malformed request (also an
  // unknown action, and Chroma's "You must provide one of query_embeddings, query_texts, ..." when a
  // query has both or neither of query_embeddings / query_texts); kPreconditionFailed for
  // query_texts without an embedding function; the embedding function's errors (embedding_function.h,
  // prefixed "query_texts: "), before any shard is read; kNotSupported for
  // a write action ("add", "upsert", "update", "delete": the query function is read-only);
  // kNotFound when the collection has no snapshot; the Store's errors (filters, dimension);
  // FetchSnapshot / PointerCache errors (the shard's cache entry is invalidated, so the next
  // request reads the pointer again).
  Result<nlohmann::json> Handle(const nlohmann::json& request);

  const QueryStats& last_stats() const { return stats_; }

 private:
  struct Shard {
    std::string manifest_key;  // the version the tail is read on; empty = nothing
    int64_t version = 0;
    int64_t opened_at_ms = 0;  // steady clock
    std::unique_ptr<internal::ShardTail> tail;  // the version (+ its log tail when read)
    std::string newer_key;      // a newer version's manifest seen by the pointer
    uint64_t newer_position = 0;  // its log_position
  };
  // The store answering for `shard`: its current version, with the log read to at least `want`
  // (0 = as far as the tail TTL allows); nullptr (OK) when the shard has no version and `want` is 0.
  Result<store::Store*> Open(const ShardId& shard, uint64_t want);
  // An empty read-only store with the collection's configuration, as the base of a shard's log
  // before its first version.
  Result<std::unique_ptr<internal::ShardTail>> EmptyBase(const ShardId& shard);
  // Open() without waiting: one pass (pointer, fetch, tail when due or below `want`).
  Result<store::Store*> OpenOnce(const ShardId& shard, uint64_t want, uint64_t* applied);
  // Whether `s` may go on answering from its version + tail although the pointer names `manifest_key`
  // (keep_version_ms); reads that manifest and the tail up to its log_position when needed. False on
  // any error (the caller then fetches the new version, and reports what fails there).
  bool TailCovers(Shard* s, const std::string& manifest_key);

  ObjectStore* objects_;
  PointerCache* pointers_;
  QueryServiceOptions options_;
  std::map<std::string, Shard> shards_;  // by ShardId::ToString
  QueryStats stats_;
};

}  // namespace chromapact::pipeline
