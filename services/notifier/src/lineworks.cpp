#include "lineworks.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sonae/crypto/crypto.hpp>

namespace sonae::notifier {
namespace {

using nlohmann::json;

std::string form_value(const std::string& v) {
    return boost::urls::encode(v, boost::urls::unreserved_chars);
}

}  // namespace

void LineWorks::send(const std::string& target, const std::string& message,
                     std::chrono::milliseconds timeout, http::AsyncClient::Done done) {
    Pending p{target, message, timeout, std::move(done)};
    // A token a minute from its end is renewed rather than used.
    if (!token_.empty() && clock_.now() + core::kMinute < expires_at_) {
        start(std::move(p));
        return;
    }
    waiting_.push_back(std::move(p));
    fetch_token();
}

void LineWorks::start(Pending p) {
    const bool user = p.target.rfind("user:", 0) == 0;
    const std::string path = user ? "/users/" + p.target.substr(5) : "/channels/" + p.target;
    http::ClientRequest req{
        "POST",
        bot_.api_url + "/bots/" + bot_.bot_id + path + "/messages",
        {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}},
        p.message,
        p.timeout};
    client_.start(std::move(req), [this, done = std::move(p.done)](http::ClientResponse r) {
        if (r.status == 401)
            token_.clear();  // revoked or expired early: the retry fetches a new one
        done(std::move(r));
    });
}

void LineWorks::fetch_token() {
    if (fetching_)
        return;
    fetching_ = true;
    const std::int64_t iat = clock_.now() / 1000;
    const json claims = {
        {"iss", bot_.client_id}, {"sub", bot_.service_account}, {"iat", iat}, {"exp", iat + 3600}};
    const auto assertion = crypto::jwt_rs256(claims.dump(), bot_.private_key);
    if (!assertion) {
        fetching_ = false;
        http::ClientResponse failed;
        failed.error = "LINE WORKS: chat.lineworks.private_key is not a usable PEM private key";
        std::vector<Pending> waiting;
        waiting.swap(waiting_);
        for (auto& p : waiting)
            p.done(failed);
        return;
    }
    const std::string body = "assertion=" + form_value(*assertion) + "&grant_type=" +
                             form_value("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                             "&client_id=" + form_value(bot_.client_id) +
                             "&client_secret=" + form_value(bot_.client_secret) + "&scope=bot";
    client_.start(http::ClientRequest{"POST",
                                      bot_.auth_url,
                                      {{"Content-Type", "application/x-www-form-urlencoded"}},
                                      body,
                                      std::chrono::seconds(10)},
                  [this](http::ClientResponse r) {
                      fetching_ = false;
                      const json j = json::parse(r.body, nullptr, false);
                      std::vector<Pending> waiting;
                      waiting.swap(waiting_);
                      if (r.status == 200 && j.is_object() && j.contains("access_token")) {
                          token_ = j["access_token"].get<std::string>();
                          // expires_in is a string in LINE WORKS' answers, a number elsewhere.
                          std::int64_t ttl = 86400;
                          if (auto e = j.find("expires_in"); e != j.end()) {
                              ttl = e->is_number() ? e->get<std::int64_t>()
                                                   : std::stoll(e->get<std::string>());
                          }
                          expires_at_ = clock_.now() + ttl * core::kSecond;
                          for (auto& p : waiting)
                              start(std::move(p));
                          return;
                      }
                      spdlog::warn("LINE WORKS token: {}",
                                   r.status ? "HTTP " + std::to_string(r.status) : r.error);
                      for (auto& p : waiting)
                          p.done(r);  // their deliveries retry with backoff
                  });
}

}  // namespace sonae::notifier
