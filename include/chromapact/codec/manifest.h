// The snapshot manifest: manifest.json beside a snapshot version's files (docs/design/overview.md
// §3 "Snapshot version", docs/design/chunks.md). A version is a Chroma persist directory; the
// manifest lists its files with size and SHA-256, so that a reader verifies every download and
// fetches only what it does not have.
//
// JSON shape (keys in this order; unknown keys are ignored on read):
//   {"format_version": 3, "collection": "docs", "shard": 0, "version": 7, "parent_version": 6,
//    "chunk_bytes": 262144,
//    "files": [{"path": "chroma.sqlite3", "size": 123, "sha256": "<64 lowercase hex>",
//               "chunks": ["<sha256 of bytes 0..262143>", ...]}, ...],
//    "record_count": 1000, "dimension": 384, "log_position": 42,
//    "base_log_position": 40, "base_created_at_ms": 1764585000000,
//    "skipped": [{"log_position": 17, "reason": "corrupt: CRC-32C mismatch ..."}],
//    "created_at_ms": 1764585600000, "writer_id": "compactor-<uuid>"}
// Format 2 (no chunk_bytes / chunks / base_*: every file stored whole under the version's prefix)
// is still read; format 1 (applied_delta_ids instead of log_position) is not.
// parent_version is null for the first version. files are sorted by path (bytewise) and paths are
// relative, '/'-separated, without "." / ".." / empty segments (they are S3 key suffixes too).
//
// Content addressing: with chunk_bytes > 0 each file is cut at multiples of chunk_bytes and every
// piece is stored once per shard, keyed by its SHA-256 (pipeline/snapshot.h ChunkKey), so a version
// that changes a few SQLite pages uploads only the chunks holding them, and a reader that has an
// older version rebuilds the new files from chunks it has. DiffManifests compares whole files by
// (path, sha256, size).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::codec {

inline constexpr int kManifestFormatVersion = 3;  // written; 2 and 3 are read
// Skipped entries a manifest keeps (the newest; older ones are dropped).
inline constexpr size_t kMaxSkippedEntries = 1000;
inline constexpr const char* kManifestFileName = "manifest.json";

struct ManifestFile {
  std::string path;    // relative, '/'-separated (e.g. "<segment-uuid>/data_level0.bin")
  uint64_t size = 0;   // bytes
  std::string sha256;  // 64 lowercase hex characters
  // With Manifest::chunk_bytes > 0: the SHA-256 (64 lowercase hex) of each chunk, in file order,
  // ceil(size / chunk_bytes) of them (none for an empty file); the last one may be shorter.
  // Empty with chunk_bytes == 0.
  std::vector<std::string> chunks;
  bool operator==(const ManifestFile& o) const {
    return path == o.path && size == o.size && sha256 == o.sha256;
  }
};

// A log entry the version passed over without applying it (docs/design/log.md "Bad deltas"): a
// delta that can never apply (undecodable, another collection/shard, rejected by the store).
struct SkippedEntry {
  uint64_t log_position = 0;  // its sequence number
  std::string reason;         // the error, as text
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string collection;
  uint32_t shard = 0;
  uint64_t version = 0;                    // >= 1
  std::optional<uint64_t> parent_version;  // < version; nullopt for the first version
  // 0: every file is stored whole under the version's prefix (format 2, and format 3 when asked).
  // Otherwise the chunk size in bytes, a multiple of 4096 (SQLite's page size, so a changed page
  // changes one chunk) from 4 KiB to 1 GiB; see ManifestFile::chunks.
  uint64_t chunk_bytes = 0;
  std::vector<ManifestFile> files;         // sorted by path, unique paths
  uint64_t record_count = 0;               // live records in the snapshot
  uint32_t dimension = 0;                  // 0 = not known yet (empty collection)
  // The version is exactly the shard's log applied in order up to and including this sequence
  // number (0 = nothing applied); void markers and `skipped` entries count as applied.
  uint64_t log_position = 0;
  // The version's HNSW files hold the log up to this position (<= log_position); the records after
  // it are in chroma.sqlite3's embeddings_queue and replayed into the index on open (a minor
  // compaction leaves the HNSW base as it was; a major one rewrites it: base_log_position ==
  // log_position). base_created_at_ms: when that HNSW base was written (ms since the Unix epoch,
  // UTC). Format 2 manifests read as base_log_position = log_position, base_created_at_ms =
  // created_at_ms.
  uint64_t base_log_position = 0;
  int64_t base_created_at_ms = 0;
  // Entries <= log_position that were skipped, sorted by log_position, unique, at most
  // kMaxSkippedEntries (the newest).
  std::vector<SkippedEntry> skipped;
  int64_t created_at_ms = 0;  // ms since the Unix epoch, UTC
  std::string writer_id;      // who wrote this version (compactor instance), non-empty
};

// Checks every field: format_version 2 or 3 (else kNotSupported), collection non-empty, version
// >= 1, parent_version < version, chunk_bytes 0 or a multiple of 4096 in 4 KiB..1 GiB (0 in format
// 2), file paths valid/sorted/unique, sha256 and chunks lowercase hex of length 64, the number of
// chunks ceil(size / chunk_bytes), base_log_position <= log_position, skipped positions in
// 1..log_position, sorted and unique, writer_id non-empty.
// Errors: kInvalidArgument naming the field (e.g. "files[2].sha256: ...").
Status ValidateManifest(const Manifest& manifest);

// Validates, then encodes as JSON text (2-space indented, trailing newline). Errors: ValidateManifest's.
Result<std::string> EncodeManifest(const Manifest& manifest);

// Parses and validates. Errors: kCorruption for text that is not JSON or has wrong types/missing keys
// (naming the key); kNotSupported for another format_version; ValidateManifest's otherwise
// (reported as kCorruption, since a stored manifest that fails validation is damaged).
Result<Manifest> DecodeManifest(std::string_view json_text);

// Lists the regular files under `dir` recursively (skipping `manifest.json` at the top and anything
// that is not a regular file), each with size and SHA-256, sorted by path; with chunk_bytes > 0
// also each file's chunk hashes (ManifestFile::chunks), in the same single read of the file.
// Errors: kNotFound if dir does not exist; kIOError naming the path; kInvalidArgument for a file
// name the manifest cannot carry (e.g. containing a backslash or control character).
Result<std::vector<ManifestFile>> HashDirectoryFiles(const std::string& dir, uint64_t chunk_bytes = 0);

// Hashes one file (size, SHA-256, and with chunk_bytes > 0 its chunks); `path` names the file,
// the returned ManifestFile::path is left empty. Errors: kIOError naming the path.
Result<ManifestFile> HashFile(const std::string& path, uint64_t chunk_bytes = 0);

// Number of chunks of a file of `size` bytes: ceil(size / chunk_bytes). Precondition: chunk_bytes > 0.
inline uint64_t ChunkCount(uint64_t size, uint64_t chunk_bytes) { return (size + chunk_bytes - 1) / chunk_bytes; }

// Checks that `dir` holds exactly the manifest's files with the listed sizes and hashes (manifest.json
// itself and extra files are ignored). Errors: kNotFound naming a missing file; kCorruption naming a
// file whose size or SHA-256 differs.
Status VerifyDirectory(const std::string& dir, const Manifest& manifest);

// What changed from `from` to `to`, by path: `added` (only in to), `removed` (only in from),
// `changed` (in both, size or sha256 differs; the entry of `to`), `unchanged` (same file). Each list
// sorted by path. A downloader fetches added + changed and can reuse unchanged from a local copy.
struct ManifestDiff {
  std::vector<ManifestFile> added;
  std::vector<ManifestFile> removed;
  std::vector<ManifestFile> changed;
  std::vector<ManifestFile> unchanged;
  uint64_t bytes_to_fetch() const;  // sum of sizes of added + changed
};
ManifestDiff DiffManifests(const Manifest& from, const Manifest& to);

// The skipped entry at `log_position`, or nullptr (binary search; the list is sorted).
const SkippedEntry* FindSkipped(const Manifest& manifest, uint64_t log_position);

}  // namespace chromapact::codec
