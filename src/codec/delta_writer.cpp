// EncodeDelta: serialises rows block by block into a zlib stream appended to the output image.
#include <zlib.h>

#include <string>
#include <vector>

#include "chromapact/codec/delta.h"
#include "chromapact/crypto.h"
#include "codec/delta_internal.h"

namespace chromapact::codec {
namespace {

using internal::PutU16;
using internal::PutU32;
using internal::PutU64;

constexpr size_t kBlockBytes = 64 << 10;
constexpr size_t kPayloadBytesOffset = 36;

class Deflater {
 public:
  Deflater() = default;
  ~Deflater() {
    if (initialised_) deflateEnd(&zs_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  Status Init(int level) {
    const bool fast = level == kDeltaFastCompression;
    if (deflateInit2(&zs_, fast ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15, 8,
                     fast ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY) != Z_OK) {
      return Internal("delta: deflateInit2 failed");
    }
    initialised_ = true;
    return Status::Ok();
  }
  // Deflates `in` and appends the compressed bytes to *out; `finish` ends the stream.
  Status Feed(std::string_view in, bool finish, std::string* out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    const int flush = finish ? Z_FINISH : Z_NO_FLUSH;
    while (true) {
      size_t old = out->size();
      size_t room = std::max<size_t>(kBlockBytes, in.size() / 2 + 64);
      out->resize(old + room);
      zs_.next_out = reinterpret_cast<Bytef*>(&(*out)[old]);
      zs_.avail_out = static_cast<uInt>(room);
      int rc = deflate(&zs_, flush);
      out->resize(old + (room - zs_.avail_out));
      if (rc == Z_STREAM_END) return Status::Ok();
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        return Internal("delta: deflate failed (" + std::to_string(rc) + ")");
      if (!finish && zs_.avail_in == 0 && zs_.avail_out != 0) return Status::Ok();
    }
  }

 private:
  z_stream zs_{};
  bool initialised_ = false;
};

}  // namespace

Result<std::string> EncodeDelta(const Delta& delta, const DeltaOptions& options, int zlib_level) {
  std::vector<std::string> metadata_texts;
  CP_RETURN_IF_ERROR(internal::ValidateDeltaImpl(delta, options, &metadata_texts));
  if (zlib_level < kDeltaFastCompression || zlib_level > 9) {
    return InvalidArgument("zlib_level: expected kDeltaFastCompression (-2), -1 or 0..9");
  }
  const DeltaMeta& meta = delta.meta;
  const DeltaRecords& r = delta.records;
  const size_t n = r.ids.size();
  const size_t dim = meta.dimension;

  uint8_t columns = 0;
  if (!r.embeddings.empty()) columns |= kColumnEmbeddings;
  if (!r.documents.empty()) columns |= kColumnDocuments;
  if (!r.metadatas.empty()) columns |= kColumnMetadatas;

  // Pass 1: the inflated size, which the header states up front.
  uint64_t raw = 0;
  for (size_t i = 0; i < n; ++i) {
    raw += 4 + r.ids[i].size() + 1;
    if (r.HasEmbedding(i)) raw += 4 * dim;
    if (!r.documents.empty() && r.documents[i]) raw += 4 + r.documents[i]->size();
    if (!metadata_texts.empty() && !r.metadatas[i].is_null()) raw += 4 + metadata_texts[i].size();
  }
  if (raw > options.limits.max_payload_bytes) {
    return ResourceExhausted("payload: " + std::to_string(raw) + " bytes, limit " +
                             std::to_string(options.limits.max_payload_bytes));
  }

  std::string out;
  out.reserve(static_cast<size_t>(raw / 2) + 256);
  out.append(kDeltaMagic, 4);
  PutU16(&out, kDeltaFormatVersion);
  out.push_back(static_cast<char>(meta.op));
  out.push_back(static_cast<char>(columns));
  PutU32(&out, meta.shard);
  PutU32(&out, meta.dimension);
  PutU32(&out, static_cast<uint32_t>(n));
  PutU64(&out, static_cast<uint64_t>(meta.created_at_ms));
  PutU64(&out, raw);
  PutU64(&out, 0);  // payload_bytes, patched below
  out.append(meta.delta_id);
  PutU16(&out, static_cast<uint16_t>(meta.collection.size()));
  out.append(meta.collection);
  PutU16(&out, static_cast<uint16_t>(meta.producer_id.size()));
  out.append(meta.producer_id);
  const size_t crc_offset = out.size();
  PutU32(&out, 0);  // header CRC, patched below
  const size_t payload_offset = out.size();

  // Pass 2: rows into 64 KiB blocks, each deflated as it fills.
  Deflater deflater;
  CP_RETURN_IF_ERROR(deflater.Init(zlib_level));
  std::string block;
  block.reserve(kBlockBytes + 4 * dim + 64);
  uint64_t written = 0;
  for (size_t i = 0; i < n; ++i) {
    PutU32(&block, static_cast<uint32_t>(r.ids[i].size()));
    block.append(r.ids[i]);
    uint8_t given = 0;
    const bool emb = r.HasEmbedding(i);
    const bool doc = !r.documents.empty() && r.documents[i].has_value();
    const bool md = !r.metadatas.empty() && !r.metadatas[i].is_null();
    if (emb) given |= kColumnEmbeddings;
    if (doc) given |= kColumnDocuments;
    if (md) given |= kColumnMetadatas;
    block.push_back(static_cast<char>(given));
    if (emb) block.append(reinterpret_cast<const char*>(&r.embeddings[i * dim]), 4 * dim);
    if (doc) {
      PutU32(&block, static_cast<uint32_t>(r.documents[i]->size()));
      block.append(*r.documents[i]);
    }
    if (md) {
      PutU32(&block, static_cast<uint32_t>(metadata_texts[i].size()));
      block.append(metadata_texts[i]);
    }
    if (block.size() >= kBlockBytes) {
      written += block.size();
      CP_RETURN_IF_ERROR(deflater.Feed(block, false, &out));
      block.clear();
    }
  }
  written += block.size();
  CP_RETURN_IF_ERROR(deflater.Feed(block, true, &out));
  if (written != raw) return Internal("delta: payload size mismatch between passes");

  internal::SetU64At(&out, kPayloadBytesOffset, out.size() - payload_offset);
  uint32_t header_crc = Crc32c(std::string_view(out.data(), crc_offset));
  for (int k = 0; k < 4; ++k)
    out[crc_offset + static_cast<size_t>(k)] = static_cast<char>((header_crc >> (8 * k)) & 0xFF);
  uint32_t crc = Crc32c(out);
  PutU32(&out, crc);
  out.append(kDeltaTrailerMagic, 4);
  return out;
}

}  // namespace chromapact::codec
