// Credentials, region and endpoints from the environment (AWS SDK variable names), and that no
// Status or ToString ever shows the secret or the session token.
#include "chromapact/aws/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>

namespace chromapact::aws {
namespace {

const char* const kVars[] = {"AWS_ACCESS_KEY_ID",     "AWS_SECRET_ACCESS_KEY",  "AWS_SESSION_TOKEN",
                             "AWS_REGION",            "AWS_DEFAULT_REGION",     "AWS_ENDPOINT_URL",
                             "AWS_ENDPOINT_URL_S3",   "AWS_ENDPOINT_URL_SQS",   "AWS_ENDPOINT_URL_DYNAMODB"};

// Clears every variable above for the test and restores the process environment afterwards.
class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* old = std::getenv(v);
      saved_[v] = old ? std::optional<std::string>(old) : std::nullopt;
      unsetenv(v);
    }
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) setenv(name.c_str(), value->c_str(), 1);
      else unsetenv(name.c_str());
    }
  }
  static void Set(const char* name, const char* value) { setenv(name, value, 1); }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(EnvTest, CredentialsFromEnvironment) {
  Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  auto c = CredentialsFromEnvironment();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "env-secret");
  EXPECT_EQ(c->session_token, "");
  Set("AWS_SESSION_TOKEN", "env-token");
  c = CredentialsFromEnvironment();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->session_token, "env-token");
}

TEST_F(EnvTest, MissingCredentialsNameTheVariable) {
  auto c = CredentialsFromEnvironment();
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << c.status().ToString();
  Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  Set("AWS_SECRET_ACCESS_KEY", "");  // empty counts as unset
  c = CredentialsFromEnvironment();
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << c.status().ToString();
  auto cfg = ClientConfigFromEnvironment("s3");
  EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EnvTest, RegionFallback) {
  EXPECT_EQ(RegionFromEnvironment(), "us-east-1");
  Set("AWS_DEFAULT_REGION", "eu-west-1");
  EXPECT_EQ(RegionFromEnvironment(), "eu-west-1");
  Set("AWS_REGION", "ap-south-1");
  EXPECT_EQ(RegionFromEnvironment(), "ap-south-1");
  Set("AWS_REGION", "");
  EXPECT_EQ(RegionFromEnvironment(), "eu-west-1");
}

TEST_F(EnvTest, EndpointPrecedence) {
  EXPECT_EQ(EndpointFromEnvironment("s3"), "");
  Set("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/");
  EXPECT_EQ(EndpointFromEnvironment("s3"), "http://127.0.0.1:5000");  // trailing '/' removed
  EXPECT_EQ(EndpointFromEnvironment("sqs"), "http://127.0.0.1:5000");
  Set("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:6000");
  Set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:7000");
  EXPECT_EQ(EndpointFromEnvironment("s3"), "http://127.0.0.1:6000");
  EXPECT_EQ(EndpointFromEnvironment("dynamodb"), "http://127.0.0.1:7000");
  EXPECT_EQ(EndpointFromEnvironment("sqs"), "http://127.0.0.1:5000");
}

TEST_F(EnvTest, ClientConfigFromEnvironment) {
  Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  Set("AWS_SESSION_TOKEN", "env-token");
  Set("AWS_DEFAULT_REGION", "eu-central-1");
  Set("AWS_ENDPOINT_URL", "http://localhost:4566");
  Set("AWS_ENDPOINT_URL_SQS", "http://localhost:9324");
  auto cfg = ClientConfigFromEnvironment("sqs");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->region, "eu-central-1");
  EXPECT_EQ(cfg->endpoint, "http://localhost:9324");
  EXPECT_EQ(cfg->credentials.session_token, "env-token");
  auto s3 = ClientConfigFromEnvironment("s3");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->endpoint, "http://localhost:4566");
}

TEST(Credentials, ToStringNeverShowsSecrets) {
  Credentials c{"AKIDVISIBLE", "very-secret-value", "very-secret-token"};
  std::string s = ToString(c);
  EXPECT_NE(s.find("AKIDVISIBLE"), std::string::npos) << s;
  EXPECT_EQ(s.find("very-secret"), std::string::npos) << s;
  EXPECT_NE(s.find("<set>"), std::string::npos) << s;
  ClientConfig cfg;
  cfg.credentials = c;
  cfg.endpoint = "http://127.0.0.1:5000";
  std::string t = ToString(cfg);
  EXPECT_NE(t.find("http://127.0.0.1:5000"), std::string::npos) << t;
  EXPECT_EQ(t.find("very-secret"), std::string::npos) << t;
  EXPECT_NE(ToString(Credentials{"A", "", ""}).find("session_token=<none>"), std::string::npos);
}

}  // namespace
}  // namespace chromapact::aws
