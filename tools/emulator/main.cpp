// chromapact-emulator: a local stand-in for the Lambda service around one custom-runtime bootstrap,
// for tests and the demo (docs/aws-notes.md §8). Listens on 127.0.0.1 only.
//
//   chromapact-emulator --bootstrap build/lambdas/query/bootstrap --timeout 30 --ports-file ports.json
//   curl -d '{"collection":"c"}' http://127.0.0.1:8080/2015-03-31/functions/function/invocations
//
// With --sqs-queue-url it is also the function's SQS event source (sqs_poller.h): it receives from
// the queue (credentials, region and endpoint from the environment: AWS_ENDPOINT_URL_SQS, ...),
// invokes the function with SQS events and deletes the messages not named in batchItemFailures
// (FIFO: none from the first failure on).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chromapact/aws/sqs.h"
#include "emulator.h"
#include "http_front.h"
#include "sqs_poller.h"

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

bool WritePortsFile(const std::string& path, int invoke_port, int runtime_port) {
  nlohmann::json j = {{"invoke_port", invoke_port}, {"runtime_port", runtime_port}, {"pid", getpid()}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;  // readers never see a partial file
}

}  // namespace

int main(int argc, char** argv) {
  using chromapact::emulator::Emulator;
  using chromapact::emulator::EmulatorConfig;
  using chromapact::emulator::HttpFront;

  EmulatorConfig config;
  config.function_name = EnvOr("AWS_LAMBDA_FUNCTION_NAME", "function");
  config.region = EnvOr("AWS_REGION", "us-east-1");
  config.timeout_s = std::atof(EnvOr("AWS_LAMBDA_FUNCTION_TIMEOUT", "3").c_str());
  int invoke_port = 8080;
  int runtime_port = 0;
  std::string ports_file;
  std::vector<std::string> env_pairs;
  bool lazy = false;
  chromapact::emulator::SqsPollerConfig sqs;

  CLI::App app{"Local AWS Lambda Runtime API emulator for one custom-runtime bootstrap (127.0.0.1 only)"};
  app.add_option("--bootstrap", config.bootstrap, "the runtime executable to run")->required()->check(CLI::ExistingFile);
  app.add_option("--invoke-port", invoke_port, "port of POST /2015-03-31/functions/{name}/invocations (0 = any free)")
      ->capture_default_str();
  app.add_option("--runtime-port", runtime_port, "port of the Runtime API given to the bootstrap (0 = any free)")
      ->capture_default_str();
  app.add_option("--ports-file", ports_file, "write {\"invoke_port\",\"runtime_port\",\"pid\"} here once listening");
  app.add_option("--timeout", config.timeout_s, "invocation timeout in seconds (default $AWS_LAMBDA_FUNCTION_TIMEOUT or 3)")
      ->check(CLI::PositiveNumber);
  app.add_option("--init-timeout", config.init_timeout_s, "seconds an event may wait for the runtime's /next")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--function-name", config.function_name, "AWS_LAMBDA_FUNCTION_NAME (and the ARN)")->capture_default_str();
  app.add_option("--function-version", config.function_version, "AWS_LAMBDA_FUNCTION_VERSION")->capture_default_str();
  app.add_option("--memory-size", config.memory_mb, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE in MB")->capture_default_str();
  app.add_option("--region", config.region, "AWS_REGION (and the ARN)")->capture_default_str();
  app.add_option("--account-id", config.account_id, "account in the function ARN")->capture_default_str();
  app.add_option("--handler", config.handler, "_HANDLER")->capture_default_str();
  app.add_option("--task-root", config.task_root, "LAMBDA_TASK_ROOT (default: the bootstrap's directory)");
  app.add_option("--env", env_pairs, "KEY=VALUE for the bootstrap's environment (repeatable)");
  app.add_flag("--lazy-init", lazy, "start the bootstrap on the first invoke instead of at start-up");
  app.add_option("--sqs-queue-url", sqs.queue_url,
                 "also act as this SQS queue's event source (ReportBatchItemFailures semantics)");
  app.add_option("--sqs-batch-size", sqs.batch_size, "messages per SQS event, 1..10")->capture_default_str();
  app.add_option("--sqs-wait-seconds", sqs.wait_time_seconds, "long-poll time of each ReceiveMessage, 0..20")
      ->capture_default_str();
  app.add_option("--sqs-visibility-timeout", sqs.visibility_timeout,
                 "visibility timeout (s) of received messages; -1 = the queue's")
      ->capture_default_str();
  app.add_option("args", config.bootstrap_args, "arguments for the bootstrap (after --)");
  CLI11_PARSE(app, argc, argv);
  config.eager_init = !lazy;
  if (!(config.timeout_s > 0)) {  // also catches an unparsable $AWS_LAMBDA_FUNCTION_TIMEOUT (atof gives 0)
    std::cerr << "chromapact-emulator: the timeout must be a positive number of seconds\n";
    return 2;
  }
  for (const auto& kv : env_pairs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "chromapact-emulator: --env expects KEY=VALUE, got " << kv << "\n";
      return 2;
    }
    config.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (access(config.bootstrap.c_str(), X_OK) != 0) {
    std::cerr << "chromapact-emulator: " << config.bootstrap << " is not executable (Runtime.InvalidEntrypoint)\n";
    return 2;
  }

  // Signals are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a caller or runtime hanging up must not kill the emulator

  Emulator emulator(config);
  HttpFront front(emulator);
  if (auto st = front.Bind(invoke_port, runtime_port); !st.ok()) {
    std::cerr << "chromapact-emulator: " << st.ToString() << "\n";
    return 1;
  }
  emulator.SetRuntimeApi("127.0.0.1:" + std::to_string(front.runtime_port()));
  front.Start();
  if (auto st = emulator.Start(); !st.ok()) {
    std::cerr << "chromapact-emulator: " << st.ToString() << "\n";
    emulator.Shutdown();
    front.Stop();
    return 1;
  }
  std::printf("chromapact-emulator: invoke=127.0.0.1:%d runtime=127.0.0.1:%d\n", front.invoke_port(),
              front.runtime_port());
  std::fflush(stdout);
  if (!ports_file.empty() && !WritePortsFile(ports_file, front.invoke_port(), front.runtime_port())) {
    std::cerr << "chromapact-emulator: cannot write " << ports_file << "\n";
    emulator.Shutdown();
    front.Stop();
    return 1;
  }

  std::unique_ptr<chromapact::emulator::SqsPoller> poller;
  if (!sqs.queue_url.empty()) {
    auto client_config = chromapact::aws::ClientConfigFromEnvironment("sqs");
    chromapact::Status st = client_config.status();
    if (st.ok()) {
      poller = std::make_unique<chromapact::emulator::SqsPoller>(
          emulator, std::make_unique<chromapact::aws::SqsClient>(*client_config), sqs);
      st = poller->Start();
    }
    if (!st.ok()) {
      std::cerr << "chromapact-emulator: --sqs-queue-url: " << st.ToString() << "\n";
      emulator.Shutdown();
      front.Stop();
      return 1;
    }
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "chromapact-emulator: signal %d, shutting down\n", sig);
  emulator.Shutdown();  // first: releases a poller waiting in Invoke()
  if (poller) poller->Stop();
  front.Stop();
  return 0;
}
