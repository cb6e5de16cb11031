#include "delivery.hpp"

#include <algorithm>
#include <charconv>

#include <sonae/amqp/topology.hpp>
#include <sonae/core/exercise.hpp>
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
        if (ch.tenant != core::base_tenant(n.tenant))  // a drill's namespace is its tenant's
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
