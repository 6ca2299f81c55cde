#include "chromapact/aws/credentials.h"

#include <cctype>
#include <cstdlib>

namespace chromapact::aws {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::string ToString(const Credentials& c) {
  return "Credentials{access_key_id=" + c.access_key_id + ", secret_access_key=" +
         (c.secret_access_key.empty() ? "<none>" : "<redacted>") +
         ", session_token=" + (c.session_token.empty() ? "<none>" : "<set>") + "}";
}

std::string ToString(const ClientConfig& c) {
  return "ClientConfig{region=" + c.region + ", endpoint=" + (c.endpoint.empty() ? "<aws>" : c.endpoint) +
         ", credentials=" + ToString(c.credentials) + "}";
}

Result<Credentials> CredentialsFromEnvironment() {
  Credentials c{Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN")};
  if (c.access_key_id.empty()) return InvalidArgument("environment: AWS_ACCESS_KEY_ID is not set");
  if (c.secret_access_key.empty()) return InvalidArgument("environment: AWS_SECRET_ACCESS_KEY is not set");
  return c;
}

std::string RegionFromEnvironment() {
  std::string r = Env("AWS_REGION");
  if (r.empty()) r = Env("AWS_DEFAULT_REGION");
  return r.empty() ? "us-east-1" : r;
}

std::string EndpointFromEnvironment(const std::string& service) {
  std::string name = "AWS_ENDPOINT_URL_";
  for (char c : service) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string e = Env(name.c_str());
  if (e.empty()) e = Env("AWS_ENDPOINT_URL");
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

Result<ClientConfig> ClientConfigFromEnvironment(const std::string& service) {
  CP_ASSIGN_OR_RETURN(Credentials creds, CredentialsFromEnvironment());
  ClientConfig c;
  c.credentials = std::move(creds);
  c.region = RegionFromEnvironment();
  c.endpoint = EndpointFromEnvironment(service);
  return c;
}

}  // namespace chromapact::aws
