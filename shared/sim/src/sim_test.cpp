#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sonae/loader/loader.hpp>
#include <sonae/sim/simulate.hpp>

using namespace sonae;

TEST_CASE("scenario offsets: durations and the facilitators' D+ H+ M+ notation") {
    CHECK(sim::parse_offset("45m") == 45 * core::kMinute);
    CHECK(sim::parse_offset("1h30m") == 90 * core::kMinute);
    CHECK(sim::parse_offset("D+1 H+3 M+45") == core::kDay + 3 * core::kHour + 45 * core::kMinute);
    CHECK(sim::parse_offset("H+2") == 2 * core::kHour);
    CHECK(sim::parse_offset("d+0 m+5 s+30") == 5 * core::kMinute + 30 * core::kSecond);
    CHECK_FALSE(sim::parse_offset("D+").has_value());
    CHECK_FALSE(sim::parse_offset("X+1").has_value());
    CHECK_FALSE(sim::parse_offset("soon").has_value());
}

TEST_CASE("scenario files are checked against their schema with file:line") {
    const auto schemas = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas").value();
    auto bad =
        loader::load_scenario(SONAE_SOURCE_DIR "/tests/fixtures/siem/generic-event.json", schemas);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.rfind(SONAE_SOURCE_DIR "/tests/fixtures/siem/generic-event.json:1: ",
                                    0) == 0);
    auto good =
        loader::load_scenario(SONAE_SOURCE_DIR "/playbooks/scenarios/ddos-website.yaml", schemas);
    REQUIRE(good);
    CHECK(good->id == "ddos-website");
    CHECK_FALSE(good->injects.empty());
}
