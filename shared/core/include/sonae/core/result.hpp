// Outcomes the caller must handle (validation, not found, conflict) travel as values.
// Exceptions are kept for broken infrastructure. Mapping to HTTP lives in the gateway only.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sonae::core {

enum class ErrorCode {
    kInvalidJson,
    kInvalidField,
    kUnauthorized,
    kForbidden,
    kUnknownSource,
    kNotFound,
    kMethodNotAllowed,
    kPayloadTooLarge,
    kUnsupportedMediaType,
    kRateLimited,
    kUnavailable,
    kConflict,
    kInvalidCommand,
    kInternal,
};

const char* error_code_name(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
    std::string field;  // JSON pointer of the offending field, if any

    static Error invalid_field(std::string field, std::string message) {
        return Error{ErrorCode::kInvalidField, std::move(message), std::move(field)};
    }
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

struct Ok {};

}  // namespace sonae::core
