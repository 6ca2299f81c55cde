// A moto_server per test binary, on a free 127.0.0.1 port, with SigV4 signature checking switched on
// after set-up (POST /moto-api/reset-auth with body 0, docs/aws-notes.md §1). Started through the project's
// own launcher (tests/support/moto_launcher.py), which checks signatures against the raw request URI
// as sent, so correctly percent-encoded paths and queries are accepted (docs/aws-notes.md §1 bug).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "chromapact/aws/credentials.h"
#include "chromapact/status.h"

namespace chromapact::testing {

class MotoServer {
 public:
  // Starts moto (auth off), waits until /moto-api/ answers. Errors: kUnavailable when it cannot start.
  // $CHROMAPACT_MOTO_LAUNCHER, when set, names another launcher script taking the same arguments.
  static Result<std::unique_ptr<MotoServer>> Start();
  ~MotoServer();  // SIGTERM, then SIGKILL after a grace period; waits for the process.

  std::string endpoint() const;  // "http://127.0.0.1:PORT"
  int port() const { return port_; }

  // Creates an IAM user with an inline policy (JSON) and an access key; returns its credentials.
  // Works before and after EnableAuth (after: signed with admin credentials).
  Result<aws::Credentials> CreateUser(const std::string& name, const std::string& policy_json);
  // Creates role `role_name` (trusting IAM user `user_name`, whose credentials are `user`) with the
  // inline policy `policy_json`, then assumes it as that user through STS: temporary credentials
  // (ASIA... key, secret, session token), as a Lambda function receives them. The user needs
  // sts:AssumeRole once auth is on. Works before and after EnableAuth (after: needs Admin()).
  Result<aws::Credentials> AssumeRole(const std::string& user_name, const aws::Credentials& user,
                                      const std::string& role_name, const std::string& policy_json);
  // A user allowed "*" on "*", created on first call.
  Result<aws::Credentials> Admin();
  // Turns signature checking and IAM enforcement on for every later request.
  Status EnableAuth();
  // A ClientConfig for this server with the given credentials, region us-east-1.
  aws::ClientConfig Config(const aws::Credentials& creds) const;

 private:
  // Pass key: only Start() constructs a server (std::make_unique needs a public constructor).
  class Token {
    friend class MotoServer;
    Token() = default;
  };

 public:
  explicit MotoServer(Token) {}

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool auth_on_ = false;
  std::unique_ptr<aws::Credentials> admin_;
};

}  // namespace chromapact::testing
