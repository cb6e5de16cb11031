// Elastic Security alerts from a Kibana webhook connector.
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

// Everything but raw, which differs by construction between spellings of the same alert.
void check_same_event(const core::Event& a, const core::Event& b) {
    CHECK(a.action == b.action);
    CHECK(a.title == b.title);
    CHECK(a.severity == b.severity);
    CHECK(a.category == b.category);
    CHECK(a.dedup_key == b.dedup_key);
    CHECK(a.occurred_at == b.occurred_at);
    CHECK(a.assets == b.assets);
    CHECK(a.labels == b.labels);
    CHECK(a.classification == b.classification);
    CHECK(a.exercise == b.exercise);
}

TEST_CASE("elastic: fixture maps field by field") {
    const auto body = fixture("elastic-security.json");
    const auto events = adapt_ok(Format::kElastic, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.title == "Suspicious PowerShell download cradle");
    CHECK(e.severity == core::Severity::kHigh);
    CHECK(e.category == core::Category::kOther);
    CHECK(e.dedup_key == "Suspicious PowerShell download cradle/pc-kikaku-031");
    CHECK(e.occurred_at == test::ts("2026-04-01T01:10:00Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"pc-kikaku-031", "10.30.5.31", "t.yamada", ""});
    CHECK(e.labels ==
          test::Labels{
              {"kibana.alert.rule.name", "Suspicious PowerShell download cradle"},
              {"kibana.alert.uuid", "3f1c9e7a-0b44-4c1e-9f0a-2d5a1b7c8e90"},
              {"kibana.alert.severity", "high"},
              {"kibana.alert.risk_score", "73"},
              {"kibana.alert.reason",
               "process event with process powershell.exe, by t.yamada on pc-kikaku-031 created "
               "high alert"},
              {"event.action", "start"},
              {"event.category", "process"},
              {"process.name", "powershell.exe"},
              {"link", "https://kibana.example.lg.jp/app/security/alerts?id=3f1c"},
          });
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);
}

TEST_CASE("elastic: dotted-flat and nested ECS give the same event") {
    const auto flat = fixture("elastic-security.json");
    json nested = flat;
    json& alert = nested["alerts"][0];
    for (const char* key :
         {"kibana.alert.rule.name", "kibana.alert.severity", "kibana.alert.risk_score",
          "kibana.alert.uuid", "kibana.alert.reason"}) {
        alert.erase(key);
    }
    alert["kibana"] = json::parse(R"({"alert":{
        "rule":{"name":"Suspicious PowerShell download cradle"},
        "severity":"high","risk_score":73,"uuid":"3f1c9e7a-0b44-4c1e-9f0a-2d5a1b7c8e90",
        "reason":"process event with process powershell.exe, by t.yamada on pc-kikaku-031 created high alert"}})");
    json mixed = flat;
    json& alert2 = mixed["alerts"][0];
    alert2.erase("host");
    alert2["host.name"] = "pc-kikaku-031";
    alert2["host.ip"] = "10.30.5.31";
    alert2.erase("kibana.alert.rule.name");
    alert2["kibana.alert"] = {{"rule.name", "Suspicious PowerShell download cradle"}};

    const auto a = adapt_ok(Format::kElastic, flat);
    const auto b = adapt_ok(Format::kElastic, nested);
    const auto c = adapt_ok(Format::kElastic, mixed);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    REQUIRE(c.size() == 1);
    check_same_event(a[0], b[0]);
    check_same_event(a[0], c[0]);
}

TEST_CASE("elastic: a single alert object or the body itself") {
    const auto fixture_alert = fixture("elastic-security.json")["alerts"][0];
    const auto listed = adapt_ok(Format::kElastic, fixture("elastic-security.json"))[0];

    auto top = adapt_ok(Format::kElastic, fixture_alert);
    REQUIRE(top.size() == 1);
    CHECK(top[0].title == listed.title);
    CHECK(top[0].dedup_key == listed.dedup_key);
    CHECK(top[0].assets == listed.assets);
    CHECK(top[0].labels.count("link") == 0);
    CHECK(top[0].raw == fixture_alert);

    json wrapped = {{"alert", fixture_alert}, {"link", "https://kibana/x"}};
    auto one = adapt_ok(Format::kElastic, wrapped);
    REQUIRE(one.size() == 1);
    CHECK(one[0].title == listed.title);
    CHECK(one[0].labels.at("link") == "https://kibana/x");
    CHECK(one[0].raw == wrapped);
}

TEST_CASE("elastic: risk score bands, wrapper fallbacks, recovery, rule uuid") {
    auto body = json::parse(R"({"rule":"Wrapper rule","severity":"low",
        "alerts":[{"kibana.alert.risk_score":21},{"kibana.alert.risk_score":22},
                  {"kibana.alert.risk_score":"47"},{"kibana.alert.risk_score":48},
                  {"kibana.alert.risk_score":73.5},{"kibana.alert.risk_score":74},
                  {"kibana.alert.risk_score":100},{},
                  {"kibana.alert.severity":"critical","kibana.alert.risk_score":10}]})");
    const auto events = adapt_ok(Format::kElastic, body);
    REQUIRE(events.size() == 9);
    using S = core::Severity;
    const S expected[] = {S::kLow,      S::kMedium,   S::kMedium, S::kHigh,    S::kHigh,
                          S::kCritical, S::kCritical, S::kLow,    S::kCritical};
    for (std::size_t i = 0; i < events.size(); ++i) {
        CAPTURE(i);
        CHECK(events[i].severity == expected[i]);
        CHECK(events[i].title == "Wrapper rule");
        CHECK(events[i].raw["alerts"].size() == 1);
        CHECK(events[i].raw["rule"] == "Wrapper rule");
    }

    auto recovered = adapt_ok(Format::kElastic, json::parse(R"({"kibana":{"alert":{
        "status":"recovered","rule":{"name":"Malware prevention alert","uuid":"r-1"},
        "rule.threat":[]}},"user":{"name":"k.sato"},"labels":{"exercise":"true","classification":"3C",
        "team":"csirt"}})"))[0];
    CHECK(recovered.action == core::Action::kResolve);
    CHECK(recovered.category == core::Category::kMalware);
    CHECK(recovered.dedup_key == "r-1/k.sato");
    CHECK(recovered.exercise);
    CHECK(recovered.classification == core::Classification::k3C);
    CHECK(recovered.labels.at("team") == "csirt");
}

TEST_CASE("elastic: MITRE threat data decides the category") {
    auto e = adapt_ok(Format::kElastic, json::parse(R"({
        "kibana.alert.rule.name":"Unusual process",
        "kibana.alert.rule.threat":[{"framework":"MITRE ATT&CK",
            "tactic":{"id":"TA0010","name":"Exfiltration"},
            "technique":[{"id":"T1048","name":"Exfiltration Over Alternative Protocol"}]}]})"))[0];
    CHECK(e.category == core::Category::kDataLeak);
    CHECK(e.dedup_key == "Unusual process");
}

TEST_CASE("elastic: refusals name the field") {
    CHECK(adapt_error(Format::kElastic, json::parse(R"({"alerts":{}})")) == "/alerts");
    CHECK(adapt_error(Format::kElastic, json::parse(R"({"alerts":[]})")) == "/alerts");
    CHECK(adapt_error(Format::kElastic, json::parse(R"({"alerts":[7]})")) == "/alerts/0");
    CHECK(adapt_error(Format::kElastic, json::parse(R"({"alerts":[{"host":{"name":"x"}}]})")) ==
          "/alerts/0/kibana.alert.rule.name");
    CHECK(adapt_error(Format::kElastic, json::parse(R"({"host":{"name":"x"}})")) ==
          "/kibana.alert.rule.name");
    CHECK(adapt_error(Format::kElastic, json::parse("[1,2,3]")) == "");
}

}  // namespace
}  // namespace sonae::ingest
