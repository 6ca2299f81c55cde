// Publishing a snapshot version (snapshot.h): chunks not stored yet, then manifest.json.
#include "chromapact/pipeline/snapshot.h"

#include <set>

#include "chromapact/crypto.h"
#include "pipeline/snapshot_io.h"

namespace chromapact::pipeline {
namespace {

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

// A chunk's key is its hash: an object already there is the same chunk unless its size says it is
// damaged (a full GET to re-hash it would cost what the dedup saves).
Status AcceptExistingChunk(ObjectStore* objects, const std::string& key, uint64_t size) {
  auto head = objects->Head(key);
  if (!head.ok()) return head.status().WithContext("snapshot: checking existing " + key);
  if (static_cast<uint64_t>(head->size) != size) {
    return {StatusCode::kAlreadyExists, "snapshot: chunk " + key + " exists with " + std::to_string(head->size) +
                                            " bytes, not " + std::to_string(size)};
  }
  return Status::Ok();
}

}  // namespace

std::string SnapshotPrefix(const ShardId& shard, uint64_t version, const std::string& writer_id) {
  return "snapshots/" + shard.collection + "/" + std::to_string(shard.shard) + "/" + std::to_string(version) +
         "-" + writer_id + "/";
}

std::string ChunkPrefix(const ShardId& shard) {
  return "chunks/" + shard.collection + "/" + std::to_string(shard.shard) + "/";
}

std::string ChunkKey(const ShardId& shard, const std::string& sha256) { return ChunkPrefix(shard) + sha256; }

Result<PublishStats> PublishSnapshot(ObjectStore* objects, const ShardId& shard, const std::string& dir,
                                     codec::Manifest* manifest, const PublishOptions& options) {
  CP_RETURN_IF_ERROR(ValidateShardId(shard));
  manifest->chunk_bytes = options.chunk_bytes;
  CP_ASSIGN_OR_RETURN(manifest->files, codec::HashDirectoryFiles(dir, options.chunk_bytes));
  manifest->collection = shard.collection;
  manifest->shard = static_cast<uint32_t>(shard.shard);
  CP_ASSIGN_OR_RETURN(std::string manifest_text, codec::EncodeManifest(*manifest));
  const std::string prefix = SnapshotPrefix(shard, manifest->version, manifest->writer_id);
  PublishStats stats;
  auto uploaded = [&](uint64_t bytes) -> Status {
    stats.objects++;
    stats.bytes += bytes;
    return options.hook ? options.hook(stats.objects) : Status::Ok();
  };
  std::set<std::string> stored;  // chunks known to be in S3
  if (options.known != nullptr && options.known->chunk_bytes != 0) {
    for (const auto& f : options.known->files) stored.insert(f.chunks.begin(), f.chunks.end());
  }
  for (const auto& f : manifest->files) {
    stats.files++;
    stats.bytes_total += f.size;
    const std::string path = dir + "/" + f.path;
    if (options.chunk_bytes == 0) {
      const std::string key = prefix + f.path;
      auto put = objects->PutFile(key, path, CreateOnly());
      if (!put.ok()) {
        if (put.status().code() != StatusCode::kPreconditionFailed) {
          return put.status().WithContext("snapshot: upload " + key);
        }
        CP_RETURN_IF_ERROR(AcceptExisting(objects, key, f.sha256));
      }
      CP_RETURN_IF_ERROR(uploaded(f.size));
      continue;
    }
    CP_ASSIGN_OR_RETURN(internal::FileReader reader, internal::FileReader::Open(path));
    for (size_t k = 0; k < f.chunks.size(); ++k) {
      if (!stored.insert(f.chunks[k]).second) {
        stats.chunks_reused++;
        continue;
      }
      const uint64_t offset = k * options.chunk_bytes;
      const uint64_t len = std::min<uint64_t>(options.chunk_bytes, f.size - offset);
      CP_ASSIGN_OR_RETURN(std::string body, reader.Read(offset, len));
      if (Sha256Hex(body) != f.chunks[k]) {
        return Corruption("snapshot: " + f.path + " changed while it was published (chunk " + std::to_string(k) + ")");
      }
      const std::string key = ChunkKey(shard, f.chunks[k]);
      auto put = objects->Put(key, body, CreateOnly());
      if (!put.ok()) {
        if (put.status().code() != StatusCode::kPreconditionFailed) {
          return put.status().WithContext("snapshot: upload " + key);
        }
        CP_RETURN_IF_ERROR(AcceptExistingChunk(objects, key, len));
      }
      CP_RETURN_IF_ERROR(uploaded(len));
    }
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

}  // namespace chromapact::pipeline
