// chromapact: the operator's command-line tool. `chromapact --help` and `chromapact <command> --help`
// list everything; commands.h has one line per command. Exit status: 0 on success, 1 when the
// command failed (the Status on stderr; `diff` also when the two sides differ), 2 for bad arguments.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "commands.h"
#include "context.h"
#include "smoke.h"

int main(int argc, char** argv) {
  CLI::App app{"chromapact: serverless, ChromaDB-compatible vector store for AWS"};
  app.require_subcommand(1);
  app.fallthrough();  // --json, --shards, ... also after the subcommand
  chromapact::cli::Context ctx;
  chromapact::cli::AddContextOptions(&app, &ctx);
  chromapact::cli::AddStatusCommand(&app, &ctx);
  chromapact::cli::AddImportCommand(&app, &ctx);
  chromapact::cli::AddExportCommand(&app, &ctx);
  chromapact::cli::AddDiffCommand(&app, &ctx);
  chromapact::cli::AddQueryCommand(&app, &ctx);
  chromapact::cli::AddRedriveCommand(&app, &ctx);
  chromapact::cli::AddLeaseCommand(&app, &ctx);
  chromapact::cli::AddServeCommand(&app, &ctx);
  chromapact::cli::AddVersionsCommand(&app, &ctx);
  chromapact::cli::AddRollbackCommand(&app, &ctx);
  chromapact::cli::AddGcCommand(&app, &ctx);

  chromapact::cli::SmokeOptions smoke;
  CLI::App* smoke_cmd = app.add_subcommand(
      "smoke", "Create a bucket, FIFO queue + DLQ and table; exercise each with our clients (env: AWS_*)");
  smoke_cmd->add_option("--prefix", smoke.prefix,
                        "Name prefix of the bucket/queues/table (default chromapact-smoke-<unix seconds>)");
  smoke_cmd->add_option("--endpoint", smoke.endpoint, "Endpoint for all services (default: AWS_ENDPOINT_URL*)");
  smoke_cmd->callback([&smoke] {
    chromapact::Status s = chromapact::cli::RunSmoke(smoke);
    chromapact::cli::ExitOnError("smoke", s);
  });

  CLI11_PARSE(app, argc, argv);
  return 0;
}
