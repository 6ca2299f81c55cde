#include "chromapact/ops/redrive.h"

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/delta_message.h"

namespace chromapact::ops {

Result<RedriveResult> Redrive(pipeline::Queue* dlq, pipeline::Queue* queue, const RedriveOptions& o) {
  RedriveResult r;
  Status first_failure;
  for (;;) {
    int want = 10;
    if (o.max_messages > 0) {
      const uint64_t left = o.max_messages - (r.moved + r.failed);
      if (left == 0) break;
      want = static_cast<int>(std::min<uint64_t>(10, left));
    }
    CP_ASSIGN_OR_RETURN(auto batch, dlq->Receive(want, o.wait_seconds, o.visibility_seconds));
    if (batch.empty()) break;
    for (const pipeline::QueueMessage& m : batch) {
      pipeline::QueueSend send;
      send.body = m.body;
      send.group_id = m.group_id;
      if (!m.group_id.empty()) send.dedup_id = pipeline::SqsId("redrive#" + m.message_id);
      auto sent = queue->Send(send);
      Status st = sent.status();
      if (st.ok()) {
        auto del = dlq->DeleteBatch({m.receipt_handle});
        st = !del.ok() ? del.status()
             : del->empty() ? Status::Ok()
                            : Unavailable(del->front().code + ": " + del->front().message);
      }
      if (!st.ok()) {
        ++r.failed;
        if (first_failure.ok()) first_failure = st.WithContext("redrive message " + m.message_id);
        continue;
      }
      ++r.moved;
      const auto body = nlohmann::json::parse(m.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("reason")) ++r.reports;
    }
  }
  if (!first_failure.ok()) {
    return Unavailable(std::to_string(r.failed) + " message(s) not moved (" + std::to_string(r.moved) +
                       " moved); first: " + first_failure.ToString());
  }
  return r;
}

}  // namespace chromapact::ops
