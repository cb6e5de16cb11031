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

// What a reader of the channel sees: an e-mail's subject and body decoded, anything else as is.
std::string readable(const std::string& type, const std::string& body) {
    if (type != "email")
        return body;
    std::string out;
    const auto subject = body.find("Subject: =?UTF-8?B?");
    if (subject != std::string::npos) {
        const auto start = subject + 19;
        out +=
            crypto::base64_decode(body.substr(start, body.find("?=", start) - start)).value_or("") +
            "\n";
    }
    std::string b64;
    for (char c : body.substr(body.find("\r\n\r\n") + 4)) {
        if (c != '\r' && c != '\n')
            b64 += c;
    }
    return out + crypto::base64_decode(b64).value_or("");
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

TEST_CASE("content above a channel's clearance never reaches it, on every channel type") {
    for (const char* type : {"slack", "mattermost", "teams", "lineworks", "email", "webhook"}) {
        CAPTURE(type);
        auto ch = channel("c", type);
        ch.to = {std::string(type) == "email" ? "csirt@example.lg.jp" : "channel-1"};
        ch.from = "sonae@example.lg.jp";
        ch.max_classification = core::Classification::k3B;
        auto n = notification();  // 3A
        CHECK(needs_redaction(n, ch));
        const Outgoing out = render(n, ch, RenderContext{1000, "http://gw", "token"});
        CHECK(out.redacted);
        // The asset and the real title are nowhere (in an e-mail: once decoded).
        const std::string seen = readable(type, out.body);
        CHECK(seen.find("juki-ap01") == std::string::npos);
        CHECK(seen.find("encrypted") == std::string::npos);
        CHECK(seen.find("classified incident") != std::string::npos);
        ch.max_classification = core::Classification::k3A;
        const Outgoing clear = render(n, ch, RenderContext{1000, "http://gw", "token"});
        CHECK_FALSE(clear.redacted);
        CHECK(readable(type, clear.body).find("juki-ap01") != std::string::npos);
    }
    auto n = notification();
    n.classification.reset();
    CHECK_FALSE(needs_redaction(n, channel("c", "slack")));
}

TEST_CASE("chat payloads carry buttons whose commands come back to the chat-ops endpoints") {
    auto n = notification();
    n.classification = core::Classification::k2;
    const auto slack =
        nlohmann::json::parse(render(n, channel("s", "slack"), RenderContext{}).body);
    REQUIRE(slack["blocks"].size() == 2);
    CHECK(slack["blocks"][1]["elements"][0]["value"] == "ack INC-20260401-0001");
    n.kind = "decision";
    n.step = "decide";
    n.options = {"restore", "rebuild"};
    const auto decision =
        nlohmann::json::parse(render(n, channel("s", "slack"), RenderContext{}).body);
    CHECK(decision["blocks"][1]["elements"][1]["value"] ==
          "decide decide rebuild INC-20260401-0001");
    const auto mm = nlohmann::json::parse(
        render(n, channel("m", "mattermost"), RenderContext{0, "https://gw.example", "tok"}).body);
    const auto& action = mm["attachments"][0]["actions"][0];
    CHECK(action["integration"]["url"] == "https://gw.example/v1/chatops/mattermost/action");
    CHECK(action["integration"]["context"]["command"] == "decide decide restore INC-20260401-0001");
    CHECK(action["integration"]["context"]["sig"] ==
          mattermost_button_signature("tok", "decide decide restore INC-20260401-0001"));
    const auto teams = nlohmann::json::parse(render(n, channel("t", "teams"), {}).body);
    CHECK(teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive");
    CHECK(teams["attachments"][0]["content"]["type"] == "AdaptiveCard");
    n.kind = "resolved";
    CHECK(nlohmann::json::parse(render(n, channel("s", "slack"), {}).body)["blocks"].size() == 1);
}

TEST_CASE("an e-mail: RFC 2047 subject, one UTF-8 text/plain part, threaded per incident") {
    auto ch = channel("mail", "email");
    ch.from = "sonae@example.lg.jp";
    ch.to = {"csirt@example.lg.jp", "ciso@example.lg.jp"};
    ch.max_classification = core::Classification::k3A;
    auto n = notification();
    n.title = "【重大】住民記録システムで暗号化";
    const std::string m = render(n, ch, RenderContext{1775005323456, "", ""}).body;
    CHECK(m.find("Subject: =?UTF-8?B?" + crypto::base64_encode(n.title) + "?=\r\n") !=
          std::string::npos);
    CHECK(m.find("To: csirt@example.lg.jp, ciso@example.lg.jp\r\n") != std::string::npos);
    CHECK(m.find("Content-Type: text/plain; charset=UTF-8\r\n") != std::string::npos);
    CHECK(m.find("Message-ID: <default.INC-20260401-0001.n1@sonae>\r\n") != std::string::npos);
    CHECK(m.find("References: <default.INC-20260401-0001@sonae>\r\n") != std::string::npos);
    CHECK(m.find("Date: Wed, 01 Apr 2026 01:02:03 +0000\r\n") != std::string::npos);
}

TEST_CASE("payload per platform, webhooks signed per Standard Webhooks with a stable id") {
    auto n = notification();
    n.classification = core::Classification::k2;
    const auto slack =
        nlohmann::json::parse(render(n, channel("s", "slack"), RenderContext{1, "", ""}).body);
    CHECK(slack["text"] == "[high] juki-ap01 encrypted");
    CHECK(slack["blocks"][0]["text"]["text"].get<std::string>().rfind(
              "*[high] juki-ap01 encrypted*", 0) == 0);
    const auto teams =
        nlohmann::json::parse(render(n, channel("t", "teams"), RenderContext{1, "", ""}).body);
    CHECK(teams["attachments"][0]["content"]["body"][0]["text"] == "[high] juki-ap01 encrypted");
    auto hook = channel("w", "webhook");
    hook.secret = "whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=";
    const Outgoing a = render(n, hook, RenderContext{1700000000000, "", ""});
    const Outgoing b = render(n, hook, RenderContext{1700000300000, "", ""});  // a retry, later
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
    CHECK(
        header(render(n, channel("w", "webhook"), RenderContext{1000, "", ""}), "webhook-signature")
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
