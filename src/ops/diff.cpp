#include "chromapact/ops/diff.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "source_dir.h"

namespace chromapact::ops {
namespace {

struct Rec {
  std::vector<float> embedding;
  std::optional<std::string> document;
  nlohmann::json metadata;
};
using Records = std::map<std::string, Rec>;

Status Collect(const store::Store& st, const std::string& collection, Records* out) {
  return ForEachRecordPage(st, collection, 1000, [&](const store::GetResult& page) {
    for (size_t i = 0; i < page.ids.size(); ++i) {
      (*out)[page.ids[i]] = Rec{(*page.embeddings)[i], (*page.documents)[i], (*page.metadatas)[i]};
    }
    return Status::Ok();
  });
}

void Note(std::vector<std::string>* ids, const std::string& id, size_t max) {
  if (ids->size() < max) ids->push_back(id);
}

// Top-k ids of `embedding` over every store of one side, merged by distance.
Result<std::vector<std::string>> TopK(const std::vector<const store::Store*>& stores, const std::string& collection,
                                      const std::vector<float>& embedding, size_t k) {
  std::vector<std::pair<float, std::string>> all;
  for (const store::Store* st : stores) {
    store::QueryRequest q;
    q.query_embeddings = embedding;
    q.n_results = k;
    q.include = store::kIncludeDistances;
    CP_ASSIGN_OR_RETURN(store::QueryResult r, st->Query(collection, q));
    for (size_t i = 0; i < r.ids[0].size(); ++i) all.emplace_back((*r.distances)[0][i], r.ids[0][i]);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> ids;
  for (size_t i = 0; i < all.size() && i < k; ++i) ids.push_back(all[i].second);
  return ids;
}

}  // namespace

Result<DiffResult> DiffCollection(pipeline::ObjectStore* objects, pipeline::KvStore* kv,
                                  const pipeline::Clock* clock, const std::string& persist_dir,
                                  const DiffOptions& o) {
  DiffResult r;
  CP_ASSIGN_OR_RETURN(auto committed,
                      FetchCommittedShards(objects, kv, clock, o.collection, o.shards, o.work_dir + "/collection"));
  CP_ASSIGN_OR_RETURN(auto src, OpenSourceCopy(persist_dir, o.work_dir + "/directory"));
  CP_ASSIGN_OR_RETURN(store::CollectionInfo info, PickCollection(*src, o.source_collection, o.collection));

  Records ours, theirs;
  std::vector<const store::Store*> our_stores;
  for (auto& c : committed) {
    CP_RETURN_IF_ERROR(Collect(*c.store, o.collection, &ours));
    our_stores.push_back(c.store.get());
    r.log_positions.push_back(c.manifest.log_position);
  }
  CP_RETURN_IF_ERROR(Collect(*src, info.name, &theirs));
  r.collection_records = ours.size();
  r.directory_records = theirs.size();

  for (const auto& [id, a] : ours) {
    auto it = theirs.find(id);
    if (it == theirs.end()) {
      ++r.only_in_collection;
      Note(&r.only_in_collection_ids, id, o.max_listed);
      continue;
    }
    const Rec& b = it->second;
    bool differ = false;
    if (a.document != b.document) ++r.documents_differ, differ = true;
    if (a.metadata != b.metadata) ++r.metadatas_differ, differ = true;
    bool emb_equal = a.embedding.size() == b.embedding.size();
    for (size_t k = 0; emb_equal && k < a.embedding.size(); ++k) {
      emb_equal = std::fabs(a.embedding[k] - b.embedding[k]) <= o.tolerance;
    }
    if (!emb_equal) ++r.embeddings_differ, differ = true;
    if (differ) Note(&r.differing_ids, id, o.max_listed);
  }
  for (const auto& [id, b] : theirs) {
    if (ours.count(id) == 0) {
      ++r.only_in_directory;
      Note(&r.only_in_directory_ids, id, o.max_listed);
    }
  }

  // The same queries of both: the embeddings of evenly spaced ids of the directory.
  if (o.queries > 0 && !theirs.empty()) {
    std::vector<const Rec*> picks;
    const size_t step = std::max<size_t>(1, theirs.size() / o.queries);
    size_t i = 0;
    for (auto it = theirs.begin(); it != theirs.end() && picks.size() < o.queries; ++it, ++i) {
      if (i % step == 0) picks.push_back(&it->second);
    }
    double overlap = 0;
    for (const Rec* p : picks) {
      CP_ASSIGN_OR_RETURN(auto a, TopK(our_stores, o.collection, p->embedding, o.n_results));
      CP_ASSIGN_OR_RETURN(auto b, TopK({src.get()}, info.name, p->embedding, o.n_results));
      if (a == b) ++r.queries_identical;
      std::set<std::string> sa(a.begin(), a.end());
      size_t common = 0;
      for (const auto& id : b) common += sa.count(id);
      const size_t denom = std::max(a.size(), b.size());
      overlap += denom == 0 ? 1.0 : static_cast<double>(common) / static_cast<double>(denom);
      ++r.queries;
    }
    r.mean_overlap = r.queries == 0 ? 1.0 : overlap / static_cast<double>(r.queries);
  }
  return r;
}

nlohmann::json ToJson(const DiffResult& d) {
  return {{"records", {{"collection", d.collection_records}, {"directory", d.directory_records}}},
          {"only_in_collection", {{"count", d.only_in_collection}, {"ids", d.only_in_collection_ids}}},
          {"only_in_directory", {{"count", d.only_in_directory}, {"ids", d.only_in_directory_ids}}},
          {"differ",
           {{"documents", d.documents_differ},
            {"metadatas", d.metadatas_differ},
            {"embeddings", d.embeddings_differ},
            {"ids", d.differing_ids}}},
          {"queries", {{"asked", d.queries}, {"identical", d.queries_identical}, {"mean_overlap", d.mean_overlap}}},
          {"log_positions", d.log_positions},
          {"equal", d.records_equal()}};
}

}  // namespace chromapact::ops
