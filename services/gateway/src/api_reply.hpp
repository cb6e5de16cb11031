// Answers of the REST API's handlers (api.cpp, api_exercises.cpp): JSON bodies and the error
// body every sonae endpoint uses.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include <sonae/http/server.hpp>

#include "gateway.hpp"

namespace sonae::gateway {

inline http::Response error(core::ErrorCode code, const std::string& message, unsigned version,
                            const std::string& field = "") {
    return Gateway::error_response({code, message, field}, version);
}

inline http::Response ok(const nlohmann::json& body, unsigned version,
                         http::Status status = http::Status::ok) {
    return http::json_response(status, http::dump_json(body), version);
}

inline http::Response redis_down(unsigned version) {
    return error(core::ErrorCode::kUnavailable, "Redis is unavailable; retry later", version);
}

}  // namespace sonae::gateway
