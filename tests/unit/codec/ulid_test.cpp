// ULID encoding, monotonic generation and parsing.
#include "chromapact/codec/ulid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

namespace chromapact::codec {
namespace {

TEST(UlidTest, EncodesTheSpecExample) {
  // The spec's layout: 48-bit time in 10 chars, then 80 random bits in 16 chars.
  uint8_t zero[10] = {};
  EXPECT_EQ(EncodeUlid(0, zero), "00000000000000000000000000");
  uint8_t ones[10];
  std::fill_n(ones, 10, 0xFF);
  EXPECT_EQ(EncodeUlid(kUlidMaxTimeMs, ones), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  // 1469918176385 ms is the spec README's example time "01ARYZ6S41".
  EXPECT_EQ(EncodeUlid(1469918176385, zero).substr(0, 10), "01ARYZ6S41");
  uint8_t r[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(EncodeUlid(0, r), "00000000000000000000000001");
}

TEST(UlidTest, TimeRoundTripsAndStringOrderIsTimeOrder) {
  UlidGenerator gen;
  std::vector<std::string> ids;
  for (uint64_t t :
       {uint64_t{1}, uint64_t{1000}, uint64_t{1764585600000}, uint64_t{1764585600001}, kUlidMaxTimeMs}) {
    auto id = gen.NextAt(t);
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(ValidateUlid(*id).ok());
    auto back = UlidTimeMs(*id);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t);
    ids.push_back(*id);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(gen.NextAt(kUlidMaxTimeMs + 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(UlidTest, MonotonicWithinAMillisecondAndAcrossAClockStepBack) {
  UlidGenerator gen;
  auto a = gen.NextAt(5000);
  auto b = gen.NextAt(5000);
  auto c = gen.NextAt(4000);  // clock stepped back
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_LT(*a, *b);
  EXPECT_LT(*b, *c);
  EXPECT_EQ(a->substr(0, 10), b->substr(0, 10));
  EXPECT_EQ(*UlidTimeMs(*c), 5000u);
  // b is a + 1 in the random part.
  EXPECT_NE(a->back(), b->back());
}

TEST(UlidTest, WallClockIdsAreUniqueAndIncreasingAcrossThreads) {
  std::vector<std::string> all;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 2000; ++i) {
        auto id = NewUlid();
        ASSERT_TRUE(id.ok());
        mine.push_back(*id);
      }
      EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));  // per thread, in call order
      std::lock_guard<std::mutex> lock(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
}

TEST(UlidTest, ValidationNamesThePosition) {
  EXPECT_TRUE(ValidateUlid("01ARZ3NDEKTSV4RRFFQ69G5FAV").ok());
  Status st = ValidateUlid("01ARZ3NDEKTSV4RRFFQ69G5FA", "delta_id");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("delta_id: a ULID has 26 characters, got 25"), std::string::npos);
  st = ValidateUlid("01ARZ3NDEKTSV4RRFFQ69G5FAU");  // U is not in Crockford's alphabet
  EXPECT_NE(st.message().find("character 25"), std::string::npos) << st.message();
  st = ValidateUlid("81ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_NE(st.message().find("first character must be 0..7"), std::string::npos);
  EXPECT_FALSE(ValidateUlid("01arz3ndektsv4rrffq69g5fav").ok());
}

TEST(UlidTest, ParseCanonicalises) {
  auto p = ParseUlid("01arz3ndektsv4rrffq69g5fav");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  p = ParseUlid("O1ARZ3NDEKTSV4RRFFQ69G5FAI");  // O -> 0, I -> 1
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "01ARZ3NDEKTSV4RRFFQ69G5FA1");
  EXPECT_FALSE(ParseUlid("01ARZ3NDEKTSV4RRFFQ69G5FA!").ok());
}

}  // namespace
}  // namespace chromapact::codec
