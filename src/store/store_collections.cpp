// Collections: rows as Chroma 1.x writes them (docs/chroma-format.md §3, §6): the collections row with
// dimension and the 1.0-style config_json_str (schema_str NULL), collection_metadata rows, and the
// METADATA + VECTOR segments rows.
#include <filesystem>

#include "store/collection_config.h"
#include "store/metadata_segment.h"
#include "store/record_batch.h"
#include "store/store_impl.h"

namespace chromapact::store::internal {
namespace fs = std::filesystem;

namespace {
constexpr const char* kMetadataSegmentType = "urn:chroma:segment/metadata/sqlite";
constexpr const char* kVectorSegmentType = "urn:chroma:segment/vector/hnsw-local-persisted";
}  // namespace

Result<CollectionState*> StoreImpl::Find(const std::string& name) const {
  auto it = collections_.find(name);
  if (it == collections_.end()) return NotFound("collection '" + name + "' does not exist");
  return it->second.get();
}

Result<CollectionInfo> StoreImpl::CreateCollection(const std::string& name, const CollectionOptions& options,
                                                   bool get_or_create) {
  CP_RETURN_IF_ERROR(ValidateCollectionName(name));
  auto it = collections_.find(name);
  if (it != collections_.end()) {
    if (get_or_create) return it->second->info;
    return Status(StatusCode::kAlreadyExists, "collection '" + name + "' already exists");
  }
  CP_RETURN_IF_ERROR(RequireWritable("create collection"));
  CP_RETURN_IF_ERROR(ValidateHnswParams(options.hnsw));
  CP_RETURN_IF_ERROR(ValidateMetadata(options.metadata, false, false, "collection metadata"));
  if (options.dimension && *options.dimension == 0) return InvalidArgument("collection dimension must be > 0");

  auto c = std::make_unique<CollectionState>();
  c->info.id = NewUuid();
  c->info.name = name;
  c->info.dimension = options.dimension;
  c->info.metadata = (options.metadata.is_object() && !options.metadata.empty()) ? options.metadata : nullptr;
  c->info.hnsw = options.hnsw;
  c->info.metadata_segment_id = NewUuid();
  c->info.vector_segment_id = NewUuid();
  c->topic = TopicFor(c->info.id);
  if (options.dimension) {
    CP_ASSIGN_OR_RETURN(c->vectors, HnswSegment::Create(*options.dimension, options.hnsw));
  }

  CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*db_));
  CP_ASSIGN_OR_RETURN(Stmt * ins, db_->Prepare("INSERT INTO collections (id, name, dimension, database_id, "
                                               "config_json_str, schema_str) VALUES (?, ?, ?, ?, ?, NULL)"));
  ins->Bind(1, std::string_view(c->info.id)).Bind(2, std::string_view(name));
  if (options.dimension) {
    ins->Bind(3, static_cast<int64_t>(*options.dimension));
  } else {
    ins->BindNull(3);
  }
  ins->Bind(4, std::string_view(kDefaultDatabaseId)).Bind(5, std::string_view(ConfigJsonFor(options.hnsw)));
  CP_RETURN_IF_ERROR(ins->Run().WithContext("insert collections row"));
  if (c->info.metadata.is_object()) {
    CP_ASSIGN_OR_RETURN(Stmt * md, db_->Prepare("INSERT INTO collection_metadata (collection_id, key, str_value, "
                                                "int_value, float_value, bool_value) VALUES (?, ?, ?, ?, ?, ?)"));
    for (auto kv = c->info.metadata.begin(); kv != c->info.metadata.end(); ++kv) {
      md->Reset();
      md->Bind(1, std::string_view(c->info.id)).Bind(2, std::string_view(kv.key()));
      BindTypedValue(md, 3, kv.value());
      CP_RETURN_IF_ERROR(md->Run().WithContext("insert collection_metadata row"));
    }
  }
  CP_ASSIGN_OR_RETURN(Stmt * seg, db_->Prepare("INSERT INTO segments (id, type, scope, collection) VALUES (?, ?, ?, ?)"));
  seg->Bind(1, std::string_view(c->info.metadata_segment_id)).Bind(2, std::string_view(kMetadataSegmentType));
  seg->Bind(3, std::string_view("METADATA")).Bind(4, std::string_view(c->info.id));
  CP_RETURN_IF_ERROR(seg->Run().WithContext("insert METADATA segment row"));
  seg->Reset();
  seg->Bind(1, std::string_view(c->info.vector_segment_id)).Bind(2, std::string_view(kVectorSegmentType));
  seg->Bind(3, std::string_view("VECTOR")).Bind(4, std::string_view(c->info.id));
  CP_RETURN_IF_ERROR(seg->Run().WithContext("insert VECTOR segment row"));
  CP_RETURN_IF_ERROR(txn->Commit());
  CollectionInfo info = c->info;
  collections_[name] = std::move(c);
  return info;
}

Result<CollectionInfo> StoreImpl::GetCollection(const std::string& name) const {
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(name));
  return c->info;
}

Result<std::vector<CollectionInfo>> StoreImpl::ListCollections() const {
  std::vector<CollectionInfo> out;
  for (const auto& [name, c] : collections_) out.push_back(c->info);
  return out;
}

Result<size_t> StoreImpl::CountCollections() const { return collections_.size(); }

Status StoreImpl::DeleteCollection(const std::string& name) {
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(name));
  CP_RETURN_IF_ERROR(RequireWritable("delete collection"));
  const std::string& meta = c->info.metadata_segment_id;
  const std::string& vec = c->info.vector_segment_id;
  CP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*db_));
  struct Step {
    const char* sql;
    const std::string* arg;
  };
  std::vector<Step> steps = {
      {"DELETE FROM embedding_fulltext_search WHERE rowid IN (SELECT id FROM embeddings WHERE segment_id = ?)", &meta},
      {"DELETE FROM embedding_metadata WHERE id IN (SELECT id FROM embeddings WHERE segment_id = ?)", &meta},
      {"DELETE FROM embeddings WHERE segment_id = ?", &meta},
      {"DELETE FROM max_seq_id WHERE segment_id = ?", &meta},
      {"DELETE FROM max_seq_id WHERE segment_id = ?", &vec},
      {"DELETE FROM segment_metadata WHERE segment_id = ?", &meta},
      {"DELETE FROM segment_metadata WHERE segment_id = ?", &vec},
      {"DELETE FROM segments WHERE collection = ?", &c->info.id},
      {"DELETE FROM collection_metadata WHERE collection_id = ?", &c->info.id},
      {"DELETE FROM collections WHERE id = ?", &c->info.id},
      {"DELETE FROM embeddings_queue WHERE topic = ?", &c->topic},
  };
  if (schema_.has_array_table) {
    steps.insert(steps.begin() + 2, {"DELETE FROM embedding_metadata_array WHERE id IN (SELECT id FROM embeddings "
                                     "WHERE segment_id = ?)",
                                     &meta});
  }
  for (const Step& step : steps) {
    CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare(step.sql));
    st->Bind(1, std::string_view(*step.arg));
    CP_RETURN_IF_ERROR(st->Run().WithContext("delete collection " + name));
  }
  CP_RETURN_IF_ERROR(txn->Commit());
  std::error_code ec;
  fs::remove_all(fs::path(dir_) / vec, ec);
  collections_.erase(name);
  if (ec) return IOError("delete collection " + name + ": remove HNSW folder: " + ec.message());
  return Status::Ok();
}

}  // namespace chromapact::store::internal
