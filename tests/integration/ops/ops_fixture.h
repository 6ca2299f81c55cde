// Shared by the ops tests (versions, rollback, gc): per test a fresh FIFO queue and clients on the
// suite's moto_server, a ManualClock starting at `now_ms`, and one real compactor cycle.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "chromapact/pipeline/compactor.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {

class OpsTest : public PipelineMotoTest {
 protected:
  explicit OpsTest(int64_t now_ms) : clock_(now_ms) {}
  void SetUp() override {
    PipelineMotoTest::SetUp();
    queue_url_ = CreateFifoQueue("ops-" + std::to_string(++n_));
    seams_ = NewSeams(queue_url_);
  }
  // One compactor cycle on `shard`; it must succeed.
  void Compact(const ShardId& shard) {
    Compactor c(seams_.kv.get(), seams_.objects.get(), seams_.queue.get(), &clock_, Options("ops", 60000));
    CycleResult r = c.RunCycle(shard, {});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  }

  static inline int n_ = 0;
  ManualClock clock_;
  std::string queue_url_;
  Seams seams_;
};

}  // namespace chromapact::pipeline::fixture
