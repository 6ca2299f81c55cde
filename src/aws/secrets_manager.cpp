// SecretsManagerClient: GetSecretValue / CreateSecret over the shared JSON-protocol transport
// (json_service.h) with Content-Type application/x-amz-json-1.1 (secrets_manager.h).
#include "chromapact/aws/secrets_manager.h"

#include "json_service.h"

namespace chromapact::aws {

struct SecretsManagerClient::Impl {
  internal::JsonService service;
  Impl(ClientConfig config, SecretsManagerOptions options)
      : service(std::move(config), {"secretsmanager", "secretsmanager", "application/x-amz-json-1.1"},
                {options.max_attempts, options.timeout_ms}) {}
};

SecretsManagerClient::SecretsManagerClient(ClientConfig config, SecretsManagerOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {}

SecretsManagerClient::~SecretsManagerClient() = default;

Result<std::unique_ptr<SecretsManagerClient>> SecretsManagerClient::FromEnvironment(SecretsManagerOptions options) {
  CP_ASSIGN_OR_RETURN(ClientConfig config, ClientConfigFromEnvironment("secrets_manager"));
  return std::make_unique<SecretsManagerClient>(std::move(config), options);
}

namespace {

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<SecretValue> SecretsManagerClient::GetSecretValue(const std::string& secret_id,
                                                         const std::string& version_stage) {
  if (secret_id.empty()) return InvalidArgument("GetSecretValue: SecretId is empty");
  nlohmann::json body = {{"SecretId", secret_id}};
  if (!version_stage.empty()) body["VersionStage"] = version_stage;
  CP_ASSIGN_OR_RETURN(nlohmann::json resp, impl_->service.Call("secretsmanager.GetSecretValue", body));
  SecretValue v;
  v.arn = StringField(resp, "ARN");
  v.name = StringField(resp, "Name");
  v.version_id = StringField(resp, "VersionId");
  if (auto it = resp.find("SecretString"); it != resp.end() && it->is_string()) v.secret_string = it->get<std::string>();
  v.has_binary = resp.contains("SecretBinary") && !resp["SecretBinary"].is_null();
  if (!v.secret_string && !v.has_binary) {
    return Internal("GetSecretValue " + secret_id + ": answer has neither SecretString nor SecretBinary");
  }
  return v;
}

Result<std::string> SecretsManagerClient::CreateSecret(const std::string& name, const std::string& secret_string) {
  if (name.empty()) return InvalidArgument("CreateSecret: Name is empty");
  CP_ASSIGN_OR_RETURN(nlohmann::json resp, impl_->service.Call("secretsmanager.CreateSecret",
                                                               {{"Name", name}, {"SecretString", secret_string}}));
  std::string arn = StringField(resp, "ARN");
  if (arn.empty()) return Internal("CreateSecret " + name + ": answer has no ARN");
  return arn;
}

}  // namespace chromapact::aws
