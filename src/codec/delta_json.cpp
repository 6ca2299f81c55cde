// DecodeJsonGzDelta: the old Python producers' embeddings.json.gz (docs/delta-format.md) into a Delta.
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "chromapact/codec/delta.h"
#include "codec/delta_internal.h"

namespace chromapact::codec {
namespace {

constexpr size_t kChunk = 256 << 10;

// Inflates gzip (or zlib: windowBits 15 + 32 detects either); concatenated gzip members are read too.
Result<std::string> Gunzip(std::string_view in, uint64_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Internal("json.gz: inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  Status st;
  while (true) {
    size_t old = out.size();
    if (old > max_bytes) {
      st = ResourceExhausted("json.gz: inflated text passes the limit of " + std::to_string(max_bytes) +
                             " bytes");
      break;
    }
    out.resize(old + kChunk);
    zs.next_out = reinterpret_cast<Bytef*>(&out[old]);
    zs.avail_out = static_cast<uInt>(kChunk);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old + (kChunk - zs.avail_out));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) {  // another gzip member follows
        st = Corruption("json.gz: bad gzip member");
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      st = Corruption("json.gz: gzip stream truncated");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      st = Corruption(std::string("json.gz: gzip error: ") + (zs.msg ? zs.msg : std::to_string(rc)));
      break;
    }
  }
  inflateEnd(&zs);
  if (!st.ok()) return st;
  if (out.size() > max_bytes) {
    return ResourceExhausted("json.gz: inflated text passes the limit of " + std::to_string(max_bytes) +
                             " bytes");
  }
  return out;
}

// Array under `key` of n entries, or null when missing/null. Errors name the key.
Result<const nlohmann::json*> Column(const nlohmann::json& doc, const char* key, size_t n) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return static_cast<const nlohmann::json*>(nullptr);
  if (!it->is_array()) return InvalidArgument(std::string(key) + ": must be a list or null");
  if (it->size() != n) {
    return InvalidArgument(std::string(key) + ": " + std::to_string(it->size()) + " entries for " +
                           std::to_string(n) + " ids");
  }
  return &*it;
}

}  // namespace

Result<Delta> DecodeJsonGzDelta(std::string_view bytes, const DeltaMeta& meta, const DeltaOptions& options) {
  std::string text;
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f && static_cast<uint8_t>(bytes[1]) == 0x8b) {
    CP_ASSIGN_OR_RETURN(text, Gunzip(bytes, options.limits.max_payload_bytes));
  } else {
    if (bytes.size() > options.limits.max_payload_bytes) {
      return ResourceExhausted("json: text passes the limit of " +
                               std::to_string(options.limits.max_payload_bytes) + " bytes");
    }
    text.assign(bytes);
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Corruption("json.gz: not valid JSON");
  if (!doc.is_object()) return Corruption("json.gz: top level is not an object");
  std::string().swap(text);

  Delta d;
  d.meta = meta;
  d.meta.op = DeltaOp::kUpsert;
  d.meta.dimension = 0;
  DeltaRecords& r = d.records;
  auto ids = doc.find("ids");
  if (ids == doc.end() || !ids->is_array()) return InvalidArgument("ids: missing or not a list");
  const size_t n = ids->size();
  if (n > options.limits.max_records) {
    return ResourceExhausted("ids: " + std::to_string(n) + " records, limit " +
                             std::to_string(options.limits.max_records));
  }
  r.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& v = (*ids)[i];
    if (!v.is_string()) return InvalidArgument("ids[" + std::to_string(i) + "]: must be a string");
    r.ids.push_back(v.get<std::string>());
  }

  CP_ASSIGN_OR_RETURN(const nlohmann::json* embs, Column(doc, "embeddings", n));
  if (embs) {
    for (size_t i = 0; i < n; ++i) {
      const auto& row = (*embs)[i];
      const std::string field = "embeddings[" + std::to_string(i) + "]";
      if (!row.is_array()) return InvalidArgument(field + ": must be a list of numbers");
      if (i == 0) {
        if (row.empty()) return InvalidArgument(field + ": empty embedding");
        if (row.size() > options.limits.max_dimension) {
          return ResourceExhausted("dimension: " + std::to_string(row.size()) + ", limit " +
                                   std::to_string(options.limits.max_dimension));
        }
        d.meta.dimension = static_cast<uint32_t>(row.size());
        r.embeddings.reserve(n * row.size());
      } else if (row.size() != d.meta.dimension) {
        return InvalidArgument(field + ": " + std::to_string(row.size()) + " values, embeddings[0] has " +
                               std::to_string(d.meta.dimension) + " (one dimension per delta)");
      }
      for (size_t j = 0; j < row.size(); ++j) {
        if (!row[j].is_number()) return InvalidArgument(field + "[" + std::to_string(j) + "]: not a number");
        double x = row[j].get<double>();
        if (!(std::fabs(x) <= std::numeric_limits<float>::max())) {
          return InvalidArgument(field + "[" + std::to_string(j) + "]: not finite as float32");
        }
        r.embeddings.push_back(static_cast<float>(x));
      }
    }
  }
  CP_ASSIGN_OR_RETURN(const nlohmann::json* docs, Column(doc, "documents", n));
  if (docs) {
    r.documents.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const auto& v = (*docs)[i];
      if (v.is_null()) {
        r.documents.emplace_back(std::nullopt);
      } else if (v.is_string()) {
        r.documents.emplace_back(v.get<std::string>());
      } else {
        return InvalidArgument("documents[" + std::to_string(i) + "]: must be a string or null");
      }
    }
  }
  CP_ASSIGN_OR_RETURN(const nlohmann::json* metas, Column(doc, "metadatas", n));
  if (metas) {
    r.metadatas.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const auto& v = (*metas)[i];
      if (!v.is_null() && !v.is_object()) {
        return InvalidArgument("metadatas[" + std::to_string(i) + "]: must be an object or null");
      }
      r.metadatas.push_back(v);
    }
  }
  CP_RETURN_IF_ERROR(ValidateDelta(d, options));
  return d;
}

}  // namespace chromapact::codec
