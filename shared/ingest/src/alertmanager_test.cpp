// Prometheus Alertmanager webhook v4.
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("alertmanager: fixture maps field by field") {
    const auto body = fixture("alertmanager-v4.json");
    const auto events = adapt_ok(Format::kAlertmanager, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.title == "SSHBruteForce: Brute force against the bastion host");
    CHECK(e.severity == core::Severity::kCritical);
    CHECK(e.category == core::Category::kIntrusion);
    CHECK(e.dedup_key == R"({}:{alertname="SSHBruteForce"}/a1b2c3d4e5f60718)");
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:03.456Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"bastion01", "", "", ""});
    CHECK(e.labels == test::Labels{{"alertname", "SSHBruteForce"},
                                   {"instance", "bastion01:9100"},
                                   {"severity", "critical"}});
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);  // a single alert: raw is the whole payload
}

TEST_CASE("alertmanager: a resolved alert resolves, dated by endsAt") {
    auto body = fixture("alertmanager-v4.json");
    body["status"] = "resolved";
    body["alerts"][0]["status"] = "resolved";
    body["alerts"][0]["endsAt"] = "2026-04-01T01:30:00Z";
    const auto events = adapt_ok(Format::kAlertmanager, body);
    REQUIRE(events.size() == 1);
    CHECK(events[0].action == core::Action::kResolve);
    CHECK(events[0].occurred_at == test::ts("2026-04-01T01:30:00Z"));
    CHECK(events[0].dedup_key == R"({}:{alertname="SSHBruteForce"}/a1b2c3d4e5f60718)");
    CHECK(events[0].severity == core::Severity::kCritical);
}

TEST_CASE("alertmanager: one event per alert, each raw holding its own alert") {
    auto body = fixture("alertmanager-v4.json");
    json second = body["alerts"][0];
    second["labels"] = {{"alertname", "SSHBruteForce"},
                        {"instance", "10.0.0.5:9100"},
                        {"severity", "warning"},
                        {"category", "account-compromise"},
                        {"classification", "2"},
                        {"exercise", "true"},
                        {"service", "juki"}};
    second["fingerprint"] = "ffff000011112222";
    second["status"] = "resolved";
    second["endsAt"] = "0001-01-01T00:00:00Z";  // Go's zero time: not set
    body["alerts"].push_back(second);
    const auto events = adapt_ok(Format::kAlertmanager, body);
    REQUIRE(events.size() == 2);
    const core::Event& e = events[1];
    CHECK(e.action == core::Action::kResolve);
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:03.456Z"));  // falls back to startsAt
    CHECK(e.severity == core::Severity::kMedium);
    CHECK(e.category == core::Category::kAccountCompromise);
    CHECK(e.classification == core::Classification::k2);
    CHECK(e.exercise);
    CHECK(e.dedup_key == R"({}:{alertname="SSHBruteForce"}/ffff000011112222)");
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"", "10.0.0.5", "", "juki"});
    CHECK(e.raw["alerts"].size() == 1);
    CHECK(e.raw["alerts"][0] == second);
    CHECK(e.raw["groupKey"] == body["groupKey"]);
    CHECK(events[0].raw["alerts"][0] == body["alerts"][0]);
}

TEST_CASE("alertmanager: sparse alerts get defaults") {
    auto events = adapt_ok(Format::kAlertmanager, json::parse(R"({"alerts":[{}]})"));
    REQUIRE(events.size() == 1);
    CHECK(events[0].title == "Alertmanager alert");
    CHECK(events[0].severity == core::Severity::kMedium);
    CHECK(events[0].category == core::Category::kOther);
    CHECK(events[0].action == core::Action::kTrigger);
    CHECK(events[0].dedup_key.size() == 16);  // fingerprint derived from the (empty) labels
    CHECK(events[0].assets.empty());

    // Labels only in commonLabels still count; a description stands in for the summary.
    events = adapt_ok(Format::kAlertmanager, json::parse(R"({"commonLabels":{"alertname":"Ransom",
        "severity":"p2"},"alerts":[{"annotations":{"description":"files encrypted"}}]})"));
    CHECK(events[0].title == "Ransom: files encrypted");
    CHECK(events[0].severity == core::Severity::kHigh);
    CHECK(events[0].category == core::Category::kRansomware);
}

TEST_CASE("alertmanager: refusals name the field") {
    CHECK(adapt_error(Format::kAlertmanager, json::parse(R"({"version":"4"})")) == "/alerts");
    CHECK(adapt_error(Format::kAlertmanager, json::parse(R"({"alerts":{}})")) == "/alerts");
    CHECK(adapt_error(Format::kAlertmanager, json::parse(R"({"alerts":[]})")) == "/alerts");
    CHECK(adapt_error(Format::kAlertmanager, json::parse(R"({"alerts":[{},3]})")) == "/alerts/1");
    CHECK(adapt_error(Format::kAlertmanager, json::parse(R"({"alerts":[{"status":"pending"}]})")) ==
          "/alerts/0/status");
    CHECK(adapt_error(Format::kAlertmanager, json::parse("[1,2,3]")) == "");
}

TEST_CASE("alertmanager: wrong types anywhere do not break the adapter") {
    auto events = adapt_ok(Format::kAlertmanager, json::parse(R"({"groupKey":5,"commonLabels":[],
        "alerts":[{"labels":{"alertname":["a","b"],"severity":7,"instance":{"x":1}},
        "annotations":null,"startsAt":12,"endsAt":"x","fingerprint":false}]})"));
    REQUIRE(events.size() == 1);
    CHECK(events[0].title == "a,b");
    CHECK(events[0].occurred_at == test::ts("1970-01-01T00:00:12Z"));
}

}  // namespace
}  // namespace sonae::ingest
