#include <doctest/doctest.h>

#include <sonae/core/time.hpp>

using namespace sonae::core;

TEST_CASE("durations parse and format") {
    CHECK(parse_duration("30s") == 30 * kSecond);
    CHECK(parse_duration("15m") == 15 * kMinute);
    CHECK(parse_duration("4h") == 4 * kHour);
    CHECK(parse_duration("2d") == 2 * kDay);
    CHECK(parse_duration("1h30m") == 90 * kMinute);
    CHECK(parse_duration("500ms") == 500);
    CHECK_FALSE(parse_duration("").has_value());
    CHECK_FALSE(parse_duration("10").has_value());
    CHECK_FALSE(parse_duration("h").has_value());
    CHECK_FALSE(parse_duration("5x").has_value());
    CHECK_FALSE(parse_duration("-5m").has_value());
    CHECK(format_duration(90 * kMinute) == "1h30m");
    CHECK(format_duration(3 * kDay) == "3d");
    CHECK(format_duration(0) == "0s");
}

TEST_CASE("timestamps parse RFC 3339 with offsets and format in UTC or a fixed offset") {
    const auto t = parse_timestamp("2026-04-01T10:02:03.456+0900");
    REQUIRE(t.has_value());
    CHECK(format_timestamp(*t) == "2026-04-01T01:02:03.456Z");
    CHECK(parse_timestamp("2026-04-01T01:02:03.456Z") == t);
    CHECK(parse_timestamp("2026-04-01T10:02:03.456+09:00") == t);
    CHECK(format_timestamp_offset(*t, 540) == "2026-04-01T10:02:03+09:00");
    CHECK(parse_timestamp("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_timestamp("2026-04-01T01:02:03.1Z") ==
          *parse_timestamp("2026-04-01T01:02:03Z") + 100);
    CHECK_FALSE(parse_timestamp("2026-04-01T01:02:03").has_value());  // no zone
    CHECK_FALSE(parse_timestamp("2026-13-01T01:02:03Z").has_value());
    CHECK_FALSE(parse_timestamp("yesterday").has_value());
    // Incident ids use the municipality's local date.
    CHECK(format_yyyymmdd(*parse_timestamp("2026-03-31T20:00:00Z"), 540) == "20260401");
    CHECK(format_yyyymmdd(*parse_timestamp("2026-03-31T20:00:00Z"), 0) == "20260331");
}

TEST_CASE("timestamps that cannot be written back are refused") {
    CHECK_FALSE(parse_timestamp("2026-02-31T00:00:00Z").has_value());
    CHECK_FALSE(parse_timestamp("2025-02-29T00:00:00Z").has_value());
    CHECK(parse_timestamp("2024-02-29T00:00:00Z").has_value());
    CHECK_FALSE(parse_timestamp("9999-12-31T23:59:59-01:00").has_value());  // year 10000 in UTC
    CHECK_FALSE(parse_timestamp("0000-01-01T00:00:00+01:00").has_value());  // year -1 in UTC
    const auto last = parse_timestamp("9999-12-31T23:59:59.999Z");
    REQUIRE(last.has_value());
    CHECK(parse_timestamp(format_timestamp(*last)) == last);
}
