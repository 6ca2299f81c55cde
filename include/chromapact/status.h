// Status and Result<T>: every fallible call in chromapact returns one of these instead of throwing.
//
// A Status is a code plus a human-readable message that names the offending field or step. Errors
// that come back from AWS also carry the AWS error code (e.g. "SignatureDoesNotMatch",
// "ConditionalCheckFailedException"), the HTTP status and the request id, so that an operator can
// look the request up. Messages never contain secrets (access keys, session tokens, signatures).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace chromapact {

// The failure classes callers branch on. Keep this list short: callers switch on it.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,     // bad input: malformed event, wrong dimension, NaN, bad filter
  kNotFound,            // object / item / queue / collection does not exist (S3 404, NoSuchKey)
  kAlreadyExists,       // create-only write found an existing object or name
  kPreconditionFailed,  // a conditional write lost: S3 412, DynamoDB ConditionalCheckFailed
  kCorruption,          // stored bytes fail validation: checksum, truncated file, bad pickle
  kNotSupported,        // a format or layout version we do not read or write
  kIOError,             // local file system error
  kUnavailable,         // network error or 5xx: retryable
  kThrottled,           // 429 / SlowDown / ThrottlingException: retryable with backoff
  kPermissionDenied,    // AccessDenied (IAM policy forbids the call)
  kUnauthenticated,     // SignatureDoesNotMatch, InvalidAccessKeyId, InvalidClientTokenId
  kTimeout,             // a deadline passed
  kResourceExhausted,   // an input or output over a documented size limit
  kAborted,             // work abandoned on purpose (lost lease, injected crash point)
  kInternal,            // a bug or an AWS error we do not classify
};

// Short stable name of a code, e.g. "InvalidArgument".
const char* StatusCodeName(StatusCode code);

// Details of an error answered by an AWS service.
struct AwsErrorInfo {
  std::string error_code;  // AWS's code, e.g. "NoSuchKey", "ConditionalCheckFailedException"
  int http_status = 0;     // HTTP status of the response (0 when no response arrived)
  std::string request_id;  // x-amz-request-id / x-amzn-RequestId, empty when absent
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(StatusCode code, std::string message, AwsErrorInfo aws)
      : code_(code), message_(std::move(message)), aws_(std::move(aws)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Present only for errors answered by an AWS endpoint.
  const std::optional<AwsErrorInfo>& aws() const { return aws_; }
  // True for kUnavailable and kThrottled: the same request may succeed when retried.
  bool retryable() const { return code_ == StatusCode::kUnavailable || code_ == StatusCode::kThrottled; }

  // "Code: message [aws=Code http=NNN request_id=ID]"; "OK" for success.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context + ": "`. OK stays OK.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<AwsErrorInfo> aws_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status NotSupported(std::string m) { return {StatusCode::kNotSupported, std::move(m)}; }
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status PreconditionFailed(std::string m) { return {StatusCode::kPreconditionFailed, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

// Either a value of T or a non-OK Status. Constructing a Result from an OK Status is a bug and is
// turned into kInternal.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                      // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? Status(StatusCode::kInternal, "Result built from an OK Status") : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Precondition: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace chromapact

#define CP_CONCAT_INNER_(a, b) a##b
#define CP_CONCAT_(a, b) CP_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define CP_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::chromapact::Status cp_status_ = (expr);       \
    if (!cp_status_.ok()) return cp_status_;        \
  } while (0)

// `CP_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result<T> or returns its Status.
#define CP_ASSIGN_OR_RETURN(lhs, expr) CP_ASSIGN_OR_RETURN_IMPL_(CP_CONCAT_(cp_result_, __LINE__), lhs, expr)
#define CP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
