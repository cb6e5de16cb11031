// CloudEvents 1.0: structured and binary mode.
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("cloudevents: structured fixture maps field by field") {
    const auto body = fixture("cloudevents-structured.json");
    const auto events = adapt_ok(Format::kCloudEvents, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.title == "Credential dumping tool executed");
    CHECK(e.category == core::Category::kAccountCompromise);
    CHECK(e.severity == core::Severity::kHigh);
    CHECK(e.dedup_key == "/edr/console/evt-20260401-0001");
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:03Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"pc-zeimu-007", "", "k.sato", ""});
    CHECK(e.labels == test::Labels{{"ce.type", "jp.lg.example.edr.detection"},
                                   {"ce.source", "/edr/console"},
                                   {"ce.id", "evt-20260401-0001"}});
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);
}

TEST_CASE("cloudevents: binary mode reads the ce-* headers and the body as data") {
    const auto structured = fixture("cloudevents-structured.json");
    HeaderMap headers;
    headers.set("Ce-Specversion", "1.0");
    headers.set("ce-id", "evt-20260401-0002");
    headers.set("ce-source", "/edr/console");
    headers.set("ce-type", "jp.lg.example.edr.detection");
    headers.set("ce-time", "2026-04-01T10:02:03+09:00");
    headers.set("ce-subject", "pc-zeimu-007");
    headers.set("ce-tenantcode", "%E6%9D%B1%E4%BA%AC");  // an extension, percent-encoded
    headers.set("content-type", "application/json");
    const json data = structured["data"];
    const auto events = adapt_ok(Format::kCloudEvents, data, headers);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.title == "Credential dumping tool executed");
    CHECK(e.category == core::Category::kAccountCompromise);
    CHECK(e.severity == core::Severity::kHigh);
    CHECK(e.dedup_key == "/edr/console/pc-zeimu-007");  // subject before id
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:03Z"));
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"pc-zeimu-007", "", "k.sato", ""});
    CHECK(e.labels.at("ce.subject") == "pc-zeimu-007");
    CHECK(e.labels.at("ce.id") == "evt-20260401-0002");
    // raw is the structured-mode equivalent.
    CHECK(e.raw["specversion"] == "1.0");
    CHECK(e.raw["id"] == "evt-20260401-0002");
    CHECK(e.raw["time"] == "2026-04-01T10:02:03+09:00");
    CHECK(e.raw["tenantcode"] == "東京");
    CHECK(e.raw["datacontenttype"] == "application/json");
    CHECK(e.raw["data"] == data);
}

TEST_CASE("cloudevents: data fields override attributes, attributes fill the gaps") {
    auto body = json::parse(R"({"specversion":"1.0","id":"1","source":"s","type":"com.example.ddos",
        "subject":"portal","data":{"dedup_key":"k1","action":"resolve","severity":"warning",
        "occurred_at":"2026-04-01T00:00:00Z","exercise":true,"classification":"3a",
        "labels":{"ce.type":"ignored","team":"soc","n":1,"nested":{"x":1}}}})");
    const auto events = adapt_ok(Format::kCloudEvents, body);
    const core::Event& e = events[0];
    CHECK(e.title == "com.example.ddos portal");
    CHECK(e.category == core::Category::kDdos);
    CHECK(e.dedup_key == "k1");
    CHECK(e.action == core::Action::kResolve);
    CHECK(e.severity == core::Severity::kMedium);
    CHECK(e.occurred_at == test::ts("2026-04-01T00:00:00Z"));
    CHECK(e.exercise);
    CHECK(e.classification == core::Classification::k3A);
    CHECK(e.labels == test::Labels{{"ce.type", "com.example.ddos"},
                                   {"ce.source", "s"},
                                   {"ce.id", "1"},
                                   {"ce.subject", "portal"},
                                   {"team", "soc"},
                                   {"n", "1"}});
}

TEST_CASE("cloudevents: data may be absent or not an object") {
    auto events = adapt_ok(Format::kCloudEvents,
                           json::parse(R"({"specversion":"1.0","id":"1","source":"s","type":"t",
                                           "data":"plain text"})"));
    CHECK(events[0].title == "t");
    CHECK(events[0].dedup_key == "s/1");
    CHECK(events[0].severity == core::Severity::kMedium);
    events = adapt_ok(Format::kCloudEvents,
                      json::parse(R"({"specversion":"1.0","id":"1","source":"s","type":"t",
                                      "data_base64":"aGVsbG8="})"));
    CHECK(events[0].title == "t");
}

TEST_CASE("cloudevents: refusals name the field") {
    const auto ok = fixture("cloudevents-structured.json");
    auto without = [&](const char* key) {
        json b = ok;
        b.erase(key);
        return b;
    };
    CHECK(adapt_error(Format::kCloudEvents, without("specversion")) == "/specversion");
    CHECK(adapt_error(Format::kCloudEvents, without("id")) == "/id");
    CHECK(adapt_error(Format::kCloudEvents, without("source")) == "/source");
    CHECK(adapt_error(Format::kCloudEvents, without("type")) == "/type");
    json b = ok;
    b["specversion"] = "0.3";
    CHECK(adapt_error(Format::kCloudEvents, b) == "/specversion");
    b = ok;
    b["time"] = "noon";
    CHECK(adapt_error(Format::kCloudEvents, b) == "/time");
    b = ok;
    b["data"]["severity"] = "apocalyptic";
    CHECK(adapt_error(Format::kCloudEvents, b) == "/data/severity");
    b = ok;
    b["data"]["category"] = 5;
    CHECK(adapt_error(Format::kCloudEvents, b) == "/data/category");
    b = ok;
    b["data"]["action"] = "explode";
    CHECK(adapt_error(Format::kCloudEvents, b) == "/data/action");
    CHECK(adapt_error(Format::kCloudEvents, json::array()) == "");

    HeaderMap headers;
    headers.set("ce-specversion", "1.0");
    headers.set("ce-source", "s");
    headers.set("ce-type", "t");
    CHECK(adapt_error(Format::kCloudEvents, json::object(), headers) == "");  // no ce-id
    headers.set("ce-id", "1");
    CHECK(adapt_ok(Format::kCloudEvents, json::object(), headers).size() == 1);
    headers.set("ce-time", "soon");
    CHECK(adapt_error(Format::kCloudEvents, json::object(), headers) == "");
    headers.set("ce-time", "2026-04-01T00:00:00Z");
    headers.set("ce-subject", "%FF%FE");
    CHECK(adapt_error(Format::kCloudEvents, json::object(), headers) == "");
    headers.set("ce-subject", "x");
    CHECK(adapt_error(Format::kCloudEvents, json::parse(R"({"severity":"bad"})"), headers) ==
          "/severity");
}

}  // namespace
}  // namespace sonae::ingest
