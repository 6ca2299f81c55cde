#include "support/moto.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "chromapact/aws/http.h"
#include "chromapact/aws/sigv4.h"
#include "chromapact/crypto.h"
#include "support/paths.h"

namespace chromapact::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A port the kernel considers free right now (another process may take it before moto binds it:
// Start() retries on a failed start).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string XmlText(const std::string& xml, const std::string& tag) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t a = xml.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  size_t b = xml.find(close, a);
  return b == std::string::npos ? "" : xml.substr(a, b - a);
}

// Waits until the child exits or `grace` passes (the exit is an event on its pidfd: no polling);
// true when it exited (and was reaped).
bool WaitExit(pid_t pid, std::chrono::milliseconds grace) {
  int st = 0;
  pid_t r = waitpid(pid, &st, WNOHANG);
  if (r == pid || r < 0) return true;
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // Linux 5.3+
  if (fd < 0) return false;  // gone already (reaped elsewhere) or no pidfds: the caller escalates
  pollfd readable{fd, POLLIN, 0};
  (void)poll(&readable, 1, static_cast<int>(grace.count()));
  close(fd);
  r = waitpid(pid, &st, WNOHANG);
  return r == pid || r < 0;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  if (!WaitExit(pid, std::chrono::milliseconds(3000))) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

// The python3 that runs moto: $CHROMAPACT_PYTHON; else the virtual environment scripts/install-deps
// makes in the build tree when moto is not installed (<build>/venv); else python3 from PATH.
std::string Python() {
  const char* p = std::getenv("CHROMAPACT_PYTHON");
  if (p != nullptr && *p != '\0') return p;
  const std::string venv_bin = BuildDir() + "/venv/bin/";
  if (access((venv_bin + "moto_server").c_str(), X_OK) == 0) return venv_bin + "python3";
  return "python3";
}

}  // namespace

Result<std::unique_ptr<MotoServer>> MotoServer::Start() {
  namespace fs = std::filesystem;
  // $CHROMAPACT_MOTO_LAUNCHER: a test's own launcher that extends this one (tests/e2e/infra/).
  const char* launcher_env = std::getenv("CHROMAPACT_MOTO_LAUNCHER");
  const std::string launcher = (launcher_env != nullptr && *launcher_env != '\0')
                                   ? std::string(launcher_env)
                                   : SourceDir() + "/tests/support/moto_launcher.py";
  const std::string python = Python();
  const fs::path log_dir = fs::path(BuildDir()) / "test-scratch" / "moto-logs";
  std::error_code ec;
  fs::create_directories(log_dir, ec);
  std::string last_error = "no attempt";
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int port = FreePort();
    if (port == 0) return Unavailable("moto: no free port on 127.0.0.1");
    const std::string log = (log_dir / ("moto-" + std::to_string(port) + ".log")).string();
    const std::string port_s = std::to_string(port);
    pid_t pid = fork();
    if (pid < 0) return Unavailable("moto: fork failed");
    if (pid == 0) {
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
        close(out);
      }
      unsetenv("INITIAL_NO_AUTH_ACTION_COUNT");  // auth off until EnableAuth()
      execlp(python.c_str(), python.c_str(), launcher.c_str(), "-H", "127.0.0.1", "-p", port_s.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    auto server = std::make_unique<MotoServer>(Token());
    server->pid_ = pid;
    server->port_ = port;
    aws::HttpClient http;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    bool up = false;
    bool exited = false;
    while (Clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        exited = true;
        server->pid_ = -1;
        break;
      }
      aws::HttpRequest req;
      req.url = server->endpoint() + "/moto-api/";
      req.timeout_ms = 2000;
      req.connect_timeout_ms = 500;
      auto resp = http.Send(req);
      if (resp.ok() && resp->status == 200) {
        up = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (up) return server;
    last_error = exited ? "moto exited during start-up (see " + log + ")" : "moto did not answer within 30 s";
  }
  return Unavailable("moto: " + last_error);
}

MotoServer::~MotoServer() { Stop(pid_); }

std::string MotoServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

aws::ClientConfig MotoServer::Config(const aws::Credentials& creds) const {
  aws::ClientConfig c;
  c.credentials = creds;
  c.region = "us-east-1";
  c.endpoint = endpoint();
  return c;
}

namespace {

// One query-protocol call (POST / form body) to IAM (signing name "iam", API version 2010-05-08)
// or, with `service` "sts", to STS (2011-06-15).
Result<std::string> IamCall(const std::string& endpoint, const aws::Credentials& creds,
                            const std::vector<std::pair<std::string, std::string>>& params,
                            const std::string& service = "iam") {
  std::string body = service == "sts" ? "Version=2011-06-15" : "Version=2010-05-08";
  for (const auto& [k, v] : params) body += "&" + aws::UriEncode(k, false) + "=" + aws::UriEncode(v, false);
  aws::SignableRequest sreq;
  sreq.method = "POST";
  sreq.path = "/";
  sreq.headers = {{"host", endpoint.substr(endpoint.find("://") + 3)},
                  {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  sreq.payload_sha256 = Sha256Hex(body);
  aws::SigningParams sp;
  sp.region = "us-east-1";
  sp.service = service;
  auto sig = aws::SignHeaders(&sreq, creds, sp);
  if (!sig.ok()) return sig.status();
  aws::HttpRequest req;
  req.method = "POST";
  req.url = endpoint + "/";
  req.headers = sreq.headers;
  req.body = body;
  aws::HttpClient http;
  auto resp = http.Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) {
    return Internal("moto " + service + " " + params.front().second + ": HTTP " + std::to_string(resp->status) + " " +
                    XmlText(resp->body, "Code"));
  }
  return resp->body;
}

}  // namespace

Result<aws::Credentials> MotoServer::CreateUser(const std::string& name, const std::string& policy_json) {
  aws::Credentials signer{"AKIAIOSFODNN7EXAMPLE", "not-checked-before-auth", ""};
  if (auth_on_) {
    if (!admin_) return Internal("moto: CreateUser after EnableAuth needs the admin (call Admin() first)");
    signer = *admin_;
  }
  const std::string ep = endpoint();
  CP_RETURN_IF_ERROR(IamCall(ep, signer, {{"Action", "CreateUser"}, {"UserName", name}}).status());
  CP_RETURN_IF_ERROR(IamCall(ep, signer,
                             {{"Action", "PutUserPolicy"},
                              {"UserName", name},
                              {"PolicyName", name + "-policy"},
                              {"PolicyDocument", policy_json}})
                         .status());
  CP_ASSIGN_OR_RETURN(std::string xml, IamCall(ep, signer, {{"Action", "CreateAccessKey"}, {"UserName", name}}));
  aws::Credentials c{XmlText(xml, "AccessKeyId"), XmlText(xml, "SecretAccessKey"), ""};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Internal("moto: CreateAccessKey answer has no key for " + name);
  }
  return c;
}

Result<aws::Credentials> MotoServer::AssumeRole(const std::string& user_name, const aws::Credentials& user,
                                                const std::string& role_name, const std::string& policy_json) {
  aws::Credentials signer{"AKIAIOSFODNN7EXAMPLE", "not-checked-before-auth", ""};
  if (auth_on_) {
    if (!admin_) return Internal("moto: AssumeRole after EnableAuth needs the admin (call Admin() first)");
    signer = *admin_;
  }
  const std::string ep = endpoint();
  // The trust policy must name the caller's user ARN (docs/aws-notes.md §1: account root is refused).
  const std::string trust = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/)" +
                            user_name + R"("},"Action":"sts:AssumeRole"}]})";
  CP_RETURN_IF_ERROR(
      IamCall(ep, signer, {{"Action", "CreateRole"}, {"RoleName", role_name}, {"AssumeRolePolicyDocument", trust}})
          .status());
  CP_RETURN_IF_ERROR(IamCall(ep, signer,
                             {{"Action", "PutRolePolicy"},
                              {"RoleName", role_name},
                              {"PolicyName", role_name + "-policy"},
                              {"PolicyDocument", policy_json}})
                         .status());
  CP_ASSIGN_OR_RETURN(std::string xml,
                      IamCall(ep, user,
                              {{"Action", "AssumeRole"},
                               {"RoleArn", "arn:aws:iam::123456789012:role/" + role_name},
                               {"RoleSessionName", role_name + "-session"}},
                              "sts"));
  aws::Credentials c{XmlText(xml, "AccessKeyId"), XmlText(xml, "SecretAccessKey"), XmlText(xml, "SessionToken")};
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return Internal("moto: AssumeRole answer has no credentials for " + role_name);
  }
  return c;
}

Result<aws::Credentials> MotoServer::Admin() {
  if (!admin_) {
    CP_ASSIGN_OR_RETURN(auto c, CreateUser("chromapact-admin",
                                           R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"));
    admin_ = std::make_unique<aws::Credentials>(std::move(c));
  }
  return *admin_;
}

Status MotoServer::EnableAuth() {
  CP_RETURN_IF_ERROR(Admin().status());  // afterwards only signed requests get through
  aws::HttpRequest req;
  req.method = "POST";
  req.url = endpoint() + "/moto-api/reset-auth";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = "0";
  aws::HttpClient http;
  auto resp = http.Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return Internal("moto: reset-auth answered HTTP " + std::to_string(resp->status));
  auth_on_ = true;
  return Status::Ok();
}

}  // namespace chromapact::testing
