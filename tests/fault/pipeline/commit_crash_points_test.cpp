// Crash points of the commit protocol (lease + pointer), DuckDB-style: run one compaction commit
// cleanly through the fault-injecting KvStore to enumerate its named steps, then re-run it from a
// fresh shard crashing before and after each step in turn. After every crash a second compactor,
// once the lease has expired (injected clock, no sleeps), must commit on top of whatever the first
// one left; the pointer must name exactly the versions that were committed, never lose one, and
// never move by anything but +1. moto_server with signature checking on.
#include <gtest/gtest.h>

#include "support/faults/fault_injection.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline {
namespace {

constexpr int64_t kTtl = 1000;

// One commit cycle of a compactor: lease, read base, CAS base -> base+1, release. Stops at the
// first error, as a crashed process would. Returns the first error (OK when it ran through).
Status CommitCycle(LeaseTable* leases, PointerTable* pointers, const ShardId& shard, const std::string& owner,
                   const std::string& manifest) {
  CP_ASSIGN_OR_RETURN(Lease lease, leases->Acquire(shard, owner));
  CP_ASSIGN_OR_RETURN(auto base, pointers->Read(shard));
  if (!base) return Internal("no pointer");
  CP_RETURN_IF_ERROR(pointers->CompareAndSwap(shard, base->version, manifest, lease.fence).status());
  return leases->Release(lease);
}

class CommitCrashPointsTest : public fixture::PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    kv_ = NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(Config()), fixture::kTable);
  }

  std::unique_ptr<KvStore> kv_;
  ManualClock clock_{1764000000000};
};


TEST_F(CommitCrashPointsTest, EveryStepBeforeAndAfter) {
  // 1. A clean run names the steps.
  FaultInjector faults;
  auto faulty = NewFaultyKvStore(kv_.get(), &faults);
  LeaseTable leases_a(faulty.get(), &clock_, LeaseOptions{kTtl});
  PointerTable pointers_a(faulty.get(), &clock_);
  LeaseTable leases_b(kv_.get(), &clock_, LeaseOptions{kTtl});
  PointerTable pointers_b(kv_.get(), &clock_);

  const ShardId clean{"clean", 0};
  ASSERT_TRUE(pointers_b.Create(clean, 1, "m/1", 0).ok());
  faults.Clear();
  ASSERT_TRUE(CommitCycle(&leases_a, &pointers_a, clean, "A", "m/A").ok());
  const std::vector<StepRecord> steps = faults.Steps();
  ASSERT_EQ(steps.size(), 4u) << "acquire, read, CAS, release";
  size_t cas_index = steps.size();
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].step == kStepKvUpdate && steps[i].key.rfind("PTR#", 0) == 0) cas_index = i;
  }
  ASSERT_EQ(cas_index, 2u);

  // 2. Crash at each step, before and after; then B takes over.
  int cases = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    for (FaultWhen when : {FaultWhen::kBefore, FaultWhen::kAfter}) {
      const std::string label = steps[i].step + " " + steps[i].key.substr(0, steps[i].key.find('#')) +
                                (when == FaultWhen::kBefore ? " before" : " after");
      SCOPED_TRACE(label);
      const ShardId shard{"case" + std::to_string(cases++), 0};
      ASSERT_TRUE(pointers_b.Create(shard, 1, "m/1", 0).ok());
      faults.Clear();
      // The nth occurrence of this (step, key kind) in the clean run.
      int nth = 0;
      const std::string kind = steps[i].key.substr(0, steps[i].key.find('#') + 1);
      for (size_t j = 0; j <= i; ++j) {
        nth += steps[j].step == steps[i].step && steps[j].key.rfind(kind, 0) == 0 ? 1 : 0;
      }
      faults.CrashAt(steps[i].step, kind, when, nth);

      Status a = CommitCycle(&leases_a, &pointers_a, shard, "A", "m/A");
      ASSERT_EQ(a.code(), StatusCode::kAborted) << a.ToString();
      const bool a_committed = i > cas_index || (i == cas_index && when == FaultWhen::kAfter);

      auto after_a = pointers_b.Read(shard);
      ASSERT_TRUE(after_a.ok() && after_a->has_value());
      EXPECT_EQ((*after_a)->version, a_committed ? 2 : 1);
      EXPECT_EQ((*after_a)->manifest_key, a_committed ? "m/A" : "m/1");

      // B comes once A's lease (if it got one) has expired.
      clock_.Advance(kTtl + 1);
      Status b = CommitCycle(&leases_b, &pointers_b, shard, "B", "m/B");
      ASSERT_TRUE(b.ok()) << b.ToString();
      auto final_ptr = pointers_b.Read(shard);
      ASSERT_TRUE(final_ptr.ok() && final_ptr->has_value());
      EXPECT_EQ((*final_ptr)->version, a_committed ? 3 : 2) << "B built on top of what A committed";
      EXPECT_EQ((*final_ptr)->manifest_key, "m/B");
      auto lease = leases_b.Read(shard);
      ASSERT_TRUE(lease.ok() && lease->has_value());
      EXPECT_EQ((*lease)->owner, "") << "B released";
      // A's lease existed iff its acquire landed; B's fence is one more.
      const bool a_acquired = !(i == 0 && when == FaultWhen::kBefore);
      EXPECT_EQ((*lease)->fence, a_acquired ? 2 : 1);
      EXPECT_EQ((*final_ptr)->fence, (*lease)->fence);
    }
  }
  EXPECT_EQ(cases, 8);
}

}  // namespace
}  // namespace chromapact::pipeline
