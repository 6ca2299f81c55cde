// OpenAIEmbeddings: batches -> POST <base>/embeddings with retries -> rows placed by index
// (openai_embeddings.h).
#include "chromapact/embed/openai_embeddings.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <thread>

namespace chromapact::embed {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Host of an absolute URL, lower-cased, without port or user info.
std::string HostOf(const std::string& url) {
  size_t s = url.find("://");
  size_t start = s == std::string::npos ? 0 : s + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    return Lower(authority.substr(0, close == std::string::npos ? std::string::npos : close + 1));
  }
  if (size_t colon = authority.find(':'); colon != std::string::npos) authority = authority.substr(0, colon);
  return Lower(authority);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t EpochNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The provider's error text from a JSON error body, or the body's first bytes when it is not JSON.
std::string ProviderMessage(const std::string& body) {
  std::string msg;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto err = j.find("error");
    if (err != j.end() && err->is_object()) {
      if (auto m = err->find("message"); m != err->end() && m->is_string()) msg = m->get<std::string>();
      if (auto c = err->find("code"); c != err->end() && c->is_string() && !c->get<std::string>().empty()) {
        msg += (msg.empty() ? "" : " ") + ("(" + c->get<std::string>() + ")");
      }
    } else if (err != j.end() && err->is_string()) {
      msg = err->get<std::string>();
    }
    if (msg.empty()) {
      if (auto m = j.find("message"); m != j.end() && m->is_string()) msg = m->get<std::string>();
    }
    if (msg.empty()) {
      if (auto d = j.find("detail"); d != j.end()) msg = d->is_string() ? d->get<std::string>() : d->dump();
    }
  }
  if (msg.empty()) msg = body;
  for (char& c : msg) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  constexpr size_t kMax = 300;
  if (msg.size() > kMax) msg = msg.substr(0, kMax) + "...";
  return msg;
}

// Context for a body that failed to parse: the byte offset and a few bytes around it.
std::string NotJsonDetail(const std::string& body, const nlohmann::json::parse_error& e) {
  const size_t at = e.byte > 0 ? static_cast<size_t>(e.byte - 1) : 0;
  const size_t from = at > 20 ? at - 20 : 0;
  std::string near = body.substr(std::min(from, body.size()), 40);
  for (char& c : near) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  std::string out = "answer is not JSON at byte " + std::to_string(at) + " near '" + near + "'";
  const std::string tail = body.substr(std::min(at > 8 ? at - 8 : 0, body.size()), 16);
  if (tail.find("NaN") != std::string::npos || tail.find("Infinity") != std::string::npos ||
      tail.find("nan") != std::string::npos || tail.find("inf") != std::string::npos) {
    out += " (NaN and Infinity are not JSON numbers: the model returned a non-finite embedding)";
  }
  return out;
}

std::string BatchName(size_t begin, size_t end) {
  return "inputs [" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

}  // namespace

std::string EmbeddingsUrl(const std::string& base_url) {
  std::string base = base_url, query;
  if (size_t q = base.find('?'); q != std::string::npos) {
    query = base.substr(q);
    base = base.substr(0, q);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/embeddings" + query;
}

ApiKeyHeader ResolveApiKeyHeader(const std::string& base_url, ApiKeyHeader header) {
  if (header != ApiKeyHeader::kAuto) return header;
  const std::string host = HostOf(base_url);
  if (EndsWith(host, ".openai.azure.com") || EndsWith(host, ".cognitiveservices.azure.com")) {
    return ApiKeyHeader::kApiKey;
  }
  return ApiKeyHeader::kBearer;
}

std::vector<std::pair<size_t, size_t>> PlanBatches(const std::vector<std::string>& texts, size_t max_batch,
                                                   size_t max_batch_bytes) {
  max_batch = std::max<size_t>(max_batch, 1);
  max_batch_bytes = std::max<size_t>(max_batch_bytes, 1);
  std::vector<std::pair<size_t, size_t>> out;
  size_t begin = 0, bytes = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const size_t n = texts[i].size();
    if (i > begin && (i - begin >= max_batch || bytes + n > max_batch_bytes)) {
      out.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += n;
  }
  if (begin < texts.size()) out.emplace_back(begin, texts.size());
  return out;
}

Result<std::vector<float>> ParseEmbeddingsResponse(const nlohmann::json& body, size_t count, uint32_t dimension,
                                                   size_t first_input) {
  if (!body.is_object()) return Corruption(std::string("answer: expected a JSON object, got ") + body.type_name());
  auto data_it = body.find("data");
  if (data_it == body.end()) return Corruption("data: missing from the answer");
  const nlohmann::json& data = *data_it;
  if (!data.is_array()) return Corruption(std::string("data: expected a list, got ") + data.type_name());
  if (data.size() != count) {
    return Corruption("data: expected " + std::to_string(count) + " embeddings (one per input), got " +
                      std::to_string(data.size()));
  }
  const size_t dim = dimension;
  std::vector<float> out(count * dim, 0.0f);
  std::vector<int64_t> seen_at(count, -1);  // entry j that gave index i
  for (size_t j = 0; j < data.size(); ++j) {
    const nlohmann::json& e = data[j];
    const std::string name = "data[" + std::to_string(j) + "]";
    if (!e.is_object()) return Corruption(name + ": expected an object, got " + e.type_name());
    auto idx_it = e.find("index");
    if (idx_it == e.end() || idx_it->is_null()) return Corruption(name + ".index: missing");
    if (!idx_it->is_number_integer()) {
      return Corruption(name + ".index: expected an integer, got " + std::string(idx_it->type_name()));
    }
    const int64_t index = idx_it->get<int64_t>();
    if (index < 0 || static_cast<uint64_t>(index) >= count) {
      return Corruption(name + ".index: " + std::to_string(index) + " outside [0, " + std::to_string(count) + ")");
    }
    const size_t i = static_cast<size_t>(index);
    if (seen_at[i] >= 0) {
      return Corruption(name + ".index: " + std::to_string(i) + " given twice (also data[" + std::to_string(seen_at[i]) +
                        "]), so some input has no embedding");
    }
    seen_at[i] = static_cast<int64_t>(j);
    auto emb_it = e.find("embedding");
    if (emb_it == e.end() || emb_it->is_null()) return Corruption(name + ".embedding: missing");
    if (emb_it->is_string()) {
      return Corruption(name + ".embedding: expected a list of numbers, got a string (base64 encoding_format?)");
    }
    if (!emb_it->is_array()) {
      return Corruption(name + ".embedding: expected a list of numbers, got " + std::string(emb_it->type_name()));
    }
    const nlohmann::json& v = *emb_it;
    if (v.size() != dim) {
      return InvalidArgument(name + ".embedding (input " + std::to_string(first_input + i) + "): expected dimension " +
                             std::to_string(dim) + " (CHROMAPACT_EMBEDDING_DIMENSION), got " +
                             std::to_string(v.size()));
    }
    float* row = out.data() + i * dim;
    for (size_t k = 0; k < dim; ++k) {
      const nlohmann::json& x = v[k];
      if (!x.is_number()) {
        return Corruption(name + ".embedding[" + std::to_string(k) + "]: expected a number, got " +
                          std::string(x.type_name()));
      }
      const double d = x.get<double>();
      const float f = static_cast<float>(d);
      if (!std::isfinite(d) || !std::isfinite(f)) {
        return Corruption(name + ".embedding[" + std::to_string(k) + "]: " + x.dump() + " is not finite as float32");
      }
      row[k] = f;
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (seen_at[i] < 0) return Corruption("data: no embedding for input " + std::to_string(first_input + i));
  }
  return out;
}

std::optional<int64_t> RetryAfterMs(const aws::HttpResponse& response, int64_t now_epoch_ms) {
  const std::string ms = response.Header("retry-after-ms");
  if (!ms.empty()) {
    char* end = nullptr;
    const double v = std::strtod(ms.c_str(), &end);
    if (end != ms.c_str() && *end == '\0' && std::isfinite(v) && v >= 0 && v < 1e12) return static_cast<int64_t>(v);
  }
  std::string ra = response.Header("retry-after");
  while (!ra.empty() && std::isspace(static_cast<unsigned char>(ra.back()))) ra.pop_back();
  if (ra.empty()) return std::nullopt;
  if (std::all_of(ra.begin(), ra.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (ra.size() > 9) return int64_t{999999999} * 1000;
    return static_cast<int64_t>(std::stoll(ra)) * 1000;
  }
  std::tm tm{};
  const char* end = strptime(ra.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t at_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return std::max<int64_t>(0, at_ms - now_epoch_ms);
}

bool IsRetryableEmbeddingsStatus(int http_status) {
  return http_status == 408 || http_status == 409 || http_status == 429 || http_status >= 500;
}

Status EmbeddingsHttpError(const std::string& url, const aws::HttpResponse& response) {
  const int s = response.status;
  StatusCode code = StatusCode::kInternal;
  if (s == 401) {
    code = StatusCode::kUnauthenticated;
  } else if (s == 403) {
    code = StatusCode::kPermissionDenied;
  } else if (s == 404) {
    code = StatusCode::kNotFound;
  } else if (s == 408) {
    code = StatusCode::kTimeout;
  } else if (s == 429) {
    code = StatusCode::kThrottled;
  } else if (s == 409 || s >= 500) {
    code = StatusCode::kUnavailable;
  } else if (s >= 400) {
    code = StatusCode::kInvalidArgument;
  }
  std::string text = "POST " + url + ": HTTP " + std::to_string(s);
  const std::string msg = ProviderMessage(response.body);
  if (!msg.empty()) text += ": " + msg;
  if (s == 401) text += " (check CHROMAPACT_EMBEDDING_API_KEY / _SECRET_ARN)";
  if (s == 404) text += " (check CHROMAPACT_EMBEDDING_URL and CHROMAPACT_EMBEDDING_MODEL)";
  return Status(code, std::move(text));
}

OpenAIEmbeddings::OpenAIEmbeddings(OpenAIEmbeddingOptions options, aws::RetryPolicy::SleepFn sleep,
                                   aws::RetryPolicy::RandomFn random)
    : options_(std::move(options)),
      url_(EmbeddingsUrl(options_.base_url)),
      retry_(aws::RetryOptions{options_.max_attempts, options_.base_delay_ms, options_.cap_delay_ms}, std::move(random),
             nullptr),
      sleep_(std::move(sleep)),
      http_(std::make_unique<aws::HttpClient>()) {
  if (!sleep_) sleep_ = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
}

OpenAIEmbeddings::~OpenAIEmbeddings() = default;

Result<std::unique_ptr<OpenAIEmbeddings>> OpenAIEmbeddings::Create(OpenAIEmbeddingOptions options,
                                                                   aws::RetryPolicy::SleepFn sleep,
                                                                   aws::RetryPolicy::RandomFn random) {
  const std::string scheme = Lower(options.base_url.substr(0, options.base_url.find("://") + 3));
  if (options.base_url.empty()) return InvalidArgument("base_url: empty");
  if (scheme != "http://" && scheme != "https://") {
    return InvalidArgument("base_url: expected an http:// or https:// URL, got '" + options.base_url + "'");
  }
  if (HostOf(options.base_url).empty()) return InvalidArgument("base_url: no host in '" + options.base_url + "'");
  if (options.model.empty()) return InvalidArgument("model: empty");
  if (options.dimension < 1) return InvalidArgument("dimension: must be >= 1");
  if (options.max_batch < 1) return InvalidArgument("max_batch: must be >= 1");
  if (options.max_batch_bytes < 1) return InvalidArgument("max_batch_bytes: must be >= 1");
  if (options.max_attempts < 1) return InvalidArgument("max_attempts: must be >= 1");
  if (options.timeout_ms < 0 || options.connect_timeout_ms < 0 || options.base_delay_ms < 0 ||
      options.cap_delay_ms < 0 || options.max_retry_after_ms < 0) {
    return InvalidArgument("timeouts and delays: must be >= 0 ms");
  }
  return std::unique_ptr<OpenAIEmbeddings>(new OpenAIEmbeddings(std::move(options), std::move(sleep), std::move(random)));
}

std::string OpenAIEmbeddings::name() const { return options_.model + " at " + options_.base_url; }

Result<std::vector<float>> OpenAIEmbeddings::Embed(const std::vector<std::string>& texts) {
  std::vector<float> out;
  if (texts.empty()) return out;
  out.reserve(texts.size() * options_.dimension);
  for (const auto& [begin, end] : PlanBatches(texts, options_.max_batch, options_.max_batch_bytes)) {
    CP_RETURN_IF_ERROR(EmbedBatch(texts, begin, end, &out));
  }
  stats_.inputs += texts.size();
  return out;
}

Status OpenAIEmbeddings::EmbedBatch(const std::vector<std::string>& texts, size_t begin, size_t end,
                                    std::vector<float>* out) {
  nlohmann::json input = nlohmann::json::array();
  for (size_t i = begin; i < end; ++i) input.push_back(texts[i]);
  const nlohmann::json request_body = {{"model", options_.model}, {"input", std::move(input)}};
  std::string payload;
  try {
    payload = request_body.dump();
  } catch (const nlohmann::json::type_error&) {
    // dump() throws on invalid UTF-8; name the first offending input.
    for (size_t i = begin; i < end; ++i) {
      try {
        (void)nlohmann::json(texts[i]).dump();
      } catch (const nlohmann::json::type_error&) {
        return InvalidArgument("input " + std::to_string(i) + ": not valid UTF-8");
      }
    }
    return InvalidArgument(BatchName(begin, end) + ": not valid UTF-8");
  }

  aws::HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!options_.api_key.empty()) {
    if (ResolveApiKeyHeader(options_.base_url, options_.api_key_header) == ApiKeyHeader::kApiKey) {
      req.headers.emplace_back("api-key", options_.api_key);
    } else {
      req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
    }
  }
  req.body_ref = &payload;
  req.timeout_ms = options_.timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;

  const std::string what = "embeddings " + BatchName(begin, end);
  const int max_attempts = retry_.max_attempts();
  for (int attempt = 1;; ++attempt) {
    ++stats_.attempts;
    if (attempt > 1) ++stats_.retries;
    Status failure;
    std::optional<int64_t> retry_after;
    bool retryable = false;
    auto resp = http_->Send(req);
    if (!resp.ok()) {
      failure = resp.status().WithContext("POST " + url_);
      retryable = failure.code() == StatusCode::kUnavailable || failure.code() == StatusCode::kTimeout;
    } else if (resp->status >= 200 && resp->status < 300) {
      nlohmann::json body;
      try {
        body = nlohmann::json::parse(resp->body);
      } catch (const nlohmann::json::parse_error& e) {
        return Corruption("POST " + url_ + ": " + NotJsonDetail(resp->body, e)).WithContext(what);
      }
      auto rows = ParseEmbeddingsResponse(body, end - begin, options_.dimension, begin);
      if (!rows.ok()) return rows.status().WithContext(what + ": POST " + url_);
      out->insert(out->end(), rows->begin(), rows->end());
      ++stats_.batches;
      return Status::Ok();
    } else {
      failure = EmbeddingsHttpError(url_, *resp);
      retryable = IsRetryableEmbeddingsStatus(resp->status);
      retry_after = RetryAfterMs(*resp, EpochNowMs());
    }
    if (!retryable || attempt >= max_attempts) {
      Status st = failure.WithContext(what);
      if (attempt > 1) st = Status(st.code(), st.message() + " (after " + std::to_string(attempt) + " attempts)");
      return st;
    }
    if (retry_after && *retry_after > options_.max_retry_after_ms) {
      return Status(failure.code(), failure.message() + " (gave up: the answer asks to retry after " +
                                        std::to_string(*retry_after) + " ms, more than the " +
                                        std::to_string(options_.max_retry_after_ms) + " ms this client waits)")
          .WithContext(what);
    }
    const int64_t wait = std::max(retry_.BackoffMs(attempt), retry_after.value_or(0));
    stats_.waited_ms += wait;
    sleep_(wait);
  }
}

}  // namespace chromapact::embed
