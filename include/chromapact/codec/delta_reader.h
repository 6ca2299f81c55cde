// Streaming reader of the native delta format (layout: delta.h, docs/delta-format.md).
//
// Open() reads only the header (78 + C + P bytes) and checks it, so a caller can route or reject a
// delta (collection, shard, delta_id, dimension) without inflating anything. Next() then inflates
// and hands out records in chunks; memory is one chunk plus zlib's window plus the set of ids seen
// (for the uniqueness check), never the whole payload twice. No allocation is sized by a length
// field before that length has been checked against DeltaLimits and against the bytes left in the
// payload.
//
// Integrity: each chunk is validated (ValidateDelta's rules) but the payload's checksums (zlib
// Adler-32, trailer CRC-32C) can only be confirmed at the end. The reader confirms them BEFORE it
// returns the chunk that holds the last record: once Next() has handed out `count` records without
// an error, the whole file is verified. Apply nothing durably before that point.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "chromapact/codec/delta.h"
#include "chromapact/status.h"

namespace chromapact::codec {

// A sequential source of bytes (a file, memory, later an S3 GET body).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; returns how many, 0 only at the end of the input.
  // Errors: kIOError (or the source's own code), passed through by the reader.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

// Reads from memory without copying; `bytes` must outlive the source.
std::unique_ptr<ByteSource> MakeMemorySource(std::string_view bytes);
// Reads a file. Errors: kNotFound when it does not exist, kIOError otherwise (naming the path).
Result<std::unique_ptr<ByteSource>> MakeFileSource(const std::string& path);

class DeltaReader {
 public:
  // Reads and checks the header: magic (kCorruption "bad magic"), format_version (kNotSupported),
  // header CRC-32C (kCorruption), operation and column bits (kCorruption), names and delta_id,
  // count/dimension/payload_raw_bytes vs options.limits (kResourceExhausted), dimension vs
  // options.expected_dimension (kInvalidArgument), short input (kCorruption "truncated header").
  static Result<std::unique_ptr<DeltaReader>> Open(std::unique_ptr<ByteSource> source,
                                                   const DeltaOptions& options = {});
  class Impl;
  // Use Open(); public only so that std::make_unique can build it (Impl is not nameable outside).
  explicit DeltaReader(std::unique_ptr<Impl> impl);
  ~DeltaReader();
  DeltaReader(const DeltaReader&) = delete;
  DeltaReader& operator=(const DeltaReader&) = delete;

  const DeltaHeader& header() const;

  // Replaces *out with the next up to `max_records` (>= 1) records, in file order, with the columns
  // of the header (documents/metadatas have one entry per record when their column is present;
  // embedding_given is filled only when some record of this chunk lacks an embedding). Returns the
  // number of records, 0 when all were read (and then again on every later call).
  // Errors: kCorruption (zlib error, payload longer/shorter than payload_raw_bytes, a length running
  // past the payload, bad "given" bits, invalid JSON, CRC mismatch, bytes after the trailer),
  // kInvalidArgument / kResourceExhausted for content that breaks ValidateDelta's rules (record
  // indexes are counted from the start of the delta), or the source's error. After an error the
  // reader is finished: further calls return the same error.
  Result<size_t> Next(size_t max_records, DeltaRecords* out);

  // Records handed out so far.
  size_t records_read() const;
  // True once every record was handed out and the file verified.
  bool done() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chromapact::codec
