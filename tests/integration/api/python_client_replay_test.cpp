// Replays, through the in-process REST handler (chroma_api_fixture.h: moto-backed S3 / SQS /
// DynamoDB), the requests Chroma's Python client 1.5.9 (`chromadb.HttpClient`, which cannot be
// installed here) sends for a typical script, with the bodies it builds, and asserts every answer
// has the shape the client parses and the data a Chroma server would give. Facts taken from the
// client's source at tag 1.5.9 (chromadb/api/client.py, fastapi.py, base_http_client.py, types.py,
// models/Collection*.py, collection_configuration.py, auth/__init__.py), read only:
// - Client(): GET /api/v2/auth/identity (UserIdentity(**answer): only user_id, tenant, databases,
//   attributes allowed), then GET /tenants/{t} (reads "name"), then GET /tenants/{t}/databases/{d}
//   (reads "id", "name", "tenant"). Every request carries Content-Type: application/json.
// - get_or_create_collection(name, metadata) with the default embedding function: POST /collections
//   {"name", "metadata", "configuration": {"hnsw": {"space": "l2"}, "spann": null,
//   "embedding_function": {"name": "default", "type": "known", "config": {}}}, "schema": null,
//   "get_or_create": true}; embedding_function=None and no configuration sends "configuration": null.
//   The answer goes through Collection.from_json: id (UUID), name, tenant, database required;
//   configuration_json must be a dict; then configuration_json.get("embedding_function").
// - The first write calls GET /pre-flight-checks once (max_batch_size, supports_base64_encoding);
//   add / upsert / update send {"ids", "embeddings": base64 of "<Nf" float32 per row (or null),
//   "metadatas", "documents", "uris": null}; add answers 201.
// - get sends {"ids", "where", "limit", "offset", "where_document", "include"}; query sends
//   {"ids", "query_embeddings": float32 values as JSON numbers (ndarray.tolist()), "n_results",
//   "where", "where_document", "include"}; both read answer["ids"] and .get() the other columns.
// - count: GET .../count?read_level=index_and_wal, a bare number; delete sends {"ids", "where",
//   "where_document"} and reads "deleted"; modify PUT {"new_metadata", "new_name",
//   "new_configuration"}; delete_collection DELETE .../collections/{name}; errors map by "error".
// Expected data is written here from what was sent and Chroma's documented semantics (get returns
// insertion order; update / upsert merge metadata), distances computed here (squared L2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chroma_api_fixture.h"

namespace chromapact::api::testfixture {
namespace {

using Vec = std::vector<float>;

class PythonClientReplayTest : public ChromaApiMotoTest {
 protected:
  // One request as the client's _make_request sends it; the answer parsed as orjson.loads would.
  json Send(const std::string& method, const std::string& path, int want_status, const json* body = nullptr,
            const std::map<std::string, std::string>& query = {}) {
    HttpRequest r;
    r.method = method;
    r.path = "/api/v2" + path;
    r.query = query;
    r.headers["content-type"] = "application/json";
    r.headers["user-agent"] = "Chroma Python Client v1.5.9 (https://github.com/chroma-core/chroma)";
    if (body) r.body = body->dump();
    HttpResponse a = api_->Handle(r);
    EXPECT_EQ(a.status, want_status) << method << " " << path << ": " << a.body;
    json j = json::parse(a.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "orjson.loads would fail: " << a.body;
    return j.is_discarded() ? json() : j;
  }
  json Post(const std::string& path, const json& body, int want = 200) {
    return Send("POST", path, want, &body);
  }

  static std::string Db() { return "/tenants/default_tenant/databases/default_database"; }
  // fastapi.py _submit_batch's body; embeddings as optional_embeddings_to_base64_strings packs them.
  static json Batch(const std::vector<std::string>& ids, const std::optional<std::vector<Vec>>& embeddings,
                    const json& metadatas, const json& documents) {
    json e = nullptr;
    if (embeddings) {
      e = json::array();
      for (const Vec& v : *embeddings) e.push_back(PackFloats(v));
    }
    return {{"ids", ids},
            {"embeddings", e},
            {"metadatas", metadatas},
            {"documents", documents},
            {"uris", nullptr}};
  }
  // ndarray(float32).tolist(): Python floats holding exactly the float32 values.
  static json QueryVectors(const std::vector<Vec>& q) {
    json out = json::array();
    for (const Vec& v : q) {
      json row = json::array();
      for (float f : v) row.push_back(static_cast<double>(f));
      out.push_back(row);
    }
    return out;
  }
  // What Collection.from_json needs, and the fields Chroma's Collection model has.
  static void ExpectCollectionModel(const json& c, const std::string& name) {
    ASSERT_TRUE(c.is_object()) << c.dump();
    ASSERT_TRUE(c["id"].is_string()) << c.dump();
    EXPECT_TRUE(IsUuid(c["id"])) << c.dump();
    EXPECT_EQ(c["name"], name);
    EXPECT_EQ(c["tenant"], "default_tenant");
    EXPECT_EQ(c["database"], "default_database");
    ASSERT_TRUE(c["configuration_json"].is_object()) << "pydantic needs a dict: " << c.dump();
    const json ef = c["configuration_json"].value("embedding_function", json());
    EXPECT_TRUE(ef.is_null() || ef.is_object()) << c.dump();
    EXPECT_TRUE(c["metadata"].is_null() || c["metadata"].is_object()) << c.dump();
    EXPECT_TRUE(c["dimension"].is_null() || c["dimension"].is_number_integer()) << c.dump();
    for (const char* k : {"version", "log_position"}) {
      EXPECT_TRUE(!c.contains(k) || c[k].is_number_integer()) << k << ": " << c.dump();
    }
    EXPECT_TRUE(!c.contains("schema") || c["schema"].is_null() || c["schema"].is_object()) << c.dump();
  }
  static bool IsUuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  }
  static void ExpectVector(const json& got, const Vec& want) {
    ASSERT_TRUE(got.is_array()) << got.dump();
    ASSERT_EQ(got.size(), want.size()) << got.dump();
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_TRUE(got[i].is_number()) << got.dump();
      EXPECT_EQ(got[i].get<float>(), want[i]) << "value " << i << " of " << got.dump();
    }
  }
  static double L2(const Vec& a, const Vec& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    return d;
  }
  // The columns a GetResult / QueryResult reads: "ids" required, the rest null or lists.
  static void ExpectResultShape(const json& r, const std::vector<std::string>& included) {
    ASSERT_TRUE(r.is_object() && r["ids"].is_array()) << r.dump();
    for (const char* col : {"embeddings", "documents", "metadatas", "distances", "uris"}) {
      const bool want = std::find(included.begin(), included.end(), col) != included.end();
      if (want) {
        EXPECT_TRUE(r[col].is_array()) << col << ": " << r.dump();
      } else {
        EXPECT_TRUE(!r.contains(col) || r[col].is_null()) << col << " not included: " << r.dump();
      }
    }
  }
};

TEST_F(PythonClientReplayTest, ABasicScriptGetsWhatThePythonClientParses) {
  // chromadb.HttpClient(host, port): the three requests of Client.__init__, in this order.
  const json identity = Send("GET", "/auth/identity", 200);
  ASSERT_TRUE(identity.is_object()) << identity.dump();
  for (auto it = identity.begin(); it != identity.end(); ++it) {
    EXPECT_TRUE((std::set<std::string>{"user_id", "tenant", "databases", "attributes"}).count(it.key()))
        << "UserIdentity(**answer) has no field " << it.key();
  }
  EXPECT_TRUE(identity["user_id"].is_string()) << identity.dump();
  EXPECT_EQ(identity["tenant"], "default_tenant");
  EXPECT_EQ(identity["databases"], json({"default_database"}));
  EXPECT_EQ(Send("GET", "/tenants/default_tenant", 200), json({{"name", "default_tenant"}}));
  const json db = Send("GET", Db(), 200);
  ASSERT_TRUE(db["id"].is_string());
  EXPECT_TRUE(IsUuid(db["id"])) << db.dump();
  EXPECT_EQ(db["name"], "default_database");
  EXPECT_EQ(db["tenant"], "default_tenant");

  // client.get_or_create_collection("py-replay", metadata={"team": "a"}) (default embedding function).
  const json ef = {{"name", "default"}, {"type", "known"}, {"config", json::object()}};
  const json create = {
      {"name", "py-replay"},
      {"metadata", {{"team", "a"}}},
      {"configuration", {{"hnsw", {{"space", "l2"}}}, {"spann", nullptr}, {"embedding_function", ef}}},
      {"schema", nullptr},
      {"get_or_create", true}};
  const json model = Post(Db() + "/collections", create);
  ExpectCollectionModel(model, "py-replay");
  EXPECT_EQ(model["metadata"], json({{"team", "a"}}));
  EXPECT_EQ(model["configuration_json"]["embedding_function"], ef) << "the client's ef config is kept";
  EXPECT_EQ(model["configuration_json"]["hnsw"]["space"], "l2");
  EXPECT_TRUE(model["dimension"].is_null());
  const std::string id = model["id"];
  const std::string coll = Db() + "/collections/" + id;
  // The same call again returns the same collection.
  EXPECT_EQ(Post(Db() + "/collections", create)["id"], id);

  // collection.add(...): pre-flight once, then the batch with base64 embeddings; 201.
  const json pre = Send("GET", "/pre-flight-checks", 200);
  ASSERT_TRUE(pre["max_batch_size"].is_number_integer()) << pre.dump();
  EXPECT_GT(pre["max_batch_size"].get<int64_t>(), 0);
  EXPECT_EQ(pre["supports_base64_encoding"], true);
  const Vec p1 = {0.1f, 0.2f, 0.3f, 0.4f}, p2 = {0.5f, 0.1f, 0.0f, 0.2f}, p3 = {0.9f, 0.8f, 0.7f, 0.6f};
  EXPECT_EQ(
      Post(coll + "/add",
           Batch({"p1", "p2", "p3"}, std::vector<Vec>{p1, p2, p3},
                 {{{"k", 1}, {"tag", "x"}}, {{"k", 2}, {"tag", "y"}}, {{"k", 3}, {"tag", "x"}, {"f", 0.5}}},
                 {"alpha doc", "beta doc", "gamma doc"}),
           201),
      json::object());
  const std::map<std::string, std::string> read_level = {{"read_level", "index_and_wal"}};
  EXPECT_EQ(Send("GET", coll + "/count", 200, nullptr, read_level), json(3));

  // collection.get(ids=["p3", "p1"], include=["embeddings", "documents", "metadatas"]).
  const std::vector<std::string> inc = {"embeddings", "documents", "metadatas"};
  json got = Post(coll + "/get", {{"ids", {"p3", "p1"}},
                                  {"where", nullptr},
                                  {"limit", nullptr},
                                  {"offset", nullptr},
                                  {"where_document", nullptr},
                                  {"include", inc}});
  ExpectResultShape(got, inc);
  EXPECT_EQ(got["ids"], json({"p1", "p3"})) << "insertion order, not request order";
  ExpectVector(got["embeddings"][0], p1);
  ExpectVector(got["embeddings"][1], p3);
  EXPECT_EQ(got["documents"], json({"alpha doc", "gamma doc"}));
  EXPECT_EQ(got["metadatas"], json({{{"k", 1}, {"tag", "x"}}, {{"k", 3}, {"tag", "x"}, {"f", 0.5}}}));
  // collection.get(where={"tag": "x"}, limit=1, offset=1): the default include.
  got = Post(coll + "/get", {{"ids", nullptr},
                             {"where", {{"tag", "x"}}},
                             {"limit", 1},
                             {"offset", 1},
                             {"where_document", nullptr},
                             {"include", {"metadatas", "documents"}}});
  ExpectResultShape(got, {"metadatas", "documents"});
  EXPECT_EQ(got["ids"], json({"p3"}));
  EXPECT_EQ(got["documents"], json({"gamma doc"}));

  // collection.query(query_embeddings=[q], n_results=2, include=[...all four]).
  const Vec q = {0.1f, 0.2f, 0.3f, 0.35f};
  const std::vector<std::string> qinc = {"documents", "distances", "metadatas", "embeddings"};
  json found = Post(coll + "/query", {{"ids", nullptr},
                                      {"query_embeddings", QueryVectors({q})},
                                      {"n_results", 2},
                                      {"where", nullptr},
                                      {"where_document", nullptr},
                                      {"include", qinc}});
  ExpectResultShape(found, qinc);
  ASSERT_EQ(found["ids"].size(), 1u) << found.dump();
  EXPECT_EQ(found["ids"][0], json({"p1", "p2"})) << found.dump();
  ASSERT_EQ(found["distances"][0].size(), 2u) << found.dump();
  EXPECT_NEAR(found["distances"][0][0].get<double>(), L2(q, p1), 1e-6);
  EXPECT_NEAR(found["distances"][0][1].get<double>(), L2(q, p2), 1e-6);
  EXPECT_EQ(found["documents"][0], json({"alpha doc", "beta doc"}));
  EXPECT_EQ(found["metadatas"][0][1], json({{"k", 2}, {"tag", "y"}}));
  ExpectVector(found["embeddings"][0][1], p2);
  // collection.query(..., where={"k": {"$gte": 2}}, n_results=5): the default include.
  found = Post(coll + "/query", {{"ids", nullptr},
                                 {"query_embeddings", QueryVectors({q, p3})},
                                 {"n_results", 5},
                                 {"where", {{"k", {{"$gte", 2}}}}},
                                 {"where_document", nullptr},
                                 {"include", {"metadatas", "documents", "distances"}}});
  ExpectResultShape(found, {"metadatas", "documents", "distances"});
  EXPECT_EQ(found["ids"], json::array({json::array({"p2", "p3"}), json::array({"p3", "p2"})}))
      << found.dump();
  EXPECT_NEAR(found["distances"][1][0].get<double>(), 0.0, 1e-9);

  // collection.update(ids=["p1"], metadatas=[{"k": 10}]): no embeddings, no documents.
  EXPECT_EQ(Post(coll + "/update", Batch({"p1"}, std::nullopt, {{{"k", 10}}}, nullptr)), json::object());
  // collection.update(ids=["p2"], embeddings=[...], documents=["beta doc v2"]).
  const Vec p2b = {0.5f, 0.1f, 0.1f, 0.2f};
  EXPECT_EQ(Post(coll + "/update", Batch({"p2"}, std::vector<Vec>{p2b}, nullptr, {"beta doc v2"})),
            json::object());
  // collection.upsert(ids=["p3", "p4"], ...): p3 merged, p4 inserted.
  const Vec p3b = {0.9f, 0.8f, 0.7f, 0.5f}, p4 = {-0.25f, 0.0f, 1.5f, 2.0f};
  EXPECT_EQ(Post(coll + "/upsert", Batch({"p3", "p4"}, std::vector<Vec>{p3b, p4},
                                         {{{"tag", "z"}}, {{"k", 4}}}, {"gamma doc v2", "delta doc"})),
            json::object());
  EXPECT_EQ(Send("GET", coll + "/count", 200, nullptr, read_level), json(4));
  got = Post(coll + "/get", {{"ids", {"p1", "p2"}},
                             {"where", nullptr},
                             {"limit", nullptr},
                             {"offset", nullptr},
                             {"where_document", nullptr},
                             {"include", inc}});
  EXPECT_EQ(got["ids"], json({"p1", "p2"}));
  EXPECT_EQ(got["metadatas"], json({{{"k", 10}, {"tag", "x"}}, {{"k", 2}, {"tag", "y"}}}))
      << "metadata merged";
  EXPECT_EQ(got["documents"], json({"alpha doc", "beta doc v2"}));
  ExpectVector(got["embeddings"][0], p1);
  ExpectVector(got["embeddings"][1], p2b);

  // collection.delete(ids=["p2"]), then collection.delete(where={"k": 10}).
  EXPECT_EQ(Post(coll + "/delete", {{"ids", {"p2"}}, {"where", nullptr}, {"where_document", nullptr}}),
            json({{"deleted", 1}}));
  EXPECT_EQ(Post(coll + "/delete", {{"ids", nullptr}, {"where", {{"k", 10}}}, {"where_document", nullptr}}),
            json({{"deleted", 1}}));
  EXPECT_EQ(Send("GET", coll + "/count", 200, nullptr, read_level), json(2));
  got = Post(coll + "/get", {{"ids", nullptr},
                             {"where", nullptr},
                             {"limit", nullptr},
                             {"offset", nullptr},
                             {"where_document", nullptr},
                             {"include", inc}});
  ExpectResultShape(got, inc);
  EXPECT_EQ(got["ids"], json({"p3", "p4"}));
  EXPECT_EQ(got["documents"], json({"gamma doc v2", "delta doc"}));
  EXPECT_EQ(got["metadatas"], json({{{"k", 3}, {"tag", "z"}, {"f", 0.5}}, {{"k", 4}}}));
  ExpectVector(got["embeddings"][0], p3b);
  ExpectVector(got["embeddings"][1], p4);

  // collection.modify(metadata={"team": "b"}); client.get_collection; list / count collections.
  const json modify = {
      {"new_metadata", {{"team", "b"}}}, {"new_name", nullptr}, {"new_configuration", nullptr}};
  EXPECT_EQ(Send("PUT", Db() + "/collections/" + id, 200, &modify), json::object());
  const json again = Send("GET", Db() + "/collections/py-replay", 200);
  ExpectCollectionModel(again, "py-replay");
  EXPECT_EQ(again["id"], id);
  EXPECT_EQ(again["metadata"], json({{"team", "b"}}));
  EXPECT_EQ(again["dimension"], 4);
  const json listed = Send("GET", Db() + "/collections", 200);
  ASSERT_TRUE(listed.is_array()) << listed.dump();
  int seen = 0;
  for (const json& c : listed) {
    if (c.value("id", "") != id) continue;
    ++seen;
    ExpectCollectionModel(c, "py-replay");
  }
  EXPECT_EQ(seen, 1) << listed.dump();
  const json before = Send("GET", Db() + "/collections_count", 200);
  ASSERT_TRUE(before.is_number_integer()) << before.dump();
  EXPECT_EQ(before, json(listed.size()));

  // client.delete_collection("py-replay"); then client.get_collection raises NotFoundError.
  EXPECT_EQ(Send("DELETE", Db() + "/collections/py-replay", 200), json::object());
  const json gone = Send("GET", Db() + "/collections/py-replay", 404);
  EXPECT_EQ(gone["error"], "NotFoundError") << gone.dump();
  EXPECT_TRUE(gone["message"].is_string()) << gone.dump();
  EXPECT_EQ(Send("GET", Db() + "/collections_count", 200), json(before.get<int64_t>() - 1));
}

TEST_F(PythonClientReplayTest, CreateWithoutAnEmbeddingFunctionAndItsErrors) {
  // client.create_collection("py-noef", embedding_function=None): configuration null, metadata null.
  const json create = {{"name", "py-noef"},
                       {"metadata", nullptr},
                       {"configuration", nullptr},
                       {"schema", nullptr},
                       {"get_or_create", false}};
  const json model = Post(Db() + "/collections", create);
  ExpectCollectionModel(model, "py-noef");
  EXPECT_TRUE(model["metadata"].is_null()) << model.dump();
  // The same create again: Python maps "UniqueConstraintError" to its UniqueConstraintError.
  const json dup = Post(Db() + "/collections", create, 409);
  EXPECT_EQ(dup["error"], "UniqueConstraintError") << dup.dump();
  EXPECT_NE(dup["message"].get<std::string>().find("py-noef"), std::string::npos) << dup.dump();
  // get_or_create_collection(..., embedding_function=None) finds it.
  json goc = create;
  goc["get_or_create"] = true;
  EXPECT_EQ(Post(Db() + "/collections", goc)["id"], model["id"]);
  // collection.add with another dimension after a first add: InvalidArgumentError, Chroma's wording.
  const std::string coll = Db() + "/collections/" + model["id"].get<std::string>();
  EXPECT_EQ(Post(coll + "/add", Batch({"a"}, std::vector<Vec>{{1, 2, 3}}, nullptr, nullptr), 201),
            json::object());
  const json wrong = Post(coll + "/add", Batch({"b"}, std::vector<Vec>{{1, 2}}, nullptr, nullptr), 400);
  EXPECT_EQ(wrong["error"], "InvalidArgumentError");
  EXPECT_EQ(wrong["message"], "Collection expecting embedding with dimension of 3, got 2");
  // A query of another dimension, as the client sends it (JSON numbers), is refused alike.
  const json q = Post(coll + "/query",
                      {{"ids", nullptr},
                       {"query_embeddings", QueryVectors({{1, 2}})},
                       {"n_results", 1},
                       {"where", nullptr},
                       {"where_document", nullptr},
                       {"include", {"metadatas", "documents", "distances"}}},
                      400);
  EXPECT_EQ(q["error"], "InvalidArgumentError");
  EXPECT_NE(q["message"].get<std::string>().find("Collection expecting embedding with dimension of 3, got 2"),
            std::string::npos)
      << q.dump();
  // A record route on an unknown collection: NotFoundError.
  const json unknown =
      Post(Db() + "/collections/5d0c3a4e-1b2f-4c3d-8e9f-0a1b2c3d4e5f/get", {{"ids", nullptr}}, 404);
  EXPECT_EQ(unknown["error"], "NotFoundError");
  EXPECT_EQ(Send("GET", coll + "/count", 200, nullptr, {{"read_level", "index_and_wal"}}), json(1));
}

}  // namespace
}  // namespace chromapact::api::testfixture
