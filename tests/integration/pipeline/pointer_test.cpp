// PointerTable against moto_server with signature checking on: create-only first pointer, two
// writers from the same base (exactly one wins, the loser sees the winner), CAS never creates, the
// seed-002 lost-update race replayed at the pointer level, and commits whose answer is lost
// (fault injection after the write landed).
#include "chromapact/pipeline/pointer.h"

#include <gtest/gtest.h>

#include <future>

#include "support/faults/fault_injection.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/pipeline/pointer_cache.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline {
namespace {

constexpr int64_t kT0 = 1764000000000;

struct Node {
  std::unique_ptr<KvStore> kv;
  std::unique_ptr<PointerTable> pointers;
  std::unique_ptr<LeaseTable> leases;
};

class PointerTest : public fixture::PipelineMotoTest {
 protected:
  // The compactor's rights on the table and nothing else.
  static void SetUpTestSuite() { StartMoto(fixture::kDynamoItemPolicy); }
  Node NewNode() {
    Node n;
    n.kv = CompactorKv();
    n.pointers = std::make_unique<PointerTable>(n.kv.get(), &clock_);
    n.leases = std::make_unique<LeaseTable>(n.kv.get(), &clock_, LeaseOptions{1000});
    return n;
  }

  ManualClock clock_{kT0};
};

TEST_F(PointerTest, FirstPointerIsCreateOnly) {
  const ShardId shard{"first", 0};
  Node a = NewNode();
  Node b = NewNode();
  auto none = a.pointers->Read(shard);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  auto created = a.pointers->Create(shard, 1, "snapshots/first/0/1-aaa/manifest.json", 1);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->version, 1);
  EXPECT_EQ(created->committed_at_ms, kT0);

  clock_.Advance(5);
  std::optional<Pointer> current;
  auto again = b.pointers->Create(shard, 1, "snapshots/first/0/1-bbb/manifest.json", 2, &current);
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed) << again.status().ToString();
  EXPECT_NE(again.status().message().find("already exists"), std::string::npos) << again.status().message();
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(*current, *created);

  auto read = b.pointers->Read(shard);
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status().ToString();
  EXPECT_EQ(**read, *created);
}

TEST_F(PointerTest, TwoWritersFromTheSameBaseExactlyOneWins) {
  const ShardId shard{"cas", 2};
  Node a = NewNode();
  Node b = NewNode();
  ASSERT_TRUE(a.pointers->Create(shard, 1, "m/1", 0).ok());
  for (int64_t base = 1; base <= 6; ++base) {
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto write = [&](Node* n, std::string manifest, int64_t fence) {
      start.wait();
      std::optional<Pointer> current;
      auto r = n->pointers->CompareAndSwap(shard, base, manifest, fence, &current);
      return std::make_pair(std::move(r), current);
    };
    const std::string ma = "m/" + std::to_string(base + 1) + "-a";
    const std::string mb = "m/" + std::to_string(base + 1) + "-b";
    auto fa = std::async(std::launch::async, write, &a, ma, 10 + base);
    auto fb = std::async(std::launch::async, write, &b, mb, 20 + base);
    go.set_value();
    auto ra = fa.get();
    auto rb = fb.get();
    ASSERT_NE(ra.first.ok(), rb.first.ok())
        << "base " << base << ": a=" << ra.first.status().ToString() << " b=" << rb.first.status().ToString();
    const Pointer& win = ra.first.ok() ? *ra.first : *rb.first;
    auto& lose = ra.first.ok() ? rb : ra;
    EXPECT_EQ(win.version, base + 1);
    EXPECT_EQ(win.manifest_key, ra.first.ok() ? ma : mb);
    EXPECT_EQ(lose.first.status().code(), StatusCode::kPreconditionFailed) << lose.first.status().ToString();
    EXPECT_NE(lose.first.status().message().find("expected version " + std::to_string(base) +
                                                 ", but it is at version " + std::to_string(base + 1)),
              std::string::npos)
        << lose.first.status().message();
    ASSERT_TRUE(lose.second.has_value()) << "the loser learns the winner's pointer";
    EXPECT_EQ(*lose.second, win);
    auto read = a.pointers->Read(shard);
    ASSERT_TRUE(read.ok() && read->has_value());
    EXPECT_EQ(**read, win);
    clock_.Advance(1);
  }
}

TEST_F(PointerTest, CompareAndSwapNeverCreatesAndRejectsOtherBases) {
  const ShardId shard{"nocreate", 0};
  Node a = NewNode();
  std::optional<Pointer> current = Pointer{};
  auto r = a.pointers->CompareAndSwap(shard, 1, "m/2", 1, &current);
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed) << r.status().ToString();
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos) << r.status().message();
  EXPECT_FALSE(current.has_value());
  auto read = a.pointers->Read(shard);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value()) << "a failed CAS must not leave an item behind";

  ASSERT_TRUE(a.pointers->Create(shard, 3, "m/3", 1).ok());
  for (int64_t base : {1, 2, 4}) {
    auto wrong = a.pointers->CompareAndSwap(shard, base, "m/x", 1, &current);
    EXPECT_EQ(wrong.status().code(), StatusCode::kPreconditionFailed) << "base " << base;
    ASSERT_TRUE(current.has_value());
    EXPECT_EQ(current->version, 3);
  }
  auto ok = a.pointers->CompareAndSwap(shard, 3, "m/4", 2);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->version, 4);
  EXPECT_EQ(ok->fence, 2);
  EXPECT_EQ(a.pointers->CompareAndSwap(shard, 0, "m/x", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.pointers->CompareAndSwap(shard, 4, "", 1).status().code(), StatusCode::kInvalidArgument);
}

// The old design's lost-update race, replayed against the real table: A holds the lease,
// reads V, stalls until its lease expires; B takes over, builds V+1 from V and commits it; A wakes
// up and commits its work, still built from V. In the old design A's blind pointer write replaced
// V+1 and B's updates were lost. Here A's CAS names base V and must fail — even though A never
// checks its lease again, because the CAS, not the lease, protects the pointer.
TEST_F(PointerTest, Seed002LateCommitFromStaleBaseAfterLeaseExpiryIsRejected) {
  const ShardId shard{"seed002", 0};
  Node a = NewNode();
  Node b = NewNode();
  ASSERT_TRUE(a.pointers->Create(shard, 1, "snapshots/seed002/0/1-init/manifest.json", 0).ok());

  auto la = a.leases->Acquire(shard, "lambda-A");  // T1
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  auto base_a = a.pointers->Read(shard);  // T2: A downloads V1
  ASSERT_TRUE(base_a.ok() && base_a->has_value());
  const int64_t v = (*base_a)->version;

  clock_.Set(la->expires_at_ms + 1);               // T6: A stalls (uploading V2 files); its lease expires
  auto lb = b.leases->Acquire(shard, "lambda-B");  // T7
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  EXPECT_GT(lb->fence, la->fence);
  auto base_b = b.pointers->Read(shard);  // T8: B sees V1 too
  ASSERT_TRUE(base_b.ok() && base_b->has_value());
  ASSERT_EQ((*base_b)->version, v);
  auto commit_b = b.pointers->CompareAndSwap(shard, v, "snapshots/seed002/0/2-B/manifest.json", lb->fence);
  ASSERT_TRUE(commit_b.ok()) << commit_b.status().ToString();

  // T9: A's late commit from base V.
  std::optional<Pointer> current;
  auto commit_a =
      a.pointers->CompareAndSwap(shard, v, "snapshots/seed002/0/2-A/manifest.json", la->fence, &current);
  ASSERT_EQ(commit_a.status().code(), StatusCode::kPreconditionFailed) << commit_a.status().ToString();
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->version, v + 1);
  EXPECT_EQ(current->manifest_key, "snapshots/seed002/0/2-B/manifest.json");
  EXPECT_EQ(current->fence, lb->fence);

  auto final_ptr = b.pointers->Read(shard);
  ASSERT_TRUE(final_ptr.ok() && final_ptr->has_value());
  EXPECT_EQ(**final_ptr, *commit_b) << "B's commit (and the updates in it) survived";
  // A also learns it lost the lease; its messages go back to the queue, nothing is deleted.
  EXPECT_EQ(a.leases->Heartbeat(*la).status().code(), StatusCode::kAborted);
}

// A commit whose answer never arrives (the compactor crashed, or the connection dropped, right
// after DynamoDB applied it). The caller sees kAborted; reading the pointer tells whether its
// manifest is the one committed, and a retry of the same CAS fails rather than double-applying.
TEST_F(PointerTest, CommitWhoseAnswerIsLostIsDetectableByReading) {
  const ShardId shard{"lostanswer", 0};
  Node real = NewNode();
  FaultInjector faults;
  auto faulty_kv = NewFaultyKvStore(real.kv.get(), &faults);
  PointerTable pointers(faulty_kv.get(), &clock_);
  ASSERT_TRUE(pointers.Create(shard, 1, "m/1", 1).ok());

  faults.CrashAt(kStepKvUpdate, "PTR#lostanswer#", FaultWhen::kAfter);
  auto crashed = pointers.CompareAndSwap(shard, 1, "m/2", 1);
  ASSERT_EQ(crashed.status().code(), StatusCode::kAborted) << crashed.status().ToString();
  EXPECT_NE(crashed.status().message().find("injected crash after kv.update PTR#lostanswer#0"),
            std::string::npos)
      << crashed.status().message();
  auto read = pointers.Read(shard);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->version, 2);
  EXPECT_EQ((*read)->manifest_key, "m/2") << "the write landed although the caller saw a crash";
  std::optional<Pointer> current;
  EXPECT_EQ(pointers.CompareAndSwap(shard, 1, "m/2", 1, &current).status().code(),
            StatusCode::kPreconditionFailed);
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->manifest_key, "m/2");

  // A crash before the call leaves the pointer where it was.
  faults.CrashAt(kStepKvUpdate, "PTR#lostanswer#", FaultWhen::kBefore, 2);  // the second update from now on
  ASSERT_TRUE(pointers.CompareAndSwap(shard, 2, "m/3", 1).ok());
  auto before = pointers.CompareAndSwap(shard, 3, "m/4", 1);
  EXPECT_EQ(before.status().code(), StatusCode::kAborted) << before.status().ToString();
  auto after_before = pointers.Read(shard);
  ASSERT_TRUE(after_before.ok() && after_before->has_value());
  EXPECT_EQ((*after_before)->manifest_key, "m/3");

  // The injector saw every step, in order, with its key.
  std::vector<StepRecord> steps = faults.Steps();
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.front().step, kStepKvPut);
  EXPECT_EQ(steps.front().key, "PTR#lostanswer#0");
  EXPECT_EQ(faults.Count(kStepKvUpdate), 4);
  EXPECT_EQ(faults.Count(kStepKvGet), 2);
}

TEST_F(PointerTest, InjectedErrorsPassThroughWithTheirCode) {
  const ShardId shard{"injected", 0};
  Node real = NewNode();
  FaultInjector faults;
  auto faulty_kv = NewFaultyKvStore(real.kv.get(), &faults);
  PointerTable pointers(faulty_kv.get(), &clock_);
  FaultRule rule;
  rule.step = kStepKvGet;
  rule.status = Unavailable("injected 503");
  rule.times = 2;
  faults.Add(rule);
  EXPECT_EQ(pointers.Read(shard).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pointers.Read(shard).status().code(), StatusCode::kUnavailable);
  auto third = pointers.Read(shard);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_FALSE(third->has_value());
  // Rules match by key prefix: a lease key is untouched by a pointer rule.
  faults.CrashAt("*", "PTR#");
  LeaseTable leases(faulty_kv.get(), &clock_);
  EXPECT_TRUE(leases.Acquire(shard, "A").ok());
  EXPECT_EQ(pointers.Create(shard, 1, "m/1", 1).status().code(), StatusCode::kAborted);
}

TEST_F(PointerTest, CacheReadsAtMostOncePerMaxAge) {
  const ShardId shard{"cached", 0};
  Node writer = NewNode();
  Node reader = NewNode();
  FaultInjector faults;
  auto counted = NewFaultyKvStore(reader.kv.get(), &faults);
  PointerTable table(counted.get(), &clock_);
  PointerCache cache(&table, &clock_, 1000);

  auto none = cache.Get(shard);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(writer.pointers->Create(shard, 1, "m/1", 1).ok());
  clock_.Advance(999);
  auto still_none = cache.Get(shard);  // within max age: the remembered "no pointer"
  ASSERT_TRUE(still_none.ok());
  EXPECT_FALSE(still_none->has_value());
  EXPECT_EQ(faults.Count(kStepKvGet), 1);

  clock_.Advance(1);
  auto v1 = cache.Get(shard);
  ASSERT_TRUE(v1.ok() && v1->has_value()) << v1.status().ToString();
  EXPECT_EQ((*v1)->version, 1);
  EXPECT_EQ(faults.Count(kStepKvGet), 2);

  ASSERT_TRUE(writer.pointers->CompareAndSwap(shard, 1, "m/2", 1).ok());
  auto stale = cache.Get(shard);
  ASSERT_TRUE(stale.ok() && stale->has_value());
  EXPECT_EQ((*stale)->version, 1) << "stale by less than max age";
  cache.Invalidate(shard);
  auto v2 = cache.Get(shard);
  ASSERT_TRUE(v2.ok() && v2->has_value());
  EXPECT_EQ((*v2)->version, 2);

  // A failed read is not cached and keeps the previous entry.
  clock_.Advance(1000);
  faults.CrashAt(kStepKvGet, "PTR#cached#");
  EXPECT_EQ(cache.Get(shard).status().code(), StatusCode::kAborted);
  auto after = cache.Get(shard);
  ASSERT_TRUE(after.ok() && after->has_value()) << after.status().ToString();
  EXPECT_EQ((*after)->version, 2);
  EXPECT_EQ(faults.Count(kStepKvGet), 5);
}

}  // namespace
}  // namespace chromapact::pipeline
