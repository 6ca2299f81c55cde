#include "context.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "chromapact/aws/credentials.h"
#include "chromapact/aws/dynamodb.h"
#include "chromapact/aws/sqs.h"
#include "chromapact/pipeline/kv_store_dynamo.h"
#include "chromapact/pipeline/object_store_s3.h"
#include "chromapact/pipeline/queue_sqs.h"

namespace chromapact::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

Status Need(const std::string& value, const char* flag, const char* env) {
  if (!value.empty()) return Status::Ok();
  return InvalidArgument(std::string(flag) + ": not given (set it or $" + env + ")");
}

}  // namespace

void AddContextOptions(CLI::App* app, Context* ctx) {
  ctx->bucket = Env("CHROMAPACT_BUCKET");
  ctx->table = Env("CHROMAPACT_TABLE");
  ctx->queue_url = Env("CHROMAPACT_QUEUE_URL");
  ctx->dlq_url = Env("CHROMAPACT_DLQ_URL");
  if (std::string s = Env("CHROMAPACT_SHARDS"); !s.empty()) ctx->shards = std::atoi(s.c_str());
  app->add_option("--bucket", ctx->bucket, "S3 bucket of the logs and snapshots ($CHROMAPACT_BUCKET)");
  app->add_option("--table", ctx->table, "DynamoDB table of leases, pointers, sequences ($CHROMAPACT_TABLE)");
  app->add_option("--queue-url", ctx->queue_url, "SQS trigger queue ($CHROMAPACT_QUEUE_URL)");
  app->add_option("--dlq-url", ctx->dlq_url, "SQS dead-letter queue ($CHROMAPACT_DLQ_URL)");
  app->add_option("--shards", ctx->shards, "Shards per collection ($CHROMAPACT_SHARDS, default 1)")
      ->check(CLI::Range(1, 1024));
  app->add_flag("--json", ctx->json, "Print one JSON document instead of text");
  app->add_option("--work-dir", ctx->work_dir, "Scratch folder for transfers (kept; default: a temporary one)");
}

Result<aws::S3Client*> Context::S3() {
  if (!s3_) {
    CP_RETURN_IF_ERROR(Need(bucket, "--bucket", "CHROMAPACT_BUCKET"));
    CP_ASSIGN_OR_RETURN(auto config, aws::ClientConfigFromEnvironment("s3"));
    s3_ = std::make_unique<aws::S3Client>(config);
  }
  return s3_.get();
}

Result<pipeline::ObjectStore*> Context::Objects() {
  if (!objects_) {
    CP_ASSIGN_OR_RETURN(aws::S3Client * s3, S3());
    objects_ = pipeline::NewS3ObjectStore(s3, bucket);
  }
  return objects_.get();
}

Result<pipeline::KvStore*> Context::Kv() {
  if (!kv_) {
    CP_RETURN_IF_ERROR(Need(table, "--table", "CHROMAPACT_TABLE"));
    CP_ASSIGN_OR_RETURN(auto config, aws::ClientConfigFromEnvironment("dynamodb"));
    kv_ = pipeline::NewDynamoKvStore(std::make_unique<aws::DynamoDbClient>(config), table);
  }
  return kv_.get();
}

Result<pipeline::Queue*> Context::Queue() {
  if (!queue_) {
    CP_RETURN_IF_ERROR(Need(queue_url, "--queue-url", "CHROMAPACT_QUEUE_URL"));
    CP_ASSIGN_OR_RETURN(auto config, aws::ClientConfigFromEnvironment("sqs"));
    queue_ = pipeline::NewSqsQueue(std::make_unique<aws::SqsClient>(config), queue_url);
  }
  return queue_.get();
}

Result<pipeline::Queue*> Context::DeadLetters() {
  if (!dlq_) {
    CP_RETURN_IF_ERROR(Need(dlq_url, "--dlq-url", "CHROMAPACT_DLQ_URL"));
    CP_ASSIGN_OR_RETURN(auto config, aws::ClientConfigFromEnvironment("sqs"));
    dlq_ = pipeline::NewSqsQueue(std::make_unique<aws::SqsClient>(config), dlq_url);
  }
  return dlq_.get();
}

Status Context::Connect(pipeline::ObjectStore** objects, pipeline::KvStore** kv, const std::string& what,
                        std::string* scratch) {
  CP_ASSIGN_OR_RETURN(*objects, Objects());
  CP_ASSIGN_OR_RETURN(*kv, Kv());
  if (scratch != nullptr) {
    CP_ASSIGN_OR_RETURN(*scratch, Scratch(what));
  }
  return Status::Ok();
}

Result<std::string> Context::Scratch(const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string dir;
  if (!work_dir.empty()) {
    dir = work_dir + "/" + what;
  } else {
    std::string tmpl = (fs::temp_directory_path(ec) / ("chromapact-" + what + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) return IOError("mkdtemp " + tmpl + " failed");
    dir = tmpl;
    scratch_.push_back(dir);
  }
  fs::create_directories(dir, ec);
  if (ec) return IOError("create " + dir + ": " + ec.message());
  return dir;
}

std::vector<int> Context::ShardsOrAll(const std::vector<int>& chosen) const {
  if (!chosen.empty()) return chosen;
  std::vector<int> all;
  for (int s = 0; s < shards; ++s) all.push_back(s);
  return all;
}

Context::~Context() {
  std::error_code ec;
  for (const auto& d : scratch_) std::filesystem::remove_all(d, ec);
}

void ExitOnError(const std::string& command, const Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "chromapact %s: %s\n", command.c_str(), status.ToString().c_str());
  throw CLI::RuntimeError(1);
}

void PrintJson(const nlohmann::json& doc) { std::printf("%s\n", doc.dump(2).c_str()); }

void ProgressLine::operator()(uint64_t done, uint64_t total) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now - last_ms_ < 1000 && done != total) return;
  last_ms_ = now;
  if (total > 0) {
    std::fprintf(stderr, "%s: %llu/%llu records\n", what_.c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
  } else {
    std::fprintf(stderr, "%s: %llu records\n", what_.c_str(), static_cast<unsigned long long>(done));
  }
}

}  // namespace chromapact::cli
