#include "delivery.hpp"

#include <algorithm>
#include <charconv>

#include <sonae/amqp/topology.hpp>
#include <sonae/crypto/crypto.hpp>

namespace sonae::notifier {

using nlohmann::json;

std::int64_t retry_after_of(const http::ClientResponse& r) {
    auto it = r.headers.find("retry-after");
    if (it == r.headers.end())
        return 0;
    std::int64_t v = 0;
    const auto [end, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc{} || end != it->second.data() + it->second.size() || v < 0)
        return 0;  // an HTTP date: fall back to our own schedule
    return v;
}

std::vector<const config::Channel*> route(const config::Config& config,
                                          const core::Notification& n) {
    std::vector<const config::Channel*> out;
    for (const auto& ch : config.channels) {
        if (ch.tenant != n.tenant)
            continue;
        if (n.exercise && !ch.exercise)
            continue;
        bool wanted =
            ch.all || std::find(n.channels.begin(), n.channels.end(), ch.name) != n.channels.end();
        for (const auto& r : n.roles) {
            wanted = wanted || std::find(ch.roles.begin(), ch.roles.end(), r) != ch.roles.end();
        }
        if (wanted)
            out.push_back(&ch);
    }
    return out;
}

bool needs_redaction(const core::Notification& n, const config::Channel& ch) {
    return n.classification && *n.classification > ch.max_classification;
}

Outgoing render(const core::Notification& n, const config::Channel& ch, std::int64_t now_s) {
    Outgoing out;
    out.redacted = needs_redaction(n, ch);
    const std::string& title = out.redacted ? n.redacted_title : n.title;
    const std::string& text = out.redacted ? n.redacted_text : n.text;
    out.headers.emplace_back("Content-Type", "application/json");
    if (ch.type == "slack" || ch.type == "mattermost") {
        out.body = json{{"text", "*" + title + "*\n" + text}}.dump();
    } else if (ch.type == "teams") {
        out.body = json{
            {"@type", "MessageCard"},
            {"@context", "https://schema.org/extensions"},
            {"summary", title},
            {"title", title},
            {"text",
             text}}.dump();
    } else {
        json body = {{"type", "sonae.notification." + n.kind},
                     {"id", n.id},
                     {"tenant", n.tenant},
                     {"incident", n.incident_id},
                     {"kind", n.kind},
                     {"title", title},
                     {"text", text},
                     {"severity", core::to_string(n.severity)},
                     {"roles", n.roles},
                     {"exercise", n.exercise},
                     {"redacted", out.redacted},
                     {"at", core::format_timestamp(n.at)}};
        if (n.classification)
            body["classification"] = core::to_string(*n.classification);
        out.body = body.dump();
        if (!ch.secret.empty()) {
            // Standard Webhooks: the id is the notification's, stable across retries.
            out.headers.emplace_back("webhook-id", n.id);
            out.headers.emplace_back("webhook-timestamp", std::to_string(now_s));
            out.headers.emplace_back(
                "webhook-signature",
                crypto::webhooks::sign(ch.secret, n.id, now_s, out.body).value_or(""));
        }
    }
    return out;
}

Outcome classify(const http::ClientResponse& r) {
    if (r.status >= 200 && r.status < 300)
        return Outcome::kDelivered;
    if (r.status == 0 || r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500)
        return Outcome::kRetry;
    return Outcome::kPermanent;
}

std::chrono::seconds retry_delay(int attempt, std::int64_t retry_after_s, std::uint64_t random) {
    constexpr std::int64_t kCapMs = 1800 * 1000;
    const int doublings = std::clamp(attempt - 1, 0, 30);
    const std::int64_t base = std::min<std::int64_t>(kCapMs, std::int64_t{1000} << doublings);
    const std::int64_t half = base / 2;
    const std::int64_t jittered =
        half + static_cast<std::int64_t>(random % static_cast<std::uint64_t>(half + 1));
    const std::int64_t wanted = std::max(jittered, retry_after_s * 1000);
    return amqp::Topology::retry_step(std::chrono::milliseconds(wanted));
}

}  // namespace sonae::notifier
