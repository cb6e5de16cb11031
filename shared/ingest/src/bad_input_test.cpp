// The shared bad inputs (tests/fixtures/bad) and hostile shapes against every adapter.
#include <string>

#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;

constexpr Format kAllFormats[] = {Format::kGeneric,   Format::kCloudEvents, Format::kAlertmanager,
                                  Format::kPagerDuty, Format::kWazuh,       Format::kElastic,
                                  Format::kSplunk,    Format::kGrafana};

core::Error parse_error_of(const std::string& name) {
    auto parsed = parse_json(test::read_file("tests/fixtures/bad/" + name));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == core::ErrorCode::kInvalidJson);
    CHECK(parsed.error().message.find("invalid JSON at byte ") == 0);
    return parsed.error();
}

TEST_CASE("bad fixtures: unparseable bodies are invalid JSON, saying where") {
    auto deep = parse_error_of("deep-nesting.json");
    CHECK(deep.message == "invalid JSON at byte 320: nesting deeper than 64 levels");
    auto utf8 = parse_error_of("bad-utf8.json");
    CHECK(utf8.message.find("invalid JSON at byte 0") == 0);
    auto truncated = parse_error_of("truncated.json");
    CHECK(truncated.message.find("invalid JSON at byte 23") == 0);
    CHECK(truncated.message.find("unterminated") == std::string::npos);  // input is not echoed
}

TEST_CASE("bad fixtures: invalid UTF-8 inside a string is refused too") {
    std::string body = test::read_file("tests/fixtures/bad/bad-utf8.json").substr(2);  // drop FF FE
    auto parsed = parse_json(body);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == core::ErrorCode::kInvalidJson);
    CHECK(parsed.error().message.find("invalid JSON at byte 20") == 0);
}

TEST_CASE("bad fixtures: a non-object body is an invalid field \"\" for every format") {
    auto parsed = parse_json(test::read_file("tests/fixtures/bad/not-an-object.json"));
    REQUIRE(parsed.ok());
    for (Format f : kAllFormats) {
        CAPTURE(to_string(f));
        CHECK(test::adapt_error(f, parsed.value()) == "");
    }
}

TEST_CASE("bad fixtures: an unknown enum value names its field") {
    auto parsed = parse_json(test::read_file("tests/fixtures/bad/bad-enum.json"));
    REQUIRE(parsed.ok());
    const std::string field = test::adapt_error(Format::kGeneric, parsed.value());
    CHECK((field == "/action" || field == "/severity"));
    CHECK(field == "/action");  // checked first
    json only_severity = parsed.value();
    only_severity.erase("action");
    CHECK(test::adapt_error(Format::kGeneric, only_severity) == "/severity");
}

// Every fixture of every format through every adapter: either a refusal naming a field or
// schema-valid events; never an exception.
TEST_CASE("every fixture through every adapter: refused or schema-valid") {
    const char* names[] = {
        "alertmanager-v4.json",      "cloudevents-structured.json", "elastic-security.json",
        "generic-event.json",        "grafana-webhook.json",        "pagerduty-v2-resolve.json",
        "pagerduty-v2-trigger.json", "splunk-webhook.json",         "wazuh-alert.json"};
    for (const char* name : names) {
        const json body = test::fixture(name);
        for (Format f : kAllFormats) {
            CAPTURE(name);
            CAPTURE(to_string(f));
            core::Result<std::vector<core::Event>> events = core::Error{};
            CHECK_NOTHROW(events = adapt(f, body, {}, test::context()));
            if (events.ok()) {
                for (const auto& e : events.value()) {
                    test::check_schema_valid(e);
                }
            } else {
                CHECK(events.error().code == core::ErrorCode::kInvalidField);
            }
        }
    }
}

TEST_CASE("hostile shapes: wrong types everywhere, huge values, clamping") {
    const std::string big(5000, 'x');
    const json shapes[] = {
        json(nullptr),
        json(true),
        json(42),
        json("s"),
        json::array(),
        json::object(),
        json::parse(R"({"alerts":[null,{"labels":null}]})"),
        json::parse(R"({"rule":{"level":null,"groups":{"a":1},"mitre":[]},"agent":"x"})"),
        json::parse(R"({"payload":[],"event_action":"trigger"})"),
        json::parse(R"({"specversion":1,"data":{"assets":[1,null,{"host":[]}]}})"),
        json::parse(R"({"search_name":"s","result":{"dest":{"a":1},"user":[1,2],"_time":-5}})"),
        json::parse(R"({"alerts":[{"kibana":{"alert":"flat"},"host":{"ip":[1,"::1"]}}]})"),
        json{{"title", big}, {"labels", {{big, big}}}},
        json{{"alerts",
              {{{"labels", {{"alertname", big}, {"instance", big}}},
                {"annotations", {{"summary", big}}}}}},
             {"groupKey", big}},
        json{{"search_name", big}, {"result", {{"dest", big}, {"user", big}}}},
        json{{"rule", {{"level", 16}, {"id", big}, {"description", big}}},
             {"agent", {{"name", big}, {"ip", big}}}},
    };
    for (const json& body : shapes) {
        for (Format f : kAllFormats) {
            CAPTURE(body.dump().substr(0, 80));
            CAPTURE(to_string(f));
            core::Result<std::vector<core::Event>> events = core::Error{};
            CHECK_NOTHROW(events = adapt(f, body, {}, test::context()));
            if (events.ok()) {
                for (const auto& e : events.value()) {
                    test::check_schema_valid(e);
                    CHECK(e.title.size() <= 4 * 1024);
                    CHECK(e.dedup_key.size() <= 512);
                }
            }
        }
    }
}

TEST_CASE("titles are one line: control characters become spaces (found by fuzz_adapt_splunk)") {
    const std::string nasty = std::string("\0", 1) + "ive Failed\r\nLogins\x1b[31m\x7f";
    const json bodies[] = {
        json{{"title", nasty}},
        json{{"search_name", nasty}, {"result", {{"dest", "h"}}}},
        json{{"rule", {{"level", 5}, {"id", "1"}, {"description", nasty}}},
             {"agent", {{"name", "a"}}}},
    };
    for (const json& body : bodies) {
        for (Format f : kAllFormats) {
            CAPTURE(to_string(f));
            auto events = adapt(f, body, {}, test::context());
            if (!events.ok())
                continue;
            for (const auto& e : events.value()) {
                test::check_schema_valid(e);
                for (char c : e.title)
                    CHECK(static_cast<unsigned char>(c) >= 0x20);
            }
        }
    }
    auto splunk = test::adapt_ok(Format::kSplunk, bodies[1]);
    CHECK(splunk.at(0).title == "ive Failed  Logins [31m");
}

TEST_CASE("limits: more than 128 labels are cut, big batches keep raw bounded") {
    json labels = json::object();
    for (int i = 0; i < 300; ++i) {
        labels["l" + std::to_string(i)] = "v";
    }
    json body = {{"alerts", {{{"labels", labels}}}}};
    auto events = test::adapt_ok(Format::kAlertmanager, body);
    CHECK(events[0].labels.size() == 128);

    // 2,000 alerts sharing a 20 KB group section: copying it into every raw would take 40 MB.
    json group = {{"commonAnnotations", {{"summary", std::string(20000, 'y')}}},
                  {"groupKey", "g"},
                  {"alerts", json::array()}};
    for (int i = 0; i < 2000; ++i) {
        group["alerts"].push_back({{"fingerprint", std::to_string(i)}});
    }
    auto batch = adapt(Format::kAlertmanager, group, {}, test::context());
    REQUIRE(batch.ok());
    REQUIRE(batch.value().size() == 2000);
    CHECK(batch.value()[5].raw["groupKey"] == "g");
    CHECK_FALSE(batch.value()[5].raw.contains("commonAnnotations"));
    CHECK(batch.value()[5].raw["alerts"][0]["fingerprint"] == "5");
    CHECK(batch.value()[5].dedup_key == "g/5");

    json too_many = {{"alerts", json::array()}};
    for (int i = 0; i < 10001; ++i) {
        too_many["alerts"].push_back(json::object());
    }
    CHECK(test::adapt_error(Format::kAlertmanager, too_many) == "/alerts");
}

}  // namespace
}  // namespace sonae::ingest
