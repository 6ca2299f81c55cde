#include "pipeline/compactor_apply.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "chromapact/codec/ulid.h"
#include "chromapact/pipeline/compactor.h"

namespace chromapact::pipeline::internal {
namespace {

namespace fs = std::filesystem;

// The records at `keep` (indexes into r), all columns carried along.
codec::DeltaRecords Select(const codec::DeltaRecords& r, const std::vector<size_t>& keep, uint32_t dim) {
  codec::DeltaRecords out;
  for (size_t i : keep) {
    out.ids.push_back(r.ids[i]);
    if (!r.embeddings.empty()) {
      out.embeddings.insert(out.embeddings.end(), r.embeddings.begin() + static_cast<std::ptrdiff_t>(i * dim),
                            r.embeddings.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
    }
    if (!r.embedding_given.empty()) out.embedding_given.push_back(r.embedding_given[i]);
    if (!r.documents.empty()) out.documents.push_back(r.documents[i]);
    if (!r.metadatas.empty()) out.metadatas.push_back(r.metadatas[i]);
  }
  return out;
}

store::RecordBatch ToBatch(codec::DeltaRecords r) {
  store::RecordBatch b;
  b.ids = std::move(r.ids);
  b.embeddings = std::move(r.embeddings);
  b.documents = std::move(r.documents);
  b.metadatas = std::move(r.metadatas);
  return b;
}

}  // namespace

Result<RecordVersions> LoadRecordVersions(const std::string& dir) {
  const std::string path = dir + "/" + kRecordVersionsFileName;
  std::error_code ec;
  if (!fs::exists(path, ec)) return RecordVersions{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!j.is_object() || !j.contains("versions") || !j["versions"].is_object()) {
    return Corruption(path + ": not {\"versions\": {...}}");
  }
  RecordVersions v;
  for (auto it = j["versions"].begin(); it != j["versions"].end(); ++it) {
    if (!it.value().is_string()) return Corruption(path + ": versions[\"" + it.key() + "\"]: not a string");
    v.emplace(it.key(), it.value().get<std::string>());
  }
  return v;
}

Status SaveRecordVersions(const std::string& dir, const RecordVersions& versions) {
  nlohmann::json j = {{"format_version", 1}, {"versions", versions}};
  const std::string path = dir + "/" + kRecordVersionsFileName;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << j.dump();
  out.close();
  if (!out) return IOError("cannot write " + path);
  return Status::Ok();
}

size_t PruneRecordVersions(RecordVersions* versions, int64_t cutoff_ms) {
  size_t dropped = 0;
  for (auto it = versions->begin(); it != versions->end();) {
    auto t = codec::UlidTimeMs(it->second);
    if (t.ok() && static_cast<int64_t>(*t) < cutoff_ms) {
      it = versions->erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

Result<size_t> ApplyDelta(store::Store* store, const std::string& collection, codec::Delta delta,
                          RecordVersions* versions) {
  const std::string& id = delta.meta.delta_id;
  std::vector<size_t> keep;
  for (size_t i = 0; i < delta.records.size(); ++i) {
    auto it = versions->find(delta.records.ids[i]);
    if (it == versions->end() || it->second < id) keep.push_back(i);
  }
  if (keep.empty()) return size_t{0};
  codec::DeltaRecords records = keep.size() == delta.records.size()
                                    ? std::move(delta.records)
                                    : Select(delta.records, keep, delta.meta.dimension);
  std::vector<std::string> ids = records.ids;
  switch (delta.meta.op) {
    case codec::DeltaOp::kAdd: CP_RETURN_IF_ERROR(store->Add(collection, ToBatch(std::move(records)))); break;
    case codec::DeltaOp::kUpsert:
      CP_RETURN_IF_ERROR(store->Upsert(collection, ToBatch(std::move(records))));
      break;
    case codec::DeltaOp::kUpdate: {
      auto parts = codec::SplitOnEmbeddingGiven(std::move(records), delta.meta.dimension);
      if (!parts.first.ids.empty())
        CP_RETURN_IF_ERROR(store->Update(collection, ToBatch(std::move(parts.first))));
      if (!parts.second.ids.empty())
        CP_RETURN_IF_ERROR(store->Update(collection, ToBatch(std::move(parts.second))));
      break;
    }
    case codec::DeltaOp::kDelete: {
      auto n = store->Delete(collection, records.ids);
      if (!n.ok()) return n.status();
      break;
    }
  }
  for (auto& rid : ids) (*versions)[rid] = id;
  return ids.size();
}

}  // namespace chromapact::pipeline::internal
