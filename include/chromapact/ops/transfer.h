// Moving a collection between a Chroma persist directory and chromapact (`chromapact import` /
// `export` / `diff`): the committed snapshot of every shard fetched and opened, all records of a
// store read page by page, a directory imported as a first version, a collection exported as one
// directory that real Chroma opens.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::ops {

// Called with records done so far and the total (0 when unknown), for progress lines.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

// One shard's committed version, fetched into `dir` and opened read-only.
struct CommittedShard {
  int shard = 0;
  pipeline::Pointer pointer;
  codec::Manifest manifest;
  std::string dir;
  std::unique_ptr<store::Store> store;
};

// Fetches (pipeline/snapshot.h FetchSnapshot) the version each shard's pointer names into
// <work_dir>/shard-<n>/ and opens it read-only. Shards without a pointer are left out.
// *bytes_fetched (if non-null) receives the bytes downloaded. Errors: kNotFound when no shard of
// `collection` has a pointer; FetchSnapshot / Store::Open / KvStore errors.
Result<std::vector<CommittedShard>> FetchCommittedShards(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                                         const pipeline::Clock* clock, const std::string& collection,
                                                         int shards, const std::string& work_dir,
                                                         uint64_t* bytes_fetched = nullptr);

// Calls `sink` with every record of `collection` in `store`, `page` records at a time (Get with
// limit/offset, embeddings, documents and metadatas included), in storage order. Errors: the
// store's; a non-OK return of `sink` stops the walk and is returned.
Status ForEachRecordPage(const store::Store& store, const std::string& collection, size_t page,
                         const std::function<Status(const store::GetResult&)>& sink);

struct ImportOptions {
  std::string collection;         // the chromapact collection to create (Chroma's name rule)
  std::string source_collection;  // in the directory; empty: its only collection, else `collection`
  int shards = 1;                 // the collection's shards (records routed by pipeline::ShardForId)
  std::string work_dir;           // scratch folder (created; the caller removes it)
  std::string writer_id = "import";
  size_t page = 1000;             // records read and added at a time
  Progress progress;
};

struct ImportResult {
  std::string source_collection;
  uint64_t records = 0;
  uint32_t dimension = 0;
  std::vector<std::string> manifest_keys;  // per shard
  uint64_t bytes_uploaded = 0;
};

// Imports a Chroma persist directory (any version the store opens: 0.4 .. 1.5; the directory is
// copied to work_dir and migrated there, never changed) as version 1 of every shard of
// `options.collection`: records routed to their shard, each shard a fresh Chroma directory with the
// source collection's HNSW configuration and metadata, published (snapshot.h) with log_position 0,
// the collection's dimension registered (dimension_registry.h), then each shard's pointer created.
// Deltas already in the log (writes made before the import) are applied on top by the compactor.
// Errors: kInvalidArgument (names, shards < 1, a directory with several collections and no
// source_collection); kNotFound (directory, source collection); kAlreadyExists when a shard of the
// collection already has a pointer (checked before any upload; an import racing a compactor loses
// the pointer's create-only write the same way); kInvalidArgument from the dimension registry when
// producers already wrote another dimension; Store / ObjectStore / KvStore errors.
Result<ImportResult> ImportCollection(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                      const pipeline::Clock* clock, const std::string& persist_dir,
                                      const ImportOptions& options);

struct ExportOptions {
  std::string collection;
  int shards = 1;
  std::string work_dir;  // scratch folder (created; the caller removes it)
  size_t page = 1000;
  Progress progress;
};

struct ExportResult {
  uint64_t records = 0;
  std::vector<int64_t> versions;        // per exported shard, its pointer's version
  std::vector<uint64_t> log_positions;  // per exported shard, the version's log_position
  uint64_t bytes_fetched = 0;
};

// Writes the committed versions of `options.collection` to `out_dir` (must not exist or be empty)
// as one Chroma persist directory holding one collection of that name: with one shard the fetched
// snapshot itself (files verified by SHA-256, manifest.json left out), with several a new directory
// into which every shard's records are added. Writes past the versions (the log tail) are not in
// it: ExportResult says which log positions it covers. Errors: kAlreadyExists (out_dir not empty);
// kNotFound (no version yet); FetchSnapshot / Store / KvStore errors.
Result<ExportResult> ExportCollection(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                      const pipeline::Clock* clock, const std::string& out_dir,
                                      const ExportOptions& options);

}  // namespace chromapact::ops
