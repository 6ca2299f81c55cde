// Trigger messages (delta_message.h) without AWS: the body round trip, bodies written before the log
// (ULID-era triggers still in flight during an upgrade) parsing as "look at this shard", errors that
// name the field, and the SQS id rules (128 characters at most, else a SHA-256 in hex).
#include "chromapact/pipeline/delta_message.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "chromapact/crypto.h"
#include "chromapact/pipeline/log.h"

namespace chromapact::pipeline {
namespace {

TEST(DeltaMessageTest, RoundTripAndShape) {
  const ShardId shard{"docs", 2};
  DeltaMessage m{shard, 42, LogKey(shard, 42)};
  const std::string body = EncodeDeltaMessage(m);
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j, (nlohmann::json{{"collection", "docs"},
                               {"shard", 2},
                               {"log_position", 42},
                               {"delta_key", "deltas/docs/2/00000000000000000042.cpd"}}));
  auto back = ParseDeltaMessage(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->shard, shard);
  EXPECT_EQ(back->log_position, 42u);
  EXPECT_EQ(back->delta_key, LogKey(shard, 42));

  // Position 0: "look at this shard" (a re-armed trigger that saw no entry), no key.
  DeltaMessage zero{shard, 0, ""};
  auto z = ParseDeltaMessage(EncodeDeltaMessage(zero));
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->log_position, 0u);
  EXPECT_EQ(z->delta_key, "");
  EXPECT_EQ(nlohmann::json::parse(EncodeDeltaMessage(zero)).count("delta_key"), 0u);

  // The largest position survives JSON (unsigned 64-bit, not a double).
  DeltaMessage big{shard, UINT64_MAX, LogKey(shard, UINT64_MAX)};
  auto b = ParseDeltaMessage(EncodeDeltaMessage(big));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->log_position, UINT64_MAX);
}

// The key the compactor would look at comes from (collection, shard, log_position), never from a
// delta_key the body carries: a body cannot point the compactor at another shard's object.
TEST(DeltaMessageTest, DeltaKeyIsDerivedNotTrusted) {
  auto m = ParseDeltaMessage(
      R"({"collection":"docs","shard":1,"log_position":7,"delta_key":"deltas/other/0/00000000000000000007.cpd"})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->delta_key, LogKey({"docs", 1}, 7));
}

TEST(DeltaMessageTest, BodiesWrittenBeforeTheLogParseAsPositionZero) {
  // The ULID-era body: {delta_key, collection, shard, delta_id, count}.
  auto old = ParseDeltaMessage(
      R"({"delta_key":"deltas/docs/0/01JDQZ2XK8M5V0000000000000.cpd","collection":"docs","shard":0,)"
      R"("delta_id":"01JDQZ2XK8M5V0000000000000","count":100})");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->shard, (ShardId{"docs", 0}));
  EXPECT_EQ(old->log_position, 0u);
  EXPECT_EQ(old->delta_key, "");
  // Only the shard is needed.
  auto minimal = ParseDeltaMessage(R"({"collection":"c-1.x_y","shard":5})");
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(minimal->shard, (ShardId{"c-1.x_y", 5}));
}

TEST(DeltaMessageTest, ErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"", "body"},
      {"not json", "body"},
      {"[1,2]", "body"},
      {"\"docs\"", "body"},
      {R"({"shard":0})", "collection"},
      {R"({"collection":7,"shard":0})", "collection"},
      {R"({"collection":null,"shard":0})", "collection"},
      {R"({"collection":"docs"})", "shard"},
      {R"({"collection":"docs","shard":"0"})", "shard"},
      {R"({"collection":"docs","shard":1.5})", "shard"},
      {R"({"collection":"docs","shard":-1})", "shard"},
      {R"({"collection":"docs","shard":0,"log_position":-1})", "log_position"},
      {R"({"collection":"docs","shard":0,"log_position":"42"})", "log_position"},
      {R"({"collection":"docs","shard":0,"log_position":4.5})", "log_position"},
      {R"({"collection":"docs","shard":0,"log_position":null})", "log_position"},
      {R"({"collection":"a#b","shard":0})", "collection"},
      {R"({"collection":"","shard":0})", "collection"},
  };
  for (const Case& c : cases) {
    auto m = ParseDeltaMessage(c.body);
    ASSERT_FALSE(m.ok()) << c.body;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << c.body << " -> " << m.status().ToString();
    EXPECT_NE(m.status().message().find(c.field), std::string::npos)
        << c.body << ": " << m.status().message() << " does not name " << c.field;
  }
}

TEST(SqsIdTest, ShortIdsPassLongOnesBecomeTheirSha256) {
  EXPECT_EQ(SqsId("docs#0#42"), "docs#0#42");
  const std::string at_limit(kMaxSqsIdLength, 'x');
  EXPECT_EQ(SqsId(at_limit), at_limit);
  const std::string over(kMaxSqsIdLength + 1, 'x');
  EXPECT_EQ(SqsId(over), Sha256Hex(over));
  EXPECT_EQ(SqsId(over).size(), 64u);

  const ShardId shard{"docs", 3};
  EXPECT_EQ(TriggerDedupId(shard, 42), "docs#3#42");
  EXPECT_EQ(TriggerDedupId(shard, 0), "docs#3#0");
  EXPECT_EQ(MessageGroupFor(shard), "docs#3");
  // A 512-character collection name (the longest allowed): both ids still fit SQS's 128 limit,
  // and distinct shards / positions keep distinct ids.
  const ShardId long_shard{std::string(512, 'c'), 7};
  std::set<std::string> ids;
  for (uint64_t pos : {1, 2, 3}) {
    const std::string id = TriggerDedupId(long_shard, pos);
    EXPECT_LE(id.size(), kMaxSqsIdLength);
    EXPECT_EQ(id, Sha256Hex(long_shard.ToString() + "#" + std::to_string(pos)));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_LE(MessageGroupFor(long_shard).size(), kMaxSqsIdLength);
  EXPECT_NE(MessageGroupFor(long_shard), MessageGroupFor({std::string(512, 'c'), 8}));
}

}  // namespace
}  // namespace chromapact::pipeline
