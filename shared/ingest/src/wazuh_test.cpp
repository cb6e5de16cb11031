// Wazuh alerts (integratord, alert_format json).
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("wazuh: fixture maps field by field") {
    const auto body = fixture("wazuh-alert.json");
    const auto events = adapt_ok(Format::kWazuh, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.title == "Ransomware behaviour: mass file encryption detected");
    CHECK(e.severity == core::Severity::kHigh);  // level 12
    CHECK(e.category == core::Category::kRansomware);
    CHECK(e.dedup_key == "wazuh-87105-juki-ap01");
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:03.456Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"juki-ap01", "10.20.1.14", "", ""});
    CHECK(e.labels == test::Labels{{"rule.id", "87105"},
                                   {"rule.level", "12"},
                                   {"rule.groups", "ransomware,syscheck"},
                                   {"rule.mitre.id", "T1486"},
                                   {"rule.mitre.tactic", "Impact"},
                                   {"rule.mitre.technique", "Data Encrypted for Impact"},
                                   {"agent.id", "014"},
                                   {"manager.name", "wazuh-mgr"},
                                   {"decoder.name", "syscheck_integrity_changed"},
                                   {"location", "syscheck"},
                                   {"id", "1775005323.8812"},
                                   // the format-independent ATT&CK labels playbooks match on
                                   {"mitre.technique", "T1486"},
                                   {"mitre.tactic", "Impact"}});
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);
}

TEST_CASE("wazuh: level bands") {
    auto body = fixture("wazuh-alert.json");
    const std::pair<int, core::Severity> cases[] = {
        {0, core::Severity::kInfo},      {3, core::Severity::kInfo},
        {4, core::Severity::kLow},       {6, core::Severity::kLow},
        {7, core::Severity::kMedium},    {11, core::Severity::kMedium},
        {12, core::Severity::kHigh},     {14, core::Severity::kHigh},
        {15, core::Severity::kCritical}, {16, core::Severity::kCritical},
    };
    for (const auto& c : cases) {
        body["rule"]["level"] = c.first;
        CAPTURE(c.first);
        CHECK(adapt_ok(Format::kWazuh, body)[0].severity == c.second);
    }
}

TEST_CASE("wazuh: brute force from outside, lateral movement from inside") {
    auto body = json::parse(R"({"timestamp":"2026-04-01T10:00:00.000+0900",
        "rule":{"level":10,"id":"5763","description":"sshd: brute force trying to get access to the system.",
                "groups":["syslog","sshd","authentication_failures"],
                "mitre":{"id":["T1110"],"tactic":["Credential Access"],"technique":["Brute Force"]}},
        "agent":{"id":"003","name":"web01","ip":"10.0.0.3"},
        "data":{"srcip":"203.0.113.7","dstuser":"root"}})");
    auto e = adapt_ok(Format::kWazuh, body)[0];
    CHECK(e.category == core::Category::kIntrusion);
    CHECK(e.severity == core::Severity::kMedium);
    CHECK(e.dedup_key == "wazuh-5763-web01");
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"web01", "10.0.0.3", "root", ""});
    CHECK(e.labels.at("data.srcip") == "203.0.113.7");

    body["data"]["srcip"] = "192.168.10.20";
    e = adapt_ok(Format::kWazuh, body)[0];
    REQUIRE(e.assets.size() == 2);
    CHECK(e.assets[1] == core::Asset{"", "192.168.10.20", "", ""});
}

TEST_CASE("wazuh: manager alerts and missing pieces") {
    auto e = adapt_ok(Format::kWazuh, json::parse(R"({"rule":{"level":5,"id":"100"},
        "agent":{"id":"000","name":"wazuh-mgr","ip":"any"},"predecoder":{"hostname":"fw01"}})"))[0];
    CHECK(e.title == "Wazuh rule 100");
    CHECK(e.dedup_key == "wazuh-100-wazuh-mgr");
    CHECK(e.severity == core::Severity::kLow);
    CHECK(e.category == core::Category::kOther);
    REQUIRE(e.assets.size() == 2);
    CHECK(e.assets[0] == core::Asset{"wazuh-mgr", "", "", ""});
    CHECK(e.assets[1] == core::Asset{"fw01", "", "", ""});
    CHECK_FALSE(e.occurred_at.has_value());

    e = adapt_ok(Format::kWazuh,
                 json::parse(R"({"rule":{"level":5},"timestamp":"9999-12-31T23:59:59-01:00"})"))[0];
    CHECK_FALSE(e.occurred_at.has_value());  // beyond what the schema's date-time can hold
    e = adapt_ok(Format::kWazuh, json::parse(R"({"rule":{"level":5}})"))[0];
    CHECK(e.dedup_key == "wazuh--manager");
    CHECK(e.assets.empty());
}

TEST_CASE("wazuh: refusals name the field") {
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"agent":{}})")) == "/rule");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":[]})")) == "/rule");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":{}})")) == "/rule/level");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":{"level":17}})")) == "/rule/level");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":{"level":-1}})")) == "/rule/level");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":{"level":2.5}})")) == "/rule/level");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":{"level":1e300}})")) == "/rule/level");
    CHECK(adapt_error(Format::kWazuh, json::parse(R"({"rule":{"level":"high"}})")) ==
          "/rule/level");
    CHECK(adapt_error(Format::kWazuh, json::parse("[1,2,3]")) == "");
}

}  // namespace
}  // namespace sonae::ingest
