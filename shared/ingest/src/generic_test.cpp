// The generic format: a canonical event posted as is.
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("generic: fixture maps field by field") {
    const auto body = fixture("generic-event.json");
    const auto events = adapt_ok(Format::kGeneric, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.dedup_key == "vendor-cloud-2026-04-01");
    CHECK(e.title == "委託先クラウド事業者からの障害・不正アクセス通知");
    CHECK(e.category == core::Category::kVendorIncident);
    CHECK(e.severity == core::Severity::kHigh);
    CHECK(e.classification == core::Classification::k3B);
    REQUIRE(e.assets.size() == 1);
    CHECK(e.assets[0] == core::Asset{"", "", "", "電子申請システム"});
    CHECK(e.labels == test::Labels{{"vendor", "example-cloud"}});
    CHECK_FALSE(e.occurred_at.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);
}

TEST_CASE("generic: tenant, source and received_at come from the source, the id from the client") {
    auto body = nlohmann::json::parse(
        R"({"title":"t","tenant":"other-town","source":"spoofed","received_at":"2020-01-01T00:00:00Z",
            "id":"client-id-1","occurred_at":"2026-04-01T10:00:00+09:00","exercise":true,
            "labels":{"n":3,"b":false}})");
    auto events = adapt(Format::kGeneric, body, {}, test::context());
    REQUIRE(events.ok());
    const core::Event& e = events.value()[0];
    CHECK(e.tenant == "default");
    CHECK(e.source == "test-source");
    CHECK(e.received_at == test::ts("2026-04-01T01:05:00Z"));
    CHECK(e.id == "client-id-1");
    CHECK(e.occurred_at == test::ts("2026-04-01T01:00:00Z"));
    CHECK(e.exercise);
    CHECK(e.labels == test::Labels{{"n", "3"}, {"b", "false"}});
    CHECK(e.severity == core::Severity::kMedium);
    CHECK(e.category == core::Category::kOther);
    test::check_schema_valid(e);
}

TEST_CASE("generic: refusals name the field") {
    using nlohmann::json;
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"severity":"high"})")) == "/title");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":""})")) == "/title");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":7})")) == "/title");
    CHECK(adapt_error(Format::kGeneric, json{{"title", std::string(1025, 'x')}}) == "/title");
    CHECK(adapt_ok(Format::kGeneric, json{{"title", std::string(1024, 'x')}}).size() == 1);
    // 1024 characters of three bytes each are still within the limit.
    std::string kana;
    for (int i = 0; i < 1024; ++i) {
        kana += "あ";
    }
    CHECK(adapt_ok(Format::kGeneric, json{{"title", kana}}).size() == 1);
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","action":"explode"})")) ==
          "/action");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","severity":"apocalyptic"})")) ==
          "/severity");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","category":"aliens"})")) ==
          "/category");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","classification":"3D"})")) ==
          "/classification");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","classification":3})")) ==
          "/classification");
    CHECK(adapt_error(Format::kGeneric,
                      json::parse(R"({"title":"t","occurred_at":"yesterday"})")) == "/occurred_at");
    // Instants format_timestamp cannot render as a schema date-time (year 10000, year -1).
    CHECK(adapt_error(Format::kGeneric,
                      json::parse(R"({"title":"t","occurred_at":"9999-12-31T23:59:59-01:00"})")) ==
          "/occurred_at");
    CHECK(adapt_error(Format::kGeneric,
                      json::parse(R"({"title":"t","received_at":"0000-01-01T00:00:00+01:00"})")) ==
          "/received_at");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","assets":{}})")) == "/assets");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","assets":[1]})")) ==
          "/assets/0");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","assets":[{"mac":"x"}]})")) ==
          "/assets/0/mac");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","labels":{"a":{"b":1}}})")) ==
          "/labels/a");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","exercise":"yes"})")) ==
          "/exercise");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","colour":"red"})")) ==
          "/colour");
    CHECK(adapt_error(Format::kGeneric, json::parse(R"({"title":"t","a/b":1})")) == "/a~1b");
    CHECK(adapt_error(Format::kGeneric, json::parse("[1,2,3]")) == "");
    CHECK(adapt_error(Format::kGeneric, json("text")) == "");
}

TEST_CASE("generic: integer classifications and enum values") {
    auto events =
        adapt_ok(Format::kGeneric, nlohmann::json::parse(R"({"title":"t","classification":2,
                               "action":"resolve","severity":"info","category":"ddos"})"));
    CHECK(events[0].classification == core::Classification::k2);
    CHECK(events[0].action == core::Action::kResolve);
    CHECK(events[0].severity == core::Severity::kInfo);
    CHECK(events[0].category == core::Category::kDdos);
}

}  // namespace
}  // namespace sonae::ingest
