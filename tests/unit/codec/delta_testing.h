// Builders of small deltas for the codec tests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chromapact/codec/delta.h"

namespace chromapact::codec::testing {

inline constexpr const char* kTestUlid = "01JDZQ8K3M4N5P6Q7R8S9T0VWX";

// n records of dimension dim with embeddings (value i*1000 + j + 0.25), documents "doc i" and
// metadatas {"i": i, "name": "r<i>", "even": bool, "score": i/2.0}.
inline Delta MakeDelta(DeltaOp op, size_t n, uint32_t dim, bool docs = true, bool metas = true) {
  Delta d;
  d.meta.op = op;
  d.meta.collection = "docs";
  d.meta.shard = 3;
  d.meta.dimension = dim;
  d.meta.producer_id = "producer-test";
  d.meta.delta_id = kTestUlid;
  d.meta.created_at_ms = 1764585600123;
  for (size_t i = 0; i < n; ++i) {
    d.records.ids.push_back("id-" + std::to_string(i));
    for (uint32_t j = 0; j < dim; ++j)
      d.records.embeddings.push_back(static_cast<float>(i * 1000 + j) + 0.25f);
    if (docs) d.records.documents.emplace_back("doc " + std::to_string(i));
    if (metas) {
      d.records.metadatas.push_back(nlohmann::json{{"i", static_cast<int64_t>(i)},
                                                   {"name", "r" + std::to_string(i)},
                                                   {"even", i % 2 == 0},
                                                   {"score", static_cast<double>(i) / 2.0}});
    }
  }
  if (dim == 0) d.records.embeddings.clear();
  return d;
}

inline void ExpectSameDelta(const Delta& a, const Delta& b) {
  EXPECT_EQ(a.meta.op, b.meta.op);
  EXPECT_EQ(a.meta.collection, b.meta.collection);
  EXPECT_EQ(a.meta.shard, b.meta.shard);
  EXPECT_EQ(a.meta.dimension, b.meta.dimension);
  EXPECT_EQ(a.meta.producer_id, b.meta.producer_id);
  EXPECT_EQ(a.meta.delta_id, b.meta.delta_id);
  EXPECT_EQ(a.meta.created_at_ms, b.meta.created_at_ms);
  EXPECT_EQ(a.records.ids, b.records.ids);
  EXPECT_EQ(a.records.embeddings, b.records.embeddings);
  EXPECT_EQ(a.records.embedding_given, b.records.embedding_given);
  EXPECT_EQ(a.records.documents, b.records.documents);
  EXPECT_EQ(a.records.metadatas, b.records.metadatas);
}

}  // namespace chromapact::codec::testing
