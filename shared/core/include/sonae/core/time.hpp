// Time as integer milliseconds since the Unix epoch (UTC): serialisable, comparable and free of
// any clock. Business code never reads a clock; it receives `now` from its adapter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sonae::core {

using TimePoint = std::int64_t;  // ms since epoch, UTC
using Duration = std::int64_t;   // ms

constexpr Duration kSecond = 1000;
constexpr Duration kMinute = 60 * kSecond;
constexpr Duration kHour = 60 * kMinute;
constexpr Duration kDay = 24 * kHour;

// Parses "30s", "15m", "4h", "2d", "500ms" and concatenations such as "1h30m".
std::optional<Duration> parse_duration(std::string_view text);
// Shortest exact rendering: 5400000 -> "1h30m".
std::string format_duration(Duration d);

// Parses RFC 3339 / ISO 8601 timestamps with 'Z' or a numeric offset ("+0900" or "+09:00").
std::optional<TimePoint> parse_timestamp(std::string_view text);
// Renders UTC with milliseconds: 2026-04-01T01:02:03.456Z.
std::string format_timestamp(TimePoint t);
// Renders in a fixed UTC offset (minutes), e.g. +540 -> 2026-04-01T10:02:03+09:00.
std::string format_timestamp_offset(TimePoint t, int offset_minutes);

// Days since epoch -> "YYYYMMDD" in the given offset (incident ids use the municipality's date).
std::string format_yyyymmdd(TimePoint t, int offset_minutes);

}  // namespace sonae::core
