// lambdas/common/json_error_path.h and env.h ParseEvent: a parse error names the field being read.
#include "../../../lambdas/common/json_error_path.h"

#include <gtest/gtest.h>

#include <string>

#include "../../../lambdas/common/env.h"

namespace chromapact::lambdas {
namespace {

// The path at the first occurrence of `marker` in `text`.
std::string PathAtMarker(const std::string& text, const std::string& marker) {
  const size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  return JsonPathAt(text, at);
}

TEST(JsonErrorPath, NamesArrayIndexesAndObjectKeys) {
  const std::string t =
      R"({"ids": ["a", "b"], "embeddings": [[1, 2], [3, @]], "metadatas": [{"x": 1, "year": @}]})";
  EXPECT_EQ(PathAtMarker(t, "@]]"), "embeddings[1][1]");
  EXPECT_EQ(PathAtMarker(t, "@}"), "metadatas[0].year");
  EXPECT_EQ(JsonPathAt(t, 0), "event");
  EXPECT_EQ(PathAtMarker(t, "\"b\""), "ids[1]");
}

TEST(JsonErrorPath, StringsWithBracketsCommasAndEscapesDoNotConfuseIt) {
  const std::string t = R"({"documents": ["a,[b]{c}", "q\"],", @]})";
  EXPECT_EQ(PathAtMarker(t, "@"), "documents[2]");
}

TEST(JsonErrorPath, ClosedContainersArePopped) {
  const std::string t = R"({"a": {"b": [1, 2]}, "c": @})";
  EXPECT_EQ(PathAtMarker(t, "@"), "c");
}

TEST(ParseEvent, ADeeplyNestedEventIsRefusedBeforeAnythingCopiesIt) {
  auto nested = [](int levels) {
    return std::string(static_cast<size_t>(levels), '[') + "1" + std::string(static_cast<size_t>(levels), ']');
  };
  auto ok = ParseEvent(nested(pipeline::kMaxRequestNesting));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  nlohmann::json copy = *ok;  // a copy recurses per level: fine at the cap
  EXPECT_EQ(copy, *ok);
  for (int levels : {pipeline::kMaxRequestNesting + 1, 200000}) {
    auto deep = ParseEvent(nested(levels));
    EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument) << levels;
    EXPECT_NE(deep.status().message().find("event: nested deeper than 100 levels"), std::string::npos)
        << deep.status().ToString();
  }
}

TEST(ParseEvent, NaNIsAnInvalidArgumentNamingTheField) {
  auto r = ParseEvent(R"({"ids": ["a"], "embeddings": [[0.5, NaN, 1]]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("embeddings[0][1]: not JSON text", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("NaN and Infinity"), std::string::npos) << r.status().message();
  auto inf = ParseEvent(R"({"embeddings": [[-Infinity]]})");
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.status().message().find("NaN and Infinity"), std::string::npos) << inf.status().message();
}

TEST(ParseEvent, OtherSyntaxErrorsAndValidJson) {
  auto trunc = ParseEvent(R"({"ids": ["a", )");
  ASSERT_FALSE(trunc.ok());
  EXPECT_EQ(trunc.status().message().rfind("ids[1]: not JSON text", 0), 0u) << trunc.status().message();
  EXPECT_EQ(trunc.status().message().find("NaN"), std::string::npos);
  auto empty = ParseEvent("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message().rfind("event: not JSON text", 0), 0u) << empty.status().message();
  auto ok = ParseEvent(R"({"ids": ["a"], "n": 1.5})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["n"], 1.5);
}

}  // namespace
}  // namespace chromapact::lambdas
