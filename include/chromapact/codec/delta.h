// Deltas: one immutable batch of one write operation (add / upsert / update / delete) for one
// collection shard, as the producer uploads it to s3://B/deltas/<coll>/<shard>/<delta_id>.cpd and
// the compactor applies it in log order (docs/design/log.md). Full byte layout: docs/delta-format.md.
//
// ---- The native format ".cpd", version 1 (all integers little-endian, no padding) ----------------
//   HEADER (78 + C + P bytes; protected by its own CRC so it can be trusted before the payload is read)
//   off  size  field
//     0     4  magic                 "CPD1" (0x43 0x50 0x44 0x31)
//     4     2  format_version        u16 = 1 (a reader rejects other values with kNotSupported)
//     6     1  operation             u8: 1 add, 2 upsert, 3 update, 4 delete (DeltaOp)
//     7     1  columns               u8 bit set: 1 embeddings, 2 documents, 4 metadatas; others 0
//     8     4  shard                 u32
//    12     4  dimension             u32; 0 iff the embeddings column is absent
//    16     4  count                 u32 records (>= 1)
//    20     8  created_at_ms         i64 ms since the Unix epoch, UTC
//    28     8  payload_raw_bytes     u64 size of the inflated payload
//    36     8  payload_bytes         u64 size of the zlib stream that follows the header
//    44    26  delta_id              ASCII canonical ULID (ulid.h)
//    70     2  collection_len C      u16, then C bytes of UTF-8 collection name (1..kMaxNameBytes)
//  72+C     2  producer_len P        u16, then P bytes of UTF-8 producer id (0..kMaxNameBytes)
//  74+C+P   4  header_crc32c         u32 CRC-32C of header bytes [0, 74+C+P)
//   PAYLOAD  payload_bytes bytes: one zlib stream (RFC 1950: deflate + Adler-32) which inflates to
//            exactly payload_raw_bytes bytes = `count` records, each:
//              u32 id_len, id bytes (UTF-8, 1..max_id_bytes)
//              u8  given: bit 1 embedding, 2 document, 4 metadata (a subset of the header's columns;
//                  add/upsert: bit 1 on every record)
//              if embedding: dimension x f32 (IEEE-754 binary32, little-endian)
//              if document:  u32 len, UTF-8 bytes
//              if metadata:  u32 len, UTF-8 JSON object text
//            Rows, not columns, so that a reader can hand out records in chunks while it inflates.
//   TRAILER  8 bytes: u32 CRC-32C of every byte before the trailer (header + payload), then "CPDE".
//   File size = header + payload_bytes + 8 exactly.
//
// Why CRC-32C, not SHA-256, in the trailer: the threat is accidental damage (a truncated upload, a
// flipped bit, a wrong object), not an attacker (who could rewrite any hash too; IAM is the defence).
// CRC-32C detects every burst up to 32 bits and all odd-weight errors, runs at GB/s, and is what S3
// computes for x-amz-checksum-crc32c. SHA-256 is kept for content identity (manifest.h).
//
// ---- Semantics (Chroma 1.x, rust/types/src/operation.rs + sqlite_metadata.rs; see store/store.h) -
//   add/upsert: every record has an embedding; document and metadata optional per record.
//   update:     per record any of embedding / document / metadata; what is not given is unchanged; a
//               metadata value of JSON null deletes that key. At least one column must be present.
//   delete:     ids only.
// Order: a delta's place in its shard's log is its key's sequence number (pipeline/log.h), never
// its delta_id; the compactor applies the log in that order, exactly once (docs/design/log.md).
//
// Shapes match store::RecordBatch field for field, so conversion is moving four vectors:
//   store::RecordBatch b{std::move(r.ids), std::move(r.embeddings), std::move(r.documents),
//                        std::move(r.metadatas)};
// (when r.embedding_given is non-empty, first SplitOnEmbeddingGiven()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::codec {

inline constexpr char kDeltaMagic[4] = {'C', 'P', 'D', '1'};
inline constexpr char kDeltaTrailerMagic[4] = {'C', 'P', 'D', 'E'};
inline constexpr uint16_t kDeltaFormatVersion = 1;
inline constexpr size_t kDeltaFixedHeaderBytes = 72;  // up to and including collection_len
inline constexpr size_t kDeltaTrailerBytes = 8;
// Collection name: Chroma allows 3..512 characters; producer id: ours. Both limited to this many bytes.
inline constexpr size_t kMaxNameBytes = 512;
// Column bits (header `columns`, per-record `given`).
inline constexpr uint8_t kColumnEmbeddings = 1;
inline constexpr uint8_t kColumnDocuments = 2;
inline constexpr uint8_t kColumnMetadatas = 4;
// Chroma reserves metadata keys with this prefix (chroma:document etc.).
inline constexpr std::string_view kReservedMetadataPrefix = "chroma:";

enum class DeltaOp : uint8_t { kAdd = 1, kUpsert = 2, kUpdate = 3, kDelete = 4 };

// "add" / "upsert" / "update" / "delete" (the producer event's "operation" values).
const char* DeltaOpName(DeltaOp op);
// Errors: kInvalidArgument naming the value.
Result<DeltaOp> ParseDeltaOp(std::string_view name);

// Size limits. Over a limit -> kResourceExhausted naming the record index and field. The defaults
// fit a Lambda (10 GB memory max, 6 MB invocation payload) with a wide margin and bound what a lying
// length field can make a reader allocate.
struct DeltaLimits {
  size_t max_records = 100000;                     // records per delta
  size_t max_dimension = 65536;                    // floats per embedding
  size_t max_id_bytes = 4096;                      // per id
  size_t max_document_bytes = 8u << 20;            // 8 MiB per document
  size_t max_metadata_bytes = 256u << 10;          // 256 KiB per record's metadata, as compact JSON text
  uint64_t max_payload_bytes = uint64_t{1} << 30;  // 1 GiB: inflated payload (and gzip-JSON text)
};

struct DeltaOptions {
  DeltaLimits limits;
  // The collection's dimension when known: a delta with embeddings of another dimension is rejected
  // (kInvalidArgument "dimension: ..."). nullopt = accept any (one dimension per delta still holds).
  std::optional<uint32_t> expected_dimension;
};

// Who/what/where of a delta: what the producer sets and the compactor keys idempotency on.
struct DeltaMeta {
  DeltaOp op = DeltaOp::kUpsert;
  std::string collection;     // collection name, 1..kMaxNameBytes bytes UTF-8
  uint32_t shard = 0;         // shard index within the collection
  uint32_t dimension = 0;     // floats per embedding; 0 iff no record gives an embedding
  std::string producer_id;    // free text (e.g. Lambda request id), 0..kMaxNameBytes bytes
  std::string delta_id;       // canonical ULID: the producer's id for this delta (not its log position)
  int64_t created_at_ms = 0;  // ms since the Unix epoch, UTC
};

// Records of a delta (or one chunk of them). n = ids.size().
struct DeltaRecords {
  std::vector<std::string> ids;
  // n x dimension float32, row-major; empty = no record gives an embedding.
  std::vector<float> embeddings;
  // Update only. Empty = every record gives its embedding (when `embeddings` is non-empty); else n
  // entries, 0 = that record gives none (its row in `embeddings` is ignored; readers fill it with 0).
  // Readers leave it empty unless some but not all records give one.
  std::vector<uint8_t> embedding_given;
  // Empty = column absent; else n entries, nullopt = not given (no document / unchanged on update).
  std::vector<std::optional<std::string>> documents;
  // Empty = column absent; else n entries: a JSON object (str/int/float/bool values; on update also
  // null = delete the key) or JSON null = not given.
  std::vector<nlohmann::json> metadatas;

  size_t size() const { return ids.size(); }
  bool HasEmbedding(size_t i) const {
    return !embeddings.empty() && (embedding_given.empty() || embedding_given[i] != 0);
  }
  void Clear();
};

struct Delta {
  DeltaMeta meta;
  DeltaRecords records;
};

// What a reader learns from the header alone (no inflation).
struct DeltaHeader {
  DeltaMeta meta;
  uint16_t format_version = kDeltaFormatVersion;
  uint32_t count = 0;
  uint8_t columns = 0;  // kColumn* bits
  uint64_t payload_raw_bytes = 0;
  uint64_t payload_bytes = 0;
  uint64_t header_bytes = 0;  // 78 + C + P
  uint64_t total_bytes() const { return header_bytes + payload_bytes + kDeltaTrailerBytes; }
};

// Checks the meta (delta_id a canonical ULID, collection 1..kMaxNameBytes bytes, producer id
// <= kMaxNameBytes, dimension vs options.expected_dimension) and every record:
//   - ids: 1..max_records records; each non-empty, valid UTF-8, <= max_id_bytes; unique
//     ("ids[7]: duplicate of ids[2]");
//   - embeddings: size n x dimension; dimension 1..max_dimension; every given component finite
//     ("embeddings[3][17]: not finite (nan)"); add/upsert: every record gives one; delete: none;
//     embedding_given only on update, size n, at least one given record;
//   - documents: size 0 or n, UTF-8, <= max_document_bytes; none on delete;
//   - metadatas: size 0 or n; each an object or null; keys non-empty and not "chroma:"-prefixed;
//     values string / integer (int64) / finite float / bool, and null only on update / upsert
//     ("metadatas[4][\"price\"]: value must be str, int, float or bool (got array)");
//     compact JSON text <= max_metadata_bytes; none on delete;
//   - update: at least one of the columns present.
// Errors: kInvalidArgument naming the field (and record index); kResourceExhausted for a limit.
Status ValidateDelta(const Delta& delta, const DeltaOptions& options = {});

// Encodes a valid delta as a .cpd file image (ValidateDelta first; its errors pass through).
// zlib_level: 0..9 (deflate levels, LZ77 + Huffman), -1 for zlib's default (6), or
// kDeltaFastCompression (the default): Huffman coding only (Z_HUFFMAN_ONLY). Embeddings are
// near-random floats where LZ77 finds little: for 1000 x 384 upserts Huffman-only makes 93% of the
// raw size vs 87% at level 1, at 2.3x the speed (bench/codec/delta_bench.cpp). Any choice reads the same.
// Errors also: kInvalidArgument for another value. Memory: the output plus a 64 KiB block (rows are
// serialised and deflated block by block).
inline constexpr int kDeltaFastCompression = -2;
Result<std::string> EncodeDelta(const Delta& delta, const DeltaOptions& options = {},
                                int zlib_level = kDeltaFastCompression);

// Decodes a whole .cpd image held in memory (the streaming reader underneath, delta_reader.h).
// Errors: kNotSupported for another format_version; kCorruption for bad magic, header or trailer
// CRC mismatch, short or overlong input, zlib errors, lengths running past the payload; the
// ValidateDelta errors for well-formed files with invalid content.
Result<Delta> DecodeDelta(std::string_view bytes, const DeltaOptions& options = {});

// Reads the gzip-JSON shape the old Python producers wrote ("embeddings.json.gz":
// gzip.compress(json.dumps({"ids": [...], "embeddings": [[...]], "metadatas": [...],
// "documents": [...]}))) into a Delta with op = upsert (they called collection.upsert). Missing or
// null "embeddings"/"metadatas"/"documents" = column absent; a null element = not given. Plain
// (not gzipped) JSON text is accepted too. That file carries no collection, shard or id: they come
// from `meta` (meta.op is ignored; meta.dimension is taken from the data).
// Errors: kCorruption for bad gzip/JSON; kInvalidArgument naming the key and index for wrong shapes
// or types; kResourceExhausted when the inflated text passes limits.max_payload_bytes; then
// ValidateDelta's errors.
Result<Delta> DecodeJsonGzDelta(std::string_view bytes, const DeltaMeta& meta,
                                const DeltaOptions& options = {});

// True when `bytes` start with kDeltaMagic (the native format), false for anything else.
bool LooksLikeNativeDelta(std::string_view bytes);

// Splits records for appliers that take all-or-none embeddings (store::RecordBatch): `first` holds
// the records that give an embedding, `second` those that do not (its embeddings empty); both keep
// documents/metadatas columns as present in `records`, and the relative order of records. When
// embedding_given is empty, `first` is everything (or, without embeddings, `second` is).
std::pair<DeltaRecords, DeltaRecords> SplitOnEmbeddingGiven(DeltaRecords records, uint32_t dimension);

}  // namespace chromapact::codec
