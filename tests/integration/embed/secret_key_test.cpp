// CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN: the API key read once from Secrets Manager (moto_server,
// signature checking on) through EmbeddingOptionsFromEnv, then used against embeddings_server.py
// started with --api-key: a raw SecretString and a JSON {"api_key": ...} both work; a missing
// secret, a JSON object without api_key, a caller without secretsmanager:GetSecretValue, and a wrong
// key each fail with a clear status that never shows the key.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "chromapact/aws/secrets_manager.h"
#include "chromapact/embed/openai_embeddings.h"
#include "support/embeddings_server.h"
#include "support/moto.h"

namespace chromapact::embed {
namespace {

constexpr const char* kKey = "sk-from-secrets-manager-42";

class SecretKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = testing::MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::make_unique<aws::Credentials>(*admin);
    ASSERT_TRUE(moto_->EnableAuth().ok());
    auto s = testing::EmbeddingsServer::Start({"--dimension", "8", "--api-key", kKey});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    // The secrets, created through our own client as the admin.
    aws::SecretsManagerClient sm(moto_->Config(*admin_));
    auto raw = sm.CreateSecret("embedding-key-raw", kKey);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    raw_arn_ = *raw;
    auto json = sm.CreateSecret("embedding-key-json", nlohmann::json({{"api_key", kKey}, {"org", "x"}}).dump());
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    auto nokey = sm.CreateSecret("embedding-key-nokey", R"({"token": "x"})");
    ASSERT_TRUE(nokey.ok()) << nokey.status().ToString();
    auto wrong = sm.CreateSecret("embedding-key-wrong", "not-the-key");
    ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
    EXPECT_EQ(sm.CreateSecret("embedding-key-raw", "again").status().code(), StatusCode::kAlreadyExists);
  }
  static void TearDownTestSuite() {
    server_.reset();
    admin_.reset();
    moto_.reset();
  }

  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    ASSERT_NE(server_, nullptr);
    UseCredentials(*admin_);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_->endpoint().c_str(), 1);
    setenv("CHROMAPACT_EMBEDDING_URL", server_->base_url().c_str(), 1);
    setenv("CHROMAPACT_EMBEDDING_MODEL", "local-hash", 1);
    setenv("CHROMAPACT_EMBEDDING_DIMENSION", "8", 1);
  }
  void TearDown() override {
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                          "AWS_ENDPOINT_URL_SECRETS_MANAGER", "CHROMAPACT_EMBEDDING_URL", "CHROMAPACT_EMBEDDING_MODEL",
                          "CHROMAPACT_EMBEDDING_DIMENSION", "CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN"}) {
      unsetenv(v);
    }
  }
  static void UseCredentials(const aws::Credentials& c) {
    setenv("AWS_ACCESS_KEY_ID", c.access_key_id.c_str(), 1);
    setenv("AWS_SECRET_ACCESS_KEY", c.secret_access_key.c_str(), 1);
    unsetenv("AWS_SESSION_TOKEN");
  }

  // EmbeddingFunctionFromEnv with the secret variable set to `secret`.
  static Result<std::unique_ptr<EmbeddingFunction>> FromSecret(const std::string& secret) {
    setenv("CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN", secret.c_str(), 1);
    return EmbeddingFunctionFromEnv();
  }

  static inline std::unique_ptr<testing::MotoServer> moto_;
  static inline std::unique_ptr<aws::Credentials> admin_;
  static inline std::unique_ptr<testing::EmbeddingsServer> server_;
  static inline std::string raw_arn_;
};

TEST_F(SecretKeyTest, RawSecretStringByArnIsTheKey) {
  auto opts = EmbeddingOptionsFromEnv();
  ASSERT_TRUE(opts.ok() && opts->has_value());
  EXPECT_TRUE((*opts)->api_key.empty());  // without the variable: no key, and the server refuses
  auto keyless = EmbeddingFunctionFromEnv();
  ASSERT_TRUE(keyless.ok());
  EXPECT_EQ((*keyless)->Embed({"hello"}).status().code(), StatusCode::kUnauthenticated);

  ASSERT_FALSE(raw_arn_.empty());
  auto f = FromSecret(raw_arn_);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_NE(f->get(), nullptr);
  auto r = (*f)->Embed({"hello world", "goodbye"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 16u);
}

TEST_F(SecretKeyTest, JsonSecretStringByNameGivesItsApiKey) {
  auto f = FromSecret("embedding-key-json");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto r = (*f)->Embed({"hello"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto opts = EmbeddingOptionsFromEnv();
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ((*opts)->api_key, kKey);
}

TEST_F(SecretKeyTest, ProblemsAreNamedAndNeverShowTheKey) {
  auto missing = FromSecret("no-such-secret");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN no-such-secret"),
            std::string::npos)
      << missing.status().message();

  auto nokey = FromSecret("embedding-key-nokey");
  ASSERT_FALSE(nokey.ok());
  EXPECT_EQ(nokey.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nokey.status().message().find("\"api_key\""), std::string::npos) << nokey.status().message();

  auto wrong = FromSecret("embedding-key-wrong");
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
  auto refused = (*wrong)->Embed({"hello"});
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status().ToString();
  EXPECT_EQ(refused.status().ToString().find("not-the-key"), std::string::npos);

  setenv("CHROMAPACT_EMBEDDING_API_KEY", "also-set", 1);
  auto both = FromSecret("embedding-key-raw");
  unsetenv("CHROMAPACT_EMBEDDING_API_KEY");
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument) << both.status().ToString();

  for (const auto& s : {missing.status(), nokey.status(), both.status()}) {
    EXPECT_EQ(s.ToString().find(kKey), std::string::npos) << s.ToString();
  }
}

TEST_F(SecretKeyTest, ACallerWithoutGetSecretValueIsRefused) {
  auto user = moto_->CreateUser(
      "no-secrets", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]})");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  UseCredentials(*user);
  auto f = FromSecret("embedding-key-raw");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kPermissionDenied) << f.status().ToString();
}

}  // namespace
}  // namespace chromapact::embed
