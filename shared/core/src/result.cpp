#include <sonae/core/result.hpp>

namespace sonae::core {

const char* error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidJson:
            return "invalid_json";
        case ErrorCode::kInvalidField:
            return "invalid_field";
        case ErrorCode::kUnauthorized:
            return "unauthorized";
        case ErrorCode::kForbidden:
            return "forbidden";
        case ErrorCode::kUnknownSource:
            return "unknown_source";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kMethodNotAllowed:
            return "method_not_allowed";
        case ErrorCode::kPayloadTooLarge:
            return "payload_too_large";
        case ErrorCode::kUnsupportedMediaType:
            return "unsupported_media_type";
        case ErrorCode::kRateLimited:
            return "rate_limited";
        case ErrorCode::kUnavailable:
            return "unavailable";
        case ErrorCode::kConflict:
            return "conflict";
        case ErrorCode::kInvalidCommand:
            return "invalid_command";
        case ErrorCode::kInternal:
            return "internal";
    }
    return "internal";
}

}  // namespace sonae::core
