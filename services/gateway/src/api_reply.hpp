// Answers of the REST API's handlers (api.cpp, api_exercises.cpp, api_reports.cpp): JSON bodies and
// the error body every sonae endpoint uses.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

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

// A 400 naming the first query parameter not in `allowed`.
inline core::Result<core::Ok> only_params(const std::map<std::string, std::string>& q,
                                          std::initializer_list<std::string_view> allowed) {
    for (const auto& [name, value] : q) {
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
            return core::Error::invalid_field(name,
                                              "query parameter '" + name + "': unknown parameter");
    }
    return core::Ok{};
}

inline http::Response no_incident(const std::string& id, unsigned version) {
    return error(core::ErrorCode::kNotFound, "no incident " + id.substr(0, 80), version);
}

inline http::Response redis_down(unsigned version) {
    return error(core::ErrorCode::kUnavailable, "Redis is unavailable; retry later", version);
}

}  // namespace sonae::gateway
