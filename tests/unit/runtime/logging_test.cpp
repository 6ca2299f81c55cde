// JSON log lines on stdout (runtime/logging.h): one object per line with a UTC ISO-8601 millisecond
// timestamp, level, message, request_id while set, the caller's fields; level from CHROMAPACT_LOG_LEVEL.
#include "chromapact/runtime/logging.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace chromapact::runtime {
namespace {

using nlohmann::json;

std::vector<json> Lines(const std::string& out) {
  std::vector<json> lines;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "every line ends with a newline: " << out;
    if (nl == std::string::npos) break;
    lines.push_back(json::parse(out.substr(pos, nl - pos)));  // throws (fails the test) when not JSON
    pos = nl + 1;
  }
  return lines;
}

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CHROMAPACT_LOG_LEVEL");
    InitLogging();
    SetLogRequestId("");
  }
  void TearDown() override {
    unsetenv("CHROMAPACT_LOG_LEVEL");
    InitLogging();
    SetLogRequestId("");
  }
};

TEST_F(LoggingTest, OneJsonObjectPerLineWithTheDocumentedKeys) {
  ::testing::internal::CaptureStdout();
  const auto before =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  LogInfo("compaction done", {{"collection", "docs"}, {"deltas", 3}, {"ok", true}});
  SetLogRequestId("c0ffee-1");
  LogWarn("lease lost", {{"fence", 17}});
  SetLogRequestId("");
  LogError("no fields");
  const auto lines = Lines(::testing::internal::GetCapturedStdout());
  ASSERT_EQ(lines.size(), 3u);

  const std::regex iso(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  for (const auto& l : lines) {
    ASSERT_TRUE(l.is_object());
    EXPECT_TRUE(std::regex_match(l["timestamp"].get<std::string>(), iso)) << l.dump();
  }
  EXPECT_EQ(lines[0]["timestamp"].get<std::string>().substr(0, 16), FormatUtcMillis(before).substr(0, 16));
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["message"], "compaction done");
  EXPECT_EQ(lines[0]["collection"], "docs");
  EXPECT_EQ(lines[0]["deltas"], 3);
  EXPECT_EQ(lines[0]["ok"], true);
  EXPECT_FALSE(lines[0].contains("request_id"));

  EXPECT_EQ(lines[1]["level"], "warn");
  EXPECT_EQ(lines[1]["request_id"], "c0ffee-1");
  EXPECT_EQ(lines[1]["fence"], 17);

  EXPECT_EQ(lines[2]["level"], "error");
  EXPECT_EQ(lines[2].size(), 3u) << lines[2].dump();  // timestamp, level, message only
}

TEST_F(LoggingTest, ReservedFieldNamesAreRenamedAndNonObjectsKept) {
  ::testing::internal::CaptureStdout();
  SetLogRequestId("real-id");
  LogInfo("the real message", {{"message", "spoof"}, {"level", "x"}, {"request_id", "fake"}, {"timestamp", 0}});
  LogInfo("array fields", json::array({1, 2}));
  const auto lines = Lines(::testing::internal::GetCapturedStdout());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["message"], "the real message");
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["request_id"], "real-id");
  EXPECT_EQ(lines[0]["_message"], "spoof");
  EXPECT_EQ(lines[0]["_level"], "x");
  EXPECT_EQ(lines[0]["_request_id"], "fake");
  EXPECT_EQ(lines[0]["_timestamp"], 0);
  EXPECT_EQ(lines[1]["fields"], json::array({1, 2}));
}

TEST_F(LoggingTest, InvalidUtf8AndControlCharactersStillGiveOneValidLine) {
  ::testing::internal::CaptureStdout();
  LogInfo(std::string("bad \xff\xfe bytes\nsecond \"line\""), {{"doc", std::string("\xc3\x28")}});
  const std::string out = ::testing::internal::GetCapturedStdout();
  const auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  const std::string msg = lines[0]["message"];
  EXPECT_NE(msg.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD
  EXPECT_NE(msg.find("second \"line\""), std::string::npos);
}

TEST_F(LoggingTest, LevelFromEnvironmentAndSetLogLevel) {
  setenv("CHROMAPACT_LOG_LEVEL", "WARN", 1);
  InitLogging();
  ::testing::internal::CaptureStdout();
  LogDebug("d");
  LogInfo("i");
  LogWarn("w");
  LogError("e");
  SetLogLevel(LogLevel::kDebug);
  LogDebug("d2");
  auto lines = Lines(::testing::internal::GetCapturedStdout());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["message"], "w");
  EXPECT_EQ(lines[1]["message"], "e");
  EXPECT_EQ(lines[2]["message"], "d2");
  EXPECT_EQ(lines[2]["level"], "debug");

  // An unknown value: info, plus one warning naming the variable and the value.
  setenv("CHROMAPACT_LOG_LEVEL", "verbose", 1);
  ::testing::internal::CaptureStdout();
  InitLogging();
  LogDebug("hidden");
  LogInfo("shown");
  lines = Lines(::testing::internal::GetCapturedStdout());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["level"], "warn");
  EXPECT_EQ(lines[0]["CHROMAPACT_LOG_LEVEL"], "verbose");
  EXPECT_EQ(lines[1]["message"], "shown");

  // Unset: the default, info.
  unsetenv("CHROMAPACT_LOG_LEVEL");
  InitLogging();
  ::testing::internal::CaptureStdout();
  LogDebug("hidden");
  LogInfo("shown");
  lines = Lines(::testing::internal::GetCapturedStdout());
  ASSERT_EQ(lines.size(), 1u);
}

TEST(ParseLogLevelTest, AcceptsTheFourLevels) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel(" Info "), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("WARN"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  const auto bad = ParseLogLevel("trace");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("CHROMAPACT_LOG_LEVEL"), std::string::npos);
  EXPECT_NE(bad.status().message().find("trace"), std::string::npos);
}

TEST(FormatUtcMillisTest, KnownInstants) {
  EXPECT_EQ(FormatUtcMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcMillis(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatUtcMillis(951782400007), "2000-02-29T00:00:00.007Z");  // leap day
  EXPECT_EQ(FormatUtcMillis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace chromapact::runtime
