// The operator's subcommands of `chromapact`, each registered on the CLI11 app with its options and
// a callback that runs it (exit status 0 on success, 1 on failure with the error on stderr; CLI11
// answers 2 for bad arguments, 105/106 --help style exits as CLI11 does).
#pragma once

#include <CLI/CLI.hpp>

#include "context.h"

namespace chromapact::cli {

void AddStatusCommand(CLI::App* app, Context* ctx);    // status [COLLECTION...]
void AddImportCommand(CLI::App* app, Context* ctx);    // import PERSIST_DIR --collection NAME
void AddExportCommand(CLI::App* app, Context* ctx);    // export COLLECTION DIR
void AddDiffCommand(CLI::App* app, Context* ctx);      // diff COLLECTION PERSIST_DIR
void AddQueryCommand(CLI::App* app, Context* ctx);     // query COLLECTION (--embedding | --text)
void AddRedriveCommand(CLI::App* app, Context* ctx);   // redrive [--max N]
void AddLeaseCommand(CLI::App* app, Context* ctx);     // lease release COLLECTION --force
void AddServeCommand(CLI::App* app, Context* ctx);     // serve [--host H] [--port P]: Chroma's REST API
void AddVersionsCommand(CLI::App* app, Context* ctx);  // versions COLLECTION [--shard N]
void AddRollbackCommand(CLI::App* app, Context* ctx);  // rollback COLLECTION (--to KEY | --version N)
void AddGcCommand(CLI::App* app, Context* ctx);        // gc COLLECTION [--keep N] [--min-age-ms MS] [--dry-run]

}  // namespace chromapact::cli
