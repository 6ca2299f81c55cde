// An EmbeddingFunction over any OpenAI-compatible embeddings endpoint (OpenAI, Azure OpenAI, Ollama,
// vLLM, Hugging Face TEI, LiteLLM, ...), through our own libcurl HttpClient (aws/http.h).
//
// Wire format (OpenAI API reference, "Embeddings: Create embeddings", POST /v1/embeddings):
//   request   POST <base_url>/embeddings, Content-Type: application/json,
//             body {"model": "<model>", "input": ["text 0", "text 1", ...]}
//             auth: "Authorization: Bearer <key>"; Azure OpenAI hosts take "api-key: <key>" instead
//             (Azure OpenAI REST reference, "Authentication")
//   answer    200 {"object": "list", "data": [{"object": "embedding", "index": i, "embedding":
//             [floats...]}, ...], "model": ..., "usage": {...}}: one entry per input, `index` = the
//             input's position in the request (the order of `data` is not relied upon: rows are
//             placed by index)
//   errors    non-2xx with {"error": {"message", "type", "code"}} (OpenAI); TEI/Ollama send
//             {"error": "<text>"}; vLLM {"message": ...}: whichever is present is quoted.
// Limits (OpenAI API reference, same page): at most 2048 inputs per request and 300,000 tokens
// summed over the inputs. A request is split into batches of at most `max_batch` inputs and at most
// `max_batch_bytes` UTF-8 bytes (a byte-level BPE token covers at least one byte, so a byte bound is
// a token bound); a single input larger than the byte bound travels alone (the provider judges it).
// Batches are sent one after another, in order.
//
// Retries (the policy of OpenAI's own client, openai-python `_base_client.py` `_should_retry`):
// HTTP 408, 409, 429 and every 5xx, and connection errors / timeouts (HttpClient kUnavailable /
// kTimeout) are retried up to max_attempts per batch. The wait before retry n is the full-jitter
// backoff of aws/retry.h (uniform in [0, min(cap_delay_ms, base_delay_ms * 2^(n-1))]), but never less
// than the answer's `retry-after-ms` (milliseconds; Azure) or `Retry-After` (seconds or an HTTP-date,
// RFC 9110 §10.2.3) header; an answer asking for longer than max_retry_after_ms is not waited for
// (the error is returned at once, naming the wait asked for).
//
// Not thread-safe (one HttpClient; give each thread its own OpenAIEmbeddings). The API key is never
// logged nor put into a Status message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/aws/http.h"
#include "chromapact/aws/retry.h"
#include "chromapact/embed/embedding_function.h"
#include "chromapact/status.h"

namespace chromapact::aws {
class SecretsManagerClient;
}

namespace chromapact::embed {

// Which header carries the API key.
enum class ApiKeyHeader {
  kAuto,    // kApiKey for Azure hosts (*.openai.azure.com, *.cognitiveservices.azure.com), else kBearer
  kBearer,  // "Authorization: Bearer <key>" (OpenAI, vLLM --api-key, LiteLLM, TEI --api-key, ...)
  kApiKey,  // "api-key: <key>" (Azure OpenAI key authentication)
};

struct OpenAIEmbeddingOptions {
  // Base URL of the API, without the trailing "/embeddings": e.g. https://api.openai.com/v1,
  // http://localhost:11434/v1 (Ollama). May carry a query string (Azure deployment URLs:
  // https://<resource>.openai.azure.com/openai/deployments/<deployment>?api-version=2024-10-21):
  // "/embeddings" goes before the '?'. http:// or https:// only.
  std::string base_url;
  std::string model;        // the "model" field (Azure deployment URLs ignore it; still sent)
  uint32_t dimension = 0;   // expected floats per embedding (>= 1); every answered vector is checked
  std::string api_key;      // empty = no auth header (local servers). A secret.
  ApiKeyHeader api_key_header = ApiKeyHeader::kAuto;
  size_t max_batch = 2048;             // inputs per request, >= 1 (OpenAI's maximum: 2048)
  size_t max_batch_bytes = 300000;     // UTF-8 bytes of the inputs per request, >= 1 (300,000 tokens)
  int max_attempts = 4;                // attempts per batch, >= 1 (1 = no retry)
  int64_t base_delay_ms = 250;         // backoff ceiling before the first retry (ms)
  int64_t cap_delay_ms = 8000;         // no backoff ceiling exceeds this (ms)
  int64_t max_retry_after_ms = 20000;  // longest Retry-After honoured (ms); longer = give up
  int64_t timeout_ms = 30000;          // whole-request timeout per attempt (ms)
  int64_t connect_timeout_ms = 5000;   // TCP + TLS connect timeout per attempt (ms)
};

// Counters since the OpenAIEmbeddings was created (for metrics and tests).
struct EmbeddingStats {
  uint64_t inputs = 0;    // texts embedded successfully
  uint64_t batches = 0;   // batches answered successfully
  uint64_t attempts = 0;  // HTTP requests sent (including failed ones and retries)
  uint64_t retries = 0;   // attempts after the first of a batch
  int64_t waited_ms = 0;  // total time slept between attempts (ms)
};

class OpenAIEmbeddings final : public EmbeddingFunction {
 public:
  // Checks `options`: kInvalidArgument naming the field ("base_url: ...", "model: empty",
  // "dimension: must be >= 1", "max_batch: must be >= 1", "max_batch_bytes: ...", "max_attempts: ...").
  // `sleep` / `random` as aws::RetryPolicy's (null: really sleep / a seeded generator): tests
  // inject them to see the waits without waiting.
  static Result<std::unique_ptr<OpenAIEmbeddings>> Create(OpenAIEmbeddingOptions options,
                                                          aws::RetryPolicy::SleepFn sleep = nullptr,
                                                          aws::RetryPolicy::RandomFn random = nullptr);
  ~OpenAIEmbeddings() override;

  // Embeds `texts` in batches (see the file comment). Returns texts.size() x dimension() floats.
  // Errors, each naming the URL (never the key) and, for answers, the batch and the field:
  //   kUnauthenticated (401) / kPermissionDenied (403) / kNotFound (404: wrong URL or model) /
  //   kInvalidArgument (400, 413, 422 and other 4xx: the provider's message is quoted) — not retried;
  //   kThrottled (429) / kUnavailable (5xx, 409, connection refused/reset, DNS) / kTimeout (408, or
  //   timeout_ms passed) — after max_attempts attempts ("... after N attempts"), or at once when a
  //   Retry-After exceeds max_retry_after_ms;
  //   ParseEmbeddingsResponse's errors for a 2xx answer (kCorruption shape, kInvalidArgument
  //   dimension); kCorruption when a 2xx body is not JSON (e.g. NaN, which JSON cannot carry).
  // On error nothing is returned for any batch (the call is all or nothing).
  Result<std::vector<float>> Embed(const std::vector<std::string>& texts) override;

  uint32_t dimension() const override { return options_.dimension; }
  // "<model> at <base_url>".
  std::string name() const override;
  const OpenAIEmbeddingOptions& options() const { return options_; }
  const EmbeddingStats& stats() const { return stats_; }

 private:
  OpenAIEmbeddings(OpenAIEmbeddingOptions options, aws::RetryPolicy::SleepFn sleep,
                   aws::RetryPolicy::RandomFn random);
  // One batch [begin, end) of `texts`, with retries; appends its rows to *out.
  Status EmbedBatch(const std::vector<std::string>& texts, size_t begin, size_t end, std::vector<float>* out);

  OpenAIEmbeddingOptions options_;
  std::string url_;  // EmbeddingsUrl(base_url)
  aws::RetryPolicy retry_;
  aws::RetryPolicy::SleepFn sleep_;
  std::unique_ptr<aws::HttpClient> http_;
  EmbeddingStats stats_;
};

// ---- Pieces of the above, exposed for unit tests ----------------------------------------------

// The endpoint: base_url without trailing '/' + "/embeddings", inserted before a query string.
// "https://api.openai.com/v1/" -> "https://api.openai.com/v1/embeddings".
std::string EmbeddingsUrl(const std::string& base_url);

// kAuto resolved against `base_url`'s host (see ApiKeyHeader); other values are returned as given.
ApiKeyHeader ResolveApiKeyHeader(const std::string& base_url, ApiKeyHeader header);

// Batches of `texts` as [begin, end) ranges covering every index in order: each range has at most
// `max_batch` inputs and at most `max_batch_bytes` bytes summed over its texts, except that a range
// always holds at least one text. max_batch / max_batch_bytes of 0 count as 1.
std::vector<std::pair<size_t, size_t>> PlanBatches(const std::vector<std::string>& texts, size_t max_batch,
                                                   size_t max_batch_bytes);

// The rows of one answer body for a request of `count` inputs: count x dimension floats, row
// `index`. `first_input` (the batch's first input in the Embed call) only shapes messages.
// Errors (messages name the field: "data", "data[j].index", "data[j].embedding[k]"):
//   kCorruption: the body is not an object or has no list "data"; data has another number of
//     entries than `count` ("expected N embeddings (one per input), got M"); an entry that is not an
//     object; "index" missing, not an integer, outside [0, count) or repeated (a missing index then
//     shows as the repeated one's twin: "index i given twice" / "no embedding for input i");
//     "embedding" missing or not a list (a base64 string included); an element that is not a number,
//     or not finite once narrowed to float32;
//   kInvalidArgument: an embedding whose length differs from `dimension` ("data[j].embedding (input
//     i): expected dimension D (CHROMAPACT_EMBEDDING_DIMENSION), got d") — the configuration and the
//     model disagree.
Result<std::vector<float>> ParseEmbeddingsResponse(const nlohmann::json& body, size_t count, uint32_t dimension,
                                                   size_t first_input = 0);

// The wait an error answer asks for, in ms: `retry-after-ms` (a non-negative number of ms), else
// `Retry-After` as delta-seconds or an IMF-fixdate HTTP-date (relative to `now_epoch_ms`, ms since
// the Unix epoch; a date in the past is 0). nullopt when absent or unparsable.
std::optional<int64_t> RetryAfterMs(const aws::HttpResponse& response, int64_t now_epoch_ms);

// The Status for a non-2xx answer (codes as listed at OpenAIEmbeddings::Embed): "POST <url>: HTTP
// <status>: <the provider's message, at most 300 bytes>".
Status EmbeddingsHttpError(const std::string& url, const aws::HttpResponse& response);

// True for the HTTP statuses worth another attempt: 408, 409, 429, >= 500.
bool IsRetryableEmbeddingsStatus(int http_status);

// ---- Configuration from the environment --------------------------------------------------------
//
//   CHROMAPACT_EMBEDDING_URL            base_url; unset or empty = no embedding function
//   CHROMAPACT_EMBEDDING_MODEL          model (required with the URL)
//   CHROMAPACT_EMBEDDING_DIMENSION      dimension (required with the URL), 1..65536
//   CHROMAPACT_EMBEDDING_API_KEY        api_key (optional)
//   CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN
//                                       instead of the key itself: a Secrets Manager secret (name or
//                                       ARN) read once with GetSecretValue; its SecretString is the
//                                       key, or a JSON object whose "api_key" string is the key
//   CHROMAPACT_EMBEDDING_API_KEY_HEADER auto (default) | bearer | api-key
//   CHROMAPACT_EMBEDDING_MAX_BATCH      max_batch, 1..2048 (default 2048)
//   CHROMAPACT_EMBEDDING_MAX_BATCH_BYTES max_batch_bytes, 1..100000000 (default 300000)
//   CHROMAPACT_EMBEDDING_MAX_ATTEMPTS   max_attempts, 1..10 (default 4)
//   CHROMAPACT_EMBEDDING_TIMEOUT_MS     timeout_ms, 100..900000 (default 30000)
//
// Returns nullopt when CHROMAPACT_EMBEDDING_URL is unset or empty (whatever the others say).
// `secrets` (borrowed) reads the secret; null = SecretsManagerClient::FromEnvironment() when the
// ARN variable is set (AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER, credentials: credentials.h).
// Errors: kInvalidArgument naming the variable (missing model / dimension, a number out of range,
// both API_KEY and API_KEY_SECRET_ARN set, an unknown header style, a secret whose SecretString is
// empty, a JSON object without a string "api_key", or binary); Secrets Manager's errors prefixed
// "CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN: " (kNotFound, kPermissionDenied, ...). Never the key.
Result<std::optional<OpenAIEmbeddingOptions>> EmbeddingOptionsFromEnv(aws::SecretsManagerClient* secrets = nullptr);

// EmbeddingOptionsFromEnv + OpenAIEmbeddings::Create: the function, or nullptr (OK) when
// CHROMAPACT_EMBEDDING_URL is unset. Errors: those two functions'.
Result<std::unique_ptr<EmbeddingFunction>> EmbeddingFunctionFromEnv(aws::SecretsManagerClient* secrets = nullptr);

}  // namespace chromapact::embed
