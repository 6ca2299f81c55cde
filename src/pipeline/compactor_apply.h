// Internal to the compactor: applying one decoded delta to a Store with per-id last-writer-wins by
// delta ULID, and the record-versions file that carries those versions from snapshot to snapshot
// (compactor.h, kRecordVersionsFileName).
#pragma once

#include <map>
#include <string>

#include "chromapact/codec/delta.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline::internal {

// Record id -> ULID of the delta that last wrote it (add/upsert/update/delete).
using RecordVersions = std::map<std::string, std::string>;

// Reads <dir>/chromapact_versions.json; a missing file is an empty map.
// Errors: kCorruption naming the file for bad JSON or shapes; kIOError.
Result<RecordVersions> LoadRecordVersions(const std::string& dir);
// Writes <dir>/chromapact_versions.json. Errors: kIOError.
Status SaveRecordVersions(const std::string& dir, const RecordVersions& versions);

// Drops versions whose ULID time is < cutoff_ms (epoch ms UTC); returns how many. Versions that
// are not ULIDs are kept.
size_t PruneRecordVersions(RecordVersions* versions, int64_t cutoff_ms);

// Applies the records of `delta` whose id has no version or a version < delta.meta.delta_id (the
// others were overwritten by a later delta, or this delta was applied before) to `collection`, and
// sets their version to the delta id. Returns how many records were applied.
// Errors: the Store's (kInvalidArgument for content it rejects, e.g. another dimension).
Result<size_t> ApplyDelta(store::Store* store, const std::string& collection, codec::Delta delta,
                          RecordVersions* versions);

}  // namespace chromapact::pipeline::internal
