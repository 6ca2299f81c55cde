// The rows of chroma_api_bad_input_test.cpp: bad requests for every route of Chroma's REST API v2
// handler, each with the status code, error name and field names Chroma's answer must carry.
// Limits: max_batch_size kMaxBatch, max_body_bytes kMaxBody (the test's ChromaApiOptions).
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "chroma_api_fixture.h"

namespace chromapact::api::testfixture {

inline constexpr int kMaxBatch = 4;
inline constexpr size_t kMaxBody = 16 * 1024;
inline constexpr uint32_t kNaN = 0x7fc00000u, kInf = 0x7f800000u, kNegInf = 0xff800000u, kOne = 0x3f800000u;

struct Row {
  std::string what;
  std::string method;
  std::string path;
  std::string body;  // raw bytes
  int status;
  std::string error;               // Chroma's error name
  std::vector<std::string> names;  // what the message must mention
  std::map<std::string, std::string> query = {};
};

inline Row Err(std::string what, std::string method, std::string path, std::string body, int status,
               std::string error, std::vector<std::string> names) {
  return {std::move(what), std::move(method), std::move(path), std::move(body),
          status,          std::move(error),  std::move(names)};
}
// 400 InvalidArgumentError for `body` (JSON) or a raw body.
inline Row Bad(std::string what, std::string method, std::string path, const json& body,
               std::vector<std::string> names) {
  return Err(std::move(what), std::move(method), std::move(path), body.dump(), 400, "InvalidArgumentError",
             std::move(names));
}
inline Row BadRaw(std::string what, std::string method, std::string path, std::string body,
                  std::vector<std::string> names) {
  return Err(std::move(what), std::move(method), std::move(path), std::move(body), 400,
             "InvalidArgumentError", std::move(names));
}

inline std::string Vec4(float a) {
  return PackFloats({a, a + 1, a + 2, a + 3});
}

// The rows every write route (add / upsert / update) shares; `p` is the route's path.
inline void WriteRows(std::vector<Row>* rows, const std::string& op, const std::string& p) {
  const json e = json::array({Vec4(1)});
  auto ok_body = [&](json extra) {
    json b = {{"ids", {"w1"}}, {"embeddings", e}, {"documents", {"d"}}, {"metadatas", {{{"k", 1}}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.value().is_null()) {
        b.erase(it.key());
      } else {
        b[it.key()] = it.value();
      }
    }
    return b;
  };
  auto bad = [&](const std::string& what, json extra, std::vector<std::string> names) {
    rows->push_back(Bad(op + ": " + what, "POST", p, ok_body(std::move(extra)), std::move(names)));
  };
  bad("ids missing", {{"ids", nullptr}}, {"ids"});
  bad("ids not a list", {{"ids", "w1"}}, {"ids"});
  bad("ids element not a string", {{"ids", {7}}}, {"ids[0]"});
  bad("empty id", {{"ids", {""}}}, {"ids[0]"});
  bad("duplicate ids",
      {{"ids", {"w1", "w1"}},
       {"embeddings", {Vec4(1), Vec4(2)}},
       {"documents", {"d", "e"}},
       {"metadatas", {{{"k", 1}}, {{"k", 2}}}}},
      {"ids[1]", "duplicate"});
  bad("embeddings not a list", {{"embeddings", Vec4(1)}}, {"embeddings"});
  bad("embedding not base64", {{"embeddings", {"!!not base64!!"}}}, {"embeddings[0]"});
  bad("embedding not whole float32", {{"embeddings", {B64("abcdef")}}}, {"embeddings[0]", "float32"});
  bad("embedding a number", {{"embeddings", {5}}}, {"embeddings[0]"});
  bad("embedding list of strings", {{"embeddings", {{"a", "b", "c", "d"}}}}, {"embeddings[0]"});
  bad("NaN embedding", {{"embeddings", {B64(Float32Bytes({kOne, kNaN, kOne, kOne}))}}},
      {"embeddings[0]", "finite"});
  bad("Infinity embedding", {{"embeddings", {B64(Float32Bytes({kInf, kOne, kOne, kOne}))}}},
      {"embeddings[0]"});
  bad("-Infinity embedding", {{"embeddings", {B64(Float32Bytes({kOne, kOne, kOne, kNegInf}))}}},
      {"embeddings[0]"});
  bad("dimension mismatch", {{"embeddings", {PackFloats({1, 2, 3})}}},
      {"Collection expecting embedding with dimension of 4, got 3"});
  bad("more embeddings than ids", {{"embeddings", {Vec4(1), Vec4(2)}}}, {"embeddings"});
  bad("metadatas not a list", {{"metadatas", "k=1"}}, {"metadatas"});
  bad("metadata not an object", {{"metadatas", {5}}}, {"metadatas[0]"});
  bad("metadata value an object", {{"metadatas", {{{"k", {{"x", 1}}}}}}}, {"metadatas[0]"});
  bad("documents not a list", {{"documents", 5}}, {"documents"});
  bad("uris given", {{"uris", {"s3://x"}}}, {"uris"});
  std::vector<std::string> many;
  for (int i = 0; i <= kMaxBatch; ++i) many.push_back("m" + std::to_string(i));
  bad("more ids than max_batch_size",
      {{"ids", many}, {"embeddings", std::vector<std::string>(many.size(), Vec4(1))}}, {"max_batch_size"});
  rows->push_back(BadRaw(op + ": body not JSON", "POST", p, "{\"ids\": [\"w1\"", {"body"}));
  rows->push_back(BadRaw(op + ": body a list", "POST", p, "[1, 2]", {"body"}));
  rows->push_back(Err(op + ": body over max_body_bytes", "POST", p,
                      ok_body({{"documents", {std::string(kMaxBody, 'x')}}}).dump(), 413,
                      "InvalidArgumentError", {"body", std::to_string(kMaxBody)}));
}

// The rows of the read routes (get / query) and delete.
inline void ReadRows(std::vector<Row>* rows, const std::string& get, const std::string& query,
                     const std::string& del) {
  const json bad_where = {{"a", {{"$foo", 1}}}};
  const json bad_doc = {{"$bogus", "x"}};
  for (const auto& [op, p, base] : std::vector<std::tuple<std::string, std::string, json>>{
           {"get", get, json::object()}, {"query", query, {{"query_embeddings", {{1, 2, 3, 4}}}}}}) {
    auto bad = [&, op = op, p = p, base = base](const std::string& what, json extra,
                                                std::vector<std::string> names) {
      json b = base;
      b.update(extra);
      rows->push_back(Bad(op + ": " + what, "POST", p, b, std::move(names)));
    };
    bad("ids not a list", {{"ids", 5}}, {"ids"});
    bad("ids element not a string", {{"ids", {"a", 2}}}, {"ids[1]"});
    bad("where unknown operator", {{"where", bad_where}}, {"where", "$foo"});
    bad("where not an object", {{"where", "a=1"}}, {"where"});
    bad("where_document unknown operator", {{"where_document", bad_doc}}, {"where_document", "$bogus"});
    bad("where_document not an object", {{"where_document", "x"}}, {"where_document"});
    bad("include unknown value", {{"include", {"documents", "vectors"}}}, {"include[1]", "vectors"});
    bad("include not a list", {{"include", "documents"}}, {"include"});
    rows->push_back(BadRaw(op + ": body not JSON", "POST", p, "include=documents", {"body"}));
  }
  auto get_bad = [&](const std::string& what, json b, std::vector<std::string> names) {
    rows->push_back(Bad("get: " + what, "POST", get, b, std::move(names)));
  };
  get_bad("limit negative", {{"limit", -1}}, {"limit"});
  get_bad("limit not an integer", {{"limit", 2.5}}, {"limit"});
  get_bad("limit a string", {{"limit", "10"}}, {"limit"});
  get_bad("limit past 64 bits", json::parse(R"({"limit": 1e30})"), {"limit"});
  get_bad("limit 2^64 - 1", json::parse(R"({"limit": 18446744073709551615})"), {"limit"});
  get_bad("offset negative", {{"offset", -3}}, {"offset"});
  get_bad("offset not an integer", {{"offset", true}}, {"offset"});
  auto query_bad = [&](const std::string& what, json b, std::vector<std::string> names) {
    rows->push_back(Bad("query: " + what, "POST", query, b, std::move(names)));
  };
  const json q = {{1, 2, 3, 4}};
  query_bad("query_embeddings missing", {{"n_results", 1}}, {"query_embeddings"});
  query_bad("query_embeddings not a list", {{"query_embeddings", 5}}, {"query_embeddings"});
  query_bad("query embedding of strings", {{"query_embeddings", {{"a", "b", "c", "d"}}}},
            {"query_embeddings"});
  query_bad("query dimension mismatch", {{"query_embeddings", {{1, 2, 3}}}},
            {"Collection expecting embedding with dimension of 4, got 3"});
  query_bad("NaN query embedding", {{"query_embeddings", {B64(Float32Bytes({kOne, kOne, kNaN, kOne}))}}},
            {"query_embeddings"});
  query_bad("n_results negative", {{"query_embeddings", q}, {"n_results", -1}}, {"n_results"});
  query_bad("n_results zero", {{"query_embeddings", q}, {"n_results", 0}}, {"n_results"});
  query_bad("n_results not an integer", {{"query_embeddings", q}, {"n_results", 1.5}}, {"n_results"});
  query_bad("n_results a string", {{"query_embeddings", q}, {"n_results", "3"}}, {"n_results"});
  auto del_bad = [&](const std::string& what, json b, std::vector<std::string> names) {
    rows->push_back(Bad("delete: " + what, "POST", del, b, std::move(names)));
  };
  std::vector<std::string> many;
  for (int i = 0; i <= kMaxBatch; ++i) many.push_back("a" + std::to_string(i));
  del_bad("nothing to delete by", json::object(), {"ids", "where"});
  del_bad("ids not a list", {{"ids", "a"}}, {"ids"});
  del_bad("ids element not a string", {{"ids", {"a", 3}}}, {"ids[1]"});
  del_bad("more ids than max_batch_size", {{"ids", many}}, {"max_batch_size"});
  del_bad("where unknown operator", {{"where", bad_where}}, {"where", "$foo"});
  del_bad("where_document unknown operator", {{"where_document", bad_doc}}, {"where_document", "$bogus"});
  del_bad("limit without where", {{"ids", {"a"}}, {"limit", 1}}, {"limit", "where"});
  del_bad("limit negative", {{"where", {{"k", 1}}}, {"limit", -1}}, {"limit"});
  del_bad("limit not an integer", {{"where", {{"k", 1}}}, {"limit", "1"}}, {"limit"});
  rows->push_back(BadRaw("delete: body not JSON", "POST", del, "ids=a", {"body"}));
}

// The collection routes: create, modify, get / delete by name, by id, list; tenant and database.
// `cs` is the collections path, `id` an existing collection (named bad-input-main, with
// bad-input-empty beside it), `unknown` a well-formed UUID no collection has.
inline void CollectionRows(std::vector<Row>* rows, const std::string& cs, const std::string& id,
                           const std::string& unknown) {
  rows->push_back(BadRaw("create: body not JSON", "POST", cs, "name=x", {"body"}));
  rows->push_back(BadRaw("create: body a string", "POST", cs, "\"bad-input-x\"", {"body"}));
  rows->push_back(Bad("create: name missing", "POST", cs, {{"metadata", {{"a", 1}}}}, {"name"}));
  rows->push_back(Bad("create: name not a string", "POST", cs, {{"name", 42}}, {"name"}));
  rows->push_back(Bad("create: name too short", "POST", cs, {{"name", "ab"}}, {"name", "'ab'"}));
  rows->push_back(
      Bad("create: name with a space", "POST", cs, {{"name", "bad name"}}, {"name", "'bad name'"}));
  rows->push_back(Bad("create: configuration a string", "POST", cs,
                      {{"name", "bad-input-x"}, {"configuration", "l2"}}, {"configuration"}));
  rows->push_back(Bad("create: unknown space", "POST", cs,
                      {{"name", "bad-input-x"}, {"configuration", {{"hnsw", {{"space", "hamming"}}}}}},
                      {"configuration.hnsw.space"}));
  rows->push_back(Bad("create: metadata a list", "POST", cs, {{"name", "bad-input-x"}, {"metadata", {1, 2}}},
                      {"metadata"}));
  rows->push_back(Bad("create: metadata value an object", "POST", cs,
                      {{"name", "bad-input-x"}, {"metadata", {{"a", {{"b", 1}}}}}}, {"metadata.a"}));
  rows->push_back(Bad("create: get_or_create a string", "POST", cs,
                      {{"name", "bad-input-x"}, {"get_or_create", "yes"}}, {"get_or_create"}));
  rows->push_back(Err("create: existing name", "POST", cs, json{{"name", "bad-input-main"}}.dump(), 409,
                      "UniqueConstraintError", {"bad-input-main"}));
  rows->push_back(Err("create: body over max_body_bytes", "POST", cs,
                      json{{"name", "bad-input-x"}, {"metadata", {{"a", std::string(kMaxBody, 'x')}}}}.dump(),
                      413, "InvalidArgumentError", {"body"}));
  const std::string modify = cs + "/" + id;
  rows->push_back(BadRaw("modify: body not JSON", "PUT", modify, "new_name", {"body"}));
  rows->push_back(Bad("modify: new_name not a string", "PUT", modify, {{"new_name", 5}}, {"new_name"}));
  rows->push_back(Bad("modify: new_name invalid", "PUT", modify, {{"new_name", "x"}}, {"name", "'x'"}));
  rows->push_back(
      Bad("modify: new_metadata a string", "PUT", modify, {{"new_metadata", "a"}}, {"new_metadata"}));
  rows->push_back(Bad("modify: new_metadata value an object", "PUT", modify,
                      {{"new_metadata", {{"a", {{"b", 1}}}}}}, {"new_metadata.a"}));
  rows->push_back(Err("modify: new_name taken", "PUT", modify, json{{"new_name", "bad-input-empty"}}.dump(),
                      409, "UniqueConstraintError", {"bad-input-empty"}));
  rows->push_back(Err("modify: unknown collection", "PUT", cs + "/" + unknown,
                      json{{"new_name", "bad-input-y"}}.dump(), 404, "NotFoundError", {unknown}));
  rows->push_back(Bad("modify: malformed collection id", "PUT", cs + "/not-a-uuid",
                      {{"new_name", "bad-input-y"}}, {"collection id", "not-a-uuid"}));
  rows->push_back(Err("get collection: unknown name", "GET", cs + "/bad-input-nobody", "", 404,
                      "NotFoundError", {"bad-input-nobody"}));
  rows->push_back(Err("delete collection: unknown name", "DELETE", cs + "/bad-input-nobody", "", 404,
                      "NotFoundError", {"bad-input-nobody"}));
  rows->push_back(
      Err("by-id: unknown", "GET", cs + "/by-id/" + unknown, "", 404, "NotFoundError", {unknown}));
  rows->push_back(
      Err("tenant: unknown", "GET", "/api/v2/tenants/nobody", "", 404, "NotFoundError", {"nobody"}));
  rows->push_back(Err("create: unknown database", "POST",
                      "/api/v2/tenants/default_tenant/databases/nodb/collections",
                      json{{"name", "bad-input-x"}}.dump(), 404, "NotFoundError", {"nodb"}));
  rows->push_back(BadRaw("by-id: malformed", "GET", cs + "/by-id/12345", "", {"collection id", "12345"}));
  for (const auto& [what, key, value] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"limit negative", "limit", "-1"},
           {"limit not a number", "limit", "ten"},
           {"limit a float", "limit", "2.5"},
           {"limit past 64 bits", "limit", "18446744073709551616"},
           {"offset negative", "offset", "-2"},
           {"offset past 64 bits", "offset", "99999999999999999999999"}}) {
    Row r = BadRaw("list: " + what, "GET", cs, "", {key});
    r.query = {{key, value}};
    rows->push_back(r);
  }
}

// Every record route of collection `id` (records a, b, c written), the filters on `empty_id`
// (nothing written), then unknown and malformed collection ids on each route.
inline void RecordRows(std::vector<Row>* rows, const std::string& id, const std::string& empty_id,
                       const std::string& unknown) {
  for (const char* op : {"add", "upsert", "update"}) WriteRows(rows, op, RecordPath(id, op));
  ReadRows(rows, RecordPath(id, "get"), RecordPath(id, "query"), RecordPath(id, "delete"));
  // A collection nothing was written to still checks its filters (no store to check them yet).
  for (const char* op : {"get", "query", "delete"}) {
    json b = {{"where", {{"a", {{"$foo", 1}}}}}};
    if (std::string(op) == "query") b["query_embeddings"] = {{1, 2, 3, 4}};
    rows->push_back(Bad(std::string(op) + " on an empty collection: where unknown operator", "POST",
                        RecordPath(empty_id, op), b, {"where", "$foo"}));
    b = {{"where_document", {{"$bogus", "x"}}}};
    if (std::string(op) == "query") b["query_embeddings"] = {{1, 2, 3, 4}};
    rows->push_back(Bad(std::string(op) + " on an empty collection: where_document unknown operator", "POST",
                        RecordPath(empty_id, op), b, {"where_document", "$bogus"}));
  }
  const json add_one = {{"ids", {"z"}}, {"embeddings", {Vec4(9)}}};
  for (const char* op : {"add", "upsert", "update", "delete", "get", "query", "count"}) {
    const bool count = std::string(op) == "count";
    const std::string method = count ? "GET" : "POST";
    const std::string body = count                        ? ""
                             : std::string(op) == "query" ? json{{"query_embeddings", {{1, 2, 3, 4}}}}.dump()
                                                          : add_one.dump();
    rows->push_back(Err(std::string(op) + ": unknown collection", method, RecordPath(unknown, op), body, 404,
                        "NotFoundError", {unknown}));
    rows->push_back(Err(std::string(op) + ": malformed collection id", method, RecordPath("not-a-uuid", op),
                        body, 400, "InvalidArgumentError", {"collection id", "not-a-uuid"}));
  }
  rows->push_back(Err("add: collection id of UUID shape with non-hex digits", "POST",
                      RecordPath("zzzzzzzz-zzzz-4zzz-8zzz-zzzzzzzzzzzz", "add"), add_one.dump(), 400,
                      "InvalidArgumentError", {"collection id"}));
}

}  // namespace chromapact::api::testfixture
