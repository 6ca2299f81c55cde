#include "s3_wire.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

#include "chromapact/crypto.h"
#include "json_service.h"
#include "xml.h"

namespace chromapact::aws::s3_wire {
namespace {

constexpr const char* kS3Xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Endpoint ResolveEndpoint(const ClientConfig& config, const std::string& bucket) {
  Endpoint ep;
  if (!config.endpoint.empty()) {
    std::string url = config.endpoint;
    while (!url.empty() && url.back() == '/') url.pop_back();
    size_t scheme = url.find("://");
    size_t auth_start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t path_start = url.find('/', auth_start);
    ep.origin = url.substr(0, path_start);
    if (scheme == std::string::npos) ep.origin = "https://" + ep.origin;
    ep.host = url.substr(auth_start, path_start == std::string::npos ? std::string::npos : path_start - auth_start);
    ep.base_path = path_start == std::string::npos ? "" : url.substr(path_start);
    ep.path_style = true;
    return ep;
  }
  const std::string regional = "s3." + config.region + ".amazonaws.com";
  if (bucket.empty() || bucket.find('.') != std::string::npos) {
    ep.host = regional;
    ep.path_style = true;
  } else {
    ep.host = bucket + "." + regional;
    ep.path_style = false;
  }
  ep.origin = "https://" + ep.host;
  return ep;
}

std::string ResourcePath(const Endpoint& ep, const std::string& bucket, const std::string& key) {
  std::string path = ep.base_path;
  if (ep.path_style && !bucket.empty()) path += "/" + bucket;
  if (!key.empty()) {
    path += "/" + key;
  } else if (!ep.path_style || bucket.empty()) {
    path += "/";
  }
  return path;
}

Result<HttpRequest> BuildSigned(const ClientConfig& config, const RequestSpec& spec, const std::string& amz_date) {
  const Endpoint ep = ResolveEndpoint(config, spec.bucket);
  SignableRequest sreq;
  sreq.method = spec.method;
  sreq.path = ResourcePath(ep, spec.bucket, spec.key);
  sreq.query = spec.query;
  sreq.headers.reserve(spec.headers.size() + 1);
  sreq.headers.emplace_back("host", ep.host);
  for (const auto& h : spec.headers) sreq.headers.push_back(h);
  sreq.payload_sha256 = spec.payload_sha256;
  SigningParams params;
  params.region = config.region;
  params.service = "s3";
  params.amz_date = amz_date;
  params.s3_rules = true;
  CP_RETURN_IF_ERROR(SignHeaders(&sreq, config.credentials, params).status());
  HttpRequest req;
  req.method = spec.method;
  req.url = ep.origin + WireTarget(sreq);
  req.headers = std::move(sreq.headers);
  return req;
}

Result<std::string> RangeHeader(const S3ByteRange& range) {
  if (range.last < -1 || (range.last >= 0 && static_cast<uint64_t>(range.last) < range.first)) {
    return InvalidArgument("range: last byte " + std::to_string(range.last) + " before first byte " +
                           std::to_string(range.first));
  }
  std::string v = "bytes=" + std::to_string(range.first) + "-";
  if (range.last >= 0) v += std::to_string(range.last);
  return v;
}

void AddPutHeaders(const S3PutOptions& options, bool content, bool conditions, HttpHeaders* headers) {
  if (content) {
    headers->emplace_back("content-type", options.content_type.empty() ? "application/octet-stream"
                                                                         : options.content_type);
    for (const auto& [k, v] : options.metadata) headers->emplace_back("x-amz-meta-" + Lower(k), v);
  }
  if (conditions) {
    if (options.if_none_match_any) headers->emplace_back("if-none-match", "*");
    if (!options.if_match.empty()) headers->emplace_back("if-match", options.if_match);
  }
}

S3ObjectInfo InfoFromHeaders(const HttpResponse& resp) {
  S3ObjectInfo info;
  info.etag = resp.Header("etag");
  info.content_type = resp.Header("content-type");
  info.last_modified = resp.Header("last-modified");
  uint64_t n = 0;
  if (ParseU64(resp.Header("content-length"), &n)) info.size = n;
  const std::string range = resp.Header("content-range");  // "bytes a-b/total"
  size_t slash = range.rfind('/');
  if (slash != std::string::npos && ParseU64(range.substr(slash + 1), &n)) info.size = n;
  for (const auto& [k, v] : resp.headers) {
    if (k.rfind("x-amz-meta-", 0) == 0) info.metadata[k.substr(11)] = v;
  }
  return info;
}

std::string UrlDecode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ListQuery(const S3ListRequest& r) {
  std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"}, {"encoding-type", "url"}};
  if (!r.prefix.empty()) q.emplace_back("prefix", r.prefix);
  if (!r.delimiter.empty()) q.emplace_back("delimiter", r.delimiter);
  if (!r.continuation_token.empty()) q.emplace_back("continuation-token", r.continuation_token);
  if (!r.start_after.empty()) q.emplace_back("start-after", r.start_after);
  if (r.max_keys > 0) q.emplace_back("max-keys", std::to_string(r.max_keys));
  return q;
}

Result<S3ListPage> ParseListObjectsV2(const std::string& body) {
  CP_ASSIGN_OR_RETURN(xml::Element root, xml::Parse(body));
  if (root.name != "ListBucketResult") return Internal("ListObjectsV2: answer root is <" + root.name + ">");
  const bool url = root.ChildText("EncodingType") == "url";
  auto decode = [url](const std::string& s) { return url ? UrlDecode(s, true) : s; };
  S3ListPage page;
  for (const xml::Element* c : root.Children("Contents")) {
    S3ListedObject o;
    o.key = decode(c->ChildText("Key"));
    if (!ParseU64(c->ChildText("Size"), &o.size)) return Internal("ListObjectsV2: bad <Size> for " + o.key);
    o.etag = c->ChildText("ETag");
    o.last_modified = c->ChildText("LastModified");
    page.objects.push_back(std::move(o));
  }
  for (const xml::Element* p : root.Children("CommonPrefixes")) page.common_prefixes.push_back(decode(p->ChildText("Prefix")));
  page.is_truncated = root.ChildText("IsTruncated") == "true";
  page.next_continuation_token = root.ChildText("NextContinuationToken");
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return Internal("ListObjectsV2: truncated page without NextContinuationToken");
  }
  return page;
}

std::string DeleteObjectsBody(const std::vector<std::string>& keys) {
  std::string b = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"") + kS3Xmlns +
                  "\"><Quiet>false</Quiet>";
  for (const auto& k : keys) b += "<Object><Key>" + xml::Escape(k) + "</Key></Object>";
  return b + "</Delete>";
}

Result<S3DeleteResult> ParseDeleteResult(const std::string& body) {
  CP_ASSIGN_OR_RETURN(xml::Element root, xml::Parse(body));
  if (root.name != "DeleteResult") return Internal("DeleteObjects: answer root is <" + root.name + ">");
  S3DeleteResult r;
  for (const xml::Element* d : root.Children("Deleted")) r.deleted.push_back(d->ChildText("Key"));
  for (const xml::Element* e : root.Children("Error")) {
    r.errors.push_back({e->ChildText("Key"), e->ChildText("Code"), e->ChildText("Message")});
  }
  return r;
}

std::string CreateBucketBody(const std::string& region) {
  if (region.empty() || region == "us-east-1") return "";
  return std::string("<CreateBucketConfiguration xmlns=\"") + kS3Xmlns + "\"><LocationConstraint>" +
         xml::Escape(region) + "</LocationConstraint></CreateBucketConfiguration>";
}

Result<std::string> ParseUploadId(const std::string& body) {
  CP_ASSIGN_OR_RETURN(xml::Element root, xml::Parse(body));
  std::string id = root.ChildText("UploadId");
  if (root.name != "InitiateMultipartUploadResult" || id.empty()) {
    return Internal("CreateMultipartUpload: answer has no <UploadId>");
  }
  return id;
}

std::string CompleteMultipartBody(const std::vector<S3CompletedPart>& parts) {
  std::string b = std::string("<CompleteMultipartUpload xmlns=\"") + kS3Xmlns + "\">";
  for (const auto& p : parts) {
    b += "<Part><PartNumber>" + std::to_string(p.part_number) + "</PartNumber><ETag>" + xml::Escape(p.etag) +
         "</ETag></Part>";
  }
  return b + "</CompleteMultipartUpload>";
}

Result<std::string> ParseResultEtag(const std::string& body) {
  CP_ASSIGN_OR_RETURN(xml::Element root, xml::Parse(body));
  std::string etag = root.ChildText("ETag");
  if (etag.empty()) return Internal("answer <" + root.name + "> has no <ETag>");
  return etag;
}

bool IsErrorDocument(const std::string& body) {
  size_t i = 0;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  if (body.compare(i, 5, "<?xml") == 0) {
    size_t end = body.find("?>", i);
    if (end == std::string::npos) return false;
    i = end + 2;
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  }
  return body.compare(i, 7, "<Error>") == 0;
}

Status ErrorFromResponse(const std::string& op, const HttpResponse& resp) {
  AwsErrorInfo info;
  info.http_status = resp.status;
  info.request_id = resp.Header("x-amz-request-id");
  std::string message;
  auto doc = xml::Parse(resp.body);
  if (!resp.body.empty() && doc.ok()) {
    const xml::Element& root = *doc;
    const xml::Element* err = root.name == "Error" ? &root : nullptr;
    if (err == nullptr && root.Child("Errors") != nullptr) err = root.Child("Errors")->Child("Error");  // query-style
    if (err == nullptr) err = root.Child("Error");
    if (err != nullptr) {
      info.error_code = err->ChildText("Code");
      message = err->ChildText("Message");
      if (info.request_id.empty()) info.request_id = err->ChildText("RequestId");
    }
    if (info.request_id.empty()) info.request_id = root.ChildText("RequestId");
  } else if (!resp.body.empty()) {
    return internal::JsonProtocolError(op, resp);  // not XML: JSON __type or X-Amzn-ErrorType
  }
  if (info.error_code.empty()) {
    switch (resp.status) {
      case 304: info.error_code = "NotModified"; break;
      case 403: info.error_code = "Forbidden"; break;
      case 404: info.error_code = "NotFound"; break;
      case 412: info.error_code = "PreconditionFailed"; break;
      default: break;
    }
  }
  StatusCode code = internal::ClassifyAwsError(info.error_code, resp.status);
  std::string text = op + ": HTTP " + std::to_string(resp.status);
  if (!info.error_code.empty()) text += " " + info.error_code;
  if (!message.empty()) text += ": " + message;
  return Status(code, std::move(text), std::move(info));
}

Result<std::string> FileRangeDigest(const std::string& path, uint64_t offset, uint64_t length,
                                    DigestAlgorithm algorithm) {
  struct Closer {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) return IOError("cannot open " + path);
  if (std::fseek(f.get(), static_cast<long>(offset), SEEK_SET) != 0) return IOError("cannot seek " + path);
  const EVP_MD* md = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_md5();
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return Internal("digest: EVP init failed");
  std::vector<char> buf(1 << 20);
  uint64_t left = length;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    size_t got = std::fread(buf.data(), 1, want, f.get());
    if (got == 0) return IOError(path + " is shorter than " + std::to_string(offset + length) + " bytes");
    EVP_DigestUpdate(ctx.get(), buf.data(), got);
    left -= got;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &n);
  return HexEncode(std::string_view(reinterpret_cast<char*>(out), n));
}

}  // namespace chromapact::aws::s3_wire
