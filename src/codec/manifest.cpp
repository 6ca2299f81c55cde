// The snapshot manifest (manifest.h): JSON encode/decode/validate, directory hashing, diff.
#include "chromapact/codec/manifest.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include "chromapact/codec/ulid.h"
#include "chromapact/crypto.h"

namespace chromapact::codec {
namespace {

namespace fs = std::filesystem;

Status CheckPath(const std::string& path, const std::string& field) {
  if (path.empty()) return InvalidArgument(field + ": empty path");
  if (path.front() == '/') return InvalidArgument(field + ": must be relative (" + path + ")");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return InvalidArgument(field + ": empty, \".\" or \"..\" segment in " + path);
    }
    start = end + 1;
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7F || c == '\\') {
      return InvalidArgument(field + ": control character or backslash in path");
    }
  }
  return Status::Ok();
}

bool IsLowerHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Typed field access for DecodeManifest; errors are kCorruption naming the key.
template <typename T>
Status Get(const nlohmann::json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return Corruption(std::string("manifest: missing key \"") + key + "\"");
  try {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!it->is_string()) throw std::invalid_argument("type");
    } else if constexpr (std::is_unsigned_v<T>) {
      if (!it->is_number_unsigned()) throw std::invalid_argument("type");
      if (it->template get<uint64_t>() > std::numeric_limits<T>::max()) throw std::invalid_argument("range");
    } else {
      if (!it->is_number_integer()) throw std::invalid_argument("type");
    }
    *out = it->template get<T>();
  } catch (const std::exception&) {
    return Corruption(std::string("manifest: \"") + key + "\" has the wrong type or range");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateManifest(const Manifest& m) {
  if (m.format_version != 2 && m.format_version != 3) {
    return NotSupported("manifest: format_version " + std::to_string(m.format_version) +
                        " (this reader reads 2 and 3)");
  }
  if (m.chunk_bytes != 0) {
    if (m.format_version < 3) return InvalidArgument("chunk_bytes: format_version 2 has no chunks");
    if (m.chunk_bytes % 4096 != 0 || m.chunk_bytes > (uint64_t{1} << 30)) {
      return InvalidArgument("chunk_bytes: " + std::to_string(m.chunk_bytes) +
                             " is not a multiple of 4096 from 4096 to 1073741824");
    }
  }
  if (m.collection.empty()) return InvalidArgument("collection: must not be empty");
  if (m.version == 0) return InvalidArgument("version: must be >= 1");
  if (m.parent_version && *m.parent_version >= m.version) {
    return InvalidArgument("parent_version: " + std::to_string(*m.parent_version) + " is not below version " +
                           std::to_string(m.version));
  }
  for (size_t i = 0; i < m.files.size(); ++i) {
    const std::string field = "files[" + std::to_string(i) + "]";
    CP_RETURN_IF_ERROR(CheckPath(m.files[i].path, field + ".path"));
    if (!IsLowerHex64(m.files[i].sha256))
      return InvalidArgument(field + ".sha256: expected 64 lowercase hex digits");
    const uint64_t want = m.chunk_bytes == 0 ? 0 : ChunkCount(m.files[i].size, m.chunk_bytes);
    if (m.files[i].chunks.size() != want) {
      return InvalidArgument(field + ".chunks: " + std::to_string(m.files[i].chunks.size()) + " listed, " +
                             std::to_string(want) + " expected for " + std::to_string(m.files[i].size) +
                             " bytes in chunks of " + std::to_string(m.chunk_bytes));
    }
    for (size_t k = 0; k < m.files[i].chunks.size(); ++k) {
      if (!IsLowerHex64(m.files[i].chunks[k])) {
        return InvalidArgument(field + ".chunks[" + std::to_string(k) + "]: expected 64 lowercase hex digits");
      }
    }
    if (i > 0 && !(m.files[i - 1].path < m.files[i].path)) {
      return InvalidArgument(field + ".path: not sorted after files[" + std::to_string(i - 1) +
                             "] or duplicate (" + m.files[i].path + ")");
    }
  }
  if (m.base_log_position > m.log_position) {
    return InvalidArgument("base_log_position: " + std::to_string(m.base_log_position) + " is past log_position " +
                           std::to_string(m.log_position));
  }
  for (size_t i = 0; i < m.skipped.size(); ++i) {
    const std::string field = "skipped[" + std::to_string(i) + "]";
    const SkippedEntry& e = m.skipped[i];
    if (e.log_position == 0 || e.log_position > m.log_position) {
      return InvalidArgument(field + ".log_position: " + std::to_string(e.log_position) + " not in 1.." +
                             std::to_string(m.log_position));
    }
    if (i > 0 && !(m.skipped[i - 1].log_position < e.log_position)) {
      return InvalidArgument(field + ".log_position: not sorted or duplicate");
    }
  }
  if (m.writer_id.empty()) return InvalidArgument("writer_id: must not be empty");
  return Status::Ok();
}

Result<std::string> EncodeManifest(const Manifest& m) {
  CP_RETURN_IF_ERROR(ValidateManifest(m));
  nlohmann::ordered_json j;
  j["format_version"] = m.format_version;
  j["collection"] = m.collection;
  j["shard"] = m.shard;
  j["version"] = m.version;
  j["parent_version"] =
      m.parent_version ? nlohmann::ordered_json(*m.parent_version) : nlohmann::ordered_json(nullptr);
  if (m.format_version >= 3) j["chunk_bytes"] = m.chunk_bytes;
  j["files"] = nlohmann::ordered_json::array();
  for (const auto& f : m.files) {
    nlohmann::ordered_json e;
    e["path"] = f.path;
    e["size"] = f.size;
    e["sha256"] = f.sha256;
    if (m.chunk_bytes != 0) e["chunks"] = f.chunks;
    j["files"].push_back(std::move(e));
  }
  j["record_count"] = m.record_count;
  j["dimension"] = m.dimension;
  j["log_position"] = m.log_position;
  if (m.format_version >= 3) {
    j["base_log_position"] = m.base_log_position;
    j["base_created_at_ms"] = m.base_created_at_ms;
  }
  j["skipped"] = nlohmann::ordered_json::array();
  for (const auto& e : m.skipped) {
    nlohmann::ordered_json o;
    o["log_position"] = e.log_position;
    o["reason"] = e.reason;
    j["skipped"].push_back(std::move(o));
  }
  j["created_at_ms"] = m.created_at_ms;
  j["writer_id"] = m.writer_id;
  try {
    return j.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("manifest: not valid UTF-8 (") + e.what() + ")");
  }
}

Result<Manifest> DecodeManifest(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption("manifest: not valid JSON");
  if (!j.is_object()) return Corruption("manifest: top level is not an object");
  Manifest m;
  CP_RETURN_IF_ERROR(Get(j, "format_version", &m.format_version));
  if (m.format_version != 2 && m.format_version != 3) {
    return NotSupported("manifest: format_version " + std::to_string(m.format_version));
  }
  const bool v3 = m.format_version >= 3;
  if (v3) CP_RETURN_IF_ERROR(Get(j, "chunk_bytes", &m.chunk_bytes));
  CP_RETURN_IF_ERROR(Get(j, "collection", &m.collection));
  CP_RETURN_IF_ERROR(Get(j, "shard", &m.shard));
  CP_RETURN_IF_ERROR(Get(j, "version", &m.version));
  auto parent = j.find("parent_version");
  if (parent != j.end() && !parent->is_null()) {
    uint64_t p = 0;
    CP_RETURN_IF_ERROR(Get(j, "parent_version", &p));
    m.parent_version = p;
  }
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return Corruption("manifest: \"files\" missing or not a list");
  for (size_t i = 0; i < files->size(); ++i) {
    const auto& e = (*files)[i];
    if (!e.is_object()) return Corruption("manifest: files[" + std::to_string(i) + "] is not an object");
    ManifestFile f;
    Status st = Get(e, "path", &f.path);
    if (st.ok()) st = Get(e, "size", &f.size);
    if (st.ok()) st = Get(e, "sha256", &f.sha256);
    if (st.ok() && m.chunk_bytes != 0) {
      auto c = e.find("chunks");
      if (c == e.end() || !c->is_array()) {
        st = Corruption("manifest: \"chunks\" missing or not a list");
      } else {
        for (const auto& h : *c) {
          if (!h.is_string()) {
            st = Corruption("manifest: \"chunks\" holds a non-string");
            break;
          }
          f.chunks.push_back(h.get<std::string>());
        }
      }
    }
    if (!st.ok()) return st.WithContext("files[" + std::to_string(i) + "]");
    m.files.push_back(std::move(f));
  }
  CP_RETURN_IF_ERROR(Get(j, "record_count", &m.record_count));
  CP_RETURN_IF_ERROR(Get(j, "dimension", &m.dimension));
  CP_RETURN_IF_ERROR(Get(j, "log_position", &m.log_position));
  if (v3) {
    CP_RETURN_IF_ERROR(Get(j, "base_log_position", &m.base_log_position));
    CP_RETURN_IF_ERROR(Get(j, "base_created_at_ms", &m.base_created_at_ms));
  }
  auto skipped = j.find("skipped");
  if (skipped == j.end() || !skipped->is_array()) return Corruption("manifest: \"skipped\" missing or not a list");
  for (size_t i = 0; i < skipped->size(); ++i) {
    const auto& e = (*skipped)[i];
    if (!e.is_object()) return Corruption("manifest: skipped[" + std::to_string(i) + "] is not an object");
    SkippedEntry s;
    Status st = Get(e, "log_position", &s.log_position);
    if (st.ok()) st = Get(e, "reason", &s.reason);
    if (!st.ok()) return st.WithContext("skipped[" + std::to_string(i) + "]");
    m.skipped.push_back(std::move(s));
  }
  CP_RETURN_IF_ERROR(Get(j, "created_at_ms", &m.created_at_ms));
  CP_RETURN_IF_ERROR(Get(j, "writer_id", &m.writer_id));
  if (!v3) {  // format 2: the HNSW files always held the whole version
    m.base_log_position = m.log_position;
    m.base_created_at_ms = m.created_at_ms;
  }
  Status st = ValidateManifest(m);
  if (!st.ok()) return Corruption("manifest: " + st.message());
  return m;
}

Result<ManifestFile> HashFile(const std::string& path, uint64_t chunk_bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return IOError("manifest: cannot open " + path + " for hashing");
  ManifestFile out;
  Sha256Stream whole;
  // Read in blocks of the chunk size (1 MiB without chunks; a large chunk size in 1 MiB pieces).
  const size_t block = static_cast<size_t>(chunk_bytes == 0 ? (1u << 20) : std::min<uint64_t>(chunk_bytes, 1u << 20));
  std::string buf(block, '\0');
  std::unique_ptr<Sha256Stream> chunk;
  uint64_t in_chunk = 0;
  for (;;) {
    size_t want = buf.size();
    if (chunk_bytes != 0) want = static_cast<size_t>(std::min<uint64_t>(want, chunk_bytes - in_chunk));
    const size_t n = std::fread(buf.data(), 1, want, f.get());
    if (n == 0) break;
    std::string_view piece(buf.data(), n);
    whole.Update(piece);
    out.size += n;
    if (chunk_bytes == 0) continue;
    if (!chunk) chunk = std::make_unique<Sha256Stream>();
    chunk->Update(piece);
    in_chunk += n;
    if (in_chunk == chunk_bytes) {
      out.chunks.push_back(chunk->HexDigest());
      chunk.reset();
      in_chunk = 0;
    }
  }
  if (std::ferror(f.get())) return IOError("manifest: read error while hashing " + path);
  if (chunk) out.chunks.push_back(chunk->HexDigest());
  out.sha256 = whole.HexDigest();
  return out;
}

Result<std::vector<ManifestFile>> HashDirectoryFiles(const std::string& dir, uint64_t chunk_bytes) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("manifest: directory " + dir + " does not exist");
  std::vector<ManifestFile> out;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return IOError("manifest: list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IOError("manifest: list " + dir + ": " + ec.message());
    fs::file_status st = it->symlink_status(ec);
    if (ec) return IOError("manifest: stat " + it->path().string() + ": " + ec.message());
    if (!fs::is_regular_file(st)) continue;
    std::string rel = it->path().lexically_relative(dir).generic_string();
    if (rel == kManifestFileName) continue;
    CP_RETURN_IF_ERROR(CheckPath(rel, "file " + rel));
    CP_ASSIGN_OR_RETURN(ManifestFile f, HashFile(it->path().string(), chunk_bytes));
    f.path = rel;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return out;
}

Status VerifyDirectory(const std::string& dir, const Manifest& manifest) {
  for (const auto& f : manifest.files) {
    fs::path p = fs::path(dir) / f.path;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return NotFound("manifest: file " + f.path + " missing in " + dir);
    uint64_t size = fs::file_size(p, ec);
    if (ec) return IOError("manifest: size of " + p.string() + ": " + ec.message());
    if (size != f.size) {
      return Corruption("manifest: file " + f.path + " has " + std::to_string(size) +
                        " bytes, manifest says " + std::to_string(f.size));
    }
    CP_ASSIGN_OR_RETURN(std::string sha, Sha256HexOfFile(p.string()));
    if (sha != f.sha256) return Corruption("manifest: file " + f.path + " SHA-256 mismatch");
  }
  return Status::Ok();
}

uint64_t ManifestDiff::bytes_to_fetch() const {
  uint64_t n = 0;
  for (const auto& f : added) n += f.size;
  for (const auto& f : changed) n += f.size;
  return n;
}

ManifestDiff DiffManifests(const Manifest& from, const Manifest& to) {
  std::map<std::string, const ManifestFile*> old_files;
  for (const auto& f : from.files) old_files[f.path] = &f;
  ManifestDiff d;
  for (const auto& f : to.files) {
    auto it = old_files.find(f.path);
    if (it == old_files.end()) {
      d.added.push_back(f);
    } else {
      (*it->second == f ? d.unchanged : d.changed).push_back(f);
      old_files.erase(it);
    }
  }
  for (const auto& [path, f] : old_files) d.removed.push_back(*f);
  auto by_path = [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; };
  for (auto* v : {&d.added, &d.removed, &d.changed, &d.unchanged}) std::sort(v->begin(), v->end(), by_path);
  return d;
}

const SkippedEntry* FindSkipped(const Manifest& manifest, uint64_t log_position) {
  auto it = std::lower_bound(manifest.skipped.begin(), manifest.skipped.end(), log_position,
                             [](const SkippedEntry& e, uint64_t p) { return e.log_position < p; });
  return (it != manifest.skipped.end() && it->log_position == log_position) ? &*it : nullptr;
}

}  // namespace chromapact::codec
