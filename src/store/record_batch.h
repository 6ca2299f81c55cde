// Validation of a RecordBatch (Chroma's rules: chromadb/api/types.py validate_ids/_metadata/_embeddings,
// rust/types/src/validators.rs) and its conversion into log records.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "chromapact/status.h"
#include "chromapact/store/store.h"
#include "store/log_record.h"

namespace chromapact::store::internal {

// Checks `batch` for `op` (kAdd, kUpsert, kUpdate) against the collection dimension `dim` (nullopt:
// unset; then the batch's own dimension is taken and returned in *batch_dim). Errors:
// kInvalidArgument naming the record index / key (see store.h).
Status ValidateBatch(const RecordBatch& batch, Op op, std::optional<size_t> dim, size_t* batch_dim);

// Checks a metadata object (collection or record): keys non-empty and not "chroma:*" (records only),
// values str/int/float(finite)/bool, null only when `allow_null`. `where` prefixes messages.
Status ValidateMetadata(const nlohmann::json& md, bool allow_null, bool record, const std::string& where);

// One log record per id (seq ids unset). Document i goes into metadata key "chroma:document".
std::vector<LogRecord> ToLogRecords(const RecordBatch& batch, Op op, size_t dim);

// Checks `n x dim` query vectors for NaN/Inf. Errors: kInvalidArgument naming the query and value index.
Status ValidateFinite(const std::vector<float>& values, size_t dim, const char* what);

}  // namespace chromapact::store::internal
