// The operator CLI's way to the gateway's REST API (PRODUCT §10): SONAE_URL and SONAE_TOKEN.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <sonae/http/client.hpp>

namespace sonae::cli {

struct ApiReply {
    long status = 0;      // 0: no answer (the error says why)
    nlohmann::json body;  // discarded when the answer is not JSON (see `text`)
    std::string text;     // the answer as received (a report's Markdown or HTML)
    std::string error;
};

class ApiClient {
  public:
    ApiClient(std::string url, std::string token);
    ApiReply get(const std::string& path);
    ApiReply post(const std::string& path, const nlohmann::json& body);

  private:
    ApiReply call(const std::string& method, const std::string& path, const std::string& body);
    std::string url_;
    std::string token_;
    http::Client client_;
};

// SONAE_URL (default http://127.0.0.1:8080) and SONAE_TOKEN from the environment; a missing token
// is a usage error (exit 2) naming the variable.
struct ApiTarget {
    std::string url;
    std::string token;
};
bool api_target(ApiTarget* out, std::string* why);

// A client for SONAE_URL with SONAE_TOKEN.
struct Session {
    ApiTarget target;
    std::unique_ptr<ApiClient> api;
};
// Opens `s`; on a usage error prints it for `what` and returns the exit status (2).
std::optional<int> open_session(Session* s, const std::string& what);

// Prints the API's error for `what` and returns the exit status: 2 for a request the API
// called invalid (400), 1 for everything else (refused, not found, unreachable, server error).
int report_failure(const std::string& what, const ApiReply& reply);

// Percent-encodes a query parameter value.
std::string query_escape(const std::string& value);

}  // namespace sonae::cli
