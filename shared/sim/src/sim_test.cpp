#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <array>
#include <cmath>

#include <doctest/doctest.h>

#include <sonae/loader/loader.hpp>
#include <sonae/sim/risk.hpp>
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

TEST_CASE(
    "risk samplers: lognormal by the mean and sd of the duration, triangular by its corners") {
    auto stats = [](const sim::Distribution& d, std::uint64_t seed, int n) {
        std::mt19937_64 rng(seed);
        double sum = 0, sq = 0, lo = 1e300, hi = 0;
        for (int i = 0; i < n; ++i) {
            const double x = static_cast<double>(sim::sample(d, rng)) / core::kHour;
            sum += x;
            sq += x * x;
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
        const double mean = sum / n;
        return std::array<double, 4>{mean, std::sqrt(sq / n - mean * mean), lo, hi};
    };
    const auto ln = sim::parse_distribution("lognormal(6h,2h)");
    REQUIRE(ln);
    const auto l = stats(*ln, 1, 40000);
    CHECK(l[0] == doctest::Approx(6.0).epsilon(0.02));
    CHECK(l[1] == doctest::Approx(2.0).epsilon(0.04));
    CHECK(l[2] > 0);
    const auto tri = sim::parse_distribution("triangular(2h, 4h, 10h)");
    REQUIRE(tri);
    const auto t = stats(*tri, 2, 40000);
    CHECK(t[0] == doctest::Approx((2.0 + 4.0 + 10.0) / 3).epsilon(0.02));
    CHECK(t[2] >= 2.0);
    CHECK(t[3] <= 10.0);
    // Whole seconds, and the same seed gives the same draws.
    std::mt19937_64 a(9), b(9);
    for (int i = 0; i < 100; ++i) {
        const auto x = sim::sample(*ln, a);
        CHECK(x % core::kSecond == 0);
        CHECK(x == sim::sample(*ln, b));
    }
    // uniform01 is in [0, 1).
    std::mt19937_64 u(3);
    for (int i = 0; i < 1000; ++i) {
        const double x = sim::uniform01(u);
        CHECK(x >= 0.0);
        CHECK(x < 1.0);
    }
    CHECK_FALSE(sim::parse_distribution("lognormal(6h)"));
    CHECK_FALSE(sim::parse_distribution("lognormal(0s,1h)"));
    CHECK_FALSE(sim::parse_distribution("triangular(5h,4h,10h)"));
    CHECK_FALSE(sim::parse_distribution("uniform(1h,2h)"));
    CHECK_FALSE(sim::parse_vary("lognormal(6h,2h)"));
    const auto v = sim::parse_vary("restore=D+1 H+2");
    CHECK_FALSE(v);
    const auto w = sim::parse_vary("restore=triangular(1h30m,D+1,2d)");
    REQUIRE(w);
    CHECK(w->step == "restore");
    CHECK(w->distribution.b == core::kDay);
}

TEST_CASE("report offsets read as the facilitators write them") {
    CHECK(sim::format_offset(0) == "M+0");
    CHECK(sim::format_offset(5 * 60) == "M+5");
    CHECK(sim::format_offset(26 * 3600 + 45 * 60) == "D+1 H+2 M+45");
    CHECK(sim::parse_offset(sim::format_offset(3 * 86400 + 7 * 3600 + 30)) ==
          3 * core::kDay + 7 * core::kHour + 30 * core::kSecond);
}
