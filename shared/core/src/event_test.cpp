#include <doctest/doctest.h>

#include <sonae/core/event.hpp>
#include <sonae/core/schema.hpp>

#include "test_fixture.hpp"

using namespace sonae::core;

TEST_CASE("canonical event round trip and enum parsing") {
    const auto j =
        nlohmann::json::parse(R"({"id":"e1","source":"generic","title":"t","action":"resolve",
        "category":"data_leak","severity":"critical","classification":"3A","received_at":"2026-04-01T00:00:00Z",
        "assets":[{"host":"h","ip":"10.0.0.1","user":"u","system":"s"}],"labels":{"a":"b","n":1},"exercise":true,
        "raw":{"x":1}})");
    auto e = event_from_json(j);
    REQUIRE(e);
    CHECK(e->action == Action::kResolve);
    CHECK(e->category == Category::kDataLeak);
    CHECK(e->severity == Severity::kCritical);
    CHECK(e->classification == Classification::k3A);
    CHECK(e->assets.at(0) == Asset{"h", "10.0.0.1", "u", "s"});
    CHECK(e->labels.at("n") == "1");
    CHECK(e->exercise);
    auto back = event_from_json(to_json(*e));
    REQUIRE(back);
    CHECK(to_json(*back) == to_json(*e));
    CHECK(Severity::kCritical > Severity::kHigh);
    CHECK(Classification::k3A > Classification::k3B);
    CHECK(Classification::k3C > Classification::k2);
}

TEST_CASE("event parsing names the bad field") {
    auto bad = event_from_json(nlohmann::json::parse(R"({"title":"t","severity":"apocalyptic"})"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().field == "/severity");
    CHECK(event_from_json(nlohmann::json::array()).error().field.empty());
}

TEST_CASE("the event schema names the deepest failing field") {
    const auto& v = testing::schemas().event();
    CHECK(v.validate(nlohmann::json::parse(R"({"title":"ok"})")));
    auto r = v.validate(nlohmann::json::parse(R"({"title":"x","action":"explode"})"));
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "/action");
    r = v.validate(nlohmann::json::parse(R"({"title":"x","assets":[{"host":1}]})"));
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "/assets/0/host");
    r = v.validate(nlohmann::json::parse(R"({"titel":"x"})"));
    REQUIRE_FALSE(r);
}

TEST_CASE("date-time formats are checked with sonae's timestamp parser, at any depth") {
    const auto& v = testing::schemas().event();
    CHECK(v.validate(nlohmann::json::parse(
        R"({"title":"x","occurred_at":"2026-04-01T10:02:03+09:00","received_at":"2026-04-01T01:02:03.456Z"})")));
    auto r =
        v.validate(nlohmann::json::parse(R"({"title":"x","occurred_at":"2026-02-30T00:00:00Z"})"));
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "/occurred_at");
    CHECK(r.error().message.find("date-time") != std::string::npos);
    r = v.validate(nlohmann::json::parse(R"({"title":"x","received_at":"yesterday"})"));
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "/received_at");

    // Under "items" too, with the element's index in the pointer.
    const SchemaValidator nested(nlohmann::json::parse(R"({"type":"object","properties":{"log":
        {"type":"array","items":{"type":"object","properties":{"at/x":{"type":"string","format":"date-time"}}}}}})"));
    CHECK(nested.validate(nlohmann::json::parse(R"({"log":[{"at/x":"2026-04-01T00:00:00Z"}]})")));
    r = nested.validate(nlohmann::json::parse(
        R"({"log":[{"at/x":"2026-04-01T00:00:00Z"},{"at/x":"2026-13-01T00:00:00Z"}]})"));
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "/log/1/at~1x");
}
