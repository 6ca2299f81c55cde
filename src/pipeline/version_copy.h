// A writable working copy of a version's directory for the compactor's cycle and the query's log
// tail: the SQLite files (chroma.sqlite3 and any -wal / -journal beside it) are copied, because
// applying deltas writes them in place; every other file (the HNSW segment files) is hard-linked,
// since the Store only ever replaces those by writing a new file and renaming it over
// (hnsw_files_write.inc), so the copy shares their bytes. Falls back to a copy where the file system
// refuses a link.
// The manifest is left out: the copy is not a published version.
#pragma once

#include <string>

#include "chromapact/status.h"

namespace chromapact::pipeline::internal {

// Fills `to` (created if missing; should be empty) from `from`. Errors: kIOError naming the file and
// `what` (the caller, e.g. "compactor").
Status LinkOrCopyVersion(const std::string& from, const std::string& to, const std::string& what);

}  // namespace chromapact::pipeline::internal
