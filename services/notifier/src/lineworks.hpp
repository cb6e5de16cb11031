// Messages through a LINE WORKS bot (API 2.0): an access token from the service-account JWT grant
// (RS256, cached until shortly before it expires), then POST
// .../bots/{botId}/channels/{id}/messages or .../users/{id}/messages. Runs on the dispatcher's curl
// multi handle; messages wait while a token is being fetched. One per notifier worker thread.
#pragma once

#include <string>
#include <vector>

#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/http/client.hpp>

namespace sonae::notifier {

class LineWorks {
  public:
    LineWorks(const config::LineWorksBot& bot, http::AsyncClient& client, const clock::Clock& clock)
        : bot_(bot), client_(client), clock_(clock) {}

    // `target` is a channel id or "user:<id>"; `message` the API's JSON body. `done` gets the
    // API's answer (or the token endpoint's, when no token could be had).
    void send(const std::string& target, const std::string& message,
              std::chrono::milliseconds timeout, http::AsyncClient::Done done);

  private:
    struct Pending {
        std::string target;
        std::string message;
        std::chrono::milliseconds timeout;
        http::AsyncClient::Done done;
    };
    void start(Pending p);
    void fetch_token();

    const config::LineWorksBot& bot_;
    http::AsyncClient& client_;
    const clock::Clock& clock_;
    std::string token_;
    core::TimePoint expires_at_ = 0;
    bool fetching_ = false;
    std::vector<Pending> waiting_;
};

}  // namespace sonae::notifier
