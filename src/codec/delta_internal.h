// Internals shared by the delta writer, reader and gzip-JSON importer: little-endian helpers, UTF-8
// checks, and the per-record validator that applies ValidateDelta's rules to a delta or a chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/status.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .cpd float layout assumes a little-endian host");

namespace chromapact::codec::internal {

inline void PutU16(std::string* out, uint16_t v) {
  char b[2] = {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
  out->append(b, 2);
}
inline void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out->append(b, 4);
}
inline void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out->append(b, 8);
}
inline uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline void SetU64At(std::string* out, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*out)[off + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Quotes an id for messages, cut to 64 bytes.
std::string QuoteForMessage(std::string_view s);

// Checks DeltaMeta against the columns it will carry (kColumn* bits) and the options.
// Errors: kInvalidArgument / kResourceExhausted naming the field.
Status ValidateMeta(const DeltaMeta& meta, uint8_t columns, const DeltaOptions& options);

// Applies the record rules to records one at a time; remembers ids for the uniqueness check.
// `index` is the record's position in the whole delta.
class RecordValidator {
 public:
  RecordValidator(const DeltaMeta& meta, uint8_t columns, const DeltaOptions& options)
      : meta_(meta), columns_(columns), options_(options) {}

  void set_columns(uint8_t columns) { columns_ = columns; }
  Status CheckId(size_t index, const std::string& id);
  // `given`: kColumn* bits this record gives; must be a subset of the columns; op rules.
  Status CheckGiven(size_t index, uint8_t given) const;
  // `v` points to meta.dimension floats.
  Status CheckEmbedding(size_t index, const float* v) const;
  Status CheckDocument(size_t index, std::string_view doc) const;
  // `m` must be an object; `json_bytes` = size of its compact JSON text.
  Status CheckMetadata(size_t index, const nlohmann::json& m, size_t json_bytes) const;

 private:
  const DeltaMeta& meta_;
  uint8_t columns_;
  const DeltaOptions& options_;
  std::unordered_map<std::string, size_t> seen_;
};

// Compact JSON text of a metadata object; kInvalidArgument naming the record for invalid UTF-8.
Result<std::string> DumpMetadata(size_t index, const nlohmann::json& m);

}  // namespace chromapact::codec::internal

namespace chromapact::codec::internal {

// ValidateDelta, also returning each record's compact metadata text (empty when not given) so the
// writer does not serialise twice. `metadata_texts` may be null.
Status ValidateDeltaImpl(const Delta& delta, const DeltaOptions& options,
                         std::vector<std::string>* metadata_texts);

}  // namespace chromapact::codec::internal
