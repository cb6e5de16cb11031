// Routing, redaction, payloads, signatures and retry policy of the notifier (no I/O).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "delivery.hpp"

#include <set>

#include <doctest/doctest.h>

#include <sonae/amqp/topology.hpp>
#include <sonae/crypto/crypto.hpp>

using namespace sonae;
using namespace sonae::notifier;

namespace {

config::Channel channel(const std::string& name, const std::string& type) {
    config::Channel c;
    c.name = name;
    c.type = type;
    c.url = "http://127.0.0.1:1/" + name;
    return c;
}

core::Notification notification() {
    core::Notification n;
    n.id = "default:INC-20260401-0001:n1";
    n.tenant = "default";
    n.incident_id = "INC-20260401-0001";
    n.kind = "opened";
    n.title = "[high] juki-ap01 encrypted";
    n.text = "assets: juki-ap01";
    n.redacted_title = "classified incident";
    n.redacted_text = "assets: [redacted]";
    n.roles = {"csirt"};
    n.classification = core::Classification::k3A;
    return n;
}

}  // namespace

TEST_CASE("routing: all, named channels, roles, tenants, exercise traffic") {
    config::Config cfg;
    auto all = channel("all", "webhook");
    all.all = true;
    auto csirt = channel("csirt", "slack");
    csirt.roles = {"csirt"};
    auto ciso = channel("ciso", "teams");
    ciso.roles = {"ciso"};
    auto named = channel("named", "mattermost");
    auto other = channel("other-tenant", "webhook");
    other.tenant = "town-b";
    other.all = true;
    cfg.channels = {all, csirt, ciso, named, other};
    auto n = notification();
    auto names = [&](const core::Notification& x) {
        std::vector<std::string> out;
        for (const auto* c : route(cfg, x))
            out.push_back(c->name);
        return out;
    };
    CHECK(names(n) == std::vector<std::string>{"all", "csirt"});
    n.channels = {"named"};
    CHECK(names(n) == std::vector<std::string>{"all", "csirt", "named"});
    n.exercise = true;  // only channels that accept exercise traffic
    CHECK(names(n).empty());
    cfg.channels[1].exercise = true;
    CHECK(names(n) == std::vector<std::string>{"csirt"});
}

TEST_CASE("content above a channel's clearance is redacted") {
    auto ch = channel("c", "slack");
    auto n = notification();
    CHECK(needs_redaction(n, ch));  // 3A to a 3C channel
    const Outgoing out = render(n, ch, 1000);
    CHECK(out.redacted);
    CHECK(out.body.find("juki-ap01") == std::string::npos);
    CHECK(out.body.find("classified incident") != std::string::npos);
    ch.max_classification = core::Classification::k3A;
    const Outgoing clear = render(n, ch, 1000);
    CHECK_FALSE(clear.redacted);
    CHECK(clear.body.find("juki-ap01") != std::string::npos);
    n.classification.reset();
    CHECK_FALSE(needs_redaction(n, channel("c", "slack")));
}

TEST_CASE("payload per platform, webhooks signed per Standard Webhooks with a stable id") {
    auto n = notification();
    n.classification = core::Classification::k2;
    const auto slack = nlohmann::json::parse(render(n, channel("s", "slack"), 1).body);
    CHECK(slack["text"].get<std::string>().rfind("*[high] juki-ap01 encrypted*", 0) == 0);
    const auto teams = nlohmann::json::parse(render(n, channel("t", "teams"), 1).body);
    CHECK(teams["@type"] == "MessageCard");
    auto hook = channel("w", "webhook");
    hook.secret = "whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=";
    const Outgoing a = render(n, hook, 1700000000);
    const Outgoing b = render(n, hook, 1700000300);  // a retry, later
    auto header = [](const Outgoing& o, const std::string& name) {
        for (const auto& [k, v] : o.headers) {
            if (k == name)
                return v;
        }
        return std::string{};
    };
    CHECK(header(a, "webhook-id") == n.id);
    CHECK(header(b, "webhook-id") == n.id);
    CHECK(header(a, "webhook-timestamp") == "1700000000");
    CHECK(crypto::webhooks::verify(hook.secret, n.id, "1700000000", header(a, "webhook-signature"),
                                   a.body, 1700000000));
    const auto body = nlohmann::json::parse(a.body);
    CHECK(body["incident"] == "INC-20260401-0001");
    CHECK(body["type"] == "sonae.notification.opened");
    CHECK(header(render(n, channel("w", "webhook"), 1), "webhook-signature")
              .empty());  // no secret, no signature
}

TEST_CASE("outcomes and retry delays") {
    CHECK(classify({200, "", {}, ""}) == Outcome::kDelivered);
    CHECK(classify({204, "", {}, ""}) == Outcome::kDelivered);
    CHECK(classify({0, "", {}, "Connection refused"}) == Outcome::kRetry);
    CHECK(classify({500, "", {}, ""}) == Outcome::kRetry);
    CHECK(classify({503, "", {}, ""}) == Outcome::kRetry);
    CHECK(classify({429, "", {}, ""}) == Outcome::kRetry);
    CHECK(classify({408, "", {}, ""}) == Outcome::kRetry);
    CHECK(classify({400, "", {}, ""}) == Outcome::kPermanent);
    CHECK(classify({404, "", {}, ""}) == Outcome::kPermanent);
    CHECK(classify({410, "", {}, ""}) == Outcome::kPermanent);
    CHECK(retry_after_of({429, "", {{"retry-after", "7"}}, ""}) == 7);
    CHECK(retry_after_of({429, "", {{"retry-after", "Wed, 21 Oct 2026 07:28:00 GMT"}}, ""}) == 0);
    CHECK(retry_after_of({503, "", {}, ""}) == 0);
}

TEST_CASE("retries back off exponentially with jitter, honour Retry-After, and stay bounded") {
    // Retry n waits within [half, all] of 2^(n-1) s (capped at 30 min), rounded up to a queue.
    for (int attempt = 1; attempt <= 14; ++attempt) {
        const std::int64_t base = std::min<std::int64_t>(1800, std::int64_t{1} << (attempt - 1));
        for (std::uint64_t r : {0ULL, 1ULL, 499ULL, 1000ULL, 123456789ULL, ~0ULL}) {
            const auto d = retry_delay(attempt, 0, r).count();
            CHECK(d * 1000 >= base * 500);
            CHECK(d <= std::max<std::int64_t>(base * 3 / 2, 1));
            CHECK(std::find(amqp::Topology::kRetryDelaysS.begin(),
                            amqp::Topology::kRetryDelaysS.end(),
                            d) != amqp::Topology::kRetryDelaysS.end());
        }
    }
    // Jitter: the same attempt spreads over several delay queues.
    std::set<std::int64_t> spread;
    for (std::uint64_t r = 0; r < 64000; r += 997)
        spread.insert(retry_delay(8, 0, r).count());  // 64-128 s -> 90, 135
    CHECK(spread.size() >= 2);
    CHECK(retry_delay(1, 20, 0) == std::chrono::seconds(27));  // Retry-After honoured
    CHECK(retry_delay(1, 100000, 0) == std::chrono::seconds(1800));
    CHECK(retry_delay(99, 0, 0) >= std::chrono::seconds(900));
}
