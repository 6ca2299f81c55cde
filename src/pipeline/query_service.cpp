// QueryService: pointer -> snapshot cache -> read-only Store per shard (+ its log tail) -> fan out
// and merge (query_service.h).
#include "chromapact/pipeline/query_service.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "chromapact/codec/manifest.h"
#include "chromapact/pipeline/collection_options.h"
#include "chromapact/pipeline/json_nesting.h"
#include "chromapact/pipeline/snapshot.h"
#include "query_tail.h"

namespace chromapact::pipeline {
namespace {

Result<std::optional<std::vector<std::string>>> ParseIds(const nlohmann::json& request) {
  auto it = request.find("ids");
  if (it == request.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> ids;
  if (it->is_string()) return std::optional<std::vector<std::string>>(std::vector<std::string>{it->get<std::string>()});
  if (!it->is_array()) return InvalidArgument(std::string("ids: expected a list of strings, got ") + it->type_name());
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) return InvalidArgument("ids[" + std::to_string(i) + "]: expected a string");
    ids.push_back((*it)[i].get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(ids));
}

nlohmann::json Member(const nlohmann::json& request, const char* key) {
  auto it = request.find(key);
  return it == request.end() ? nlohmann::json(nullptr) : *it;
}

Result<std::optional<int64_t>> ParseInt(const nlohmann::json& request, const char* key, int64_t min) {
  auto it = request.find(key);
  if (it == request.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return InvalidArgument(std::string(key) + ": expected an integer, got " + it->type_name());
  int64_t v = it->get<int64_t>();
  if (v < min) return InvalidArgument(std::string(key) + ": must be >= " + std::to_string(min) + ", got " + std::to_string(v));
  return std::optional<int64_t>(v);
}

Result<unsigned> ParseIncludeOr(const nlohmann::json& request, unsigned dflt) {
  auto it = request.find("include");
  if (it == request.end() || it->is_null()) return dflt;
  return store::ParseInclude(*it);
}

// True when `key` is present and not null (Chroma: None = not given).
bool Given(const nlohmann::json& request, const char* key) {
  auto it = request.find(key);
  return it != request.end() && !it->is_null();
}

// Chroma's error when a query has both or neither (chromadb/api/models/CollectionCommon.py,
// _validate_and_prepare_query_request); only the first two kinds of query exist here.
constexpr const char* kOneQueryKind =
    "You must provide one of query_embeddings, query_texts, query_images, or query_uris. "
    "(query_embeddings or query_texts here: exactly one of them)";

// "query_texts": a string (one query) or a non-empty list of strings.
Result<std::vector<std::string>> ParseQueryTexts(const nlohmann::json& request) {
  const nlohmann::json& v = request.at("query_texts");
  if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
  if (!v.is_array() || v.empty()) {
    return InvalidArgument(std::string("query_texts: expected a string or a non-empty list of strings, got ") +
                           (v.is_array() ? "an empty list" : v.type_name()));
  }
  std::vector<std::string> texts;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return InvalidArgument("query_texts[" + std::to_string(i) + "]: expected a string, got " + v[i].type_name());
    }
    texts.push_back(v[i].get<std::string>());
  }
  return texts;
}

// q x d row-major; a single flat list of numbers is one query (Chroma accepts both).
Result<std::vector<float>> ParseQueryEmbeddings(const nlohmann::json& request, size_t* q) {
  auto it = request.find("query_embeddings");
  if (it == request.end() || it->is_null()) return InvalidArgument("query_embeddings: missing");
  if (!it->is_array() || it->empty()) return InvalidArgument("query_embeddings: expected a non-empty list");
  nlohmann::json rows = (*it)[0].is_number() ? nlohmann::json::array({*it}) : *it;
  std::vector<float> out;
  size_t dim = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const std::string name = "query_embeddings[" + std::to_string(i) + "]";
    if (!row.is_array() || row.empty()) return InvalidArgument(name + ": expected a non-empty list of numbers");
    if (i == 0) dim = row.size();
    if (row.size() != dim) {
      return InvalidArgument(name + ": expected dimension " + std::to_string(dim) + ", got " + std::to_string(row.size()));
    }
    for (size_t k = 0; k < row.size(); ++k) {
      if (!row[k].is_number()) return InvalidArgument(name + "[" + std::to_string(k) + "]: expected a number");
      out.push_back(static_cast<float>(row[k].get<double>()));
    }
  }
  *q = rows.size();
  return out;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Read-your-writes: per shard, the log position the answer must include (0 = none asked).
// "min_log_positions": the producer's [{"shard", "log_position"}]; "min_log_position": one number
// (a one-shard collection).
bool NonNegativeInt(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

Result<std::vector<uint64_t>> ParseMinPositions(const nlohmann::json& request, int shards) {
  std::vector<uint64_t> want(static_cast<size_t>(std::max(shards, 1)), 0);
  if (auto it = request.find("min_log_position"); it != request.end() && !it->is_null()) {
    if (!NonNegativeInt(*it)) return InvalidArgument("min_log_position: expected an integer >= 0");
    if (shards != 1) {
      return InvalidArgument("min_log_position: the collection has " + std::to_string(shards) +
                             " shards; send min_log_positions [{\"shard\", \"log_position\"}] as the producer answered");
    }
    want[0] = it->get<uint64_t>();
  }
  if (auto it = request.find("min_log_positions"); it != request.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument("min_log_positions: expected a list of {\"shard\", \"log_position\"}");
    for (size_t i = 0; i < it->size(); ++i) {
      const nlohmann::json& e = (*it)[i];
      const std::string at = "min_log_positions[" + std::to_string(i) + "]";
      if (!e.is_object() || !e.contains("shard") || !e.contains("log_position") || !NonNegativeInt(e["shard"]) ||
          !NonNegativeInt(e["log_position"])) {
        return InvalidArgument(at + ": expected {\"shard\": int >= 0, \"log_position\": int >= 0}");
      }
      const uint64_t sh = e["shard"].get<uint64_t>();
      if (sh >= want.size()) {
        return InvalidArgument(at + ".shard: " + std::to_string(sh) + " is not a shard of this collection (" +
                               std::to_string(shards) + " shards)");
      }
      want[sh] = std::max(want[sh], e["log_position"].get<uint64_t>());
    }
  }
  return want;
}

bool IsWriteAction(const std::string& a) { return a == "add" || a == "upsert" || a == "update" || a == "delete"; }

}  // namespace

QueryService::QueryService(ObjectStore* objects, PointerCache* pointers, QueryServiceOptions options)
    : objects_(objects), pointers_(pointers), options_(std::move(options)) {}

QueryService::~QueryService() = default;

Result<store::Store*> QueryService::OpenOnce(const ShardId& shard, uint64_t want, uint64_t* applied) {
  const std::string key = shard.ToString();
  CP_ASSIGN_OR_RETURN(std::optional<Pointer> ptr, pointers_->Get(shard));
  Shard& s = shards_[key];
  *applied = 0;
  if (!ptr.has_value()) {
    if (!options_.read_log_tail) {
      s = Shard{};
      return static_cast<store::Store*>(nullptr);
    }
    // No version yet: the log is read on an empty store made with the collection's configuration.
    if (s.tail == nullptr || !s.manifest_key.empty()) {
      s = Shard{};
      CP_ASSIGN_OR_RETURN(s.tail, EmptyBase(shard));
    }
  } else {
    stats_.versions_max = std::max(stats_.versions_max, ptr->version);
  }
  if (ptr.has_value() && s.tail != nullptr && !s.manifest_key.empty() && s.manifest_key != ptr->manifest_key &&
      TailCovers(&s, ptr->manifest_key)) {
    ++stats_.versions_covered;
  } else if (ptr.has_value() && (s.tail == nullptr || s.manifest_key != ptr->manifest_key)) {
    s = Shard{};  // close before the files change under it
    const std::string dir = options_.cache_dir + "/" + key;
    FetchStats fetched;
    auto manifest = FetchSnapshot(objects_, ptr->manifest_key, dir, &fetched);
    if (!manifest.ok()) {
      pointers_->Invalidate(shard);
      return manifest.status().WithContext("shard " + key + ": fetch snapshot " + ptr->manifest_key);
    }
    ++stats_.snapshots_fetched;
    stats_.bytes_fetched += fetched.bytes_fetched;
    store::OpenOptions open;
    open.read_only = true;
    open.immutable = true;
    open.create_if_missing = false;
    auto st = store::Store::Open(dir, open);
    if (!st.ok()) {
      pointers_->Invalidate(shard);
      return st.status().WithContext("shard " + key + ": open snapshot " + ptr->manifest_key);
    }
    auto tail = std::make_unique<internal::ShardTail>();
    tail->shard = shard;
    tail->version_dir = dir;
    tail->tail_dir = dir + ".tail";
    tail->base_position = manifest->log_position;
    tail->applied = manifest->log_position;
    for (const auto& sk : manifest->skipped) tail->bad[sk.log_position] = sk.reason;
    tail->store = std::move(st).value();
    s.tail = std::move(tail);
    s.manifest_key = ptr->manifest_key;
    s.version = ptr->version;
    s.opened_at_ms = SteadyMs();
  }
  internal::ShardTail& t = *s.tail;
  if (options_.read_log_tail) {
    const int64_t now = SteadyMs();
    if (t.applied < want || t.listed_at_ms < 0 || now - t.listed_at_ms >= options_.tail_ttl_ms) {
      auto n = internal::ReadTail(objects_, &t, options_.max_tail_entries);
      if (!n.ok()) return n.status().WithContext("shard " + key);
      t.listed_at_ms = now;
      stats_.tail_applied += *n;
    }
  }
  *applied = t.applied;
  if (!ptr.has_value() && t.applied == 0) return static_cast<store::Store*>(nullptr);  // nothing written yet
  return t.store.get();
}

bool QueryService::TailCovers(Shard* s, const std::string& manifest_key) {
  if (!options_.read_log_tail || options_.keep_version_ms <= 0) return false;
  const int64_t now = SteadyMs();
  if (now - s->opened_at_ms >= options_.keep_version_ms) return false;
  internal::ShardTail& t = *s->tail;
  if (s->newer_key != manifest_key) {
    auto body = objects_->Get(manifest_key);
    if (!body.ok()) return false;
    auto manifest = codec::DecodeManifest(*body);
    if (!manifest.ok()) return false;
    s->newer_key = manifest_key;
    s->newer_position = manifest->log_position;
  }
  // Only a version that applied more of the log than the one served is the log's continuation; a
  // rollback (behind it) or a version at the same position (not made from the log: an import) is
  // fetched.
  if (s->newer_position <= t.base_position) return false;
  if (t.applied < s->newer_position) {
    auto n = internal::ReadTail(objects_, &t, options_.max_tail_entries);
    if (!n.ok()) return false;
    t.listed_at_ms = now;
    stats_.tail_applied += *n;
  }
  return t.applied >= s->newer_position;
}

Result<std::unique_ptr<internal::ShardTail>> QueryService::EmptyBase(const ShardId& shard) {
  store::CollectionOptions collection;
  if (options_.kv != nullptr) {
    CP_ASSIGN_OR_RETURN(collection, LoadCollectionOptions(options_.kv, shard.collection, collection));
  }
  const std::string dir = options_.cache_dir + "/" + shard.ToString() + ".empty";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove_all(dir + ".tail", ec);
  {
    store::OpenOptions create;
    create.create_if_missing = true;
    auto st = store::Store::Open(dir, create);
    if (!st.ok()) return st.status().WithContext("shard " + shard.ToString() + ": empty base");
    CP_RETURN_IF_ERROR((*st)->CreateCollection(shard.collection, collection, /*get_or_create=*/true).status());
  }
  store::OpenOptions open;
  open.read_only = true;
  open.immutable = true;
  open.create_if_missing = false;
  auto st = store::Store::Open(dir, open);
  if (!st.ok()) return st.status().WithContext("shard " + shard.ToString() + ": empty base");
  auto tail = std::make_unique<internal::ShardTail>();
  tail->shard = shard;
  tail->version_dir = dir;
  tail->tail_dir = dir + ".tail";
  tail->store = std::move(st).value();
  return tail;
}

Result<store::Store*> QueryService::Open(const ShardId& shard, uint64_t want) {
  const int64_t deadline = SteadyMs() + (want > 0 ? options_.min_position_wait_ms : 0);
  for (;;) {
    uint64_t applied = 0;
    CP_ASSIGN_OR_RETURN(store::Store * st, OpenOnce(shard, want, &applied));
    if (applied >= want) return st;
    if (!options_.read_log_tail) {
      return InvalidArgument("min_log_positions: this query function does not read the log (read_log_tail off)");
    }
    if (SteadyMs() >= deadline) {
      return Status(StatusCode::kTimeout,
                    "min_log_positions: shard " + shard.ToString() + " is readable to log position " +
                        std::to_string(applied) + ", not yet " + std::to_string(want) + " (waited " +
                        std::to_string(options_.min_position_wait_ms) + " ms; a hole before it, or no version yet)");
    }
    pointers_->Invalidate(shard);  // a newer version may cover it
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval of a bounded wait
  }
}

Result<nlohmann::json> QueryService::Handle(const nlohmann::json& request) {
  stats_ = QueryStats{};
  if (!request.is_object()) return InvalidArgument(std::string("event: expected a JSON object, got ") + request.type_name());
  CP_RETURN_IF_ERROR(CheckNesting(request, "event"));  // before anything copies it
  std::string action = "query";
  if (auto it = request.find("action"); it != request.end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument("action: expected a string");
    action = it->get<std::string>();
  }
  if (IsWriteAction(action) || request.contains("operation")) {
    return NotSupported("action '" + (IsWriteAction(action) ? action : Member(request, "operation").dump()) +
                        "': the query function is read-only; send writes to the producer");
  }
  if (action != "query" && action != "get" && action != "count") {
    return InvalidArgument("action: expected query, get or count, got '" + action + "'");
  }
  std::string collection = options_.default_collection;
  if (auto it = request.find("collection"); it != request.end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument("collection: expected a string");
    collection = it->get<std::string>();
  }
  if (collection.empty()) return InvalidArgument("collection: missing (and CHROMAPACT_COLLECTION is not set)");
  CP_RETURN_IF_ERROR(ValidateShardId(ShardId{collection, 0}));
  if (options_.shards < 1) return InvalidArgument("shards: must be >= 1");

  // Parse everything before touching a shard.
  CP_ASSIGN_OR_RETURN(auto ids, ParseIds(request));
  const nlohmann::json where = Member(request, "where");
  const nlohmann::json where_document = Member(request, "where_document");
  size_t q = 0;
  std::vector<float> queries;
  unsigned include = 0;
  size_t n_results = 10;
  std::optional<int64_t> limit, offset;
  if (action == "query") {
    const bool texts = Given(request, "query_texts");
    if (texts == Given(request, "query_embeddings")) return InvalidArgument(kOneQueryKind);
    std::vector<std::string> query_texts;
    if (texts) {
      CP_ASSIGN_OR_RETURN(query_texts, ParseQueryTexts(request));
    } else {
      CP_ASSIGN_OR_RETURN(queries, ParseQueryEmbeddings(request, &q));
    }
    CP_ASSIGN_OR_RETURN(auto n, ParseInt(request, "n_results", 1));
    if (n) n_results = static_cast<size_t>(*n);
    CP_ASSIGN_OR_RETURN(include, ParseIncludeOr(request, store::kDefaultQueryInclude));
    if (texts) {  // the remote call last, once the request is known to be well-formed
      embed::EmbeddingFunction* ef = options_.embedding_function;
      if (ef == nullptr) return embed::NotConfigured("query_texts", "query_embeddings");
      auto embedded = ef->Embed(query_texts);
      if (!embedded.ok()) return embedded.status().WithContext("query_texts: embed with " + ef->name());
      if (embedded->size() != query_texts.size() * ef->dimension()) {
        return Internal("query_texts: the embedding function returned " + std::to_string(embedded->size()) +
                        " floats for " + std::to_string(query_texts.size()) + " texts of dimension " +
                        std::to_string(ef->dimension()));
      }
      queries = std::move(embedded).value();
      q = query_texts.size();
    }
  } else if (action == "get") {
    CP_ASSIGN_OR_RETURN(limit, ParseInt(request, "limit", 0));
    CP_ASSIGN_OR_RETURN(offset, ParseInt(request, "offset", 0));
    CP_ASSIGN_OR_RETURN(include, ParseIncludeOr(request, store::kDefaultGetInclude));
    include &= ~static_cast<unsigned>(store::kIncludeDistances);
  }

  CP_ASSIGN_OR_RETURN(std::vector<uint64_t> want, ParseMinPositions(request, options_.shards));
  std::vector<store::Store*> stores;
  for (int i = 0; i < options_.shards; ++i) {
    const ShardId shard{collection, i};
    CP_ASSIGN_OR_RETURN(store::Store * st, Open(shard, want[static_cast<size_t>(i)]));
    if (st != nullptr) stores.push_back(st);
  }
  if (stores.empty()) return NotFound("collection '" + collection + "': no snapshot committed yet");

  if (action == "count") {
    size_t total = 0;
    for (store::Store* st : stores) {
      CP_ASSIGN_OR_RETURN(size_t n, st->Count(collection));
      total += n;
    }
    return nlohmann::json{{"count", total}};
  }

  if (action == "get") {
    store::GetRequest g;
    g.ids = ids;
    g.where = where;
    g.where_document = where_document;
    g.include = include;
    // limit + offset, saturated (both are int64 >= 0: their sum may not fit).
    if (limit) g.limit = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(*limit) + static_cast<uint64_t>(offset.value_or(0)),
                                                                std::numeric_limits<size_t>::max()));
    store::GetResult all;
    all.include = include;
    if (include & store::kIncludeEmbeddings) all.embeddings.emplace();
    if (include & store::kIncludeDocuments) all.documents.emplace();
    if (include & store::kIncludeMetadatas) all.metadatas.emplace();
    for (store::Store* st : stores) {
      CP_ASSIGN_OR_RETURN(store::GetResult r, st->Get(collection, g));
      for (size_t i = 0; i < r.ids.size(); ++i) {
        all.ids.push_back(std::move(r.ids[i]));
        if (all.embeddings) all.embeddings->push_back(std::move((*r.embeddings)[i]));
        if (all.documents) all.documents->push_back(std::move((*r.documents)[i]));
        if (all.metadatas) all.metadatas->push_back(std::move((*r.metadatas)[i]));
      }
    }
    const size_t from = std::min(all.ids.size(), static_cast<size_t>(offset.value_or(0)));
    const size_t to = limit ? std::min(all.ids.size(), from + static_cast<size_t>(*limit)) : all.ids.size();
    auto slice = [&](auto& v) { v = std::remove_reference_t<decltype(v)>(v.begin() + from, v.begin() + to); };
    slice(all.ids);
    if (all.embeddings) slice(*all.embeddings);
    if (all.documents) slice(*all.documents);
    if (all.metadatas) slice(*all.metadatas);
    return store::ToJson(all);
  }

  // Chroma checks the query's dimension against the collection's (its message); without this, a
  // query twice the collection's dimension would pass the Store as two queries.
  const size_t d = queries.size() / q;
  std::vector<store::Store*> searched;  // shards still empty (no dimension yet) have nothing to find
  for (store::Store* st : stores) {
    CP_ASSIGN_OR_RETURN(store::CollectionInfo info, st->GetCollection(collection));
    if (!info.dimension) continue;
    searched.push_back(st);
    if (*info.dimension != d) {
      return InvalidArgument(std::string(Given(request, "query_texts") ? "query_texts (embedded)" : "query_embeddings") +
                             ": Collection expecting embedding with dimension of " + std::to_string(*info.dimension) +
                             ", got " + std::to_string(d));
    }
  }
  store::QueryRequest qr;
  qr.query_embeddings = queries;
  qr.n_results = n_results;
  qr.ids = ids;
  qr.where = where;
  qr.where_document = where_document;
  qr.include = include | store::kIncludeDistances;
  std::vector<store::QueryResult> parts;
  for (store::Store* st : searched) {
    CP_ASSIGN_OR_RETURN(store::QueryResult r, st->Query(collection, qr));
    if (r.ids.size() != q || !r.distances || r.distances->size() != q) {
      return Internal("query: a shard answered " + std::to_string(r.ids.size()) + " result lists for " +
                      std::to_string(q) + " queries");
    }
    parts.push_back(std::move(r));
  }
  store::QueryResult out;
  out.include = include;
  out.ids.resize(q);
  if (include & store::kIncludeEmbeddings) out.embeddings.emplace(q);
  if (include & store::kIncludeDocuments) out.documents.emplace(q);
  if (include & store::kIncludeMetadatas) out.metadatas.emplace(q);
  if (include & store::kIncludeDistances) out.distances.emplace(q);
  for (size_t qi = 0; qi < q; ++qi) {
    std::vector<std::tuple<float, size_t, size_t>> cand;  // distance, part, position
    for (size_t p = 0; p < parts.size(); ++p) {
      const auto& d = (*parts[p].distances)[qi];
      for (size_t j = 0; j < d.size(); ++j) cand.emplace_back(d[j], p, j);
    }
    std::stable_sort(cand.begin(), cand.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    if (cand.size() > n_results) cand.resize(n_results);
    for (const auto& [dist, p, j] : cand) {
      store::QueryResult& r = parts[p];
      out.ids[qi].push_back(r.ids[qi][j]);
      if (out.embeddings) (*out.embeddings)[qi].push_back((*r.embeddings)[qi][j]);
      if (out.documents) (*out.documents)[qi].push_back((*r.documents)[qi][j]);
      if (out.metadatas) (*out.metadatas)[qi].push_back((*r.metadatas)[qi][j]);
      if (out.distances) (*out.distances)[qi].push_back(dist);
    }
  }
  return store::ToJson(out);
}

}  // namespace chromapact::pipeline
