// Alert storms on real servers (issue 14): a worm's alerts posted concurrently through the
// gateway to three orchestrator replicas with the shipped playbook library become one incident
// with every asset and one opening page; the payment site's alert opens the payment playbook.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <atomic>
#include <thread>

#include <doctest/doctest.h>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

std::vector<std::pair<std::string, std::string>> bearer() {
    return {{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}};
}

json worm_event(int n) {
    return {{"title", "Ransomware behaviour detected on pc-lgwan-" + std::to_string(n)},
            {"category", "ransomware"},
            {"severity", "high"},
            {"dedup_key", "edr-ransom-pc-lgwan-" + std::to_string(n)},
            {"assets", {{{"host", "pc-lgwan-" + std::to_string(n)}}}}};
}

std::vector<json> open_incidents(Stack& stack) {
    std::vector<json> out;
    for (const auto& id :
         stack.redis().command({"SMEMBERS", stack.prefix() + ":default:open"}).elements()) {
        auto state =
            stack.redis().command({"HGET", stack.prefix() + ":default:inc:" + id.str(), "state"});
        if (!state.is_nil())
            out.push_back(json::parse(state.str()));
    }
    return out;
}

}  // namespace

TEST_CASE("a worm across 40 PCs posted to three orchestrators is one incident with 40 assets") {
    const TestEnv env = TestEnv::require();
    Receiver receiver;
    Stack::Options options;
    options.config_dir = write_webhook_config(receiver.url());
    options.playbook_dir = env.source_dir + "/playbooks";
    options.orchestrators = 3;
    Stack stack(env, options);
    INFO(stack.logs());

    // Four senders at once, ten PCs each, all within seconds: the replicas race on the group.
    std::atomic<int> accepted{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const auto r = http_post(stack.url("/v1/events/generic"),
                                         worm_event(t * 10 + i + 1).dump(), bearer());
                if (r.status == 202)
                    ++accepted;
            }
        });
    }
    for (auto& s : senders)
        s.join();
    REQUIRE(accepted == 40);

    // Positive signal: every accepted alert is counted in an open incident.
    int counted = 0;
    REQUIRE(wait_until(
        [&] {
            counted = 0;
            for (const auto& inc : open_incidents(stack))
                counted += inc.value("events", 0);
            return counted == 40;
        },
        std::chrono::seconds(30)));
    const auto open = open_incidents(stack);
    REQUIRE(open.size() == 1);
    const json& inc = open.front();
    CHECK(inc["playbook"] == "ransomware-core");
    CHECK(inc["alerts"].size() == 40);
    CHECK(inc["ac"].size() == 40);
    CHECK(inc["group"] == "pb=ransomware-core;category=ransomware");
    const std::string id = inc["id"];

    // The timeline has the 39 joined alerts, each naming the group.
    const auto timeline =
        stack.redis().command({"LRANGE", stack.prefix() + ":default:tl:" + id, "0", "-1"});
    int joined = 0;
    for (const auto& e : timeline.elements()) {
        const json entry = json::parse(e.str());
        if (entry["kind"] == "event" && entry["data"].contains("group"))
            ++joined;
    }
    CHECK(joined == 39);

    // One opening page and one "spreading" escalation reach the receiver, not forty pages: a
    // later alert of another kind is the positive signal that earlier pages were delivered.
    const json later = {{"title", "later"}, {"category", "other"}, {"dedup_key", "later"}};
    REQUIRE(http_post(stack.url("/v1/events/generic"), later.dump(), bearer()).status == 202);
    int opened = 0, escalations = 0;
    REQUIRE(wait_until(
        [&] {
            opened = escalations = 0;
            bool later_seen = false;
            for (const auto& r : receiver.requests()) {
                const json body = json::parse(r.body, nullptr, false);
                if (!body.is_object())
                    continue;
                if (body.value("incident", "") == id) {
                    opened += body.value("kind", "") == "opened" ? 1 : 0;
                    escalations += body.value("kind", "") == "escalation" ? 1 : 0;
                } else if (body.value("kind", "") == "opened") {
                    later_seen = true;
                }
            }
            return later_seen && opened >= 1;
        },
        std::chrono::seconds(30)));
    CHECK(opened == 1);
    CHECK(escalations == 1);  // spreading, at the tenth asset
}

TEST_CASE("a card-testing alert on the payment site opens the payment playbook, with its reason") {
    const TestEnv env = TestEnv::require();
    Receiver receiver;
    Stack::Options options;
    options.config_dir = write_webhook_config(receiver.url());
    options.playbook_dir = env.source_dir + "/playbooks";
    Stack stack(env, options);
    INFO(stack.logs());
    const json card = {{"title", "決済ページでカード情報の不正利用テスト（少額決済の失敗が多発）"},
                       {"category", "other"},
                       {"severity", "high"},
                       {"dedup_key", "waf-card-testing"},
                       {"assets", {{{"host", "pay.city.sonae.example.lg.jp"}}}}};
    REQUIRE(http_post(stack.url("/v1/events/generic"), card.dump(), bearer()).status == 202);
    std::vector<json> open;
    REQUIRE(wait_until(
        [&] {
            open = open_incidents(stack);
            return open.size() == 1;
        },
        std::chrono::seconds(30)));
    CHECK(open[0]["playbook"] == "payment-provider-compromise");
    const std::string id = open[0]["id"];
    const auto first = stack.redis().command({"LINDEX", stack.prefix() + ":default:tl:" + id, "0"});
    const json opened = json::parse(first.str());
    CHECK(opened["kind"] == "opened");
    CHECK(opened["data"]["selected_by"] == "service");
    CHECK(opened["data"]["service"] == "payments");
}
