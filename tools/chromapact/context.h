// What every operator command shares: where the collection lives (bucket, table, queues, shards;
// each a flag with an environment default, the same variables the functions read) and the clients,
// made on first use, plus the output conventions (text, or one JSON document with --json).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/aws/s3.h"
#include "chromapact/pipeline/clock.h"
#include "chromapact/pipeline/kv_store.h"
#include "chromapact/pipeline/object_store.h"
#include "chromapact/pipeline/queue.h"
#include "chromapact/status.h"

namespace chromapact::cli {

struct Context {
  std::string bucket;     // --bucket, $CHROMAPACT_BUCKET
  std::string table;      // --table, $CHROMAPACT_TABLE
  std::string queue_url;  // --queue-url, $CHROMAPACT_QUEUE_URL
  std::string dlq_url;    // --dlq-url, $CHROMAPACT_DLQ_URL
  int shards = 1;         // --shards, $CHROMAPACT_SHARDS
  bool json = false;      // --json: one JSON document on stdout instead of text
  std::string work_dir;   // --work-dir: scratch for transfers (default: a new folder under $TMPDIR)

  pipeline::SystemClock clock;

  // Clients on first use. Errors: kInvalidArgument naming the missing flag / variable; the AWS
  // clients' configuration errors (credentials.h).
  Result<aws::S3Client*> S3();
  Result<pipeline::ObjectStore*> Objects();
  Result<pipeline::KvStore*> Kv();
  Result<pipeline::Queue*> Queue();
  Result<pipeline::Queue*> DeadLetters();
  // Objects() and Kv() together (the commands that read versions need both), and with `scratch`
  // non-null also Scratch(what) into *scratch (transfers). Errors: theirs.
  Status Connect(pipeline::ObjectStore** objects, pipeline::KvStore** kv, const std::string& what = "",
                 std::string* scratch = nullptr);
  // `chosen` (a command's repeated --shard), or every shard 0 .. shards-1 when none was given.
  std::vector<int> ShardsOrAll(const std::vector<int>& chosen) const;
  // A fresh scratch folder (removed by the destructor unless --work-dir was given).
  Result<std::string> Scratch(const std::string& what);

  ~Context();

 private:
  std::unique_ptr<aws::S3Client> s3_;
  std::unique_ptr<pipeline::ObjectStore> objects_;
  std::unique_ptr<pipeline::KvStore> kv_;
  std::unique_ptr<pipeline::Queue> queue_, dlq_;
  std::vector<std::string> scratch_;
};

// Adds --bucket, --table, --queue-url, --dlq-url, --shards, --json, --work-dir to `app` (inherited by
// its subcommands), defaults from the environment.
void AddContextOptions(CLI::App* app, Context* ctx);

// Ends a command: prints the error to stderr ("chromapact <command>: <status>") and throws CLI11's
// RuntimeError with exit status 1. Does nothing for an OK status.
void ExitOnError(const std::string& command, const Status& status);

// Prints `doc` as indented JSON with a trailing newline.
void PrintJson(const nlohmann::json& doc);

// Progress on stderr, at most one line a second plus the last one: "<what>: done/total records".
class ProgressLine {
 public:
  explicit ProgressLine(std::string what) : what_(std::move(what)) {}
  void operator()(uint64_t done, uint64_t total);

 private:
  std::string what_;
  int64_t last_ms_ = 0;
};

}  // namespace chromapact::cli
