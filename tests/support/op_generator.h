// Random writes for the model tests (fault/pipeline/randomized_compaction_test, compat/pipeline): every
// operation kind Chroma has, over a small id space so that writes overlap: add (also of existing
// ids, and re-add after a delete), upsert, update with metadata only / document only / embedding
// only / all of them (sometimes deleting metadata keys with null), delete. Header-only.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {

// Op #`seed` (seeds must be distinct per write: contents derive from them) over ids "id0".."id<n-1>".
inline Op RandomOp(std::mt19937_64& rng, int id_space, int seed) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Op op;
  op.seed = seed;
  const int kind = pick(100);
  if (kind < 20) {
    op.op = codec::DeltaOp::kAdd;
  } else if (kind < 45) {
    op.op = codec::DeltaOp::kUpsert;
  } else if (kind < 80) {
    op.op = codec::DeltaOp::kUpdate;
  } else {
    op.op = codec::DeltaOp::kDelete;
  }
  std::vector<int> ids(static_cast<size_t>(id_space));
  for (int i = 0; i < id_space; ++i) ids[static_cast<size_t>(i)] = i;
  std::shuffle(ids.begin(), ids.end(), rng);
  const int n = 1 + pick(4);
  for (int i = 0; i < n && i < id_space; ++i) op.ids.push_back("id" + std::to_string(ids[static_cast<size_t>(i)]));
  if (op.op == codec::DeltaOp::kUpdate) {
    switch (pick(4)) {
      case 0: op.embedding = false, op.document = false; break;  // metadata only
      case 1: op.embedding = false, op.metadata = false; break;  // document only
      case 2: op.document = false, op.metadata = false; break;   // embedding only
      default: break;                                             // everything
    }
  } else if (op.op != codec::DeltaOp::kDelete) {
    op.document = pick(5) != 0;  // sometimes no document
    op.metadata = pick(5) != 0;  // sometimes no metadata
  }
  if (op.metadata && op.op != codec::DeltaOp::kAdd && pick(3) == 0) {
    op.null_keys.push_back("m" + std::to_string(pick(4)));  // delete a key an earlier write may have set
  }
  return op;
}

}  // namespace chromapact::pipeline::fixture
