// AttributeValue <-> DynamoDB JSON (DynamoDB API Reference "AttributeValue").
#include "chromapact/aws/dynamodb_types.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace chromapact::aws {
namespace {

using nlohmann::json;

TEST(AttributeValueTest, EveryTypeHasItsWireForm) {
  EXPECT_EQ(AttributeValue::S("x").ToJson(), json::parse(R"({"S":"x"})"));
  EXPECT_EQ(AttributeValue::N(int64_t{-42}).ToJson(), json::parse(R"({"N":"-42"})"));
  EXPECT_EQ(AttributeValue::N("1.5e3").ToJson(), json::parse(R"({"N":"1.5e3"})"));
  EXPECT_EQ(AttributeValue::B(std::string("\x00\xff", 2)).ToJson(), json::parse(R"({"B":"AP8="})"));
  EXPECT_EQ(AttributeValue::Bool(true).ToJson(), json::parse(R"({"BOOL":true})"));
  EXPECT_EQ(AttributeValue::Null().ToJson(), json::parse(R"({"NULL":true})"));
  EXPECT_EQ(AttributeValue::SS({"a", "b"}).ToJson(), json::parse(R"({"SS":["a","b"]})"));
  EXPECT_EQ(AttributeValue::NS({"1", "2"}).ToJson(), json::parse(R"({"NS":["1","2"]})"));
  EXPECT_EQ(AttributeValue::BS({"hi"}).ToJson(), json::parse(R"({"BS":["aGk="]})"));
  EXPECT_EQ(AttributeValue::L({AttributeValue::S("a"), AttributeValue::N(int64_t{1})}).ToJson(),
            json::parse(R"({"L":[{"S":"a"},{"N":"1"}]})"));
  EXPECT_EQ(AttributeValue::M({{"k", AttributeValue::Bool(false)}}).ToJson(),
            json::parse(R"({"M":{"k":{"BOOL":false}}})"));
}

TEST(AttributeValueTest, NestedRoundTripKeepsEveryValue) {
  Item inner{{"owner", AttributeValue::S("c1")}, {"fence", AttributeValue::N(int64_t{7})}};
  Item item{{"pk", AttributeValue::S("LOCK#c#0")},
            {"data", AttributeValue::B(std::string("\x01\x02\x03", 3))},
            {"lease", AttributeValue::M(inner)},
            {"list", AttributeValue::L({AttributeValue::M(inner), AttributeValue::Null(), AttributeValue::SS({"z"})})},
            {"flags", AttributeValue::NS({"3", "1"})}};
  json wire = ItemToJson(item);
  auto back = ItemFromJson(json::parse(wire.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, item) << ItemDebugString(*back);
  EXPECT_EQ(back->at("lease").m().at("fence").AsInt64().value(), 7);
}

TEST(AttributeValueTest, CopyIsDeepAndSetsCompareUnordered) {
  AttributeValue a = AttributeValue::M({{"x", AttributeValue::S("1")}});
  AttributeValue b = a;
  b = AttributeValue::M({{"x", AttributeValue::S("2")}});
  EXPECT_EQ(a.m().at("x").s(), "1");
  EXPECT_NE(a, b);
  EXPECT_EQ(AttributeValue::SS({"a", "b"}), AttributeValue::SS({"b", "a"}));
  EXPECT_NE(AttributeValue::L({AttributeValue::S("a"), AttributeValue::S("b")}),
            AttributeValue::L({AttributeValue::S("b"), AttributeValue::S("a")}));
  EXPECT_NE(AttributeValue::S("1"), AttributeValue::N("1"));
}

TEST(AttributeValueTest, MalformedJsonNamesThePlace) {
  auto two_keys = ItemFromJson(json::parse(R"({"a":{"S":"x","N":"1"}})"));
  ASSERT_FALSE(two_keys.ok());
  EXPECT_EQ(two_keys.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(two_keys.status().message().find("Item.a"), std::string::npos) << two_keys.status().message();

  auto bad_type = ItemFromJson(json::parse(R"({"m":{"M":{"inner":{"X":"1"}}}})"));
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("Item.m.M.inner"), std::string::npos) << bad_type.status().message();

  EXPECT_FALSE(AttributeValue::FromJson(json::parse(R"({"N":5})")).ok());
  EXPECT_FALSE(AttributeValue::FromJson(json::parse(R"({"B":"!!"})")).ok());
  EXPECT_FALSE(AttributeValue::FromJson(json::parse(R"({"SS":["a",1]})")).ok());
  EXPECT_FALSE(AttributeValue::FromJson(json::parse(R"("x")")).ok());
}

TEST(AttributeValueTest, TypedGetters) {
  Item item{{"s", AttributeValue::S("v")}, {"n", AttributeValue::N("123456789012")},
            {"f", AttributeValue::N("1.5")}, {"b", AttributeValue::Bool(true)}};
  EXPECT_EQ(GetString(item, "s").value(), "v");
  EXPECT_EQ(GetInt64(item, "n").value(), 123456789012);
  EXPECT_TRUE(GetBool(item, "b").value());
  EXPECT_EQ(GetString(item, "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GetString(item, "n").status().code(), StatusCode::kInvalidArgument);
  auto frac = GetInt64(item, "f");
  ASSERT_FALSE(frac.ok());
  EXPECT_NE(frac.status().message().find("'f'"), std::string::npos);
  EXPECT_FALSE(AttributeValue::N("99999999999999999999").AsInt64().ok());
  EXPECT_EQ(FindAttribute(item, "zzz"), nullptr);
}

}  // namespace
}  // namespace chromapact::aws
