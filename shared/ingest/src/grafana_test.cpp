// Grafana alerting webhook (Alertmanager's shape plus title, message and state).
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("grafana: fixture maps field by field") {
    const auto body = fixture("grafana-webhook.json");
    const auto events = adapt_ok(Format::kGrafana, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.title == "HTTPErrorRate: 5xx rate 43%");
    CHECK(e.severity == core::Severity::kCritical);
    // "possible DDoS" is in the group's common annotations.
    CHECK(e.category == core::Category::kDdos);
    CHECK(e.dedup_key == R"({}:{alertname="HTTPErrorRate"}/0f1e2d3c4b5a6978)");
    CHECK(e.occurred_at == test::ts("2026-04-01T01:00:00Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"web-lb01", "", "", "public-portal"});
    CHECK(e.labels == test::Labels{{"alertname", "HTTPErrorRate"},
                                   {"host", "web-lb01"},
                                   {"service", "public-portal"},
                                   {"severity", "critical"}});
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);
}

TEST_CASE("grafana: resolved alerts and the group title as a last resort") {
    auto body = fixture("grafana-webhook.json");
    body["alerts"][0]["status"] = "resolved";
    body["alerts"][0]["endsAt"] = "2026-04-01T01:20:00Z";
    auto events = adapt_ok(Format::kGrafana, body);
    CHECK(events[0].action == core::Action::kResolve);
    CHECK(events[0].occurred_at == test::ts("2026-04-01T01:20:00Z"));

    events =
        adapt_ok(Format::kGrafana,
                 json::parse(R"j({"title":"[FIRING:1] (no labels)","alerts":[{"labels":{}}]})j"));
    CHECK(events[0].title == "[FIRING:1] (no labels)");
    events = adapt_ok(Format::kGrafana, json::parse(R"({"alerts":[{"labels":{}}]})"));
    CHECK(events[0].title == "Grafana alert");
}

TEST_CASE("grafana: refusals name the field") {
    CHECK(adapt_error(Format::kGrafana, json::parse(R"({"state":"alerting"})")) == "/alerts");
    CHECK(adapt_error(Format::kGrafana, json::parse("[1,2,3]")) == "");
}

}  // namespace
}  // namespace sonae::ingest
