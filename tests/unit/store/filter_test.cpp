// CompileWhere / CompileWhereDocument on a real SQLite DB holding Chroma's metadata-segment tables.
// Two kinds of expectation: (1) the exact ids real Chroma 1.5.9 returned for the same records and
// filters (observed over its REST API; docs/chroma-filters.md), and (2) an independent in-memory
// reference evaluator (filter_fixture.h) over every operator.
#include <gtest/gtest.h>

#include "filter_fixture.h"
#include "support/paths.h"

namespace chromapact::store::testing {
namespace {

// Collection 1 of the oracle session: scalar metadata of every type, documents with LIKE/GLOB
// metacharacters, a record without document (e), without metadata (g), an empty document (h).
std::vector<Rec> OracleScalars() {
  return {
      {"a", json::parse(R"({"x":1, "s":"apple", "b":true})"), "Hello World"},
      {"b", json::parse(R"({"x":1.0, "s":"Apple", "b":false})"), "hello world"},
      {"c", json::parse(R"({"x":2, "s":"banana"})"), "foo_bar 100%"},
      {"d", json::parse(R"({"x":2.5, "b":true})"), "fooXbar 100x"},
      {"e", json::parse(R"({"s":"1", "y":1})"), std::nullopt},
      {"f", json::parse(R"({"x":true, "s":"cherry"})"), "ab"},
      {"g", nullptr, "a.b*c"},
      {"h", json::parse(R"({"x":-3, "s":""})"), ""},
      {"i", json::parse(R"({"x":1, "z":0})"), "na\xC3\xAFve caf\xC3\xA9"},
  };
}

// Collection 2: Chroma 1.5 array metadata ("n": [] was dropped by Chroma: e has no metadata).
std::vector<Rec> OracleArrays() {
  return {
      {"a", json::parse(R"({"t":["red","green"], "n":[1,2,3], "f":[1.5, 2.0], "bb":[true]})"), "x"},
      {"b", json::parse(R"({"t":["Red"], "n":[2], "bb":[false, true]})"), "y"},
      {"c", json::parse(R"({"t":"red", "n":2})"), std::nullopt},
      {"d", json::parse(R"({"n":[2.0]})"), "z"},
      {"e", nullptr, "q"},
  };
}

struct Case {
  const char* filter;
  std::vector<std::string> ids;
};

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Insert("s1", OracleScalars());
    db_.Insert("s2", OracleArrays());
  }
  std::vector<std::string> Where(const std::string& seg, const std::string& where) {
    auto f = CompileWhere(json::parse(where));
    EXPECT_TRUE(f.ok()) << where << ": " << f.status().ToString();
    return f.ok() ? db_.Select(seg, *f) : std::vector<std::string>{"<error>"};
  }
  std::vector<std::string> Doc(const std::string& seg, const std::string& wd) {
    auto f = CompileWhereDocument(json::parse(wd));
    EXPECT_TRUE(f.ok()) << wd << ": " << f.status().ToString();
    return f.ok() ? db_.Select(seg, *f) : std::vector<std::string>{"<error>"};
  }
  FilterDb db_{kOwnDdl};
};

using Ids = std::vector<std::string>;

TEST_F(FilterTest, WhereMatchesChroma159OnScalars) {
  const Case cases[] = {
      {R"({"x": 1})", {"a", "b", "i"}},  // int 1 matches float 1.0
      {R"({"x": 1.0})", {"a", "b", "i"}},
      {R"({"x": true})", {"f"}},  // bool never equals int
      {R"({"b": 1})", {}},
      {R"({"b": true})", {"a", "d"}},
      {R"({"z": false})", {}},
      {R"({"z": 0})", {"i"}},
      {R"({"s": "Apple"})", {"b"}},  // case-sensitive
      {R"({"s": {"$eq": ""}})", {"h"}},
      {R"({"x": {"$ne": 1}})", {"c", "d", "e", "f", "g", "h"}},  // $ne includes records without the key
      {R"({"x": {"$nin": [1]}})", {"c", "d", "e", "f", "g", "h"}},
      {R"({"x": {"$ne": true}})", {"a", "b", "c", "d", "e", "g", "h", "i"}},
      {R"({"y": {"$ne": 5}})", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"b": {"$nin": [false]}})", {"a", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"x": {"$gt": 1}})", {"c", "d"}},
      {R"({"x": {"$gte": 1}})", {"a", "b", "c", "d", "i"}},  // bool x=true (f) is not a number
      {R"({"x": {"$lt": 2}})", {"a", "b", "h", "i"}},
      {R"({"x": {"$gt": 1.5}})", {"c", "d"}},
      // A float operand is truncated toward zero for int values: 2.5 -> 2, 1.0000001 -> 1, -3.5 -> -3.
      {R"({"x": {"$eq": 2.5}})", {"c", "d"}},
      {R"({"x": {"$eq": 1.9}})", {"a", "i"}},
      {R"({"x": {"$eq": -2.5}})", {}},
      {R"({"x": {"$lt": 1.0000001}})", {"b", "h"}},
      {R"({"x": {"$gt": -3.5}})", {"a", "b", "c", "d", "i"}},
      {R"({"x": {"$gte": 2.5}})", {"c", "d"}},
      {R"({"x": {"$lte": 0.5}})", {"h"}},
      {R"({"x": {"$ne": 2.5}})", {"a", "b", "e", "f", "g", "h", "i"}},
      {R"({"x": {"$lt": 1e20}})", {"a", "b", "c", "d", "h", "i"}},  // saturates at int64 max
      {R"({"x": {"$gt": 1e20}})", {}},
      {R"({"x": 9223372036854775807})", {}},
      {R"({"x": {"$in": [true]}})", {"f"}},
      {R"({"x": {"$in": [1.0, 2.5]}})", {"a", "b", "c", "d", "i"}},
      {R"({"x": {"$in": [1, 2]}})", {"a", "b", "c", "i"}},
      {R"({"x": {"$nin": [1, 2]}})", {"d", "e", "f", "g", "h"}},
      {R"({"x": {"$in": ["a", "b"]}})", {}},
      {R"({"s": {"$in": ["apple", "banana"]}})", {"a", "c"}},
      {R"({"s": {"$nin": ["apple", "banana"]}})", {"b", "d", "e", "f", "g", "h", "i"}},
      {R"({"b": {"$in": [true, false]}})", {"a", "b", "d"}},
      {R"({"$and": []})", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"$or": []})", {}},
      {R"({"$and": [{"x": 1}]})", {"a", "b", "i"}},
      {R"({"$or": [{"x": 1}, {"$and": []}]})", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"$and": [{"x": 1}, {"$or": []}]})", {}},
      {R"({"$and": [{"$or": [{"x": 2}, {"s": "apple"}]}, {"b": true}]})", {"a"}},
      {R"({"$and": [{"x": {"$gte": 1}}, {"x": {"$lte": 2}}]})", {"a", "b", "c", "i"}},
      {R"({"$or": [{"s": "apple"}, {"b": false}, {"z": 0}]})", {"a", "b", "i"}},
      {R"({"chroma:document": "ab"})", {"f"}},  // the document is a metadata row too
      {R"({"": 1})", {}},
      {R"({"x": {"$contains": "a"}})", {}},  // $contains on a scalar never matches
      {R"({"s": {"$contains": "app"}})", {}},
      {R"({"s": {"$not_contains": "app"}})", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Where("s1", c.filter), c.ids) << c.filter;
}

TEST_F(FilterTest, WhereContainsOnArrayMetadataMatchesChroma159) {
  const Case cases[] = {
      {R"({"t": {"$contains": "red"}})", {"a"}},  // exact element, case-sensitive; scalar "red" (c) no
      {R"({"t": {"$not_contains": "red"}})", {"b", "c", "d", "e"}},
      {R"({"t": {"$contains": "re"}})", {}},
      {R"({"n": {"$contains": 2}})", {"a", "b"}},  // int 2 does not match [2.0]
      {R"({"n": {"$contains": 2.0}})", {"d"}},
      {R"({"f": {"$contains": 2}})", {}},
      {R"({"f": {"$contains": 2.0}})", {"a"}},
      {R"({"bb": {"$contains": true}})", {"a", "b"}},
      {R"({"bb": {"$not_contains": true}})", {"c", "d", "e"}},
      {R"({"n": {"$not_contains": 2}})", {"c", "d", "e"}},
      {R"({"n": {"$contains": true}})", {}},
      {R"({"t": {"$contains": 1}})", {}},
      {R"({"n": 2})", {"c"}},  // scalar operators ignore array values
      {R"({"t": "red"})", {"c"}},
      {R"({"t": {"$in": ["red"]}})", {"c"}},
      {R"({"n": {"$gt": 1}})", {"c"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Where("s2", c.filter), c.ids) << c.filter;
}

TEST_F(FilterTest, WhereDocumentMatchesChroma159) {
  const Ids all_with_doc = {"a", "b", "c", "d", "f", "g", "h", "i"};
  const Case cases[] = {
      {R"({"$contains": "hello"})", {"b"}},  // case-sensitive
      {R"({"$contains": "Hello"})", {"a"}},
      {R"({"$contains": "HELLO"})", {}},
      {R"({"$contains": "ab"})", {"f"}},  // shorter than a trigram
      {R"({"$contains": "a"})", {"c", "d", "f", "g", "i"}},
      {R"({"$contains": ""})", all_with_doc},  // every record that has a document, "" included
      {R"({"$contains": "100%"})", {"c"}},  // % and _ are literals
      {R"({"$contains": "%"})", {"c"}},
      {R"({"$contains": "_"})", {"c"}},
      {R"({"$contains": "o_b"})", {"c"}},
      {R"({"$contains": "oXb"})", {"d"}},
      {R"({"$contains": "o%b"})", {}},
      {R"({"$contains": "b*c"})", {"g"}},
      {"{\"$contains\": \"\xC3\xAF\"}", {"i"}},
      {"{\"$contains\": \"caf\xC3\xA9\"}", {"i"}},
      {"{\"$contains\": \"CAF\xC3\x89\"}", {}},
      {R"({"$not_contains": "hello"})", {"a", "c", "d", "e", "f", "g", "h", "i"}},  // e has no document
      {R"({"$not_contains": "ab"})", {"a", "b", "c", "d", "e", "g", "h", "i"}},
      {R"({"$not_contains": ""})", {"e"}},
      {R"({"$not_contains": "zzz"})", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"$regex": "^h"})", {"b"}},
      {R"({"$regex": "(?i)^h"})", {"a", "b"}},
      {R"({"$regex": "\\d+%"})", {"c"}},
      {R"({"$regex": "a\\.b\\*"})", {"g"}},
      {R"({"$regex": "[[:alpha:]]+"})", {"a", "b", "c", "d", "f", "g", "i"}},
      {R"({"$regex": ""})", all_with_doc},
      {R"({"$regex": "^$"})", {"h"}},
      {R"({"$regex": "\\bworld"})", {"b"}},
      {R"({"$regex": "caf."})", {"i"}},
      {R"({"$regex": "^.{2}$"})", {"f"}},
      {R"({"$regex": "^[a-z ]+$"})", {"b", "f"}},
      {R"({"$regex": "(?m)^b"})", {}},
      {R"({"$regex": "(?x) h e l l o"})", {"b"}},
      {R"j({"$regex": "(?P<n>o)"})j", {"a", "b", "c", "d"}},
      {R"({"$regex": "[^\\x00-\\x7F]"})", {"i"}},
      {R"({"$regex": "\\x{e9}"})", {"i"}},
      {R"({"$regex": "(?i)HELLO"})", {"a", "b"}},
      {R"({"$regex": "(?s)."})", {"a", "b", "c", "d", "f", "g", "i"}},
      {R"({"$regex": "a(?i)B"})", {"f"}},
      {R"j({"$regex": "(?i:h)ello"})j", {"a", "b"}},
      {R"j({"$regex": "(?i:H)ELLO"})j", {}},
      {R"({"$regex": "(?i)^[g-i]ELLO [v-x]"})", {"a", "b"}},
      {R"({"$regex": "(?i)[^h]ello"})", {}},
      {R"({"$regex": "(?i)[[:lower:]]ELLO"})", {"a", "b"}},
      {R"({"$regex": "(?x)h e # comment\n l"})", {"b"}},
      {R"({"$contains": "b?c"})", {}},
      {R"({"$contains": "[d"})", {}},
      {R"({"$not_regex": "^h"})", {"a", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"$not_regex": "o"})", {"e", "f", "g", "h", "i"}},
      {R"({"$not_regex": ""})", {"e"}},
      {R"({"$and": []})", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
      {R"({"$or": []})", {}},
      {R"({"$and": [{"$contains": "hello"}, {"$not_contains": "World"}]})", {"b"}},
      {R"({"$or": [{"$contains": "foo"}, {"$regex": "^H"}]})", {"a", "c", "d"}},
      {R"({"$or": [{"$contains": "foo"}, {"$and": [{"$regex": "^H"}]}]})", {"a", "c", "d"}},
      {R"({"$and": [{"$contains": "x"}]})", {"d"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Doc("s1", c.filter), c.ids) << c.filter;
}

TEST_F(FilterTest, WhereAndWhereDocumentCombineWithAnd) {
  auto w = CompileWhere(json::parse(R"({"x": {"$gte": 1}})"));
  auto d = CompileWhereDocument(json::parse(R"({"$contains": "foo"})"));
  ASSERT_TRUE(w.ok() && d.ok());
  EXPECT_EQ(db_.Select("s1", And(*w, *d)), (Ids{"c", "d"}));
  EXPECT_EQ(db_.Select("s1", And(SqlFilter{}, *d)), (Ids{"c", "d"}));
  EXPECT_EQ(db_.Select("s1", And(*w, SqlFilter{})), (Ids{"a", "b", "c", "d", "i"}));
  EXPECT_EQ(And(SqlFilter{}, SqlFilter{}).sql, "1");
}

TEST_F(FilterTest, NullOrEmptyMeansNoFilter) {
  for (const json& none : {json(nullptr), json::object()}) {
    auto w = CompileWhere(none);
    auto d = CompileWhereDocument(none);
    ASSERT_TRUE(w.ok() && d.ok());
    EXPECT_EQ(w->sql, "1");
    EXPECT_TRUE(w->params.empty());
    EXPECT_EQ(db_.Select("s1", *d).size(), 9u);
  }
}

// {"$and": [{"$and": [ ... {leaf} ... ]}]} with `levels` objects in all, the leaf included; parsed
// from text, as a request arrives (nlohmann's parser keeps its own stack, so any depth parses).
json Nested(int levels, const std::string& leaf) {
  std::string text;
  for (int i = 1; i < levels; ++i) text += R"({"$and": [)";
  text += leaf;
  for (int i = 1; i < levels; ++i) text += "]}";
  return json::parse(text);
}

TEST_F(FilterTest, NestingIsCappedWithAClearErrorNotADeepRecursion) {
  // At the cap the filter still compiles and selects what the leaf selects.
  auto at_cap = CompileWhere(Nested(kMaxFilterDepth, R"({"x": {"$gte": 1}})"));
  ASSERT_TRUE(at_cap.ok()) << at_cap.status().ToString();
  auto leaf = CompileWhere(json::parse(R"({"x": {"$gte": 1}})"));
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(db_.Select("s1", *at_cap), db_.Select("s1", *leaf));
  auto doc_at_cap = CompileWhereDocument(Nested(kMaxFilterDepth, R"({"$contains": "a"})"));
  ASSERT_TRUE(doc_at_cap.ok()) << doc_at_cap.status().ToString();
  // One more level, or a hundred thousand (a stack overflow before the cap): kInvalidArgument.
  for (int levels : {kMaxFilterDepth + 1, 100000}) {
    auto w = CompileWhere(Nested(levels, R"({"x": 1})"));
    EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument) << levels;
    EXPECT_NE(w.status().message().find("nested deeper than"), std::string::npos) << w.status().ToString();
    auto d = CompileWhereDocument(Nested(levels, R"({"$contains": "a"})"));
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << levels;
    EXPECT_NE(d.status().message().find("where_document: nested deeper than"), std::string::npos);
  }
}

TEST_F(FilterTest, SegmentsDoNotLeakIntoEachOther) {
  // "t" exists only in s2, "s" only in s1: each segment sees only its own rows.
  EXPECT_EQ(Where("s1", R"({"t": {"$ne": "zzz"}})").size(), 9u);
  EXPECT_EQ(Where("s2", R"({"t": "red"})"), (Ids{"c"}));
  EXPECT_EQ(Where("s1", R"({"t": "red"})"), Ids{});
}

// Collection 3: multi-line documents and quotes (anchors, (?m), (?s), \A, \z; parameters, not SQL text).
TEST_F(FilterTest, MultilineDocumentsAndQuotesMatchChroma159) {
  db_.Insert("s3", {{"m1", json::parse(R"({"k": 1})"), "line1\nhello"},
                    {"m2", json::parse(R"({"k": 2})"), "hello\nworld"},
                    {"m3", json::parse(R"({"k": "it's"})"), "it's 50% off"}});
  const Case cases[] = {
      {R"({"$regex": "^hello"})", {"m2"}},  // ^ and $ are text anchors without (?m)
      {R"({"$regex": "world$"})", {"m2"}},
      {R"({"$regex": "hello$"})", {"m1"}},
      {R"({"$regex": "(?m)^hello$"})", {"m1", "m2"}},
      {R"({"$regex": "(?m)^world"})", {"m2"}},
      {R"({"$regex": "1.h"})", {}},  // . does not match \n
      {R"({"$regex": "(?s)1.h"})", {"m1"}},
      {R"({"$regex": "\\Ahello"})", {"m2"}},
      {R"({"$regex": "hello\\z"})", {"m1"}},
      {R"({"$regex": "\\w+$"})", {"m1", "m2", "m3"}},
      {R"({"$regex": "^\\S+\\s\\S+$"})", {"m1", "m2"}},
      {R"({"$contains": "1\nh"})", {"m1"}},
      {R"({"$contains": "it's"})", {"m3"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Doc("s3", c.filter), c.ids) << c.filter;
  EXPECT_EQ(Where("s3", R"({"k": "it's"})"), (Ids{"m3"}));
  EXPECT_EQ(Where("s3", R"({"it's": {"$ne": 1}})"), (Ids{"m1", "m2", "m3"}));
}

// A long document must not exhaust the stack in REGEXP (libstdc++'s backtracking executor does at
// ~100k characters). Anchored patterns: an unanchored one that fails is quadratic in std::regex.
TEST_F(FilterTest, RegexOverLongDocumentDoesNotCrash) {
  std::string big(200000, 'a');
  db_.Insert("s4", {{"big", nullptr, big + "\nx"}, {"small", nullptr, "ab"}});
  EXPECT_EQ(Doc("s4", R"({"$regex": "(?s)^(a|b)*.x$"})"), (Ids{"big"}));
  EXPECT_EQ(Doc("s4", R"({"$regex": "^a*b"})"), (Ids{"small"}));
  EXPECT_EQ(Doc("s4", R"({"$not_regex": "^a+\\nx$"})"), (Ids{"small"}));
}

// Every filter Chroma 1.5.9 rejected ("Invalid where clause") is kInvalidArgument here, and the
// message names the offending key or operator.
TEST(FilterErrorTest, InvalidWhereNamesKeyOrOperator) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"x": 1, "s": "apple"})", "exactly one key"},
      {R"({"$and": [{"x": 1}, {"s": "apple"}], "b": true})", "exactly one key"},
      {R"({"x": {"$foo": 1}})", "'$foo' for key 'x'"},
      {R"({"$foo": [{"x": 1}]})", "'$foo'"},
      {R"({"$not": {"x": 1}})", "'$not'"},
      {R"({"$contains": "a"})", "'$contains'"},
      {R"({"x": {"$gt": 1, "$lt": 3}})", "key 'x'"},
      {R"({"x": {"$in": [1], "$nin": [2]}})", "key 'x'"},
      {R"({"x": {}})", "key 'x'"},
      {R"({"s": {"$gt": "a"}})", "'$gt' for key 's' needs a number"},
      {R"({"x": {"$lt": "z"}})", "'$lt' for key 'x' needs a number"},
      {R"({"x": {"$gt": true}})", "'$gt' for key 'x' needs a number"},
      {R"({"x": {"$in": [1, "apple"]}})", "$in for key 'x' mixes int and string"},
      {R"({"x": {"$in": [1, 2.5]}})", "$in for key 'x' mixes int and float"},
      {R"({"x": {"$in": [2, true]}})", "$in for key 'x' mixes int and bool"},
      {R"({"x": {"$in": []}})", "$in for key 'x' needs a non-empty list"},
      {R"({"x": {"$nin": []}})", "$nin for key 'x' needs a non-empty list"},
      {R"({"x": {"$in": 1}})", "$in for key 'x' needs a non-empty list"},
      {R"({"x": {"$in": [[1]]}})", "$in for key 'x' element 0"},
      {R"({"x": null})", "'$eq' for key 'x'"},
      {R"({"x": [1, 2]})", "'$eq' for key 'x'"},
      {R"({"x": {"$eq": [1]}})", "'$eq' for key 'x'"},
      {R"({"x": {"$ne": null}})", "'$ne' for key 'x'"},
      {R"({"x": {"$eq": 18446744073709551615}})", "does not fit in int64"},
      {R"({"t": {"$contains": ["red"]}})", "'$contains' for key 't'"},
      {R"({"$and": {"x": 1}})", "$and needs a list"},
      {R"({"$and": [1]})", "$and element 0"},
      {R"({"$or": [{"x": 1}, {}]})", "$or element 1"},
      {R"({"$and": [{"x": 1}, {"x": {"$bad": 1}}]})", "'$bad' for key 'x'"},
      {R"([{"x": 1}])", "expected an object"},
  };
  for (const auto& [filter, needle] : cases) {
    auto r = CompileWhere(json::parse(filter));
    ASSERT_FALSE(r.ok()) << filter;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << filter;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << filter << " -> " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("where: ", 0), 0u) << r.status().message();
  }
}

TEST(FilterErrorTest, InvalidWhereDocumentNamesOperator) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"$contains": 1})", "$contains needs a string"},
      {R"({"$contains": null})", "$contains needs a string"},
      {R"({"$contains": "a", "$regex": "b"})", "exactly one operator"},
      {R"({"$contains": "a", "extra": 1})", "exactly one operator"},
      {R"({"$foo": "a"})", "'$foo'"},
      {R"({"contains": "a"})", "'contains'"},
      {R"({"$and": [{"$contains": "a"}, {"x": 1}]})", "'x'"},
      {R"({"$and": "x"})", "$and needs a list"},
      {R"({"$and": [{"$contains": "hello"}], "$or": []})", "exactly one operator"},
      // Regex errors Chroma reports ("Regex syntax error: ...").
      {R"({"$regex": "(unclosed"})", "$regex"},
      {R"({"$not_regex": "(unclosed"})", "$not_regex"},
      {R"j({"$regex": "wor(?=ld)"})j", "look-around"},
      {R"({"$regex": "(?<!a)b"})", "look-around"},
      {R"({"$regex": "(a)\\1"})", "backreferences are not supported"},
      {R"({"$regex": "\\"})", "incomplete escape"},
      {R"({"$regex": "\\Qa.b\\E"})", "unrecognized escape"},
      {R"({"$regex": "*a"})", "$regex"},
      {R"({"$regex": "a{,2}"})", "$regex"},
      // Valid in Chroma, not supported by our translation (documented gaps).
      {R"({"$regex": "\\p{L}+"})", "\\p"},
      {R"({"$regex": "a(?m)b"})", "(?m) flag is only supported at the start"},
  };
  for (const auto& [filter, needle] : cases) {
    auto r = CompileWhereDocument(json::parse(filter));
    ASSERT_FALSE(r.ok()) << filter;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << filter;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << filter << " -> " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("where_document: ", 0), 0u) << r.status().message();
  }
}

// The REGEXP function itself: a bad pattern reaching SQL fails the statement instead of matching nothing.
TEST_F(FilterTest, RegexpFunctionReportsBadPatternsAndNulls) {
  SqlFilter f;
  f.sql = "e.id IN (SELECT rowid FROM embedding_fulltext_search WHERE string_value REGEXP ?)";
  f.params.emplace_back(std::string("(a)\\1"));
  std::string error;
  db_.Select("s1", f, &error);
  EXPECT_NE(error.find("$regex: backreferences"), std::string::npos) << error;
  f.sql = "regexp(NULL, 'x') IS NULL AND regexp('x', NULL) IS NULL AND ('abc' REGEXP ?)";
  f.params = {std::string("b")};
  EXPECT_EQ(db_.Select("s1", f).size(), 9u);
}

// The same filters over the tables created by Chroma's own schema dump.
TEST(FilterSchemaTest, WorksOnChromaReferenceSchema) {
  CP_REQUIRE_SHARED(shared);
  std::string ddl = ReadFile(shared + "/chroma/reference_schema.sql");
  ASSERT_FALSE(ddl.empty());
  FilterDb db(ddl);
  db.Insert("s1", OracleScalars());
  db.Insert("s2", OracleArrays());
  auto w = CompileWhere(json::parse(R"({"$or": [{"x": {"$in": [1.0, 2.5]}}, {"s": "cherry"}]})"));
  auto d = CompileWhereDocument(json::parse(R"({"$not_contains": "o"})"));
  auto a = CompileWhere(json::parse(R"({"n": {"$contains": 2}})"));
  ASSERT_TRUE(w.ok() && d.ok() && a.ok());
  EXPECT_EQ(db.Select("s1", And(*w, *d)), (Ids{"f", "i"}));
  EXPECT_EQ(db.Select("s2", *a), (Ids{"a", "b"}));
}

}  // namespace
}  // namespace chromapact::store::testing
