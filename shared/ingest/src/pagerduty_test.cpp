// PagerDuty Events API v2.
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("pagerduty: trigger fixture maps field by field") {
    const auto body = fixture("pagerduty-v2-trigger.json");
    const auto events = adapt_ok(Format::kPagerDuty, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.dedup_key == "wazuh-5763-web01");
    CHECK(e.title == "SSH brute force on web01");
    CHECK(e.severity == core::Severity::kCritical);
    CHECK(e.category == core::Category::kIntrusion);
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:03Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"web01.example.lg.jp", "", "", ""});
    CHECK(e.labels == test::Labels{{"component", "sshd"},
                                   {"class", "authentication"},
                                   {"custom_details.srcip", "203.0.113.7"},
                                   {"custom_details.attempts", "42"}});
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    // raw is the payload minus the routing key, which is a credential.
    json expected = body;
    expected["routing_key"] = "[redacted]";
    CHECK(e.raw == expected);
    CHECK(e.raw.dump().find("R0123456789abcdef") == std::string::npos);
}

TEST_CASE("pagerduty: resolve fixture maps field by field") {
    const auto body = fixture("pagerduty-v2-resolve.json");
    const auto events = adapt_ok(Format::kPagerDuty, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kResolve);
    CHECK(e.dedup_key == "wazuh-5763-web01");
    CHECK(e.title == "PagerDuty resolve: wazuh-5763-web01");
    CHECK(e.severity == core::Severity::kInfo);
    CHECK(e.category == core::Category::kOther);
    CHECK_FALSE(e.occurred_at.has_value());
    CHECK(e.assets.empty());
    CHECK(e.labels.empty());
    CHECK(e.raw["routing_key"] == "[redacted]");
    CHECK(e.raw["event_action"] == "resolve");
}

TEST_CASE("pagerduty: acknowledge, trigger without dedup_key, severities, details") {
    auto ack = json::parse(R"({"routing_key":"r","event_action":"acknowledge","dedup_key":"k"})");
    CHECK(adapt_ok(Format::kPagerDuty, ack)[0].action == core::Action::kAcknowledge);

    auto trigger = fixture("pagerduty-v2-trigger.json");
    trigger.erase("dedup_key");
    trigger["payload"]["severity"] = "warning";
    trigger["payload"]["source"] = "10.1.2.3";
    trigger["payload"]["custom_details"] = {
        {"category", "phishing"}, {"classification", "3C"}, {"exercise", true}};
    auto e = adapt_ok(Format::kPagerDuty, trigger)[0];
    CHECK(e.dedup_key.empty());  // the gateway uses the event id
    CHECK(e.severity == core::Severity::kMedium);
    CHECK(e.category == core::Category::kPhishing);
    CHECK(e.classification == core::Classification::k3C);
    CHECK(e.exercise);
    CHECK(e.assets[0] == core::Asset{"", "10.1.2.3", "", ""});

    trigger["payload"]["severity"] = "error";
    trigger["payload"]["custom_details"] = "free text details";
    e = adapt_ok(Format::kPagerDuty, trigger)[0];
    CHECK(e.severity == core::Severity::kHigh);
    CHECK(e.labels.at("custom_details") == "free text details");
    trigger["payload"]["severity"] = "info";
    CHECK(adapt_ok(Format::kPagerDuty, trigger)[0].severity == core::Severity::kInfo);
}

TEST_CASE("pagerduty: refusals name the field, as PagerDuty would") {
    const auto trigger = fixture("pagerduty-v2-trigger.json");
    json b = trigger;
    b["event_action"] = "escalate";
    CHECK(adapt_error(Format::kPagerDuty, b) == "/event_action");
    b.erase("event_action");
    CHECK(adapt_error(Format::kPagerDuty, b) == "/event_action");
    b = trigger;
    b.erase("payload");
    CHECK(adapt_error(Format::kPagerDuty, b) == "/payload");
    b = trigger;
    b["payload"].erase("summary");
    CHECK(adapt_error(Format::kPagerDuty, b) == "/payload/summary");
    b = trigger;
    b["payload"].erase("source");
    CHECK(adapt_error(Format::kPagerDuty, b) == "/payload/source");
    b = trigger;
    b["payload"]["severity"] = "high";
    CHECK(adapt_error(Format::kPagerDuty, b) == "/payload/severity");
    b = trigger;
    b["payload"]["timestamp"] = "last tuesday";
    CHECK(adapt_error(Format::kPagerDuty, b) == "/payload/timestamp");
    b = trigger;
    b["dedup_key"] = 5;
    CHECK(adapt_error(Format::kPagerDuty, b) == "/dedup_key");
    CHECK(adapt_error(Format::kPagerDuty,
                      json::parse(R"({"routing_key":"r","event_action":"resolve"})")) ==
          "/dedup_key");
    CHECK(adapt_error(Format::kPagerDuty, json::parse("[1,2,3]")) == "");
}

}  // namespace
}  // namespace sonae::ingest
