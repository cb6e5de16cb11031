#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sonae/log/log.hpp>

using namespace sonae;

TEST_CASE("a JSON log line carries the ids of the scopes around it, escaped") {
    const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1775001600123));
    auto line = [&] {
        return nlohmann::json::parse(log::json_line("orchestrator", "warn", "a \"quoted\"\n", at));
    };
    CHECK(line()["ts"] == "2026-04-01T00:00:00.123Z");
    CHECK(line()["level"] == "warn");
    CHECK(line()["service"] == "orchestrator");
    CHECK(line()["msg"] == "a \"quoted\"\n");
    CHECK_FALSE(line().contains("incident"));
    {
        const log::Scope outer{{"event", "e-1"}, {"incident", ""}};  // empty: left out
        CHECK(line()["event"] == "e-1");
        CHECK_FALSE(line().contains("incident"));
        {
            const log::Scope inner{{"incident", "INC-20260401-0001"}};
            CHECK(line()["incident"] == "INC-20260401-0001");
            CHECK(line()["event"] == "e-1");
        }
        CHECK_FALSE(line().contains("incident"));
    }
    CHECK_FALSE(line().contains("event"));
    // Bytes that are not UTF-8 never make a line unreadable.
    CHECK(nlohmann::json::parse(log::json_line("gateway", "info", "bad \xff byte", at))["msg"]
              .is_string());
}
