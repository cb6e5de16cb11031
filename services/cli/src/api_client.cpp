#include "api_client.hpp"

#include <cstdlib>
#include <iostream>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace sonae::cli {

ApiClient::ApiClient(std::string url, std::string token)
    : url_(std::move(url)), token_(std::move(token)) {
    while (!url_.empty() && url_.back() == '/')
        url_.pop_back();
}

ApiReply ApiClient::call(const std::string& method, const std::string& path,
                         const std::string& body) {
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + token_},
                                                             {"Accept", "application/json"}};
    if (!body.empty())
        headers.emplace_back("Content-Type", "application/json");
    const http::ClientResponse r =
        client_.request(method, url_ + path, headers, body, std::chrono::seconds(30));
    ApiReply out;
    out.status = r.status;
    out.error = r.error;
    out.body = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 0 && out.body.is_discarded())
        out.error = "the answer is not JSON: " + r.body.substr(0, 200);
    out.text = r.body;
    return out;
}

ApiReply ApiClient::get(const std::string& path) {
    return call("GET", path, "");
}

ApiReply ApiClient::post(const std::string& path, const nlohmann::json& body) {
    return call("POST", path, body.dump());
}

bool api_target(ApiTarget* out, std::string* why) {
    const char* url = std::getenv("SONAE_URL");
    const char* token = std::getenv("SONAE_TOKEN");
    out->url = url != nullptr && *url != '\0' ? url : "http://127.0.0.1:8080";
    if (token == nullptr || *token == '\0') {
        *why =
            "SONAE_TOKEN is not set: export an API token (scripts/run prints the dev one; "
            "`sonae token create` makes others)";
        return false;
    }
    out->token = token;
    return true;
}

int report_failure(const std::string& what, const ApiReply& reply) {
    if (reply.status == 0) {
        std::cerr << what << ": " << reply.error << "\n";
        return 1;
    }
    std::string message = reply.error;
    if (reply.body.is_object() && reply.body.contains("error") && reply.body["error"].is_object()) {
        message = reply.body["error"].value("message", "");
        const std::string field = reply.body["error"].value("field", "");
        if (!field.empty())
            message += " (" + field + ")";
    }
    std::cerr << what << ": " << message << " [HTTP " << reply.status << "]\n";
    return reply.status == 400 ? 2 : 1;
}

std::string query_escape(const std::string& value) {
    return boost::urls::encode(value, boost::urls::unreserved_chars);
}

std::optional<int> open_session(Session* s, const std::string& what) {
    std::string why;
    if (!api_target(&s->target, &why)) {
        std::cerr << what << ": " << why << "\n";
        return 2;
    }
    s->api = std::make_unique<ApiClient>(s->target.url, s->target.token);
    return std::nullopt;
}

}  // namespace sonae::cli
