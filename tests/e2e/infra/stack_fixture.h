// Helpers for the infra/ tests: run a process (infra/deploy, aws CLI, cfn-lint, python3) with a
// deadline and capture its output, and assume an existing IAM role through moto's STS (the roles the
// stack created), as Lambda does for each function.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../runtime/emulator_process.h"
#include "chromapact/aws/credentials.h"
#include "chromapact/aws/http.h"
#include "chromapact/aws/sigv4.h"
#include "chromapact/crypto.h"
#include "chromapact/status.h"

extern char** environ;

namespace chromapact::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: could not start, or killed at the deadline
  bool timed_out = false;
  std::string output;  // stdout + stderr
};

// Runs `argv` (argv[0] looked up in PATH) with this process's environment minus every variable named
// in `unset`, plus `env` (which wins); stdout+stderr go to `log` and are returned. SIGKILLs the
// child when `timeout` passes.
inline ProcessResult RunProcess(const std::vector<std::string>& argv,
                                const std::vector<std::pair<std::string, std::string>>& env,
                                const std::vector<std::string>& unset, const std::string& log,
                                std::chrono::seconds timeout) {
  ProcessResult r;
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const std::string name = kv.substr(0, kv.find('='));
    bool drop = false;
    for (const auto& u : unset) drop = drop || u == name;
    for (const auto& [k, v] : env) drop = drop || k == name;
    if (!drop) env_s.push_back(kv);
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<std::string> args = argv;
  std::vector<char*> argv_p;
  for (auto& a : args) argv_p.push_back(a.data());
  argv_p.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, argv_p.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.output = "spawn " + args[0] + ": " + std::strerror(rc);
    return r;
  }
  int status = 0;
  const bool done = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    r.timed_out = true;
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  }
  r.output = ReadFile(log);
  return r;
}

// True when `program` is found in PATH.
inline bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string p = path == nullptr ? "" : path;
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = p.find(':', start);
    const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

// Text of the first <tag>...</tag> in `xml`, or "".
inline std::string FirstXmlText(const std::string& xml, const std::string& tag) {
  const size_t b = xml.find("<" + tag + ">");
  if (b == std::string::npos) return "";
  const size_t s = b + tag.size() + 2;
  const size_t e = xml.find("</" + tag + ">", s);
  return e == std::string::npos ? "" : xml.substr(s, e - s);
}

// sts:AssumeRole of the existing role `role_arn` at moto `endpoint`, signed with `caller`: temporary
// credentials (ASIA... key, secret, session token) as Lambda hands a function of that role. moto
// checks the role's trust policy only while signature checking is on, and cannot evaluate a
// `Service` principal (docs/aws-notes.md §1), so call this before MotoServer::EnableAuth.
// Errors: kInternal naming the role when STS answers without credentials or with an HTTP error.
inline Result<aws::Credentials> AssumeExistingRole(const std::string& endpoint,
                                                   const aws::Credentials& caller,
                                                   const std::string& role_arn, const std::string& session) {
  const std::string body = "Version=2011-06-15&Action=AssumeRole&RoleArn=" + aws::UriEncode(role_arn, false) +
                           "&RoleSessionName=" + aws::UriEncode(session, false);
  aws::SignableRequest sreq;
  sreq.method = "POST";
  sreq.path = "/";
  sreq.headers = {{"host", endpoint.substr(endpoint.find("://") + 3)},
                  {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  sreq.payload_sha256 = Sha256Hex(body);
  aws::SigningParams sp;
  sp.region = "us-east-1";
  sp.service = "sts";
  CP_RETURN_IF_ERROR(aws::SignHeaders(&sreq, caller, sp).status());
  aws::HttpRequest req;
  req.method = "POST";
  req.url = endpoint + "/";
  req.headers = sreq.headers;
  req.body = body;
  aws::HttpClient http;
  CP_ASSIGN_OR_RETURN(auto resp, http.Send(req));
  if (resp.status != 200) {
    return Internal("sts AssumeRole " + role_arn + ": HTTP " + std::to_string(resp.status) + " " +
                    FirstXmlText(resp.body, "Code"));
  }
  aws::Credentials c{FirstXmlText(resp.body, "AccessKeyId"), FirstXmlText(resp.body, "SecretAccessKey"),
                     FirstXmlText(resp.body, "SessionToken")};
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return Internal("sts AssumeRole " + role_arn + ": the answer has no credentials");
  }
  return c;
}

}  // namespace chromapact::testing
