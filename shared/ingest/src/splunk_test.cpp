// Splunk webhook alert action.
#include "test_util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;
using test::adapt_error;
using test::adapt_ok;
using test::fixture;

TEST_CASE("splunk: fixture maps field by field") {
    const auto body = fixture("splunk-webhook.json");
    const auto events = adapt_ok(Format::kSplunk, body);
    REQUIRE(events.size() == 1);
    const core::Event& e = events[0];
    CHECK(e.action == core::Action::kTrigger);
    CHECK(e.title == "Excessive Failed Logins");
    CHECK(e.severity == core::Severity::kMedium);
    CHECK(e.category == core::Category::kIntrusion);
    CHECK(e.dedup_key ==
          "Excessive Failed Logins/dest=portal.example.lg.jp,src_ip=198.51.100.23,user=admin");
    CHECK_FALSE(e.occurred_at.has_value());
    REQUIRE(e.assets.size() == 1);  // the public source address is the attacker, not ours
    CHECK(e.assets[0] == core::Asset{"portal.example.lg.jp", "", "admin", ""});
    CHECK(e.labels == test::Labels{
                          {"search_name", "Excessive Failed Logins"},
                          {"sid", "scheduler__admin__search__RMD5ab_at_1775005320_81"},
                          {"app", "search"},
                          {"owner", "admin"},
                          {"results_link",
                           "https://splunk.example.lg.jp:8000/app/search/"
                           "@go?sid=scheduler__admin__search__RMD5ab_at_1775005320_81"},
                          {"result.src_ip", "198.51.100.23"},
                          {"result.user", "admin"},
                          {"result.count", "57"},
                          {"result.dest", "portal.example.lg.jp"},
                      });
    CHECK_FALSE(e.classification.has_value());
    CHECK_FALSE(e.exercise);
    CHECK(e.raw == body);
}

TEST_CASE("splunk: the dedup key ignores counts and run ids") {
    auto a = fixture("splunk-webhook.json");
    auto b = a;
    b["result"]["count"] = "99";
    b["sid"] = "scheduler__admin__search__RMD5ab_at_1775005620_82";
    CHECK(adapt_ok(Format::kSplunk, a)[0].dedup_key == adapt_ok(Format::kSplunk, b)[0].dedup_key);
    b["result"]["user"] = "guest";
    CHECK(adapt_ok(Format::kSplunk, a)[0].dedup_key != adapt_ok(Format::kSplunk, b)[0].dedup_key);
}

TEST_CASE("splunk: severity, urgency, _time, internal sources and explicit hints") {
    auto body = json::parse(R"({"search_name":"Beaconing host","result":{"urgency":"high",
        "_time":"1775005320.000","_raw":"huge","src":"10.2.3.4","host":"proxy01",
        "category":"malware","classification":"2","exercise":"yes","values":["a","b"]}})");
    auto e = adapt_ok(Format::kSplunk, body)[0];
    CHECK(e.severity == core::Severity::kHigh);
    CHECK(e.occurred_at == test::ts("2026-04-01T01:02:00Z"));
    CHECK(e.category == core::Category::kMalware);
    CHECK(e.classification == core::Classification::k2);
    CHECK(e.exercise);
    CHECK(e.dedup_key == "Beaconing host/host=proxy01,src=10.2.3.4");
    REQUIRE(e.assets.size() == 2);
    CHECK(e.assets[0] == core::Asset{"proxy01", "", "", ""});
    CHECK(e.assets[1] == core::Asset{"", "10.2.3.4", "", ""});
    CHECK(e.labels.count("result._raw") == 0);
    CHECK(e.labels.at("result.values") == "a,b");

    body["result"]["severity"] = 6;  // Splunk's numeric scale: 6 = fatal
    CHECK(adapt_ok(Format::kSplunk, body)[0].severity == core::Severity::kCritical);
    body["result"]["severity"] = 2;
    CHECK(adapt_ok(Format::kSplunk, body)[0].severity == core::Severity::kInfo);
    body["result"]["severity"] = "informational";
    CHECK(adapt_ok(Format::kSplunk, body)[0].severity == core::Severity::kInfo);
    body.erase("result");
    e = adapt_ok(Format::kSplunk, body)[0];
    CHECK(e.dedup_key == "Beaconing host");
    CHECK(e.assets.empty());
}

TEST_CASE("splunk: refusals name the field") {
    CHECK(adapt_error(Format::kSplunk, json::parse(R"({"result":{}})")) == "/search_name");
    CHECK(adapt_error(Format::kSplunk, json::parse(R"({"search_name":7})")) == "/search_name");
    CHECK(adapt_error(Format::kSplunk, json::parse(R"({"search_name":"s","result":[1]})")) ==
          "/result");
    CHECK(adapt_error(Format::kSplunk, json::parse("[1,2,3]")) == "");
}

}  // namespace
}  // namespace sonae::ingest
