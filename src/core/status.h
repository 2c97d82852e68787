// Status and Result<T>: the one error vocabulary of isms.
//
// Expected failures (bad input, missing records, refused operations) are returned as a
// Status or a Result<T>, never thrown. Exceptions come only from third-party code and are
// caught at the front-end boundary, where they become a Status.
//
// Messages are written for an administrator or an auditor: what went wrong, where (file:line,
// field, metric), and what to do about it. They never end with a full stop so that callers
// can prefix context ("policy.toml:12: ...").
//
// Thread-safety: values; copy freely.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace isms {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is malformed or out of range
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a thing with that name exists already
  kFailedPrecondition,  // the request is well formed but not allowed in this state
  kPermissionDenied,    // the actor may not do this
  kIoError,             // a file or socket operation failed
  kCorruption,          // stored data fails its own checks
  kUnavailable,         // a service could not be reached; retrying may help
  kInternal,            // a bug: an invariant of isms itself was broken
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same status with `context` put in front of the message: "context: message".
  Status WithContext(std::string_view context) const;

  // "invalid argument: <message>", or "ok".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status. Accessing value() of an error is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT: implicit
    assert(!std::get<1>(data_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // The error; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace isms

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define ISMS_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::isms::Status isms_status_ = (expr);        \
    if (!isms_status_.ok()) return isms_status_; \
  } while (false)

#define ISMS_CONCAT_INNER_(a, b) a##b
#define ISMS_CONCAT_(a, b) ISMS_CONCAT_INNER_(a, b)
// Declares `lhs` from the value of `rexpr` (a Result<T>), or returns its Status.
#define ISMS_ASSIGN_OR_RETURN(lhs, rexpr)                 \
  auto ISMS_CONCAT_(isms_result_, __LINE__) = (rexpr);    \
  if (!ISMS_CONCAT_(isms_result_, __LINE__).ok())         \
    return ISMS_CONCAT_(isms_result_, __LINE__).status(); \
  lhs = std::move(ISMS_CONCAT_(isms_result_, __LINE__)).value()
