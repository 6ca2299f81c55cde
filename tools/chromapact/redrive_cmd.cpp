// chromapact redrive [--max N]: the dead-letter queue back to the trigger queue (ops/redrive.h).
#include "chromapact/ops/redrive.h"
#include "commands.h"

namespace chromapact::cli {

void AddRedriveCommand(CLI::App* app, Context* ctx) {
  auto* cmd = app->add_subcommand("redrive", "Move the dead-letter queue's messages back to the trigger queue");
  auto o = std::make_shared<ops::RedriveOptions>();
  cmd->add_option("--max", o->max_messages, "Move at most this many (default: all)");
  cmd->callback([ctx, o] {
    auto dlq = ctx->DeadLetters();
    ExitOnError("redrive", dlq.status());
    auto queue = ctx->Queue();
    ExitOnError("redrive", queue.status());
    auto r = ops::Redrive(*dlq, *queue, *o);
    ExitOnError("redrive", r.status());
    if (ctx->json) {
      PrintJson({{"moved", r->moved}, {"reports", r->reports}, {"failed", r->failed}});
    } else {
      std::printf("moved %llu message(s) from the dead-letter queue to the queue (%llu skipped-entry report(s))\n",
                  static_cast<unsigned long long>(r->moved), static_cast<unsigned long long>(r->reports));
    }
  });
}

}  // namespace chromapact::cli
