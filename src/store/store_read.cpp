// Reads: count, get (ids / where / where_document, limit/offset, include) and filtered k-NN that returns
// the top-k among matching records: the matches resolved through SQLite into an allow-list of HNSW slots
// (cached per collection for repeated filters, filter_search.h), then exact search over them when they
// are few (SIMD kernel, BruteForceLimit), else HNSW with the allow-list and an exact fallback when HNSW
// returns too few.
#include <algorithm>

#include "store/metadata_segment.h"
#include "store/record_batch.h"
#include "store/store_impl.h"

namespace chromapact::store::internal {
namespace {

void BindParams(Stmt* st, int first, const std::vector<SqlParam>& params) {
  int i = first;
  for (const SqlParam& p : params) {
    if (const auto* iv = std::get_if<int64_t>(&p)) {
      st->Bind(i, *iv);
    } else if (const auto* dv = std::get_if<double>(&p)) {
      st->Bind(i, *dv);
    } else {
      st->Bind(i, std::string_view(std::get<std::string>(p)));
    }
    ++i;
  }
}

bool HasFilter(const nlohmann::json& f) { return f.is_object() && !f.empty(); }

struct Scored {
  float distance;
  size_t order;  // tie-break: scan order
  std::string id;
};

// The k smallest by (distance, order).
std::vector<Neighbor> TopK(std::vector<Scored> all, size_t k) {
  auto less = [](const Scored& a, const Scored& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.order < b.order);
  };
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), less);
  std::vector<Neighbor> out(k);
  for (size_t i = 0; i < k; ++i) out[i] = Neighbor{std::move(all[i].id), all[i].distance};
  return out;
}

}  // namespace

Result<std::vector<std::pair<int64_t, std::string>>> StoreImpl::Match(
    const CollectionState& c, const std::optional<std::vector<std::string>>& ids, const nlohmann::json& where,
    const nlohmann::json& where_document, std::optional<size_t> limit, size_t offset) const {
  SqlFilter filter;
  if (HasFilter(where)) {
    CP_ASSIGN_OR_RETURN(filter, CompileWhere(where));
  }
  if (HasFilter(where_document)) {
    CP_ASSIGN_OR_RETURN(SqlFilter doc, CompileWhereDocument(where_document));
    filter = And(std::move(filter), std::move(doc));
  }
  // With a where / where_document filter and no id list, the filter's `e.id IN (subquery)` terms should
  // drive the scan (rowid lookups of the matching rows, found through the metadata indexes); a bare
  // `e.segment_id = ?` makes SQLite scan every record of the segment and probe the subquery instead
  // (there are no statistics to tell it better): 10 ms instead of 1.4 ms for 1% of 100k. The unary +
  // keeps the condition but takes it out of index selection. An id list keeps the (segment_id,
  // embedding_id) index, which is the best driver for it.
  const bool drive_by_filter = !ids && filter.sql != "1";
  std::string sql = std::string("SELECT e.id, e.embedding_id FROM embeddings e WHERE ") +
                    (drive_by_filter ? "+e.segment_id = ?" : "e.segment_id = ?") + " AND (" + filter.sql + ")";
  if (ids) sql += " AND e.embedding_id IN (SELECT value FROM json_each(?))";
  sql += " ORDER BY e.id";
  if (limit || offset) sql += " LIMIT ? OFFSET ?";
  // Filter SQL varies with the filter's shape: not kept in the statement cache.
  CP_ASSIGN_OR_RETURN(auto owned, db_->PrepareOnce(sql));
  Stmt* st = owned.get();
  int i = 1;
  st->Bind(i++, std::string_view(c.info.metadata_segment_id));
  BindParams(st, i, filter.params);
  i += static_cast<int>(filter.params.size());
  if (ids) st->Bind(i++, std::string_view(nlohmann::json(*ids).dump()));
  if (limit || offset) {
    st->Bind(i++, limit ? static_cast<int64_t>(*limit) : int64_t{-1});
    st->Bind(i++, static_cast<int64_t>(offset));
  }
  std::vector<std::pair<int64_t, std::string>> out;
  while (true) {
    auto row = st->Step();
    if (!row.ok()) {
      // A failing REGEXP (bad pattern) is the caller's filter.
      if (row.status().message().find("regex") != std::string::npos) {
        return InvalidArgument("where_document: " + row.status().message());
      }
      return row.status();
    }
    if (!*row) break;
    out.emplace_back(st->Int(0), st->Text(1));
  }
  return out;
}

Status StoreImpl::ReadColumns(const CollectionState& c, int64_t offset_id, const std::string& id, unsigned include,
                              std::vector<float>* embedding, std::optional<std::string>* document,
                              nlohmann::json* metadata) const {
  if (include & kIncludeEmbeddings) {
    if (!c.vectors) return Corruption("record '" + id + "': the collection has no vectors");
    auto v = c.vectors->Get(id);
    if (!v.ok()) return Corruption("record '" + id + "' is in the metadata segment but not in the vector segment");
    *embedding = std::move(*v);
  }
  if (include & (kIncludeDocuments | kIncludeMetadatas)) {
    CP_RETURN_IF_ERROR(ReadRecordMetadata(*db_, offset_id, schema_.has_array_table, metadata, document));
  }
  return Status::Ok();
}

Result<size_t> StoreImpl::Count(const std::string& collection) const {
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(collection));
  CP_ASSIGN_OR_RETURN(Stmt * st, db_->Prepare("SELECT count(*) FROM embeddings WHERE segment_id = ?"));
  st->Bind(1, std::string_view(c->info.metadata_segment_id));
  CP_ASSIGN_OR_RETURN(bool row, st->Step());
  size_t n = row ? static_cast<size_t>(st->Int(0)) : 0;
  st->Reset();
  return n;
}

Result<GetResult> StoreImpl::Get(const std::string& collection, const GetRequest& request) const {
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(collection));
  if (request.include & kIncludeDistances) return InvalidArgument("include: 'distances' is only valid for query");
  if ((request.include & kIncludeEmbeddings) && c->vectors_deferred) {
    return NotSupported("get: embeddings of " + collection + " are not loaded (opened with defer_vectors)");
  }
  CP_ASSIGN_OR_RETURN(auto matched, Match(*c, request.ids, request.where, request.where_document, request.limit,
                                          request.offset));
  GetResult out;
  out.include = request.include;
  if (request.include & kIncludeEmbeddings) out.embeddings.emplace();
  if (request.include & kIncludeDocuments) out.documents.emplace();
  if (request.include & kIncludeMetadatas) out.metadatas.emplace();
  for (auto& [oid, id] : matched) {
    std::vector<float> emb;
    std::optional<std::string> doc;
    nlohmann::json md;
    CP_RETURN_IF_ERROR(ReadColumns(*c, oid, id, request.include, &emb, &doc, &md));
    if (out.embeddings) out.embeddings->push_back(std::move(emb));
    if (out.documents) out.documents->push_back(std::move(doc));
    if (out.metadatas) out.metadatas->push_back(std::move(md));
    out.ids.push_back(std::move(id));
  }
  return out;
}

Result<std::shared_ptr<const AllowList>> StoreImpl::Allowed(const CollectionState& c,
                                                              const QueryRequest& request) const {
  const HnswSegment& seg = *c.vectors;
  const CollectionStamp stamp{&seg, c.applied_seq, seg.total_elements_added(), seg.size(), seg.record_count()};
  // The key is the filters' JSON text; a string that is not UTF-8 cannot be dumped, and such a filter
  // is resolved without the cache.
  std::optional<std::string> key;
  try {
    key = FilterKey(HasFilter(request.where) ? request.where.dump() : "null",
                    HasFilter(request.where_document) ? request.where_document.dump() : "null", request.ids);
  } catch (const nlohmann::json::exception&) {
    key.reset();
  }
  if (!c.filter_cache) c.filter_cache = std::make_shared<FilterCache>();
  if (key) {
    if (auto hit = c.filter_cache->Find(stamp, *key)) return hit;
  }
  CP_ASSIGN_OR_RETURN(auto matched, Match(c, request.ids, request.where, request.where_document, std::nullopt, 0));
  std::vector<uint32_t> slots;
  slots.reserve(matched.size());
  for (const auto& m : matched) {
    std::optional<uint32_t> slot = seg.Slot(m.second);
    if (!slot) return Corruption("record '" + m.second + "' has no vector in the vector segment");
    slots.push_back(*slot);
  }
  auto list = MakeAllowList(std::move(slots), seg.record_count());
  if (key) c.filter_cache->Put(stamp, std::move(*key), list);
  return list;
}

Result<QueryResult> StoreImpl::Query(const std::string& collection, const QueryRequest& request) const {
  CP_ASSIGN_OR_RETURN(CollectionState * c, Find(collection));
  if (c->vectors_deferred) return NotSupported("query: the index of " + collection + " is not loaded (opened with defer_vectors)");
  if (request.n_results == 0) return InvalidArgument("n_results: must be >= 1");
  if (request.query_embeddings.empty()) return InvalidArgument("query_embeddings: at least one query is required");
  QueryResult out;
  out.include = request.include;
  const size_t dim = c->vectors ? c->vectors->dim() : request.query_embeddings.size();
  if (request.query_embeddings.size() % dim != 0) {
    return InvalidArgument("query_embeddings: " + std::to_string(request.query_embeddings.size()) +
                           " values is not a multiple of the collection dimension " + std::to_string(dim));
  }
  CP_RETURN_IF_ERROR(ValidateFinite(request.query_embeddings, dim, "query_embeddings: query"));
  const size_t q = request.query_embeddings.size() / dim;
  const size_t k = request.n_results;
  const bool filtered = request.ids || HasFilter(request.where) || HasFilter(request.where_document);

  // Filtered: the matching records as HNSW slots, then per query exact search over them when they are
  // few (BruteForceLimit), else HNSW with them as the allow-list.
  std::shared_ptr<const AllowList> allowed;
  if (filtered && c->vectors) {
    CP_ASSIGN_OR_RETURN(allowed, Allowed(*c, request));
  } else if (filtered) {
    // No vectors, nothing to find; the filter is still checked.
    CP_RETURN_IF_ERROR(Match(*c, request.ids, request.where, request.where_document, std::nullopt, 0).status());
  }
  auto brute_all = [&](const float* query) {
    std::vector<Scored> all;
    all.reserve(c->vectors->size());
    size_t i = 0;
    c->vectors->ForEach([&](const std::string& id, const float* v) {
      all.push_back({Distance(c->info.hnsw.space, query, v, dim), i++, id});
    });
    return TopK(std::move(all), k);
  };

  if (request.include & kIncludeEmbeddings) out.embeddings.emplace();
  if (request.include & kIncludeDocuments) out.documents.emplace();
  if (request.include & kIncludeMetadatas) out.metadatas.emplace();
  if (request.include & kIncludeDistances) out.distances.emplace();
  for (size_t qi = 0; qi < q; ++qi) {
    const float* query = request.query_embeddings.data() + qi * dim;
    std::vector<Neighbor> hits;
    if (!c->vectors) {
      // no records were ever written: nothing to find
    } else if (filtered) {
      const std::vector<uint32_t>& slots = allowed->slots;
      if (slots.size() <= BruteForceLimit(k, c->vectors->size())) {
        hits = c->vectors->ExactAmong(query, k, slots.data(), slots.size());
      } else {
        hits = c->vectors->SearchAllowed(query, k, allowed->bits.data());
        if (hits.size() < std::min(k, slots.size())) hits = c->vectors->ExactAmong(query, k, slots.data(), slots.size());
      }
    } else {
      const size_t total = c->vectors->size();
      if (total <= kBruteForceThreshold) {
        hits = brute_all(query);
      } else {
        hits = c->vectors->Search(query, k, nullptr);
        if (hits.size() < std::min(k, total)) hits = brute_all(query);
      }
    }
    std::vector<std::string> ids;
    std::vector<std::vector<float>> embs;
    std::vector<std::optional<std::string>> docs;
    std::vector<nlohmann::json> mds;
    std::vector<float> dists;
    for (Neighbor& n : hits) {
      int64_t oid = 0;
      if (request.include & (kIncludeDocuments | kIncludeMetadatas)) {
        CP_ASSIGN_OR_RETURN(auto found, OffsetIdOf(*db_, c->info.metadata_segment_id, n.id));
        if (!found) return Corruption("record '" + n.id + "' is in the vector segment but not in the metadata segment");
        oid = *found;
      }
      std::vector<float> emb;
      std::optional<std::string> doc;
      nlohmann::json md;
      CP_RETURN_IF_ERROR(ReadColumns(*c, oid, n.id, request.include, &emb, &doc, &md));
      embs.push_back(std::move(emb));
      docs.push_back(std::move(doc));
      mds.push_back(std::move(md));
      dists.push_back(n.distance);
      ids.push_back(std::move(n.id));
    }
    out.ids.push_back(std::move(ids));
    if (out.embeddings) out.embeddings->push_back(std::move(embs));
    if (out.documents) out.documents->push_back(std::move(docs));
    if (out.metadatas) out.metadatas->push_back(std::move(mds));
    if (out.distances) out.distances->push_back(std::move(dists));
  }
  return out;
}

}  // namespace chromapact::store::internal
