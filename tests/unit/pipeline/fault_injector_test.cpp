// FaultInjector rule semantics (nth, times, key prefix, before/after, wildcard, custom status,
// step log), the shard-id rules, and the item parsers' errors on malformed lease/pointer items.
// Pure: no AWS needed (the wrappers over real stores are tested against moto in
// tests/integration/pipeline/).
#include <gtest/gtest.h>

#include "support/faults/fault_injection.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/pointer.h"

namespace chromapact::pipeline {
namespace {

using aws::AttributeValue;

TEST(FaultInjector, FiresOnTheNthMatchingCallForTimesCalls) {
  FaultInjector f;
  FaultRule r;
  r.step = kStepKvUpdate;
  r.key_prefix = "PTR#";
  r.nth = 2;
  r.times = 2;
  f.Add(r);
  EXPECT_TRUE(f.Before(kStepKvUpdate, "PTR#a#0").ok());   // match 1
  EXPECT_TRUE(f.Before(kStepKvUpdate, "LOCK#a#0").ok());  // other key: not counted
  EXPECT_TRUE(f.Before(kStepKvGet, "PTR#a#0").ok());      // other step: not counted
  Status s2 = f.Before(kStepKvUpdate, "PTR#a#0");         // match 2: fires
  EXPECT_EQ(s2.code(), StatusCode::kAborted);
  EXPECT_EQ(s2.message(), "injected crash before kv.update PTR#a#0");
  EXPECT_EQ(f.Before(kStepKvUpdate, "PTR#b#1").code(), StatusCode::kAborted);  // match 3: fires
  EXPECT_TRUE(f.Before(kStepKvUpdate, "PTR#a#0").ok());                        // match 4: done
  EXPECT_EQ(f.Count(kStepKvUpdate), 5);
  auto steps = f.Steps();
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_FALSE(steps[0].failed);
  EXPECT_TRUE(steps[3].failed);
  EXPECT_TRUE(steps[4].failed);
  EXPECT_EQ(steps[4].key, "PTR#b#1");
}

TEST(FaultInjector, AfterRulesFireOnlyInAfterAndForeverWithMinusOne) {
  FaultInjector f;
  FaultRule r;
  r.step = "*";
  r.when = FaultWhen::kAfter;
  r.times = -1;
  r.status = Unavailable("injected 503");
  f.Add(r);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(f.Before(kStepS3Put, "snapshots/x").ok());
    Status after = f.After(kStepS3Put, "snapshots/x");
    EXPECT_EQ(after.code(), StatusCode::kUnavailable);
    EXPECT_EQ(after.message(), "injected 503");
  }
  f.Clear();
  EXPECT_TRUE(f.Before(kStepS3Put, "snapshots/x").ok());
  EXPECT_TRUE(f.After(kStepS3Put, "snapshots/x").ok());
  EXPECT_EQ(f.Steps().size(), 1u);
}

TEST(FaultInjector, CrashAtDefaultsToKAbortedBefore) {
  FaultInjector f;
  f.CrashAt(kStepSqsDelete, "");
  EXPECT_EQ(f.Before(kStepSqsDelete, "").code(), StatusCode::kAborted);
  EXPECT_TRUE(f.Before(kStepSqsDelete, "").ok());
}

TEST(ShardIdRules, ValidateAndKeys) {
  EXPECT_TRUE(ValidateShardId({"my_coll-1.v2", 0}).ok());
  EXPECT_EQ(ValidateShardId({"", 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateShardId({std::string(513, 'a'), 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateShardId({std::string(512, 'a'), 0}).ok());
  for (const char* bad : {"a#b", "a b", "a/b", "\xC3\xBC"}) {
    Status st = ValidateShardId({bad, 0});
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateShardId({"ok", -1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LeaseKey({"c", 12}), "LOCK#c#12");
  EXPECT_EQ(PointerKey({"c", 12}), "PTR#c#12");
}

TEST(ItemParsers, MalformedItemsAreCorruptionNamingTheAttribute) {
  aws::Item lease{{"pk", AttributeValue::S("LOCK#c#0")},
                  {"owner", AttributeValue::S("A")},
                  {"fence", AttributeValue::N(int64_t{3})},
                  {"expires_at", AttributeValue::N(int64_t{99})}};
  auto ok = ParseLeaseItem(lease);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->fence, 3);
  EXPECT_TRUE(ok->HeldAt(99));
  EXPECT_FALSE(ok->HeldAt(100));
  aws::Item no_fence = lease;
  no_fence.erase("fence");
  auto bad = ParseLeaseItem(no_fence);
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("fence"), std::string::npos) << bad.status().message();
  aws::Item owner_num = lease;
  owner_num["owner"] = AttributeValue::N(int64_t{1});
  EXPECT_EQ(ParseLeaseItem(owner_num).status().code(), StatusCode::kCorruption);

  aws::Item ptr{{"pk", AttributeValue::S("PTR#c#0")},
                {"version", AttributeValue::N(int64_t{4})},
                {"manifest_key", AttributeValue::S("m")},
                {"committed_at", AttributeValue::N(int64_t{5})},
                {"fence", AttributeValue::N(int64_t{6})}};
  auto p = ParsePointerItem(ptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, (Pointer{4, "m", 5, 6}));
  aws::Item wrong = ptr;
  wrong["version"] = AttributeValue::S("4");
  auto w = ParsePointerItem(wrong);
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  EXPECT_NE(w.status().message().find("version"), std::string::npos) << w.status().message();
}

}  // namespace
}  // namespace chromapact::pipeline
