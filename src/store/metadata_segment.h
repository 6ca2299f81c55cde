// The METADATA segment of a collection in Chroma's tables (rust/segment/src/sqlite_metadata.rs):
// `embeddings` (offset id = embeddings.id, seq_id INTEGER), one typed `embedding_metadata` row per
// key, the document as key "chroma:document" and in `embedding_fulltext_search` (rowid = offset id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/status.h"
#include "store/log_record.h"
#include "store/sqlite_db.h"

namespace chromapact::store::internal {

// Applies one log record to segment `segment_id` with Chroma 1.x semantics: add of an existing id and
// update/delete of a missing id are ignored; upsert of an existing id is an update; update merges
// metadata keys (null deletes a key; "chroma:document": null deletes the document). The caller holds
// the transaction. `has_array_table`: also clear embedding_metadata_array rows on delete/replace.
Status ApplyToMetadataSegment(const SqliteDb& db, const std::string& segment_id, const LogRecord& rec,
                              bool has_array_table);

// Offset id (embeddings.id) of `id`, nullopt when absent.
Result<std::optional<int64_t>> OffsetIdOf(const SqliteDb& db, const std::string& segment_id, const std::string& id);

// Metadata (object, or null when the record has no keys) and document of offset id `offset_id`.
// Typed columns are read in Chroma's order: string, int, float, bool. Array rows (1.5+) become JSON
// arrays when `has_array_table`.
Status ReadRecordMetadata(const SqliteDb& db, int64_t offset_id, bool has_array_table, nlohmann::json* metadata,
                          std::optional<std::string>* document);

// max_seq_id of a segment (INTEGER or 0.x BLOB); 0 when the row is absent.
Result<int64_t> ReadMaxSeqId(const SqliteDb& db, const std::string& segment_id);
Status WriteMaxSeqId(const SqliteDb& db, const std::string& segment_id, int64_t seq_id);

// Typed columns for a str/int/float/bool JSON value: binds (string, int, float, bool) at first..first+3.
void BindTypedValue(Stmt* st, int first, const nlohmann::json& v);
// The JSON value of typed columns at col..col+3 (string, int, float, bool); null when all are NULL.
nlohmann::json ReadTypedValue(const Stmt& st, int col);

}  // namespace chromapact::store::internal
