// chromapact: command-line tool. Subcommands:
//   chromapact smoke [--prefix P] [--endpoint URL]   one pass over S3, SQS and DynamoDB (smoke.h)
// Exit status: 0 on success, 1 when the subcommand failed (the Status is printed to stderr),
// 2 for bad command-line arguments (CLI11).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "smoke.h"

int main(int argc, char** argv) {
  CLI::App app{"chromapact: serverless, ChromaDB-compatible vector store for AWS"};
  app.require_subcommand(1);

  chromapact::cli::SmokeOptions smoke;
  CLI::App* smoke_cmd = app.add_subcommand(
      "smoke", "Create a bucket, FIFO queue + DLQ and table; exercise each with our clients (env: AWS_*)");
  smoke_cmd->add_option("--prefix", smoke.prefix,
                        "Name prefix of the bucket/queues/table (default chromapact-smoke-<unix seconds>)");
  smoke_cmd->add_option("--endpoint", smoke.endpoint, "Endpoint for all services (default: AWS_ENDPOINT_URL*)");

  CLI11_PARSE(app, argc, argv);

  if (smoke_cmd->parsed()) {
    chromapact::Status s = chromapact::cli::RunSmoke(smoke);
    if (!s.ok()) {
      std::fprintf(stderr, "chromapact smoke: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
