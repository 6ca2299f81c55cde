// ValidateDelta and the per-record rules (delta.h), shared with the reader and the gzip-JSON importer.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/ulid.h"
#include "codec/delta_internal.h"

namespace chromapact::codec {
namespace internal {
namespace {

std::string Idx(const char* column, size_t i) {
  return std::string(column) + "[" + std::to_string(i) + "]";
}

const char* JsonTypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "bool";
    case nlohmann::json::value_t::number_integer: return "int";
    case nlohmann::json::value_t::number_unsigned: return "int";
    case nlohmann::json::value_t::number_float: return "float";
    case nlohmann::json::value_t::binary: return "binary";
    default: return "discarded";
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string QuoteForMessage(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

Status ValidateMeta(const DeltaMeta& meta, uint8_t columns, const DeltaOptions& options) {
  CP_RETURN_IF_ERROR(ValidateUlid(meta.delta_id, "delta_id"));
  if (meta.collection.empty()) return InvalidArgument("collection: must not be empty");
  if (meta.collection.size() > kMaxNameBytes) {
    return InvalidArgument("collection: " + std::to_string(meta.collection.size()) + " bytes, limit " +
                           std::to_string(kMaxNameBytes));
  }
  if (!IsValidUtf8(meta.collection)) return InvalidArgument("collection: not valid UTF-8");
  if (meta.producer_id.size() > kMaxNameBytes) {
    return InvalidArgument("producer_id: " + std::to_string(meta.producer_id.size()) + " bytes, limit " +
                           std::to_string(kMaxNameBytes));
  }
  if (!IsValidUtf8(meta.producer_id)) return InvalidArgument("producer_id: not valid UTF-8");
  const bool emb = (columns & kColumnEmbeddings) != 0;
  switch (meta.op) {
    case DeltaOp::kAdd:
    case DeltaOp::kUpsert:
      if (!emb) return InvalidArgument(std::string("embeddings: required for ") + DeltaOpName(meta.op));
      break;
    case DeltaOp::kUpdate:
      if (columns == 0) return InvalidArgument("update: none of embeddings, documents, metadatas given");
      break;
    case DeltaOp::kDelete:
      if (emb) return InvalidArgument("embeddings: delete carries ids only");
      if (columns & kColumnDocuments) return InvalidArgument("documents: delete carries ids only");
      if (columns & kColumnMetadatas) return InvalidArgument("metadatas: delete carries ids only");
      break;
    default: return InvalidArgument("operation: unknown value " + std::to_string(static_cast<int>(meta.op)));
  }
  if (emb) {
    if (meta.dimension == 0) return InvalidArgument("dimension: must be >= 1 when embeddings are given");
    if (meta.dimension > options.limits.max_dimension) {
      return ResourceExhausted("dimension: " + std::to_string(meta.dimension) + ", limit " +
                               std::to_string(options.limits.max_dimension));
    }
    if (options.expected_dimension && *options.expected_dimension != meta.dimension) {
      return InvalidArgument("dimension: delta has " + std::to_string(meta.dimension) + ", collection has " +
                             std::to_string(*options.expected_dimension));
    }
  } else if (meta.dimension != 0) {
    return InvalidArgument("dimension: must be 0 when no embeddings are given (got " +
                           std::to_string(meta.dimension) + ")");
  }
  return Status::Ok();
}

Status RecordValidator::CheckId(size_t index, const std::string& id) {
  if (id.empty()) return InvalidArgument(Idx("ids", index) + ": must not be empty");
  if (id.size() > options_.limits.max_id_bytes) {
    return ResourceExhausted(Idx("ids", index) + ": " + std::to_string(id.size()) + " bytes, limit " +
                             std::to_string(options_.limits.max_id_bytes));
  }
  if (!IsValidUtf8(id)) return InvalidArgument(Idx("ids", index) + ": not valid UTF-8");
  auto [it, inserted] = seen_.emplace(id, index);
  if (!inserted) {
    return InvalidArgument(Idx("ids", index) + ": duplicate of " + Idx("ids", it->second) + " (" +
                           QuoteForMessage(id) + ")");
  }
  return Status::Ok();
}

Status RecordValidator::CheckGiven(size_t index, uint8_t given) const {
  if (given & ~columns_) {
    return Corruption("record " + std::to_string(index) + ": gives column bits " + std::to_string(given) +
                      " outside the header's columns " + std::to_string(columns_));
  }
  if ((meta_.op == DeltaOp::kAdd || meta_.op == DeltaOp::kUpsert) && !(given & kColumnEmbeddings)) {
    return InvalidArgument(Idx("embeddings", index) + ": " + DeltaOpName(meta_.op) +
                           " needs an embedding for every record");
  }
  if (meta_.op == DeltaOp::kDelete && given != 0) {
    return InvalidArgument("record " + std::to_string(index) + ": delete carries ids only");
  }
  return Status::Ok();
}

Status RecordValidator::CheckEmbedding(size_t index, const float* v) const {
  for (size_t j = 0; j < meta_.dimension; ++j) {
    if (!std::isfinite(v[j])) {
      return InvalidArgument(Idx("embeddings", index) + "[" + std::to_string(j) + "]: not finite (" +
                             (std::isnan(v[j]) ? "nan" : "inf") + ")");
    }
  }
  return Status::Ok();
}

Status RecordValidator::CheckDocument(size_t index, std::string_view doc) const {
  if (doc.size() > options_.limits.max_document_bytes) {
    return ResourceExhausted(Idx("documents", index) + ": " + std::to_string(doc.size()) + " bytes, limit " +
                             std::to_string(options_.limits.max_document_bytes));
  }
  if (!IsValidUtf8(doc)) return InvalidArgument(Idx("documents", index) + ": not valid UTF-8");
  return Status::Ok();
}

Status RecordValidator::CheckMetadata(size_t index, const nlohmann::json& m, size_t json_bytes) const {
  if (!m.is_object()) {
    return InvalidArgument(Idx("metadatas", index) + ": must be an object or null (got " + JsonTypeName(m) +
                           ")");
  }
  if (json_bytes > options_.limits.max_metadata_bytes) {
    return ResourceExhausted(Idx("metadatas", index) + ": " + std::to_string(json_bytes) +
                             " bytes of JSON, limit " + std::to_string(options_.limits.max_metadata_bytes));
  }
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& key = it.key();
    std::string field = Idx("metadatas", index) + "[" + QuoteForMessage(key) + "]";
    if (key.empty()) return InvalidArgument(Idx("metadatas", index) + ": empty key");
    if (key.compare(0, kReservedMetadataPrefix.size(), kReservedMetadataPrefix) == 0) {
      return InvalidArgument(field + ": keys starting with \"chroma:\" are reserved by Chroma");
    }
    const nlohmann::json& v = it.value();
    switch (v.type()) {
      case nlohmann::json::value_t::string:
      case nlohmann::json::value_t::boolean:
      case nlohmann::json::value_t::number_integer: break;
      case nlohmann::json::value_t::number_unsigned:
        if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return InvalidArgument(field + ": integer does not fit in int64");
        }
        break;
      case nlohmann::json::value_t::number_float:
        if (!std::isfinite(v.get<double>())) return InvalidArgument(field + ": float is not finite");
        break;
      case nlohmann::json::value_t::null:
        // Chroma 1.5.9 takes a null value on update and upsert (it deletes the key of an existing
        // record; checked against the oracle, compat/pipeline/chroma_semantics_test).
        if (meta_.op != DeltaOp::kUpdate && meta_.op != DeltaOp::kUpsert) {
          return InvalidArgument(field + ": null (delete this key) is allowed only on update and upsert");
        }
        break;
      default:
        return InvalidArgument(field + ": value must be str, int, float or bool (got " + JsonTypeName(v) +
                               ")");
    }
  }
  return Status::Ok();
}

Result<std::string> DumpMetadata(size_t index, const nlohmann::json& m) {
  try {
    return m.dump();
  } catch (const nlohmann::json::exception&) {
    return InvalidArgument(Idx("metadatas", index) + ": not valid UTF-8");
  }
}

Status ValidateDeltaImpl(const Delta& delta, const DeltaOptions& options,
                         std::vector<std::string>* metadata_texts) {
  const DeltaMeta& meta = delta.meta;
  const DeltaRecords& r = delta.records;
  const size_t n = r.ids.size();
  if (n == 0) return InvalidArgument("ids: a delta needs at least one record");
  if (n > options.limits.max_records) {
    return ResourceExhausted("ids: " + std::to_string(n) + " records, limit " +
                             std::to_string(options.limits.max_records));
  }
  uint8_t columns = 0;
  if (!r.embeddings.empty()) columns |= kColumnEmbeddings;
  if (!r.documents.empty()) columns |= kColumnDocuments;
  if (!r.metadatas.empty()) columns |= kColumnMetadatas;
  CP_RETURN_IF_ERROR(ValidateMeta(meta, columns, options));
  if (!r.embeddings.empty() && r.embeddings.size() != n * static_cast<size_t>(meta.dimension)) {
    return InvalidArgument("embeddings: " + std::to_string(r.embeddings.size()) + " floats, expected " +
                           std::to_string(n) + " x " + std::to_string(meta.dimension));
  }
  if (!r.embedding_given.empty()) {
    if (meta.op != DeltaOp::kUpdate) return InvalidArgument("embedding_given: allowed only on update");
    if (r.embeddings.empty()) return InvalidArgument("embedding_given: set but no embeddings given");
    if (r.embedding_given.size() != n) {
      return InvalidArgument("embedding_given: " + std::to_string(r.embedding_given.size()) +
                             " entries for " + std::to_string(n) + " ids");
    }
    bool any = false;
    for (uint8_t g : r.embedding_given) any = any || g != 0;
    if (!any)
      return InvalidArgument("embedding_given: no record gives an embedding (leave embeddings empty)");
  }
  if (!r.documents.empty() && r.documents.size() != n) {
    return InvalidArgument("documents: " + std::to_string(r.documents.size()) + " entries for " +
                           std::to_string(n) + " ids");
  }
  if (!r.metadatas.empty() && r.metadatas.size() != n) {
    return InvalidArgument("metadatas: " + std::to_string(r.metadatas.size()) + " entries for " +
                           std::to_string(n) + " ids");
  }
  if (metadata_texts) {
    metadata_texts->clear();
    if (!r.metadatas.empty()) metadata_texts->resize(n);
  }
  RecordValidator v(meta, columns, options);
  for (size_t i = 0; i < n; ++i) {
    CP_RETURN_IF_ERROR(v.CheckId(i, r.ids[i]));
    uint8_t given = 0;
    if (r.HasEmbedding(i)) given |= kColumnEmbeddings;
    if (!r.documents.empty() && r.documents[i]) given |= kColumnDocuments;
    if (!r.metadatas.empty() && !r.metadatas[i].is_null()) given |= kColumnMetadatas;
    CP_RETURN_IF_ERROR(v.CheckGiven(i, given));
    if (given & kColumnEmbeddings) CP_RETURN_IF_ERROR(v.CheckEmbedding(i, &r.embeddings[i * meta.dimension]));
    if (given & kColumnDocuments) CP_RETURN_IF_ERROR(v.CheckDocument(i, *r.documents[i]));
    if (given & kColumnMetadatas) {
      const nlohmann::json& m = r.metadatas[i];
      if (!m.is_object()) CP_RETURN_IF_ERROR(v.CheckMetadata(i, m, 0));  // names the wrong type
      CP_ASSIGN_OR_RETURN(std::string text, DumpMetadata(i, m));
      CP_RETURN_IF_ERROR(v.CheckMetadata(i, m, text.size()));
      if (metadata_texts) (*metadata_texts)[i] = std::move(text);
    }
  }
  return Status::Ok();
}

}  // namespace internal

Status ValidateDelta(const Delta& delta, const DeltaOptions& options) {
  return internal::ValidateDeltaImpl(delta, options, nullptr);
}

const char* DeltaOpName(DeltaOp op) {
  switch (op) {
    case DeltaOp::kAdd: return "add";
    case DeltaOp::kUpsert: return "upsert";
    case DeltaOp::kUpdate: return "update";
    case DeltaOp::kDelete: return "delete";
  }
  return "unknown";
}

Result<DeltaOp> ParseDeltaOp(std::string_view name) {
  if (name == "add") return DeltaOp::kAdd;
  if (name == "upsert") return DeltaOp::kUpsert;
  if (name == "update") return DeltaOp::kUpdate;
  if (name == "delete") return DeltaOp::kDelete;
  return InvalidArgument("operation: expected add, upsert, update or delete, got " +
                         internal::QuoteForMessage(name));
}

void DeltaRecords::Clear() {
  ids.clear();
  embeddings.clear();
  embedding_given.clear();
  documents.clear();
  metadatas.clear();
}

bool LooksLikeNativeDelta(std::string_view bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), kDeltaMagic, 4) == 0;
}

std::pair<DeltaRecords, DeltaRecords> SplitOnEmbeddingGiven(DeltaRecords records, uint32_t dimension) {
  if (records.embedding_given.empty()) {
    if (records.embeddings.empty()) return {DeltaRecords{}, std::move(records)};
    return {std::move(records), DeltaRecords{}};
  }
  DeltaRecords with, without;
  const bool docs = !records.documents.empty(), metas = !records.metadatas.empty();
  for (size_t i = 0; i < records.ids.size(); ++i) {
    DeltaRecords& dst = records.embedding_given[i] ? with : without;
    dst.ids.push_back(std::move(records.ids[i]));
    if (records.embedding_given[i]) {
      auto begin = records.embeddings.begin() + static_cast<std::ptrdiff_t>(i * dimension);
      dst.embeddings.insert(dst.embeddings.end(), begin, begin + dimension);
    }
    if (docs) dst.documents.push_back(std::move(records.documents[i]));
    if (metas) dst.metadatas.push_back(std::move(records.metadatas[i]));
  }
  return {std::move(with), std::move(without)};
}

}  // namespace chromapact::codec
