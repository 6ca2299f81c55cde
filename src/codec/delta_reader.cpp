// The streaming .cpd reader (delta_reader.h) and DecodeDelta.
#include "chromapact/codec/delta_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "chromapact/crypto.h"
#include "codec/delta_internal.h"

namespace chromapact::codec {
namespace {

using internal::GetU16;
using internal::GetU32;
using internal::GetU64;

constexpr size_t kInBufBytes = 64 << 10;
constexpr size_t kOutChunkBytes = 64 << 10;

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, bytes_.size() - pos_);
    std::memcpy(buf, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

class FileSource : public ByteSource {
 public:
  FileSource(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  ~FileSource() override { std::fclose(f_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::fread(buf, 1, n, f_);
    if (k < n && std::ferror(f_)) return IOError("delta: read " + path_ + ": " + std::strerror(errno));
    return k;
  }

 private:
  std::FILE* f_;
  std::string path_;
};

}  // namespace

std::unique_ptr<ByteSource> MakeMemorySource(std::string_view bytes) {
  return std::make_unique<MemorySource>(bytes);
}

Result<std::unique_ptr<ByteSource>> MakeFileSource(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) return NotFound("delta: " + path + " does not exist");
    return IOError("delta: open " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(f, path));
}

class DeltaReader::Impl {
 public:
  Impl(std::unique_ptr<ByteSource> src, const DeltaOptions& options)
      : src_(std::move(src)), options_(options), validator_(header_.meta, 0, options_) {}
  ~Impl() {
    if (z_init_) inflateEnd(&zs_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status ReadHeader();
  Result<size_t> Next(size_t max_records, DeltaRecords* out);

  DeltaHeader header_;
  size_t records_read_ = 0;
  bool done_ = false;

 private:
  // Makes at least one unread input byte available; false at the end of the source.
  Result<bool> Fill();
  // Reads exactly n bytes of the file (not inflated) into *dst; kCorruption `what` when short.
  Status ReadRaw(size_t n, std::string* dst, const char* what);
  // One inflate call into `room` new bytes at the end of out_ (reading input as needed).
  Status InflateStep(size_t room);
  // Ensures k unread inflated bytes (k <= raw bytes left, checked by Take).
  Status Ensure(size_t k);
  // Returns the next k inflated bytes; valid until the next Take. `field` names them in errors.
  Result<const char*> Take(size_t k, const std::string& field);
  Status ReadRecord(DeltaRecords* out, std::vector<uint8_t>* given_mask);
  Status FinishPayload();

  std::unique_ptr<ByteSource> src_;
  DeltaOptions options_;
  internal::RecordValidator validator_;

  std::vector<char> in_ = std::vector<char>(kInBufBytes);
  size_t in_pos_ = 0, in_len_ = 0;
  uint32_t crc_ = 0;           // over header + payload bytes consumed so far
  uint64_t payload_left_ = 0;  // compressed bytes not yet given to inflate
  z_stream zs_{};
  bool z_init_ = false, z_end_ = false;
  std::string out_;  // inflated bytes, unread from out_pos_
  size_t out_pos_ = 0;
  uint64_t inflated_ = 0;  // bytes produced by inflate
  uint64_t parsed_ = 0;    // bytes consumed by record parsing
  Status error_;
};

Result<bool> DeltaReader::Impl::Fill() {
  if (in_pos_ < in_len_) return true;
  CP_ASSIGN_OR_RETURN(size_t k, src_->Read(in_.data(), in_.size()));
  in_pos_ = 0;
  in_len_ = k;
  return k > 0;
}

Status DeltaReader::Impl::ReadRaw(size_t n, std::string* dst, const char* what) {
  dst->clear();
  while (dst->size() < n) {
    CP_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return Corruption(std::string("delta: truncated ") + what);
    size_t k = std::min(n - dst->size(), in_len_ - in_pos_);
    dst->append(&in_[in_pos_], k);
    in_pos_ += k;
  }
  return Status::Ok();
}

Status DeltaReader::Impl::ReadHeader() {
  std::string fixed, rest, crc_bytes;
  // The magic first, so that a short non-delta reads as "bad magic", not "truncated".
  CP_RETURN_IF_ERROR(ReadRaw(4, &fixed, "header"));
  if (std::memcmp(fixed.data(), kDeltaMagic, 4) != 0) return Corruption("delta: bad magic (not a .cpd file)");
  CP_RETURN_IF_ERROR(ReadRaw(kDeltaFixedHeaderBytes - 4, &rest, "header"));
  fixed += rest;
  const char* p = fixed.data();
  header_.format_version = GetU16(p + 4);
  if (header_.format_version != kDeltaFormatVersion) {
    return NotSupported("delta: format_version " + std::to_string(header_.format_version) +
                        " (this reader reads " + std::to_string(kDeltaFormatVersion) + ")");
  }
  const size_t c_len = GetU16(p + 70);
  if (c_len > kMaxNameBytes) return Corruption("delta: collection_len " + std::to_string(c_len) + " > 512");
  CP_RETURN_IF_ERROR(ReadRaw(c_len + 2, &rest, "header"));
  std::string collection = rest.substr(0, c_len);
  const size_t p_len = GetU16(rest.data() + c_len);
  fixed += rest;
  if (p_len > kMaxNameBytes) return Corruption("delta: producer_len " + std::to_string(p_len) + " > 512");
  CP_RETURN_IF_ERROR(ReadRaw(p_len, &rest, "header"));
  std::string producer = rest;
  fixed += rest;
  CP_RETURN_IF_ERROR(ReadRaw(4, &crc_bytes, "header"));
  crc_ = Crc32c(fixed);
  if (GetU32(crc_bytes.data()) != crc_) return Corruption("delta: header CRC-32C mismatch");
  crc_ = Crc32c(crc_bytes, crc_);
  p = fixed.data();

  const uint8_t op = static_cast<uint8_t>(p[6]);
  if (op < 1 || op > 4) return Corruption("delta: operation byte " + std::to_string(op) + " unknown");
  header_.columns = static_cast<uint8_t>(p[7]);
  if (header_.columns & ~(kColumnEmbeddings | kColumnDocuments | kColumnMetadatas)) {
    return Corruption("delta: unknown column bits " + std::to_string(header_.columns));
  }
  DeltaMeta& m = header_.meta;
  m.op = static_cast<DeltaOp>(op);
  m.shard = GetU32(p + 8);
  m.dimension = GetU32(p + 12);
  header_.count = GetU32(p + 16);
  m.created_at_ms = static_cast<int64_t>(GetU64(p + 20));
  header_.payload_raw_bytes = GetU64(p + 28);
  header_.payload_bytes = GetU64(p + 36);
  m.delta_id.assign(p + 44, 26);
  m.collection = std::move(collection);
  m.producer_id = std::move(producer);
  header_.header_bytes = fixed.size() + 4;

  if (header_.count == 0) return Corruption("delta: count is 0");
  if (header_.count > options_.limits.max_records) {
    return ResourceExhausted("ids: " + std::to_string(header_.count) + " records, limit " +
                             std::to_string(options_.limits.max_records));
  }
  CP_RETURN_IF_ERROR(internal::ValidateMeta(m, header_.columns, options_));
  if (header_.payload_raw_bytes > options_.limits.max_payload_bytes) {
    return ResourceExhausted("payload: " + std::to_string(header_.payload_raw_bytes) + " bytes, limit " +
                             std::to_string(options_.limits.max_payload_bytes));
  }
  uint64_t min_raw = uint64_t{header_.count} * 6;  // id length + 1-byte id + given
  if (header_.columns & kColumnEmbeddings && (m.op == DeltaOp::kAdd || m.op == DeltaOp::kUpsert)) {
    min_raw += uint64_t{header_.count} * 4 * m.dimension;
  }
  if (header_.payload_raw_bytes < min_raw) {
    return Corruption("delta: payload_raw_bytes " + std::to_string(header_.payload_raw_bytes) +
                      " too small for " + std::to_string(header_.count) + " records");
  }
  // deflate never expands by more than ~0.1% + a few bytes per block; allow a wide margin.
  if (header_.payload_bytes > header_.payload_raw_bytes + header_.payload_raw_bytes / 8 + 1024 ||
      header_.payload_bytes < 8) {
    return Corruption("delta: payload_bytes " + std::to_string(header_.payload_bytes) +
                      " inconsistent with " + std::to_string(header_.payload_raw_bytes) + " inflated bytes");
  }
  validator_.set_columns(header_.columns);
  payload_left_ = header_.payload_bytes;
  if (inflateInit(&zs_) != Z_OK) return Internal("delta: inflateInit failed");
  z_init_ = true;
  return Status::Ok();
}

Status DeltaReader::Impl::InflateStep(size_t room) {
  size_t old = out_.size();
  out_.resize(old + room);
  if (in_pos_ == in_len_ && payload_left_ > 0) {
    CP_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      out_.resize(old);
      return Corruption("delta: truncated payload (" + std::to_string(payload_left_) + " bytes missing)");
    }
  }
  size_t avail = static_cast<size_t>(std::min<uint64_t>(in_len_ - in_pos_, payload_left_));
  zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
  zs_.avail_in = static_cast<uInt>(avail);
  zs_.next_out = reinterpret_cast<Bytef*>(&out_[old]);
  zs_.avail_out = static_cast<uInt>(room);
  int rc = inflate(&zs_, Z_NO_FLUSH);
  size_t consumed = avail - zs_.avail_in;
  size_t produced = room - zs_.avail_out;
  crc_ = Crc32c(std::string_view(in_.data() + in_pos_, consumed), crc_);
  in_pos_ += consumed;
  payload_left_ -= consumed;
  out_.resize(old + produced);
  inflated_ += produced;
  if (inflated_ > header_.payload_raw_bytes) {
    return Corruption("delta: payload inflates past payload_raw_bytes " +
                      std::to_string(header_.payload_raw_bytes));
  }
  if (rc == Z_STREAM_END) {
    z_end_ = true;
  } else if (rc == Z_BUF_ERROR || (rc == Z_OK && consumed == 0 && produced == 0)) {
    if (payload_left_ == 0) return Corruption("delta: zlib stream truncated at the end of the payload");
  } else if (rc != Z_OK) {
    if (rc == Z_MEM_ERROR) return Internal("delta: inflate out of memory");
    return Corruption(std::string("delta: zlib error in payload: ") +
                      (zs_.msg ? zs_.msg : std::to_string(rc)));
  }
  return Status::Ok();
}

Status DeltaReader::Impl::Ensure(size_t k) {
  while (out_.size() - out_pos_ < k) {
    if (out_pos_ > 0) {  // drop what was parsed before growing
      out_.erase(0, out_pos_);
      out_pos_ = 0;
    }
    if (z_end_) {
      return Corruption("delta: payload inflates to " + std::to_string(inflated_) + " bytes, header says " +
                        std::to_string(header_.payload_raw_bytes));
    }
    // Never ask zlib for more than the header's size + 1, so a lying stream cannot balloon memory.
    uint64_t budget = header_.payload_raw_bytes - inflated_ + 1;
    CP_RETURN_IF_ERROR(InflateStep(
        static_cast<size_t>(std::min<uint64_t>(std::max(kOutChunkBytes, k - out_.size()), budget))));
  }
  return Status::Ok();
}

Result<const char*> DeltaReader::Impl::Take(size_t k, const std::string& field) {
  if (k > header_.payload_raw_bytes - parsed_) {
    return Corruption("delta: " + field + ": " + std::to_string(k) + " bytes run past the payload");
  }
  CP_RETURN_IF_ERROR(Ensure(k));
  const char* p = out_.data() + out_pos_;
  out_pos_ += k;
  parsed_ += k;
  return p;
}

Status DeltaReader::Impl::ReadRecord(DeltaRecords* out, std::vector<uint8_t>* given_mask) {
  const size_t i = records_read_ + out->ids.size();
  const std::string is = "[" + std::to_string(i) + "]";
  const DeltaLimits& lim = options_.limits;
  CP_ASSIGN_OR_RETURN(const char* p, Take(4, "ids" + is + " length"));
  uint32_t len = GetU32(p);
  if (len > lim.max_id_bytes) {
    return ResourceExhausted("ids" + is + ": " + std::to_string(len) + " bytes, limit " +
                             std::to_string(lim.max_id_bytes));
  }
  CP_ASSIGN_OR_RETURN(p, Take(len, "ids" + is));
  std::string id(p, len);
  CP_RETURN_IF_ERROR(validator_.CheckId(i, id));
  out->ids.push_back(std::move(id));
  CP_ASSIGN_OR_RETURN(p, Take(1, "record" + is + " given bits"));
  const uint8_t given = static_cast<uint8_t>(*p);
  CP_RETURN_IF_ERROR(validator_.CheckGiven(i, given));
  const size_t dim = header_.meta.dimension;
  if (header_.columns & kColumnEmbeddings) {
    size_t row = out->ids.size() - 1;
    out->embeddings.resize((row + 1) * dim, 0.0f);
    given_mask->push_back(given & kColumnEmbeddings ? 1 : 0);
    if (given & kColumnEmbeddings) {
      CP_ASSIGN_OR_RETURN(p, Take(4 * dim, "embeddings" + is));
      std::memcpy(&out->embeddings[row * dim], p, 4 * dim);
      CP_RETURN_IF_ERROR(validator_.CheckEmbedding(i, &out->embeddings[row * dim]));
    }
  }
  if (header_.columns & kColumnDocuments) {
    if (given & kColumnDocuments) {
      CP_ASSIGN_OR_RETURN(p, Take(4, "documents" + is + " length"));
      len = GetU32(p);
      if (len > lim.max_document_bytes) {
        return ResourceExhausted("documents" + is + ": " + std::to_string(len) + " bytes, limit " +
                                 std::to_string(lim.max_document_bytes));
      }
      CP_ASSIGN_OR_RETURN(p, Take(len, "documents" + is));
      std::string doc(p, len);
      CP_RETURN_IF_ERROR(validator_.CheckDocument(i, doc));
      out->documents.emplace_back(std::move(doc));
    } else {
      out->documents.emplace_back(std::nullopt);
    }
  }
  if (header_.columns & kColumnMetadatas) {
    if (given & kColumnMetadatas) {
      CP_ASSIGN_OR_RETURN(p, Take(4, "metadatas" + is + " length"));
      len = GetU32(p);
      if (len > lim.max_metadata_bytes) {
        return ResourceExhausted("metadatas" + is + ": " + std::to_string(len) + " bytes of JSON, limit " +
                                 std::to_string(lim.max_metadata_bytes));
      }
      CP_ASSIGN_OR_RETURN(p, Take(len, "metadatas" + is));
      nlohmann::json m = nlohmann::json::parse(p, p + len, nullptr, /*allow_exceptions=*/false);
      if (m.is_discarded()) return Corruption("delta: metadatas" + is + ": not valid JSON");
      if (!m.is_object()) return Corruption("delta: metadatas" + is + ": JSON is not an object");
      CP_RETURN_IF_ERROR(validator_.CheckMetadata(i, m, len));
      out->metadatas.push_back(std::move(m));
    } else {
      out->metadatas.emplace_back(nullptr);
    }
  }
  return Status::Ok();
}

Status DeltaReader::Impl::FinishPayload() {
  if (parsed_ != header_.payload_raw_bytes) {
    return Corruption("delta: " + std::to_string(header_.payload_raw_bytes - parsed_) +
                      " payload bytes left after the last record");
  }
  // Drive zlib to its end (it checks Adler-32 there); any further output means an overlong payload.
  out_.clear();
  out_pos_ = 0;
  while (!z_end_) {
    CP_RETURN_IF_ERROR(InflateStep(1));  // output past payload_raw_bytes is reported by InflateStep
  }
  if (payload_left_ != 0) {
    return Corruption("delta: " + std::to_string(payload_left_) + " bytes after the end of the zlib stream");
  }
  std::string trailer;
  CP_RETURN_IF_ERROR(ReadRaw(kDeltaTrailerBytes, &trailer, "trailer"));
  if (std::memcmp(trailer.data() + 4, kDeltaTrailerMagic, 4) != 0)
    return Corruption("delta: bad trailer magic");
  if (GetU32(trailer.data()) != crc_) return Corruption("delta: CRC-32C mismatch (file damaged)");
  CP_ASSIGN_OR_RETURN(bool more, Fill());
  if (more) return Corruption("delta: bytes after the trailer");
  return Status::Ok();
}

Result<size_t> DeltaReader::Impl::Next(size_t max_records, DeltaRecords* out) {
  if (!error_.ok()) return error_;
  out->Clear();
  if (done_) return size_t{0};
  if (max_records == 0) max_records = 1;
  const size_t k = std::min<size_t>(max_records, header_.count - records_read_);
  std::vector<uint8_t> mask;
  Status st;
  for (size_t j = 0; j < k && st.ok(); ++j) st = ReadRecord(out, &mask);
  if (st.ok() && records_read_ + k == header_.count) st = FinishPayload();
  if (!st.ok()) {
    error_ = st;
    out->Clear();
    return st;
  }
  if (std::find(mask.begin(), mask.end(), 0) != mask.end()) out->embedding_given = std::move(mask);
  records_read_ += k;
  if (records_read_ == header_.count) done_ = true;
  return k;
}

DeltaReader::DeltaReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeltaReader::~DeltaReader() = default;

Result<std::unique_ptr<DeltaReader>> DeltaReader::Open(std::unique_ptr<ByteSource> source,
                                                       const DeltaOptions& options) {
  auto impl = std::make_unique<Impl>(std::move(source), options);
  CP_RETURN_IF_ERROR(impl->ReadHeader());
  return std::make_unique<DeltaReader>(std::move(impl));
}

const DeltaHeader& DeltaReader::header() const {
  return impl_->header_;
}
Result<size_t> DeltaReader::Next(size_t max_records, DeltaRecords* out) {
  return impl_->Next(max_records, out);
}
size_t DeltaReader::records_read() const {
  return impl_->records_read_;
}
bool DeltaReader::done() const {
  return impl_->done_;
}

Result<Delta> DecodeDelta(std::string_view bytes, const DeltaOptions& options) {
  CP_ASSIGN_OR_RETURN(auto reader, DeltaReader::Open(MakeMemorySource(bytes), options));
  Delta d;
  d.meta = reader->header().meta;
  CP_ASSIGN_OR_RETURN(size_t n, reader->Next(reader->header().count, &d.records));
  if (n != reader->header().count || !reader->done())
    return Internal("delta: reader did not finish in one chunk");
  return d;
}

}  // namespace chromapact::codec
