// EmbeddingOptionsFromEnv / EmbeddingFunctionFromEnv: CHROMAPACT_EMBEDDING_* -> options, the API key
// read once from Secrets Manager when asked to (openai_embeddings.h).
#include <cerrno>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "chromapact/aws/secrets_manager.h"
#include "chromapact/embed/openai_embeddings.h"

namespace chromapact::embed {
namespace {

constexpr const char* kSecretVar = "CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

Result<int64_t> EnvInt(const char* name, int64_t dflt, int64_t min, int64_t max) {
  const std::string v = Env(name);
  if (v.empty()) return dflt;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || end == v.c_str() || *end != '\0' || n < min || n > max) {
    return InvalidArgument(std::string(name) + ": expected an integer in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "], got '" + v + "'");
  }
  return static_cast<int64_t>(n);
}

// The API key inside a SecretString: the whole string, or the "api_key" of a JSON object.
Result<std::string> KeyFromSecretString(const std::string& secret) {
  size_t first = secret.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return InvalidArgument(std::string(kSecretVar) + ": the secret's SecretString is empty");
  if (secret[first] == '{') {
    nlohmann::json j = nlohmann::json::parse(secret, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return InvalidArgument(std::string(kSecretVar) + ": the SecretString starts with '{' but is not a JSON object");
    }
    auto it = j.find("api_key");
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      return InvalidArgument(std::string(kSecretVar) +
                             ": the SecretString is a JSON object without a non-empty string \"api_key\"");
    }
    return it->get<std::string>();
  }
  size_t last = secret.find_last_not_of(" \t\r\n");
  return secret.substr(first, last - first + 1);
}

}  // namespace

Result<std::optional<OpenAIEmbeddingOptions>> EmbeddingOptionsFromEnv(aws::SecretsManagerClient* secrets) {
  OpenAIEmbeddingOptions o;
  o.base_url = Env("CHROMAPACT_EMBEDDING_URL");
  if (o.base_url.empty()) return std::optional<OpenAIEmbeddingOptions>();
  o.model = Env("CHROMAPACT_EMBEDDING_MODEL");
  if (o.model.empty()) {
    return InvalidArgument("CHROMAPACT_EMBEDDING_MODEL: not set (required with CHROMAPACT_EMBEDDING_URL)");
  }
  if (Env("CHROMAPACT_EMBEDDING_DIMENSION").empty()) {
    return InvalidArgument(
        "CHROMAPACT_EMBEDDING_DIMENSION: not set (required with CHROMAPACT_EMBEDDING_URL: the model's output "
        "dimension, e.g. 1536 for text-embedding-3-small)");
  }
  CP_ASSIGN_OR_RETURN(int64_t dim, EnvInt("CHROMAPACT_EMBEDDING_DIMENSION", 0, 1, 65536));
  o.dimension = static_cast<uint32_t>(dim);
  CP_ASSIGN_OR_RETURN(int64_t max_batch, EnvInt("CHROMAPACT_EMBEDDING_MAX_BATCH", 2048, 1, 2048));
  o.max_batch = static_cast<size_t>(max_batch);
  CP_ASSIGN_OR_RETURN(int64_t max_bytes, EnvInt("CHROMAPACT_EMBEDDING_MAX_BATCH_BYTES", 300000, 1, 100000000));
  o.max_batch_bytes = static_cast<size_t>(max_bytes);
  CP_ASSIGN_OR_RETURN(int64_t attempts, EnvInt("CHROMAPACT_EMBEDDING_MAX_ATTEMPTS", 4, 1, 10));
  o.max_attempts = static_cast<int>(attempts);
  CP_ASSIGN_OR_RETURN(o.timeout_ms, EnvInt("CHROMAPACT_EMBEDDING_TIMEOUT_MS", 30000, 100, 900000));

  const std::string header = Env("CHROMAPACT_EMBEDDING_API_KEY_HEADER");
  if (header.empty() || header == "auto") {
    o.api_key_header = ApiKeyHeader::kAuto;
  } else if (header == "bearer") {
    o.api_key_header = ApiKeyHeader::kBearer;
  } else if (header == "api-key") {
    o.api_key_header = ApiKeyHeader::kApiKey;
  } else {
    return InvalidArgument("CHROMAPACT_EMBEDDING_API_KEY_HEADER: expected auto, bearer or api-key, got '" + header +
                           "'");
  }

  o.api_key = Env("CHROMAPACT_EMBEDDING_API_KEY");
  const std::string secret_id = Env(kSecretVar);
  if (!secret_id.empty()) {
    if (!o.api_key.empty()) {
      return InvalidArgument(std::string("CHROMAPACT_EMBEDDING_API_KEY and ") + kSecretVar +
                             ": both set; set one of them");
    }
    std::unique_ptr<aws::SecretsManagerClient> own;
    if (secrets == nullptr) {
      auto client = aws::SecretsManagerClient::FromEnvironment();
      if (!client.ok()) return client.status().WithContext(kSecretVar);
      own = std::move(client).value();
      secrets = own.get();
    }
    auto value = secrets->GetSecretValue(secret_id);
    if (!value.ok()) return value.status().WithContext(std::string(kSecretVar) + " " + secret_id);
    if (!value->secret_string) {
      return InvalidArgument(std::string(kSecretVar) + " " + secret_id +
                             ": the secret holds SecretBinary; store the key as SecretString");
    }
    CP_ASSIGN_OR_RETURN(o.api_key, KeyFromSecretString(*value->secret_string));
  }
  return std::optional<OpenAIEmbeddingOptions>(std::move(o));
}

Result<std::unique_ptr<EmbeddingFunction>> EmbeddingFunctionFromEnv(aws::SecretsManagerClient* secrets) {
  CP_ASSIGN_OR_RETURN(std::optional<OpenAIEmbeddingOptions> options, EmbeddingOptionsFromEnv(secrets));
  if (!options) return std::unique_ptr<EmbeddingFunction>();
  auto created = OpenAIEmbeddings::Create(std::move(*options));
  if (!created.ok()) return created.status().WithContext("CHROMAPACT_EMBEDDING_*");
  return std::unique_ptr<EmbeddingFunction>(std::move(created).value());
}

}  // namespace chromapact::embed
