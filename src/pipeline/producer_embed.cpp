// EmbedDocuments: documents of records sent without an embedding -> the embedding function ->
// records' embeddings (producer.h).
#include <string>
#include <vector>

#include "chromapact/pipeline/producer.h"

namespace chromapact::pipeline {
namespace {

std::string RecordName(const codec::DeltaRecords& r, size_t i) {
  std::string id = r.ids[i];
  if (id.size() > 100) id = id.substr(0, 100) + "...";
  return "ids[" + std::to_string(i) + "] ('" + id + "')";
}

}  // namespace

Status EmbedDocuments(embed::EmbeddingFunction* ef, codec::DeltaOp op, codec::DeltaRecords* records) {
  if (op == codec::DeltaOp::kDelete) return Status::Ok();
  codec::DeltaRecords& r = *records;
  const size_t n = r.size();
  const bool every_record = op == codec::DeltaOp::kAdd || op == codec::DeltaOp::kUpsert;
  std::vector<uint8_t> given(n, 0);
  std::vector<size_t> rows;
  for (size_t i = 0; i < n; ++i) {
    if (r.HasEmbedding(i)) {
      given[i] = 1;
      continue;
    }
    const bool has_document = !r.documents.empty() && r.documents[i].has_value();
    if (has_document) {
      if (every_record || ef != nullptr) rows.push_back(i);
    } else if (every_record) {
      return InvalidArgument(RecordName(r, i) + ": " + codec::DeltaOpName(op) +
                             " needs an embedding or a document to embed; the record has neither");
    }
  }
  if (rows.empty()) return Status::Ok();
  if (ef == nullptr) return embed::NotConfigured("documents", "embeddings");

  const size_t dim = ef->dimension();
  if (!r.embeddings.empty() && n > 0 && r.embeddings.size() != n * dim) {
    size_t first = 0;
    while (first < n && !given[first]) ++first;
    return InvalidArgument("embeddings[" + std::to_string(first) + "]: dimension " +
                           std::to_string(r.embeddings.size() / n) + ", but the embedding function (" + ef->name() +
                           ") gives dimension " + std::to_string(dim) +
                           " to the documents sent without an embedding");
  }
  std::vector<std::string> texts;
  texts.reserve(rows.size());
  for (size_t i : rows) texts.push_back(*r.documents[i]);
  auto embedded = ef->Embed(texts);
  if (!embedded.ok()) return embedded.status().WithContext("documents: embed with " + ef->name());
  if (embedded->size() != rows.size() * dim) {
    return Internal("documents: the embedding function returned " + std::to_string(embedded->size()) +
                    " floats for " + std::to_string(rows.size()) + " texts of dimension " + std::to_string(dim));
  }
  if (r.embeddings.empty()) r.embeddings.assign(n * dim, 0.0f);
  for (size_t k = 0; k < rows.size(); ++k) {
    const size_t i = rows[k];
    std::copy(embedded->begin() + static_cast<std::ptrdiff_t>(k * dim),
              embedded->begin() + static_cast<std::ptrdiff_t>((k + 1) * dim),
              r.embeddings.begin() + static_cast<std::ptrdiff_t>(i * dim));
    given[i] = 1;
  }
  bool all = true;
  for (uint8_t g : given) all = all && g != 0;
  if (all) {
    r.embedding_given.clear();
  } else {
    r.embedding_given = std::move(given);
  }
  return Status::Ok();
}

}  // namespace chromapact::pipeline
