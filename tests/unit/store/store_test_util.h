// Helpers shared by the Store unit tests: open a fresh store, make random batches, read SQLite rows.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "chromapact/store/store.h"
#include "support/paths.h"

namespace chromapact::store::testutil {

inline std::unique_ptr<Store> OpenOrDie(const std::string& dir, const OpenOptions& options = {}) {
  auto s = Store::Open(dir, options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

inline std::vector<float> RandomVectors(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> out(n * dim);
  for (float& f : out) f = u(rng);
  return out;
}

// n records "id<first+i>", random vectors, document "doc <i>", metadata {"i": i, "even": bool, "s": "s<i>"}.
inline RecordBatch MakeBatch(size_t first, size_t n, size_t dim, uint32_t seed) {
  RecordBatch b;
  b.embeddings = RandomVectors(n, dim, seed);
  for (size_t i = first; i < first + n; ++i) {
    b.ids.push_back("id" + std::to_string(i));
    b.documents.push_back("doc " + std::to_string(i));
    b.metadatas.push_back({{"i", static_cast<int64_t>(i)}, {"even", i % 2 == 0}, {"s", "s" + std::to_string(i)}});
  }
  return b;
}

// Rows of `sql` over the persist dir's chroma.sqlite3 (opened read-only), each as "|"-joined text.
inline std::vector<std::string> Rows(const std::string& dir, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  const std::string path = dir + "/" + kSqliteFileName;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "open " << path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        if (i) row += "|";
        const unsigned char* t = sqlite3_column_text(st, i);
        row += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
      out.push_back(row);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace chromapact::store::testutil
