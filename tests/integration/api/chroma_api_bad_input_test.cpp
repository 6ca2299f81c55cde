// Bad input on every route of Chroma's REST API v2 handler (api/chroma_api.h), in-process over
// moto-backed S3 / SQS / DynamoDB (chroma_api_fixture.h). After a few good requests (two
// collections, one add), one table (chroma_api_bad_input_rows.h) sends each route wrong JSON types,
// missing ids, a dimension mismatch, NaN / Infinity as base64 float32, an oversize batch, a body
// that is not JSON or is over max_body_bytes, unknown and malformed collection ids, bad where /
// where_document / include / n_results / limit / offset; each row asserts Chroma's status code and
// error name and that the JSON message names the offending field. Then: nothing was written (the
// deltas/ listing, the queue's triggers, the count, the registry, the collections' dimension, name
// and metadata are what the good requests left, and the next good write takes the next log
// position: no sequence number was taken), huge-but-valid limit / offset / n_results answer the
// right records, a collection id in another UUID form finds the collection, and delete's `limit`
// deletes at most that many.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "chroma_api_bad_input_rows.h"
#include "chromapact/codec/delta.h"
#include "chromapact/pipeline/log.h"

namespace chromapact::api::testfixture {
namespace {

class ChromaApiBadInputTest : public ChromaApiMotoTest {
 protected:
  ChromaApiOptions Options() const override {
    ChromaApiOptions o = ChromaApiMotoTest::Options();
    o.max_batch_size = kMaxBatch;
    o.max_body_bytes = kMaxBody;
    return o;
  }
};

TEST_F(ChromaApiBadInputTest, EveryRouteRefusesBadInputAndWritesNothing) {
  // The good rows: two collections, one add of three records to the first.
  const json main = Create("bad-input-main", {{"metadata", {{"owner", "t"}}}});
  const json empty = Create("bad-input-empty");
  ASSERT_TRUE(main["id"].is_string() && empty["id"].is_string());
  const std::string id = main["id"], empty_id = empty["id"];
  const std::vector<std::string> good_ids = {"a", "b", "c"};
  const std::vector<std::vector<float>> good_vectors = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
  json add = {
      {"ids", good_ids},
      {"embeddings", {PackFloats(good_vectors[0]), PackFloats(good_vectors[1]), PackFloats(good_vectors[2])}},
      {"documents", {"doc a", "doc b", "doc c"}},
      {"metadatas", {{{"k", 1}}, {{"k", 2}}, {{"k", 3}}}}};
  HttpResponse added = Call("POST", Record(id, "add"), add);
  ASSERT_EQ(added.status, 201) << added.body;
  const std::vector<std::string> good_deltas = DeltaKeys();  // the whole deltas/ prefix
  std::vector<std::string> main_log;
  for (const auto& k : good_deltas) {
    if (k.rfind(pipeline::LogPrefix({id, 0}), 0) == 0) main_log.push_back(k);
  }
  ASSERT_EQ(main_log, std::vector<std::string>{pipeline::LogKey({id, 0}, 1)});

  const std::string unknown = "0b8f5c1e-7a2d-4e3b-9c1f-5d6e7f8a9b0c";  // well-formed, never created
  std::vector<Row> rows;
  const std::string cs = Collections();
  CollectionRows(&rows, cs, id, unknown);
  RecordRows(&rows, id, empty_id, unknown);

  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    HttpResponse r = Call(row.method, row.path, row.body, row.query);
    EXPECT_EQ(r.status, row.status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) {
      ADD_FAILURE() << "not Chroma's error JSON: " << r.body;
      continue;
    }
    EXPECT_EQ(j.value("error", ""), row.error) << r.body;
    for (const auto& name : row.names) {
      EXPECT_NE(j["message"].get<std::string>().find(name), std::string::npos)
          << "message should name " << name << ": " << r.body;
    }
  }

  // Nothing was written: the log holds the good add's delta only, with the good ids.
  EXPECT_EQ(DeltaKeys(), good_deltas);
  auto bytes = seams_.objects->Get(good_deltas[0]);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto delta = codec::DecodeDelta(*bytes);
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  EXPECT_EQ(delta->records.ids, good_ids);
  // One trigger on the queue: the good add's.
  EXPECT_EQ(pipeline::fixture::ReceiveAll(seams_.queue.get()).size(), 1u);
  HttpResponse count = Call("GET", Record(id, "count"));
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(Body(count), json(good_ids.size()));
  HttpResponse zero = Call("GET", Record(empty_id, "count"));
  EXPECT_EQ(Body(zero), json(0)) << zero.body;
  // The registry lists exactly the good rows' collections, unchanged by the bad modifies.
  auto listed = collections_->List(pipeline::kDefaultTenant, pipeline::kDefaultDatabase);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> names;
  for (const auto& c : *listed) names.insert(c.name);
  EXPECT_EQ(names, (std::set<std::string>{"bad-input-main", "bad-input-empty"}));
  EXPECT_EQ(Body(Call("GET", cs + "_count")), json(2));
  const json now_main = Body(Call("GET", cs + "/by-id/" + id));
  EXPECT_EQ(now_main["name"], "bad-input-main");
  EXPECT_EQ(now_main["metadata"], json({{"owner", "t"}}));
  EXPECT_EQ(now_main["dimension"], 4);
  EXPECT_TRUE(Body(Call("GET", cs + "/by-id/" + empty_id))["dimension"].is_null())
      << "no dimension was registered";

  // Huge but valid numbers answer, with the right records.
  HttpResponse all = Call("POST", Record(id, "get"), json{{"limit", 4294967295u}, {"offset", 0}});
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Body(all)["ids"], json(good_ids));
  HttpResponse past = Call("POST", Record(id, "get"), json{{"limit", 2}, {"offset", 4294967295u}});
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_EQ(Body(past)["ids"], json::array());
  HttpResponse top = Call(
      "POST", Record(id, "query"),
      json{{"query_embeddings", {{0.1, 1, 0.2, 0}}}, {"n_results", 4294967295u}, {"include", json::array()}});
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(Body(top)["ids"], json({{"b", "c", "a"}}));  // squared l2: b 0.05, c 1.65, a 1.85
  HttpResponse page = Call("GET", cs, "", {{"limit", "4294967295"}, {"offset", "1"}});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(Body(page).size(), 1u);

  // The next good write takes the next log position: no bad row took a sequence number.
  HttpResponse next = Call("POST", Record(id, "upsert"), json{{"ids", {"d"}}, {"embeddings", {Vec4(5)}}});
  ASSERT_EQ(next.status, 200) << next.body;
  std::vector<std::string> expected = good_deltas;
  expected.push_back(pipeline::LogKey({id, 0}, 2));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(DeltaKeys(), expected);
  EXPECT_EQ(Body(Call("GET", Record(id, "count"))), json(4));

  // A well-formed id in another of the forms Chroma parses (upper case, simple, braced) is the same
  // collection.
  std::string upper = id, simple;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (char ch : id) {
    if (ch != '-') simple.push_back(ch);
  }
  for (const std::string& form : {upper, simple, "{" + id + "}"}) {
    HttpResponse r = Call("GET", cs + "/by-id/" + form);
    EXPECT_EQ(r.status, 200) << form << ": " << r.body;
    EXPECT_EQ(Body(r)["id"], id) << form;
    EXPECT_EQ(Body(Call("GET", Record(form, "count"))), json(4)) << form;
  }
  // Delete's `limit` (Chroma 1.5.9): at most that many of the matching records go.
  HttpResponse limited =
      Call("POST", Record(id, "delete"), json{{"where", {{"k", {{"$gte", 2}}}}}, {"limit", 1}});
  ASSERT_EQ(limited.status, 200) << limited.body;
  EXPECT_EQ(Body(limited), json({{"deleted", 1}}));
  const json left = Body(Call("POST", Record(id, "get"), json{{"include", json::array()}}))["ids"];
  EXPECT_EQ(left.size(), 3u) << left.dump();
  EXPECT_EQ(std::count(left.begin(), left.end(), json("b")) + std::count(left.begin(), left.end(), json("c")),
            1)
      << "exactly one of the two matches deleted: " << left.dump();
}

}  // namespace
}  // namespace chromapact::api::testfixture
