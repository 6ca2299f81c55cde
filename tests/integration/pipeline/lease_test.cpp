// LeaseTable against moto_server with signature checking on (docs/aws-notes.md §1, §4): two owners racing
// for one lease, expiry takeover with an injected clock (no sleeps), heartbeat / release by a stale
// owner, and the fence growing on every acquisition, release included.
#include "chromapact/pipeline/lease.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/faults/fault_injection.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline {
namespace {

constexpr int64_t kT0 = 1764000000000;  // 2025-11-24, epoch ms
constexpr int64_t kTtl = 1000;

// One compactor's view: its own client (DynamoDbClient is not thread-safe), store and table.
struct Node {
  std::unique_ptr<KvStore> kv;
  std::unique_ptr<LeaseTable> leases;
};

class LeaseTest : public fixture::PipelineMotoTest {
 protected:
  // The compactor's rights on the table and nothing else.
  static void SetUpTestSuite() { StartMoto(fixture::kDynamoItemPolicy); }

  Node NewNode(LeaseOptions options = {kTtl}) {
    Node n;
    n.kv = CompactorKv();
    n.leases = std::make_unique<LeaseTable>(n.kv.get(), &clock_, options);
    return n;
  }

  ManualClock clock_{kT0};
};

TEST_F(LeaseTest, TwoOwnersRaceOnlyOneWinsAndFenceGrowsEveryRound) {
  const ShardId shard{"race", 0};
  Node a = NewNode();
  Node b = NewNode();
  int64_t last_fence = 0;
  int wins_a = 0;
  for (int round = 0; round < 8; ++round) {
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto race = [&](Node* n, const std::string& owner) {
      start.wait();
      std::optional<LeaseState> holder;
      auto r = n->leases->Acquire(shard, owner, &holder);
      return std::make_pair(std::move(r), holder);
    };
    auto fa = std::async(std::launch::async, race, &a, "owner-a");
    auto fb = std::async(std::launch::async, race, &b, "owner-b");
    go.set_value();
    auto ra = fa.get();
    auto rb = fb.get();
    ASSERT_NE(ra.first.ok(), rb.first.ok()) << "round " << round << ": a=" << ra.first.status().ToString()
                                            << " b=" << rb.first.status().ToString();
    auto& win = ra.first.ok() ? ra.first : rb.first;
    auto& lose = ra.first.ok() ? rb : ra;
    const std::string winner = ra.first.ok() ? "owner-a" : "owner-b";
    wins_a += ra.first.ok() ? 1 : 0;
    EXPECT_EQ(win->owner, winner);
    EXPECT_EQ(win->fence, last_fence + 1) << "round " << round;
    EXPECT_EQ(win->expires_at_ms, clock_.NowMs() + kTtl);
    EXPECT_EQ(lose.first.status().code(), StatusCode::kPreconditionFailed) << lose.first.status().ToString();
    EXPECT_NE(lose.first.status().message().find("held by '" + winner + "'"), std::string::npos)
        << lose.first.status().message();
    ASSERT_TRUE(lose.second.has_value());
    EXPECT_EQ(lose.second->owner, winner);
    EXPECT_EQ(lose.second->fence, win->fence);
    last_fence = win->fence;
    // The winner lets go; the next round races again from a released item.
    Node& holder = ra.first.ok() ? a : b;
    ASSERT_TRUE(holder.leases->Release(*win).ok());
    clock_.Advance(1);
  }
  EXPECT_EQ(last_fence, 8);
  auto state = a.leases->Read(shard);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ((*state)->fence, 8);
  EXPECT_EQ((*state)->owner, "");
  EXPECT_FALSE((*state)->HeldAt(clock_.NowMs()));
  std::cout << "owner-a won " << wins_a << " of 8 rounds\n";
}

TEST_F(LeaseTest, ExpiryTakeoverWithInjectedClock) {
  const ShardId shard{"expiry", 3};
  Node a = NewNode();
  Node b = NewNode();
  auto la = a.leases->Acquire(shard, "A");
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  EXPECT_EQ(la->fence, 1);
  EXPECT_EQ(la->expires_at_ms, kT0 + kTtl);

  // Up to and including the expiry instant the lease is A's (the condition is expires_at < now).
  for (int64_t at : {kT0 + 1, kT0 + kTtl / 2, kT0 + kTtl}) {
    clock_.Set(at);
    std::optional<LeaseState> holder;
    auto lb = b.leases->Acquire(shard, "B", &holder);
    EXPECT_EQ(lb.status().code(), StatusCode::kPreconditionFailed)
        << "at " << at << ": " << lb.status().ToString();
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->owner, "A");
    EXPECT_EQ(holder->expires_at_ms, kT0 + kTtl);
    EXPECT_TRUE(holder->HeldAt(at));
  }

  clock_.Set(kT0 + kTtl + 1);
  auto lb = b.leases->Acquire(shard, "B");
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  EXPECT_EQ(lb->fence, 2);
  EXPECT_EQ(lb->expires_at_ms, kT0 + kTtl + 1 + kTtl);

  // A stalled past its expiry: its heartbeat and release must not touch B's lease.
  auto hb = a.leases->Heartbeat(*la);
  EXPECT_EQ(hb.status().code(), StatusCode::kAborted) << hb.status().ToString();
  EXPECT_NE(hb.status().message().find("lost by 'A' (fence 1)"), std::string::npos) << hb.status().message();
  EXPECT_NE(hb.status().message().find("held by 'B' (fence 2)"), std::string::npos) << hb.status().message();
  Status rel = a.leases->Release(*la);
  EXPECT_EQ(rel.code(), StatusCode::kAborted) << rel.ToString();

  auto state = b.leases->Read(shard);
  ASSERT_TRUE(state.ok() && state->has_value()) << state.status().ToString();
  EXPECT_EQ((*state)->owner, "B");
  EXPECT_EQ((*state)->fence, 2);
  EXPECT_EQ((*state)->expires_at_ms, lb->expires_at_ms);
  EXPECT_EQ((*state)->acquired_at_ms, kT0 + kTtl + 1);
}

TEST_F(LeaseTest, HeartbeatExtendsAndKeepsOthersOut) {
  const ShardId shard{"heartbeat", 0};
  Node a = NewNode();
  Node b = NewNode();
  auto la = a.leases->Acquire(shard, "A");
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  clock_.Advance(kTtl * 9 / 10);
  auto hb = a.leases->Heartbeat(*la);
  ASSERT_TRUE(hb.ok()) << hb.status().ToString();
  EXPECT_EQ(hb->fence, la->fence);
  EXPECT_EQ(hb->expires_at_ms, clock_.NowMs() + kTtl);
  // Past the first expiry but inside the extended one: still A's.
  clock_.Set(la->expires_at_ms + 1);
  EXPECT_EQ(b.leases->Acquire(shard, "B").status().code(), StatusCode::kPreconditionFailed);
  // The same owner acquiring again gets its own lease back (a retry after a lost answer), unchanged.
  auto again = a.leases->Acquire(shard, "A");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->fence, hb->fence);
  EXPECT_EQ(again->expires_at_ms, hb->expires_at_ms);

  // A heartbeat naming another acquisition's fence (same owner name) is a lost lease.
  Lease stale = *hb;
  stale.fence += 5;
  EXPECT_EQ(a.leases->Heartbeat(stale).status().code(), StatusCode::kAborted);
}

TEST_F(LeaseTest, HeartbeatIfDueSendsOnlyAfterAThirdOfTheTtl) {
  const ShardId shard{"due", 0};
  LeaseOptions options{900};
  FaultInjector faults;
  Node a = NewNode(options);
  auto counted = NewFaultyKvStore(a.kv.get(), &faults);
  LeaseTable leases(counted.get(), &clock_, options);
  auto lease = leases.Acquire(shard, "A");
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  Lease l = *lease;
  clock_.Advance(299);  // less than a third: nothing sent
  ASSERT_TRUE(leases.HeartbeatIfDue(&l).ok());
  EXPECT_EQ(faults.Count(kStepKvUpdate), 1);
  EXPECT_EQ(l.expires_at_ms, lease->expires_at_ms);
  clock_.Advance(1);  // a third: extended to now + ttl
  ASSERT_TRUE(leases.HeartbeatIfDue(&l).ok());
  EXPECT_EQ(faults.Count(kStepKvUpdate), 2);
  EXPECT_EQ(l.expires_at_ms, clock_.NowMs() + 900);
  auto stored = leases.Read(shard);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->expires_at_ms, l.expires_at_ms);
  // Past the expiry by the local clock: refused without a request.
  clock_.Set(l.expires_at_ms + 1);
  Status late = leases.HeartbeatIfDue(&l);
  EXPECT_EQ(late.code(), StatusCode::kAborted) << late.ToString();
  EXPECT_EQ(faults.Count(kStepKvUpdate), 2);
}

TEST_F(LeaseTest, ReleaseKeepsFenceIsIdempotentAndLetsOthersInAtOnce) {
  const ShardId shard{"release", 1};
  Node a = NewNode();
  Node b = NewNode();
  auto la = a.leases->Acquire(shard, "A");
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  ASSERT_TRUE(a.leases->Release(*la).ok());
  ASSERT_TRUE(a.leases->Release(*la).ok()) << "a retried release of our own lease is OK";
  // A released lease cannot be revived by its old holder.
  EXPECT_EQ(a.leases->Heartbeat(*la).status().code(), StatusCode::kAborted);

  auto state = a.leases->Read(shard);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->owner, "");
  EXPECT_EQ((*state)->expires_at_ms, 0);
  EXPECT_EQ((*state)->fence, 1);

  // No clock movement needed: a released lease is free now, and the fence continues from 1.
  auto lb = b.leases->Acquire(shard, "B");
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  EXPECT_EQ(lb->fence, 2);
  Status late = a.leases->Release(*la);
  EXPECT_EQ(late.code(), StatusCode::kAborted) << late.ToString();
  EXPECT_NE(late.message().find("held by 'B'"), std::string::npos) << late.message();
  auto still = b.leases->Read(shard);
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->owner, "B");
}

TEST_F(LeaseTest, AcquireWhoseAnswerIsLostIsAdoptedOnRetry) {
  const ShardId shard{"lostacquire", 0};
  Node a = NewNode();
  Node b = NewNode();
  FaultInjector faults;
  auto faulty = NewFaultyKvStore(a.kv.get(), &faults);
  LeaseTable leases(faulty.get(), &clock_, LeaseOptions{kTtl});
  faults.CrashAt(kStepKvUpdate, "LOCK#lostacquire#", FaultWhen::kAfter);
  auto crashed = leases.Acquire(shard, "A-req-1");
  ASSERT_EQ(crashed.status().code(), StatusCode::kAborted) << crashed.status().ToString();
  // The acquisition landed: B is kept out, and A's retry adopts the lease it already holds.
  EXPECT_EQ(b.leases->Acquire(shard, "B").status().code(), StatusCode::kPreconditionFailed);
  auto retry = leases.Acquire(shard, "A-req-1");
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->fence, 1);
  EXPECT_EQ(retry->expires_at_ms, kT0 + kTtl);
  EXPECT_TRUE(leases.Release(*retry).ok());
  EXPECT_EQ(faults.Count(kStepKvUpdate), 3);
}

TEST_F(LeaseTest, ShardsAreIndependentAndNeverLeasedReadsEmpty) {
  Node a = NewNode();
  auto none = a.leases->Read({"untouched", 0});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  auto s0 = a.leases->Acquire({"multi", 0}, "A");
  auto s1 = a.leases->Acquire({"multi", 1}, "A");
  ASSERT_TRUE(s0.ok() && s1.ok());
  EXPECT_EQ(s0->fence, 1);
  EXPECT_EQ(s1->fence, 1);
}

TEST_F(LeaseTest, BadArgumentsAreRejectedBeforeAnyRequest) {
  Node a = NewNode();
  EXPECT_EQ(a.leases->Acquire({"docs", 0}, "").status().code(), StatusCode::kInvalidArgument);
  auto hash = a.leases->Acquire({"do#cs", 0}, "A");
  EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(hash.status().message().find("'#'"), std::string::npos) << hash.status().message();
  EXPECT_EQ(a.leases->Acquire({"docs", -1}, "A").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.leases->Heartbeat(Lease{{"docs", 0}, "A", 0, 0}).status().code(), StatusCode::kInvalidArgument);
}

TEST(LeaseKeys, FollowDesign) {
  EXPECT_EQ(LeaseKey({"docs", 2}), "LOCK#docs#2");
  EXPECT_EQ(PointerKey({"docs", 2}), "PTR#docs#2");
}

}  // namespace
}  // namespace chromapact::pipeline
