// Randomised differential test: random records (every metadata type, arrays, missing keys, missing
// and empty documents) and random valid `where` / `where_document` trees; the ids the compiled SQL
// selects must equal the in-memory reference evaluator's (filter_fixture.h). Fixed seeds.
#include <random>

#include <gtest/gtest.h>

#include "filter_fixture.h"

namespace chromapact::store::testing {
namespace {

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Coin(int percent = 50) { return Int(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }

  json Scalar(int kind) {
    switch (kind) {
      case 0: return Int(-3, 3);
      case 1: return Pick(std::vector<double>{-2.5, -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.7});
      case 2: return Pick(std::vector<std::string>{"", "a", "b", "B", "ab", "apple", "1"});
      default: return Coin();
    }
  }
  json AnyScalar() { return Scalar(Int(0, 3)); }
  json Number() { return Scalar(Int(0, 1)); }

  Rec Record(int n) {
    Rec r{"r" + std::to_string(100 + n), json::object(), std::nullopt};
    if (Coin(80)) r.metadata["i"] = Scalar(0);
    if (Coin(80)) r.metadata["f"] = Scalar(1);
    if (Coin(80)) r.metadata["s"] = Scalar(2);
    if (Coin(70)) r.metadata["b"] = Scalar(3);
    if (Coin(85)) r.metadata["m"] = AnyScalar();  // a different type per record
    if (Coin(60)) {
      int kind = Int(0, 3);
      json arr = json::array();
      for (int k = Int(1, 3); k > 0; --k) arr.push_back(Scalar(kind));
      r.metadata["arr"] = arr;
    }
    if (r.metadata.empty() && Coin()) r.metadata = nullptr;
    if (Coin(85)) {
      static const std::vector<std::string> kWords = {"alpha", "Beta", "foo_bar", "100%", "a.b", "x", "o*o?", "[x]", ""};
      std::string doc;
      for (int k = Int(0, 3); k > 0; --k) doc += (doc.empty() ? "" : " ") + Pick(kWords);
      r.document = doc;
    }
    return r;
  }

  json Leaf() {
    std::string key = Pick(std::vector<std::string>{"i", "f", "s", "b", "m", "arr", "missing", "chroma:document"});
    switch (Int(0, 6)) {
      case 0: return {{key, AnyScalar()}};
      case 1: return {{key, {{Coin() ? "$eq" : "$ne", AnyScalar()}}}};
      case 2: return {{key, {{Pick(std::vector<std::string>{"$gt", "$gte", "$lt", "$lte"}), Number()}}}};
      case 3:
      case 4: {
        int kind = Int(0, 3);
        json list = json::array();
        for (int k = Int(1, 3); k > 0; --k) list.push_back(Scalar(kind));
        return {{key, {{Coin() ? "$in" : "$nin", list}}}};
      }
      default: return {{key, {{Coin() ? "$contains" : "$not_contains", AnyScalar()}}}};
    }
  }

  json Where(int depth) {
    if (depth == 0 || Coin(45)) return Leaf();
    json list = json::array();
    for (int k = Int(0, 3); k > 0; --k) list.push_back(Where(depth - 1));
    return {{Coin() ? "$and" : "$or", list}};
  }

  json DocLeaf() {
    static const std::vector<std::string> kNeedles = {"", "a", "al", "alp", "Beta", "beta", "_", "%",
                                                       "o_b", "0%", "*", "?", "[x", "a.b", "zz"};
    static const std::vector<std::string> kRegexes = {"^a", "o+", "[0-9]", "x$", "a.b", "^$", "B|f", "\\d{2}",
                                                      "\\[", "^(alpha|x)( |$)"};
    switch (Int(0, 3)) {
      case 0: return {{"$contains", Pick(kNeedles)}};
      case 1: return {{"$not_contains", Pick(kNeedles)}};
      case 2: return {{"$regex", Pick(kRegexes)}};
      default: return {{"$not_regex", Pick(kRegexes)}};
    }
  }

  json Document(int depth) {
    if (depth == 0 || Coin(50)) return DocLeaf();
    json list = json::array();
    for (int k = Int(0, 3); k > 0; --k) list.push_back(Document(depth - 1));
    return {{Coin() ? "$and" : "$or", list}};
  }

 private:
  std::mt19937 rng_;
};

TEST(FilterRandomTest, CompiledSqlEqualsReferenceEvaluator) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    Gen g(seed);
    std::vector<Rec> recs;
    for (int n = 0; n < 80; ++n) recs.push_back(g.Record(n));
    FilterDb db(kOwnDdl);
    db.Insert("seg", recs);
    db.Insert("other", {Rec{"zz", json::parse(R"({"i": 1, "s": "a", "arr": [1, "a"]})"), "alpha"}});

    size_t nonempty = 0, partial = 0;
    for (int t = 0; t < 400; ++t) {
      json where = t % 4 == 3 ? json(nullptr) : g.Where(3);
      json doc = t % 4 == 0 ? g.Document(2) : t % 4 == 3 ? g.Document(3) : json(nullptr);
      auto w = CompileWhere(where);
      auto d = CompileWhereDocument(doc);
      ASSERT_TRUE(w.ok()) << where.dump() << ": " << w.status().ToString();
      ASSERT_TRUE(d.ok()) << doc.dump() << ": " << d.status().ToString();
      auto got = db.Select("seg", And(*w, *d));
      auto want = RefSelect(recs, where, doc);
      ASSERT_EQ(got, want) << "seed " << seed << " where " << where.dump() << " where_document " << doc.dump()
                           << "\nsql " << And(*w, *d).sql;
      nonempty += !want.empty();
      partial += !want.empty() && want.size() < recs.size();
    }
    // The generator must exercise real selections, not only all-or-nothing answers.
    EXPECT_GT(partial, 100u) << "seed " << seed << " nonempty " << nonempty;
  }
}

}  // namespace
}  // namespace chromapact::store::testing
