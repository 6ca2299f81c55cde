#include "chromapact/aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <mutex>

#include "chromapact/crypto.h"

namespace chromapact::aws {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trims and collapses runs of white space (folded multi-line values become single spaces).
std::string CanonicalValue(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

// Removes "." and ".." segments and collapses "//" (non-S3 services).
std::string NormalizePath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  bool trailing = path.size() > 1 && path.back() == '/' && !out.empty();
  if (out.empty()) return "/";
  if (trailing) out += "/";
  return out;
}

// S3: the decoded path encoded once (= the wire path). Other services: normalised, then encoded
// twice (the wire path encoded again), unless the caller passes the wire path itself.
std::string CanonicalPath(const std::string& path, const SigningParams& params) {
  std::string p = path.empty() ? "/" : path;
  if (params.s3_rules) return UriEncode(p, true);
  if (params.normalize_path) p = NormalizePath(p);
  std::string once = UriEncode(p, true);
  return params.double_encode_path ? UriEncode(once, true) : once;
}

bool ValidAmzDate(const std::string& d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  return true;
}

bool IEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

template <typename Pairs>
void EraseNamed(Pairs* pairs, const std::vector<std::string>& names) {
  pairs->erase(std::remove_if(pairs->begin(), pairs->end(),
                              [&](const auto& kv) {
                                for (const auto& n : names)
                                  if (IEquals(kv.first, n)) return true;
                                return false;
                              }),
               pairs->end());
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string NowAmzDate() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Checks what both forms need before `req` is touched, so a failed call leaves it unchanged.
Status CheckInputs(const SignableRequest& req, const Credentials& creds, const SigningParams& params,
                   const std::string& amz_date) {
  if (creds.access_key_id.empty() || creds.secret_access_key.empty())
    return InvalidArgument("sigv4: credentials: access key id and secret must be set");
  if (!ValidAmzDate(amz_date))
    return InvalidArgument("sigv4: amz_date must be YYYYMMDDTHHMMSSZ, got '" + amz_date + "'");
  if (params.region.empty() || params.service.empty())
    return InvalidArgument("sigv4: signing params: region and service must be set");
  for (const auto& h : req.headers)
    if (IEquals(h.first, "host")) return Status::Ok();
  return InvalidArgument("sigv4: request: the host header is required");
}

struct Prepared {
  std::string amz_date, date, scope, signed_headers, canonical_request, string_to_sign, signature;
};

Result<Prepared> Prepare(const SignableRequest& req, const Credentials& creds, const SigningParams& params,
                         const std::string& amz_date) {
  std::map<std::string, std::string> headers;  // sorted by lower-case name; duplicates joined by ','
  for (const auto& [name, value] : req.headers) {
    std::string n = Lower(name);
    std::string v = CanonicalValue(value);
    auto it = headers.find(n);
    if (it == headers.end()) headers.emplace(n, v);
    else it->second += "," + v;
  }
  Prepared p;
  p.amz_date = amz_date;
  p.date = amz_date.substr(0, 8);
  p.scope = p.date + "/" + params.region + "/" + params.service + "/aws4_request";
  std::string canonical_headers;
  for (const auto& [n, v] : headers) {
    canonical_headers += n + ":" + v + "\n";
    if (!p.signed_headers.empty()) p.signed_headers += ';';
    p.signed_headers += n;
  }
  p.canonical_request = req.method + "\n" + CanonicalPath(req.path, params) + "\n" +
                        CanonicalQuery(req.query) + "\n" + canonical_headers + "\n" + p.signed_headers + "\n" +
                        req.payload_sha256;
  p.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + p.scope + "\n" + Sha256Hex(p.canonical_request);
  std::string key = DeriveSigningKey(creds.secret_access_key, p.date, params.region, params.service);
  p.signature = HexEncode(HmacSha256(key, p.string_to_sign));
  return p;
}

}  // namespace

std::string UriEncode(const std::string& s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string WireTarget(const SignableRequest& req) {
  std::string out = UriEncode(req.path.empty() ? "/" : req.path, true);
  for (size_t i = 0; i < req.query.size(); ++i) {
    out += i == 0 ? '?' : '&';
    out += UriEncode(req.query[i].first, false) + "=" + UriEncode(req.query[i].second, false);
  }
  return out;
}

std::string ComputeSigningKey(const std::string& secret, const std::string& date, const std::string& region,
                              const std::string& service) {
  std::string k = HmacSha256("AWS4" + secret, date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string DeriveSigningKey(const std::string& secret, const std::string& date, const std::string& region,
                             const std::string& service) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;  // key: sha256(secret) + scope; bounded below
  std::string cache_key = Sha256(secret) + "/" + date + "/" + region + "/" + service;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(cache_key);
    if (it != cache.end()) return it->second;
  }
  std::string k = ComputeSigningKey(secret, date, region, service);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 64) cache.clear();
  cache[cache_key] = k;
  return k;
}

Result<SigningResult> SignHeaders(SignableRequest* req, const Credentials& creds, const SigningParams& params) {
  std::string amz_date = params.amz_date.empty() ? NowAmzDate() : params.amz_date;
  CP_RETURN_IF_ERROR(CheckInputs(*req, creds, params, amz_date));
  bool token = !creds.session_token.empty();
  std::vector<std::string> ours = {"x-amz-date", "authorization"};
  if (params.s3_rules) ours.push_back("x-amz-content-sha256");
  if (token) ours.push_back("x-amz-security-token");
  EraseNamed(&req->headers, ours);
  req->headers.emplace_back("X-Amz-Date", amz_date);
  if (params.s3_rules) req->headers.emplace_back("X-Amz-Content-Sha256", req->payload_sha256);
  if (token && params.sign_session_token) req->headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  CP_ASSIGN_OR_RETURN(Prepared p, Prepare(*req, creds, params, amz_date));
  if (token && !params.sign_session_token) req->headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  SigningResult r;
  r.canonical_request = p.canonical_request;
  r.string_to_sign = p.string_to_sign;
  r.signature = p.signature;
  r.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + p.scope +
                    ", SignedHeaders=" + p.signed_headers + ", Signature=" + p.signature;
  req->headers.emplace_back("Authorization", r.authorization);
  return r;
}

Result<std::string> SignChunk(const Credentials& creds, const SigningParams& params,
                              const std::string& previous_signature, const std::string& chunk_sha256) {
  if (creds.access_key_id.empty() || creds.secret_access_key.empty())
    return InvalidArgument("sigv4: credentials: access key id and secret must be set");
  if (!ValidAmzDate(params.amz_date))
    return InvalidArgument("sigv4: chunk: amz_date must be the seed's YYYYMMDDTHHMMSSZ, got '" + params.amz_date + "'");
  if (params.region.empty() || params.service.empty())
    return InvalidArgument("sigv4: signing params: region and service must be set");
  std::string date = params.amz_date.substr(0, 8);
  std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + params.amz_date + "\n" + date + "/" + params.region + "/" +
                    params.service + "/aws4_request\n" + previous_signature + "\n" + kEmptyPayloadSha256 + "\n" +
                    chunk_sha256;
  std::string key = DeriveSigningKey(creds.secret_access_key, date, params.region, params.service);
  return HexEncode(HmacSha256(key, sts));
}

Result<SigningResult> Presign(SignableRequest* req, const Credentials& creds, const SigningParams& params,
                              int64_t expires_seconds) {
  if (expires_seconds < 1 || expires_seconds > 604800)
    return InvalidArgument("sigv4: expires_seconds must be in 1..604800, got " + std::to_string(expires_seconds));
  std::string amz_date = params.amz_date.empty() ? NowAmzDate() : params.amz_date;
  CP_RETURN_IF_ERROR(CheckInputs(*req, creds, params, amz_date));
  EraseNamed(&req->query, {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                           "X-Amz-Security-Token", "X-Amz-SignedHeaders", "X-Amz-Signature"});
  std::string signed_headers;
  std::vector<std::string> names;
  for (const auto& h : req->headers) names.push_back(Lower(h.first));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& n : names) signed_headers += (signed_headers.empty() ? "" : ";") + n;
  std::string scope = amz_date.substr(0, 8) + "/" + params.region + "/" + params.service + "/aws4_request";
  req->query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  req->query.emplace_back("X-Amz-Credential", creds.access_key_id + "/" + scope);
  req->query.emplace_back("X-Amz-Date", amz_date);
  req->query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  bool token = !creds.session_token.empty();
  if (token && params.sign_session_token) req->query.emplace_back("X-Amz-Security-Token", creds.session_token);
  req->query.emplace_back("X-Amz-SignedHeaders", signed_headers);
  CP_ASSIGN_OR_RETURN(Prepared p, Prepare(*req, creds, params, amz_date));
  if (token && !params.sign_session_token) req->query.emplace_back("X-Amz-Security-Token", creds.session_token);
  req->query.emplace_back("X-Amz-Signature", p.signature);
  SigningResult r;
  r.canonical_request = p.canonical_request;
  r.string_to_sign = p.string_to_sign;
  r.signature = p.signature;
  return r;
}

}  // namespace chromapact::aws
