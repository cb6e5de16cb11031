// Correlation beyond the dedup key and playbook selection by impact (issue 14), through the
// orchestrator's processor on a real Redis with the shipped playbook library: a worm across 40
// PCs is one incident with 40 assets, also when four processors race on it; the group ends with
// its window or its incident; the payment site's alert opens the payment playbook.
#include <algorithm>
#include <set>
#include <thread>

#include <doctest/doctest.h>

#include "fixture.hpp"

using namespace sonae;
using namespace sonae::orchestrator;
using namespace sonae::orchestrator::testing;
using nlohmann::json;

namespace {

// Ransomware found on LGWAN terminal n (10.10.16.0/20, no business service of its own).
core::Event worm_alert(int n, const std::string& id_suffix = "") {
    core::Event e;
    e.id = "worm-" + std::to_string(n) + id_suffix;
    e.source = "edr";
    e.title = "Ransomware behaviour detected on pc-lgwan-" + std::to_string(n);
    e.category = core::Category::kRansomware;
    e.severity = core::Severity::kHigh;
    e.dedup_key = "edr-ransom-pc-lgwan-" + std::to_string(n);
    e.assets.push_back(
        core::Asset{"pc-lgwan-" + std::to_string(n), "10.10.16." + std::to_string(10 + n), "", ""});
    return e;
}

std::vector<std::string> open_incidents(Fixture& f) {
    std::vector<std::string> out;
    for (const auto& m : f.redis.command({"SMEMBERS", f.keys.open("default")}).elements())
        out.push_back(m.str());
    return out;
}

std::string incident_of(const Applied& a) {
    for (const auto& m : a.outbox) {
        const json body = json::parse(m.body, nullptr, false);
        if (body.is_object() && body.contains("incident"))
            return body["incident"].get<std::string>();
    }
    return "";
}

}  // namespace

TEST_CASE("a worm across 40 PCs within the window becomes one incident with 40 assets") {
    Fixture f(std::string(test::TestEnv::require().source_dir + "/playbooks"));
    std::set<std::string> incidents;
    std::vector<std::string> kinds;
    for (int n = 1; n <= 40; ++n) {
        const Applied a = f.processor.on_event(worm_alert(n), f.clock.now());
        for (const auto& m : a.outbox) {
            if (m.routing_key == core::wire::kNotifications)
                kinds.push_back(json::parse(m.body).at("kind").get<std::string>());
        }
        f.clock.advance(20 * core::kSecond);  // 13 minutes in all, each within 30 of the last
    }
    // A repeat from the first PC counts against its asset.
    f.processor.on_event(worm_alert(1, "-again"), f.clock.now());

    const auto open = open_incidents(f);
    REQUIRE(open.size() == 1);
    const core::Incident inc = f.incident(open[0]);
    CHECK(inc.playbook_id == "ransomware-core");
    CHECK(inc.event_count == 41);
    CHECK(inc.alerts.size() == 40);
    CHECK(inc.asset_counts.size() == 40);
    CHECK(inc.asset_counts.at("pc-lgwan-1") == 2);
    CHECK(inc.asset_counts.at("pc-lgwan-40") == 1);
    CHECK(inc.group == "pb=ransomware-core;category=ransomware");

    // The timeline names the group at the opening and in every joined alert's entry.
    const auto timeline = f.processor.store().timeline("default", open[0]);
    int joined = 0, spreading = 0;
    for (const auto& e : timeline) {
        if (e["kind"] == "opened")
            CHECK(e["data"]["group"] == inc.group);
        if (e["kind"] == "event" && e["data"].contains("group")) {
            ++joined;
            CHECK(e["data"]["group"] == inc.group);
        }
        if (e["kind"] == "escalation" && e["data"]["escalation"] == "spreading")
            ++spreading;
    }
    CHECK(joined == 39);
    CHECK(spreading == 1);  // at the tenth PC, once
    // One opening page for the whole worm, one escalation when it spread: not forty pages.
    CHECK(std::count(kinds.begin(), kinds.end(), "opened") == 1);

    // Past the window, ransomware is a new incident; the old one keeps its alerts.
    f.clock.advance(31 * core::kMinute);
    const Applied late = f.processor.on_event(worm_alert(41), f.clock.now());
    CHECK(incident_of(late) != open[0]);
    CHECK(open_incidents(f).size() == 2);
    // A known alert still goes to its own incident (by dedup key), not to the new group.
    f.processor.on_event(worm_alert(2, "-late"), f.clock.now());
    CHECK(f.incident(open[0]).alerts.at("edr-ransom-pc-lgwan-2").count == 2);
}

TEST_CASE("four processors racing on one group open one incident") {
    Fixture f(std::string(test::TestEnv::require().source_dir + "/playbooks"));
    constexpr int kThreads = 4, kEach = 10;
    std::vector<std::unique_ptr<redis::Connection>> conns;
    std::vector<std::unique_ptr<Processor>> processors;
    for (int t = 0; t < kThreads; ++t) {
        conns.push_back(
            std::make_unique<redis::Connection>(redis::Settings::parse(f.env.redis_url).value()));
        processors.push_back(
            std::make_unique<Processor>(f.libraries, *conns.back(), f.keys, f.metrics));
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const core::Event e = worm_alert(t * kEach + i + 1);
                on_event_requeued(*processors[static_cast<std::size_t>(t)], e, f.clock.now());
            }
        });
    }
    for (auto& th : threads)
        th.join();
    const auto open = open_incidents(f);
    REQUIRE(open.size() == 1);
    const core::Incident inc = f.incident(open[0]);
    CHECK(inc.event_count == kThreads * kEach);
    CHECK(inc.asset_counts.size() == static_cast<std::size_t>(kThreads * kEach));
    // Every alert but the opener is recorded as joined by the group, also those that lost a
    // race and were applied on a retry.
    int joined = 0;
    for (const auto& e : f.processor.store().timeline("default", open[0]))
        joined += e["kind"] == "event" && e["data"].contains("group") ? 1 : 0;
    CHECK(joined == kThreads * kEach - 1);
}

TEST_CASE("a resolved incident releases its group: the next alert opens a new incident") {
    Fixture f(std::string(test::TestEnv::require().source_dir + "/playbooks"));
    const std::string first = incident_of(f.processor.on_event(worm_alert(1), f.clock.now()));
    REQUIRE_FALSE(first.empty());
    const std::string group_key = f.keys.group("default", "pb=ransomware-core;category=ransomware");
    CHECK(f.redis.command({"GET", group_key}).str().rfind(first + "|", 0) == 0);
    f.processor.on_command(f.command("c1", first, "resolve contained"), f.clock.now(), nullptr);
    REQUIRE_FALSE(f.incident(first).open());
    CHECK(f.redis.command({"EXISTS", group_key}).integer() == 0);
    f.clock.advance(core::kMinute);
    const std::string second = incident_of(f.processor.on_event(worm_alert(2), f.clock.now()));
    CHECK_FALSE(second.empty());
    CHECK(second != first);
}

TEST_CASE("a card-testing alert on the payment site picks the payment playbook, and says why") {
    Fixture f(std::string(test::TestEnv::require().source_dir + "/playbooks"));
    core::Event e;
    e.id = "card-1";
    e.source = "waf";
    e.title = "決済ページでカード情報の不正利用テスト（少額決済の失敗が多発）";
    e.category = core::Category::kOther;
    e.severity = core::Severity::kHigh;
    e.dedup_key = "waf-card-testing";
    e.assets.push_back(core::Asset{"pay.city.sonae.example.lg.jp", "", "", ""});
    const std::string id = incident_of(f.processor.on_event(e, f.clock.now()));
    REQUIRE_FALSE(id.empty());
    const core::Incident inc = f.incident(id);
    CHECK(inc.playbook_id == "payment-provider-compromise");
    const auto timeline = f.processor.store().timeline("default", id);
    REQUIRE_FALSE(timeline.empty());
    const json& opened = timeline.front();
    CHECK(opened["kind"] == "opened");
    CHECK(opened["data"]["selected_by"] == "service");
    CHECK(opened["data"]["service"] == "payments");
    CHECK(opened["text"].get<std::string>().find("payments") != std::string::npos);
}
