#include "chromapact/pipeline/snapshot.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include "chromapact/crypto.h"

namespace chromapact::pipeline {
namespace {

namespace fs = std::filesystem;

PutObjectOptions CreateOnly() {
  PutObjectOptions o;
  o.if_none_match_any = true;
  return o;
}

// A create-only PUT that lost to an object already there: fine when it is byte-identical to ours.
Status AcceptExisting(ObjectStore* objects, const std::string& key, const std::string& sha256) {
  auto body = objects->Get(key);
  if (!body.ok()) return body.status().WithContext("snapshot: checking existing " + key);
  if (Sha256Hex(*body) != sha256) {
    return {StatusCode::kAlreadyExists, "snapshot: " + key + " exists with other content"};
  }
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return IOError("snapshot: cannot write " + path);
  return Status::Ok();
}

}  // namespace

std::string SnapshotPrefix(const ShardId& shard, uint64_t version, const std::string& writer_id) {
  return "snapshots/" + shard.collection + "/" + std::to_string(shard.shard) + "/" + std::to_string(version) +
         "-" + writer_id + "/";
}

Result<PublishStats> PublishSnapshot(ObjectStore* objects, const ShardId& shard, const std::string& dir,
                                     codec::Manifest* manifest, const UploadHook& hook) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  CP_ASSIGN_OR_RETURN(manifest->files, codec::HashDirectoryFiles(dir));
  manifest->collection = shard.collection;
  manifest->shard = static_cast<uint32_t>(shard.shard);
  CP_ASSIGN_OR_RETURN(std::string manifest_text, codec::EncodeManifest(*manifest));
  const std::string prefix = SnapshotPrefix(shard, manifest->version, manifest->writer_id);
  PublishStats stats;
  for (const auto& f : manifest->files) {
    const std::string key = prefix + f.path;
    auto put = objects->PutFile(key, dir + "/" + f.path, CreateOnly());
    if (!put.ok()) {
      if (put.status().code() != StatusCode::kPreconditionFailed) {
        return put.status().WithContext("snapshot: upload " + key);
      }
      CP_RETURN_IF_ERROR(AcceptExisting(objects, key, f.sha256));
    }
    stats.files++;
    stats.bytes += f.size;
    if (hook) CP_RETURN_IF_ERROR(hook(stats.files));
  }
  stats.manifest_key = prefix + codec::kManifestFileName;
  PutObjectOptions opts = CreateOnly();
  opts.content_type = "application/json";
  auto put = objects->Put(stats.manifest_key, manifest_text, opts);
  if (!put.ok()) {
    if (put.status().code() != StatusCode::kPreconditionFailed) {
      return put.status().WithContext("snapshot: upload " + stats.manifest_key);
    }
    CP_RETURN_IF_ERROR(AcceptExisting(objects, stats.manifest_key, Sha256Hex(manifest_text)));
  }
  stats.bytes += manifest_text.size();
  return stats;
}

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
  CP_ASSIGN_OR_RETURN(std::vector<codec::ManifestFile> have, codec::HashDirectoryFiles(dir));
  codec::Manifest local;
  local.files = std::move(have);
  codec::ManifestDiff diff = codec::DiffManifests(local, manifest);
  for (const auto& f : diff.removed) {
    fs::remove(fs::path(dir) / f.path, ec);
    if (ec) return IOError("snapshot: cannot remove " + f.path + ": " + ec.message());
    st.files_removed++;
  }
  std::vector<codec::ManifestFile> fetch = diff.added;
  fetch.insert(fetch.end(), diff.changed.begin(), diff.changed.end());
  for (const auto& f : fetch) {
    const fs::path target = fs::path(dir) / f.path;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return IOError("snapshot: cannot create " + target.parent_path().string() + ": " + ec.message());
    const std::string tmp = target.string() + ".part";
    auto got = objects->GetToFile(prefix + f.path, tmp);
    if (!got.ok()) return got.status().WithContext("snapshot: get " + prefix + f.path);
    CP_ASSIGN_OR_RETURN(std::string sha, Sha256HexOfFile(tmp));
    uint64_t size = fs::file_size(tmp, ec);
    if (ec || size != f.size || sha != f.sha256) {
      fs::remove(tmp, ec);
      return Corruption("snapshot: " + prefix + f.path + ": downloaded " + std::to_string(size) +
                        " bytes sha256 " + sha + ", manifest lists " + std::to_string(f.size) +
                        " bytes sha256 " + f.sha256);
    }
    fs::rename(tmp, target, ec);
    if (ec) return IOError("snapshot: cannot rename " + tmp + ": " + ec.message());
    st.files_fetched++;
    st.bytes_fetched += size;
  }
  st.files_reused = diff.unchanged.size();
  CP_RETURN_IF_ERROR(WriteFile((fs::path(dir) / codec::kManifestFileName).string(), *text));
  return manifest;
}

}  // namespace chromapact::pipeline
