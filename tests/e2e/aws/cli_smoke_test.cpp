// `chromapact smoke` (tools/chromapact, what scripts/demo runs) as a real process against moto_server
// with signature checking on: all 15 steps pass with an admin's keys; a wrong secret fails at the
// first step with SignatureDoesNotMatch, exit status 1 and no secret in the output; no subcommand is
// a usage error.
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

#include "support/moto.h"
#include "support/paths.h"
#include "support/run_command.h"

namespace chromapact {
namespace {

using testing::MotoServer;

using CliRun = testing::CommandRun;

// Runs the CLI with `args` and the given AWS_* variables replacing the inherited ones.
CliRun RunCli(const std::vector<std::string>& args, const std::vector<std::string>& aws_env) {
  std::vector<std::string> argv = {testing::BuildDir() + "/tools/chromapact/chromapact"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv, aws_env);
}

// Progress lines "[ n/N] <step> ... <verdict> (x.y ms)" whose verdict is `verdict`.
size_t StepLines(const std::string& out, const std::string& verdict) {
  std::istringstream in(out);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[' && line.find(" " + verdict + " (") != std::string::npos) ++n;
  }
  return n;
}

class CliSmokeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    ASSERT_TRUE(moto_->EnableAuth().ok());
  }
  static void TearDownTestSuite() { moto_.reset(); }

  std::vector<std::string> Env(const aws::Credentials& c) {
    return {"AWS_ACCESS_KEY_ID=" + c.access_key_id, "AWS_SECRET_ACCESS_KEY=" + c.secret_access_key,
            "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + moto_->endpoint()};
  }

  static std::unique_ptr<MotoServer> moto_;
};

std::unique_ptr<MotoServer> CliSmokeTest::moto_;

TEST_F(CliSmokeTest, EveryStepPassesWithSignatureCheckingOn) {
  auto admin = moto_->Admin();
  ASSERT_TRUE(admin.ok());
  CliRun r = RunCli({"smoke", "--prefix", "cli-smoke-ok"}, Env(*admin));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(StepLines(r.out, "ok"), 15u) << r.out;
  EXPECT_EQ(StepLines(r.out, "FAILED"), 0u) << r.out;
  EXPECT_NE(r.out.find("[15/15] dynamodb PutItem attribute_not_exists(pk) again loses"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("smoke: all 15 steps ok"), std::string::npos) << r.out;
  // The names are the prefix's: a second run with the same prefix finds the bucket taken.
  CliRun again = RunCli({"smoke", "--prefix", "cli-smoke-ok"}, Env(*admin));
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find("AlreadyExists"), std::string::npos) << again.err;
}

TEST_F(CliSmokeTest, WrongSecretFailsTheFirstStepWithoutLeakingIt) {
  auto admin = moto_->Admin();
  ASSERT_TRUE(admin.ok());
  aws::Credentials wrong = *admin;
  wrong.secret_access_key = "wrong-" + wrong.secret_access_key;
  CliRun r = RunCli({"smoke", "--prefix", "cli-smoke-bad"}, Env(wrong));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("[ 1/15] s3 CreateBucket cli-smoke-bad"), std::string::npos) << r.out;
  EXPECT_EQ(StepLines(r.out, "FAILED"), 1u) << r.out;
  EXPECT_EQ(StepLines(r.out, "ok"), 0u) << r.out;
  EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find(wrong.secret_access_key), std::string::npos);
  EXPECT_EQ((r.out + r.err).find(admin->secret_access_key), std::string::npos);
}

TEST_F(CliSmokeTest, MissingCredentialsAndMissingSubcommandAreErrors) {
  CliRun no_creds = RunCli({"smoke"}, {"AWS_ENDPOINT_URL=" + moto_->endpoint()});
  EXPECT_EQ(no_creds.exit_code, 1);
  EXPECT_NE(no_creds.err.find("AWS_ACCESS_KEY_ID"), std::string::npos) << no_creds.err;
  CliRun usage = RunCli({}, {});
  EXPECT_NE(usage.exit_code, 0);
  EXPECT_NE(usage.exit_code, 1) << "a usage error is not a failed run";
}

}  // namespace
}  // namespace chromapact
