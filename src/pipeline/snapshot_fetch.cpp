// Fetching a snapshot version into a local directory (snapshot.h FetchSnapshot): files that are
// already there stay, the others are rebuilt from local chunks and downloaded ones.
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "chromapact/crypto.h"
#include "chromapact/pipeline/snapshot.h"
#include "pipeline/snapshot_io.h"

namespace chromapact::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPartSuffix = ".part";

Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return IOError("snapshot: cannot write " + path);
  return Status::Ok();
}

// Leftovers of an interrupted fetch would otherwise be read as chunk sources while rebuilt.
Status RemovePartFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> parts;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == kPartSuffix) parts.push_back(it->path());
  }
  if (ec) return IOError("snapshot: list " + dir + ": " + ec.message());
  for (const auto& p : parts) {
    fs::remove(p, ec);
    if (ec) return IOError("snapshot: cannot remove " + p.string() + ": " + ec.message());
  }
  return Status::Ok();
}

// Where a chunk's bytes can be read locally: a file (or a file being built) and an offset.
struct LocalChunk {
  std::string path;
  uint64_t offset = 0;
};

class Fetcher {
 public:
  Fetcher(ObjectStore* objects, const codec::Manifest& m, std::string prefix, std::string dir, FetchStats* st)
      : objects_(objects), m_(m), shard_{m.collection, static_cast<int>(m.shard)}, prefix_(std::move(prefix)),
        dir_(std::move(dir)), st_(*st) {}

  // Indexes the chunks of the files already in the directory.
  void Index(const std::vector<codec::ManifestFile>& have) {
    for (const auto& f : have) {
      for (size_t k = 0; k < f.chunks.size(); ++k) {
        chunks_.emplace(f.chunks[k], LocalChunk{(fs::path(dir_) / f.path).string(), k * m_.chunk_bytes});
      }
    }
  }

  // Builds `f` at `tmp`, then checks its size and SHA-256.
  Status Build(const codec::ManifestFile& f, const std::string& tmp) {
    if (m_.chunk_bytes == 0) return Whole(f, tmp);
    CP_ASSIGN_OR_RETURN(internal::FileWriter out, internal::FileWriter::Create(tmp));
    Sha256Stream whole;
    for (size_t k = 0; k < f.chunks.size(); ++k) {
      const uint64_t offset = k * m_.chunk_bytes;
      const uint64_t len = std::min<uint64_t>(m_.chunk_bytes, f.size - offset);
      CP_ASSIGN_OR_RETURN(std::string bytes, Chunk(f.chunks[k], len));
      whole.Update(bytes);
      CP_RETURN_IF_ERROR(out.Append(bytes));
      chunks_.emplace(f.chunks[k], LocalChunk{tmp, offset});
    }
    CP_RETURN_IF_ERROR(out.Close());
    const std::string sha = whole.HexDigest();
    if (sha != f.sha256) {
      return Corruption("snapshot: " + f.path + " rebuilt from its chunks has sha256 " + sha + ", manifest lists " +
                        f.sha256);
    }
    return Status::Ok();
  }

 private:
  Result<std::string> Chunk(const std::string& sha, uint64_t len) {
    if (auto it = chunks_.find(sha); it != chunks_.end()) {
      auto reader = readers_.find(it->second.path);
      if (reader == readers_.end()) {
        CP_ASSIGN_OR_RETURN(internal::FileReader r, internal::FileReader::Open(it->second.path));
        reader = readers_.emplace(it->second.path, std::move(r)).first;
      }
      auto bytes = reader->second.Read(it->second.offset, len);
      if (bytes.ok()) {
        st_.chunks_reused++;
        return bytes;
      }  // a local file shorter than it was: download instead
    }
    const std::string key = ChunkKey(shard_, sha);
    auto body = objects_->Get(key);
    if (!body.ok()) return body.status().WithContext("snapshot: get " + key);
    st_.chunks_fetched++;
    st_.bytes_fetched += body->size();
    if (body->size() != len || Sha256Hex(*body) != sha) {
      return Corruption("snapshot: chunk " + key + ": downloaded " + std::to_string(body->size()) +
                        " bytes that do not hash to its name (" + std::to_string(len) + " bytes expected)");
    }
    return body;
  }

  Status Whole(const codec::ManifestFile& f, const std::string& tmp) {
    std::error_code ec;
    auto got = objects_->GetToFile(prefix_ + f.path, tmp);
    if (!got.ok()) return got.status().WithContext("snapshot: get " + prefix_ + f.path);
    CP_ASSIGN_OR_RETURN(std::string sha, Sha256HexOfFile(tmp));
    const uint64_t size = fs::file_size(tmp, ec);
    if (ec || size != f.size || sha != f.sha256) {
      fs::remove(tmp, ec);
      return Corruption("snapshot: " + prefix_ + f.path + ": downloaded " + std::to_string(size) +
                        " bytes sha256 " + sha + ", manifest lists " + std::to_string(f.size) + " bytes sha256 " +
                        f.sha256);
    }
    st_.bytes_fetched += size;
    return Status::Ok();
  }

  ObjectStore* objects_;
  const codec::Manifest& m_;
  ShardId shard_;
  std::string prefix_, dir_;
  FetchStats& st_;
  std::unordered_map<std::string, LocalChunk> chunks_;  // by SHA-256
  std::map<std::string, internal::FileReader> readers_;
};

}  // namespace

Result<codec::Manifest> FetchSnapshot(ObjectStore* objects, const std::string& manifest_key,
                                      const std::string& dir, FetchStats* stats) {
  FetchStats local_stats;
  FetchStats& st = stats ? *stats : local_stats;
  st = FetchStats{};
  auto text = objects->Get(manifest_key);
  if (!text.ok()) return text.status().WithContext("snapshot: get " + manifest_key);
  st.bytes_fetched += text->size();
  CP_ASSIGN_OR_RETURN(codec::Manifest manifest, codec::DecodeManifest(*text));
  const size_t cut = manifest_key.rfind('/');
  const std::string prefix = cut == std::string::npos ? std::string() : manifest_key.substr(0, cut + 1);

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IOError("snapshot: cannot create " + dir + ": " + ec.message());
  // What is there now (a manifest.json left from an earlier fetch is not trusted: hash the files).
  fs::remove(fs::path(dir) / codec::kManifestFileName, ec);
  CP_RETURN_IF_ERROR(RemovePartFiles(dir));
  CP_ASSIGN_OR_RETURN(std::vector<codec::ManifestFile> have, codec::HashDirectoryFiles(dir, manifest.chunk_bytes));
  Fetcher fetcher(objects, manifest, prefix, dir, &st);
  fetcher.Index(have);
  codec::Manifest local;
  local.files = std::move(have);
  for (auto& f : local.files) f.chunks.clear();  // compare whole files only
  codec::ManifestDiff diff = codec::DiffManifests(local, manifest);

  // Build every added or changed file beside its old self; rename only once all are built, since
  // a later file may take chunks from an earlier one's old bytes.
  std::vector<std::pair<std::string, std::string>> renames;
  std::vector<codec::ManifestFile> build = diff.added;
  build.insert(build.end(), diff.changed.begin(), diff.changed.end());
  for (const auto& f : build) {
    const fs::path target = fs::path(dir) / f.path;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return IOError("snapshot: cannot create " + target.parent_path().string() + ": " + ec.message());
    const std::string tmp = target.string() + kPartSuffix;
    CP_RETURN_IF_ERROR(fetcher.Build(f, tmp));
    renames.emplace_back(tmp, target.string());
    st.files_fetched++;
  }
  for (const auto& [tmp, target] : renames) {
    fs::rename(tmp, target, ec);
    if (ec) return IOError("snapshot: cannot rename " + tmp + ": " + ec.message());
  }
  for (const auto& f : diff.removed) {
    fs::remove(fs::path(dir) / f.path, ec);
    if (ec) return IOError("snapshot: cannot remove " + f.path + ": " + ec.message());
    st.files_removed++;
  }
  st.files_reused = diff.unchanged.size();
  CP_RETURN_IF_ERROR(WriteFile((fs::path(dir) / codec::kManifestFileName).string(), *text));
  return manifest;
}

}  // namespace chromapact::pipeline
