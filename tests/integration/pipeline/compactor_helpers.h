// Shared by the compactor integration tests (compactor_*_test.cpp, triggers_test.cpp): one set of
// seams per test, a per-test FIFO queue, writes through the real producer, and an ObjectStore that
// forwards every call so a test can intercept one (a slow read, a PUT landing at a chosen moment).
//
// Time: the ManualClock starts at the real time because the compactor measures a hole's age as
// clock.NowMs() minus S3's LastModified, which moto stamps with the real time. Setting the clock an
// hour ahead makes every hole old at once; leaving it still keeps every hole young, however long
// the test takes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/pointer.h"
#include "chromapact/pipeline/queue_sqs.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {

inline constexpr int64_t kTtl = 60000;
inline constexpr int64_t kHourMs = 3600 * 1000;

inline int64_t RealNowMs() { return SystemClock::Default()->NowMs(); }

// `op` giving only the columns named (Op's constructor gives all three), with `null_keys` sent as
// null metadata values.
inline Op Cols(Op op, bool embedding, bool document, bool metadata, std::vector<std::string> null_keys = {}) {
  op.embedding = embedding;
  op.document = document;
  op.metadata = metadata;
  op.null_keys = std::move(null_keys);
  return op;
}

// Forwards every call to `base`; tests override the calls they intercept.
class ForwardingObjectStore : public ObjectStore {
 public:
  explicit ForwardingObjectStore(ObjectStore* base) : base_(base) {}
  Result<ObjectMeta> Put(const std::string& k, const std::string& b, const PutObjectOptions& o) override {
    return base_->Put(k, b, o);
  }
  Result<ObjectMeta> PutFile(const std::string& k, const std::string& p, const PutObjectOptions& o) override {
    return base_->PutFile(k, p, o);
  }
  Result<std::string> Get(const std::string& k, ObjectMeta* meta) override { return base_->Get(k, meta); }
  Result<ObjectMeta> GetToFile(const std::string& k, const std::string& p) override { return base_->GetToFile(k, p); }
  Result<ObjectMeta> Head(const std::string& k) override { return base_->Head(k); }
  Result<std::vector<ObjectMeta>> List(const std::string& p) override { return base_->List(p); }
  Result<std::vector<ObjectMeta>> ListAfter(const std::string& p, const std::string& s, size_t n) override {
    return base_->ListAfter(p, s, n);
  }
  Result<std::vector<DeleteFailure>> Delete(const std::vector<std::string>& k) override { return base_->Delete(k); }

 protected:
  ObjectStore* base_;
};

class CompactorTestBase : public PipelineMotoTest {
 protected:
  void SetUp() override {
    PipelineMotoTest::SetUp();
    seams_ = NewSeams("");
    clock_.Set(RealNowMs());
  }

  ObjectStore* objects() { return seams_.objects.get(); }
  KvStore* kv() { return seams_.kv.get(); }

  // A fresh FIFO queue "<name>.fifo".
  std::unique_ptr<Queue> NewQueue(const std::string& name) {
    return NewSqsQueue(seams_.sqs.get(), CreateFifoQueue(name));
  }
  CompactorOptions Opts(const std::string& tag) { return Options(tag, kTtl); }

  // Writes `op` into the one-shard collection shard.collection through the real producer; returns its
  // log position (0 with a test failure when it is not acknowledged).
  uint64_t Write(Queue* queue, const ShardId& shard, const Op& op, Model* model) {
    EXPECT_EQ(shard.shard, 0) << "a one-shard collection has only shard 0";
    auto ack = fixture::Write(kv(), objects(), queue, shard.collection, op, model, 1);
    EXPECT_TRUE(ack.ok()) << ack.status().ToString();
    if (!ack.ok() || ack->log_positions.size() != 1) return 0;
    return ack->log_positions[0].log_position;
  }

  // Hand-written log entry `bytes` at `seq` (create-only), as a producer that took `seq` would.
  Status PutEntry(const ShardId& shard, uint64_t seq, const std::string& bytes) {
    PutObjectOptions create_only;
    create_only.if_none_match_any = true;
    return objects()->Put(LogKey(shard, seq), bytes, create_only).status();
  }

  // What the model records for a write the test itself put at `seq` (no producer acknowledged it,
  // but it is in the log: the compactor applies it there).
  static void Landed(Model* model, const Op& op, uint64_t seq) {
    ProduceResult ack;
    ack.log_positions.push_back({0, seq});
    model->Acknowledged(op, ack, 1);
  }

  // Receives every trigger on `queue` and runs one cycle with them.
  CycleResult CycleWithTriggers(Compactor* compactor, Queue* queue, const ShardId& shard,
                                int64_t deadline_steady_ms = 0) {
    return compactor->RunCycle(shard, fixture::ReceiveAll(queue, 10), deadline_steady_ms);
  }

  // Cycles (with the queue's triggers) until one leaves nothing behind; every cycle must succeed.
  // Returns the number of cycles.
  int CycleUntilDone(Compactor* compactor, Queue* queue, const ShardId& shard, int max_cycles = 10) {
    for (int i = 1; i <= max_cycles; ++i) {
      CycleResult r = CycleWithTriggers(compactor, queue, shard);
      EXPECT_TRUE(r.status.ok()) << "cycle " << i << ": " << r.status.ToString();
      if (!r.status.ok() || !r.rearmed) return i;
    }
    ADD_FAILURE() << "still re-arming after " << max_cycles << " cycles";
    return max_cycles;
  }

  void ExpectSnapshot(const ShardId& shard, const Model& model, codec::Manifest* out = nullptr) {
    fixture::ExpectSnapshotEquals(objects(), kv(), &clock_, shard, model.Live(), out);
  }

  std::optional<Pointer> ReadPointer(const ShardId& shard) {
    PointerTable pointers(kv(), &clock_);
    auto p = pointers.Read(shard);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : std::nullopt;
  }

  static int64_t SteadyNowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  Seams seams_;
  ManualClock clock_{0};
};

}  // namespace chromapact::pipeline::fixture
