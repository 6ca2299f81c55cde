// HttpClient over one libcurl easy handle (its connection cache gives keep-alive reuse between
// requests of the same client).
//
// Large bodies (bench/aws/s3_vs_boto3.sh, 64 MiB on loopback): an in-memory body is sent from the
// caller's bytes (HttpRequest::body_ref, no copy), libcurl's upload and receive buffers are raised from
// 64 / 16 KiB for large transfers (fewer send/recv calls and callbacks), and a 2xx body is reserved
// from its Content-Length instead of growing by reallocation (each doubling re-copies and re-faults).
#include "chromapact/aws/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

namespace chromapact::aws {
namespace {

// Upload buffer for bodies of at least kLargeBody bytes (libcurl's maximum is 2 MiB, default 64 KiB)
// and receive buffer for GETs (default 16 KiB; maximum CURL_MAX_READ_SIZE).
constexpr size_t kLargeBody = 1 << 20;
constexpr long kUploadBufferBytes = 2 << 20;
constexpr long kReceiveBufferBytes = 1 << 20;
// A Content-Length above this is not reserved up front (the body then grows as it arrives): a
// server's header must not make us allocate without bound before a byte has arrived.
constexpr uint64_t kMaxReserveBytes = uint64_t{1} << 30;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* resp = nullptr;
  bool reserve_body = false;  // reserve resp->body from a 2xx Content-Length (in-memory, not HEAD)
  int header_status = 0;      // status of the response whose headers are arriving
  // Upload from file.
  FILE* in = nullptr;
  uint64_t in_remaining = 0;
  // Download to file (only for a 2xx answer).
  const std::string* response_file = nullptr;
  FilePtr out;
  bool out_opened = false;
  bool out_failed = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp->headers.clear();  // a new response (after 100 Continue or a redirect)
    size_t sp = line.find(' ');
    t->header_status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    t->resp->headers.emplace_back(Lower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
    const auto& [name, value] = t->resp->headers.back();
    if (t->reserve_body && name == "content-length" && t->header_status >= 200 && t->header_status < 300) {
      char* end = nullptr;
      unsigned long long len = std::strtoull(value.c_str(), &end, 10);
      if (end != value.c_str() && *end == '\0' && len <= kMaxReserveBytes) {
        try {
          t->resp->body.reserve(static_cast<size_t>(len));
        } catch (const std::bad_alloc&) {
          // Not fatal: the body grows as it arrives (and fails there if memory really is short).
        }
      }
    }
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->response_file != nullptr) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      if (!t->out) {
        t->out.reset(std::fopen(t->response_file->c_str(), "wb"));
        t->out_opened = true;
        if (!t->out) {
          t->out_failed = true;
          return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
        }
      }
      if (std::fwrite(data, 1, len, t->out.get()) != len) {
        t->out_failed = true;
        return 0;
      }
      return len;
    }
  }
  t->resp->body.append(data, len);
  return len;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t want = std::min<uint64_t>(size * n, t->in_remaining);
  if (want == 0) return 0;
  size_t got = std::fread(buffer, 1, want, t->in);
  if (got == 0) return CURL_READFUNC_ABORT;
  t->in_remaining -= got;
  return got;
}

bool HasHeader(const HttpHeaders& headers, const std::string& lower_name) {
  for (const auto& [k, v] : headers) {
    if (Lower(k) == lower_name) return true;
  }
  return false;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

struct HttpClient::Impl {
  CURL* curl = nullptr;
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_ && impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* curl = impl_->curl;
  if (curl == nullptr) return Internal("http: curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache

  HttpResponse resp;
  Transfer t;
  t.curl = curl;
  t.resp = &resp;
  if (!request.response_file.empty()) t.response_file = &request.response_file;
  t.reserve_body = request.response_file.empty() && request.method != "HEAD";
  const std::string& body = request.body_ref != nullptr ? *request.body_ref : request.body;

  FilePtr in;
  const bool has_file_body = !request.body_file.empty();
  if (has_file_body) {
    in.reset(std::fopen(request.body_file.c_str(), "rb"));
    if (!in) return IOError("http: cannot open body file " + request.body_file);
    if (std::fseek(in.get(), 0, SEEK_END) != 0) return IOError("http: cannot seek " + request.body_file);
    long size = std::ftell(in.get());
    if (size < 0) return IOError("http: cannot size " + request.body_file);
    uint64_t total = static_cast<uint64_t>(size);
    if (request.body_file_offset > total) return IOError("http: offset past the end of " + request.body_file);
    uint64_t len = total - request.body_file_offset;
    if (request.body_file_length >= 0) {
      if (static_cast<uint64_t>(request.body_file_length) > len) {
        return IOError("http: range past the end of " + request.body_file);
      }
      len = static_cast<uint64_t>(request.body_file_length);
    }
    if (std::fseek(in.get(), static_cast<long>(request.body_file_offset), SEEK_SET) != 0) {
      return IOError("http: cannot seek " + request.body_file);
    }
    t.in = in.get();
    t.in_remaining = len;
  }
  const bool has_body = has_file_body || !body.empty() || request.method == "PUT" || request.method == "POST";
  const uint64_t body_bytes = has_file_body ? t.in_remaining : body.size();

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Send the path as given: libcurl would otherwise squash "/./" and "/../" (RFC 3986 §5.2.4), but
  // S3 keys like "a/./b" are literal and signed as such.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (request.timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
  if (request.connect_timeout_ms > 0) {
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
  }

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_file_body) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.in_remaining));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (has_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  if (has_body && body_bytes >= kLargeBody) curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes);
  if (request.method == "GET") curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);

  struct curl_slist* list = nullptr;
  for (const auto& [k, v] : request.headers) {
    std::string line = v.empty() ? k + ";" : k + ": " + v;  // "Name;" sends an empty value
    list = curl_slist_append(list, line.c_str());
  }
  // libcurl's defaults: a form Content-Type (makes moto drop PUT bodies, docs/aws-notes.md §2) and
  // "Expect: 100-continue" (a round trip of delay on large bodies).
  if (has_body && !HasHeader(request.headers, "content-type")) {
    list = curl_slist_append(list, "Content-Type: application/octet-stream");
  }
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  resp.status = static_cast<int>(code);
  if (t.out) {
    if (std::fflush(t.out.get()) != 0) t.out_failed = true;
    t.out.reset();
  }
  if (t.out_failed) return IOError("http: cannot write response file " + request.response_file);
  if (rc != CURLE_OK) {
    std::string what = std::string("http ") + request.method + ": " + curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return Status(StatusCode::kTimeout, what);
    if (rc == CURLE_READ_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) return IOError(what);
    return Unavailable(what);
  }
  // A 2xx answer with an empty body still creates the response file.
  if (t.response_file != nullptr && !t.out_opened && resp.status >= 200 && resp.status < 300 &&
      request.method != "HEAD") {
    FilePtr touch(std::fopen(request.response_file.c_str(), "wb"));
    if (!touch) return IOError("http: cannot write response file " + request.response_file);
  }
  return resp;
}

}  // namespace chromapact::aws
