#include "store/record_batch.h"

#include <cmath>
#include <unordered_set>

namespace chromapact::store::internal {

Status ValidateMetadata(const nlohmann::json& md, bool allow_null, bool record, const std::string& where) {
  if (md.is_null()) return Status::Ok();
  if (!md.is_object()) return InvalidArgument(where + ": metadata must be a JSON object or null");
  for (auto it = md.begin(); it != md.end(); ++it) {
    const std::string& key = it.key();
    if (key.empty()) return InvalidArgument(where + ": metadata key must not be empty");
    if (record && key.rfind("chroma:", 0) == 0) {
      return InvalidArgument(where + ": metadata key '" + key + "' uses the reserved prefix 'chroma:'");
    }
    const auto& v = *it;
    if (v.is_string() || v.is_boolean() || v.is_number_integer()) continue;
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgument(where + ": metadata key '" + key + "': integer out of int64 range");
    }
    if (v.is_number_float()) {
      if (!std::isfinite(v.get<double>())) return InvalidArgument(where + ": metadata key '" + key + "' is not finite");
      continue;
    }
    if (v.is_null() && allow_null) continue;
    if (v.is_array()) {
      // Chroma 1.5: a list of str, int, float or bool, all of one type (an empty list stores nothing).
      if (!record) return InvalidArgument(where + ": metadata key '" + key + "': collection metadata takes no lists");
      for (size_t i = 0; i < v.size(); ++i) {
        const auto& el = v[i];
        const bool scalar = el.is_string() || el.is_boolean() || el.is_number();
        if (!scalar || (el.is_number_float() && !std::isfinite(el.get<double>()))) {
          return InvalidArgument(where + ": metadata key '" + key + "': list element " + std::to_string(i) +
                                 " must be a str, int, float or bool");
        }
        if (el.is_number_unsigned() && el.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return InvalidArgument(where + ": metadata key '" + key + "': integer out of int64 range");
        }
        const auto& first = v[0];
        const bool same = (el.is_string() && first.is_string()) || (el.is_boolean() && first.is_boolean()) ||
                          (el.is_number_integer() && first.is_number_integer()) ||
                          (el.is_number_float() && first.is_number_float());
        if (!same) {
          return InvalidArgument(where + ": metadata key '" + key + "': list elements must all have one type (element " +
                                 std::to_string(i) + ")");
        }
      }
      continue;
    }
    return InvalidArgument(where + ": metadata key '" + key + "' must be a str, int, float or bool, got " +
                           std::string(v.type_name()));
  }
  return Status::Ok();
}

Status ValidateFinite(const std::vector<float>& values, size_t dim, const char* what) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return InvalidArgument(std::string(what) + " " + std::to_string(dim ? i / dim : 0) + ": value " +
                             std::to_string(dim ? i % dim : i) + " is not finite (NaN/Inf)");
    }
  }
  return Status::Ok();
}

Status ValidateBatch(const RecordBatch& batch, Op op, std::optional<size_t> dim, size_t* batch_dim) {
  const size_t n = batch.ids.size();
  if (n == 0) return InvalidArgument("ids: expected at least one id");
  std::unordered_set<std::string> seen;
  seen.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (batch.ids[i].empty()) return InvalidArgument("ids: record " + std::to_string(i) + " has an empty id");
    if (!seen.insert(batch.ids[i]).second) {
      return InvalidArgument("ids: duplicate id '" + batch.ids[i] + "' in batch (record " + std::to_string(i) + ")");
    }
  }
  if (batch.embeddings.empty()) {
    if (op != Op::kUpdate) return InvalidArgument("embeddings: required for add and upsert");
    *batch_dim = dim.value_or(0);
  } else {
    if (batch.embeddings.size() % n != 0) {
      return InvalidArgument("embeddings: " + std::to_string(batch.embeddings.size()) + " values is not a multiple of " +
                             std::to_string(n) + " ids");
    }
    size_t d = batch.embeddings.size() / n;
    if (d == 0) return InvalidArgument("embeddings: empty vectors");
    if (dim && d != *dim) {
      return InvalidArgument("embeddings: expected dimension " + std::to_string(*dim) + ", got " +
                             std::to_string(d) + " per record (" + std::to_string(batch.embeddings.size()) +
                             " values for " + std::to_string(n) + " ids)");
    }
    *batch_dim = d;
    CP_RETURN_IF_ERROR(ValidateFinite(batch.embeddings, d, "embeddings: record"));
  }
  if (!batch.documents.empty() && batch.documents.size() != n) {
    return InvalidArgument("documents: " + std::to_string(batch.documents.size()) + " entries for " +
                           std::to_string(n) + " ids");
  }
  if (!batch.metadatas.empty() && batch.metadatas.size() != n) {
    return InvalidArgument("metadatas: " + std::to_string(batch.metadatas.size()) + " entries for " +
                           std::to_string(n) + " ids");
  }
  for (size_t i = 0; i < batch.metadatas.size(); ++i) {
    CP_RETURN_IF_ERROR(ValidateMetadata(batch.metadatas[i], true, true, "metadatas: record " + std::to_string(i)));
  }
  return Status::Ok();
}

std::vector<LogRecord> ToLogRecords(const RecordBatch& batch, Op op, size_t dim) {
  std::vector<LogRecord> out(batch.ids.size());
  for (size_t i = 0; i < batch.ids.size(); ++i) {
    LogRecord& r = out[i];
    r.op = op;
    r.id = batch.ids[i];
    if (!batch.embeddings.empty()) {
      r.embedding.emplace(batch.embeddings.begin() + static_cast<std::ptrdiff_t>(i * dim),
                          batch.embeddings.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
    }
    if (!batch.metadatas.empty() && batch.metadatas[i].is_object()) r.metadata = batch.metadatas[i];
    if (!batch.documents.empty() && batch.documents[i]) {
      if (!r.metadata.is_object()) r.metadata = nlohmann::json::object();
      r.metadata[kDocumentKey] = *batch.documents[i];
    }
  }
  return out;
}

}  // namespace chromapact::store::internal
