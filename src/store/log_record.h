// Records of Chroma's log table `embeddings_queue` (rust/log/src/sqlite_log.rs; docs/chroma-format.md §3):
// one row per operation, topic 'persistent://default/default/<collection uuid>', seq_id = rowid,
// vector = little-endian float32 bytes with encoding 'FLOAT32', metadata = compact JSON object that
// also carries "chroma:document" (a null value deletes a key / the document on update).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/status.h"
#include "store/sqlite_db.h"

namespace chromapact::store::internal {

enum class Op : int { kAdd = 0, kUpdate = 1, kUpsert = 2, kDelete = 3 };

inline constexpr const char* kDocumentKey = "chroma:document";

struct LogRecord {
  int64_t seq_id = 0;
  Op op = Op::kAdd;
  std::string id;
  std::optional<std::vector<float>> embedding;
  nlohmann::json metadata = nullptr;  // object (may hold "chroma:document") or null
};

// 'persistent://default/default/<collection id>'.
std::string TopicFor(const std::string& collection_id);

// Reads a seq id column stored as INTEGER (1.x) or as an 8-byte big-endian BLOB (0.x).
// Errors: kCorruption for any other type/size.
Result<int64_t> ReadSeqId(const Stmt& st, int col, const char* what);

// Appends `rec` to embeddings_queue (seq_id = max + 1, set into rec->seq_id). Delete rows get vector
// NULL, encoding NULL and metadata '{}' as 1.x writes them.
Status AppendLog(const SqliteDb& db, const std::string& topic, LogRecord* rec);

// Calls `fn` for each row of `topic` with seq_id > after, in seq order (read in chunks, so `fn` may
// write to other tables of the same connection). Rows with operations we do not apply (4, backfill)
// are skipped. Errors: kCorruption (bad vector bytes / encoding / JSON), kNotSupported (encoding).
Status ForEachLogRecord(const SqliteDb& db, const std::string& topic, int64_t after,
                        const std::function<Status(const LogRecord&)>& fn);

// max(seq_id) of embeddings_queue, 0 when empty.
Result<int64_t> LastLogSeqId(const SqliteDb& db);

}  // namespace chromapact::store::internal
