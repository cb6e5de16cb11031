#include <array>
#include <charconv>
#include <cstdio>

#include <sonae/core/time.hpp>

namespace sonae::core {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? static_cast<unsigned>(-3) : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t y;
    unsigned m, d;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2 ? 1 : 0), m, d};
}

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) {
        return false;
    }
    const char* first = s.data() + pos;
    auto [ptr, ec] = std::from_chars(first, first + len, out);
    return ec == std::errc{} && ptr == first + len;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    Duration total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
        if (ec != std::errc{} || n < 0) {
            return std::nullopt;
        }
        i = static_cast<std::size_t>(ptr - text.data());
        if (i >= text.size()) {
            return std::nullopt;  // a bare number has no unit
        }
        Duration unit = 0;
        if (text.substr(i, 2) == "ms") {
            unit = 1;
            i += 2;
        } else {
            switch (text[i]) {
                case 's':
                    unit = kSecond;
                    break;
                case 'm':
                    unit = kMinute;
                    break;
                case 'h':
                    unit = kHour;
                    break;
                case 'd':
                    unit = kDay;
                    break;
                case 'w':
                    unit = 7 * kDay;
                    break;
                default:
                    return std::nullopt;
            }
            ++i;
        }
        if (n > (std::int64_t{1} << 40)) {
            return std::nullopt;
        }
        total += n * unit;
    }
    return total;
}

std::string format_duration(Duration d) {
    if (d == 0) {
        return "0s";
    }
    std::string out;
    if (d < 0) {
        out = "-";
        d = -d;
    }
    constexpr std::array<std::pair<Duration, const char*>, 5> kUnits{
        {{kDay, "d"}, {kHour, "h"}, {kMinute, "m"}, {kSecond, "s"}, {1, "ms"}}};
    for (const auto& [unit, name] : kUnits) {
        if (d >= unit) {
            out += std::to_string(d / unit) + name;
            d %= unit;
        }
    }
    return out;
}

std::optional<TimePoint> parse_timestamp(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|+HHMM)
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    if (!read_int(s, 0, 4, year) || !read_int(s, 5, 2, month) || !read_int(s, 8, 2, day) ||
        !read_int(s, 11, 2, hour) || !read_int(s, 14, 2, minute) || !read_int(s, 17, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::size_t i = 19;
    std::int64_t millis = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (digits < 3) {
                millis = millis * 10 + (s[i] - '0');
            }
            ++digits;
            ++i;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        for (int k = digits; k < 3; ++k) {
            millis *= 10;
        }
    }
    std::int64_t offset_minutes = 0;
    if (i == s.size()) {
        return std::nullopt;  // a timestamp without a zone is ambiguous
    }
    if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
    } else if (s[i] == '+' || s[i] == '-') {
        const int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh = 0, om = 0;
        if (!read_int(s, i, 2, oh)) {
            return std::nullopt;
        }
        i += 2;
        if (i < s.size() && s[i] == ':') {
            ++i;
        }
        if (!read_int(s, i, 2, om)) {
            return std::nullopt;
        }
        i += 2;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (i != s.size()) {
        return std::nullopt;
    }
    static constexpr std::array<int, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > kDays[static_cast<std::size_t>(month - 1)] || (month == 2 && day == 29 && !leap)) {
        return std::nullopt;
    }
    const std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
    const TimePoint t = (secs - offset_minutes * 60) * 1000 + millis;
    // Only instants that format back as four-digit years (0000-01-01 .. 9999-12-31 UTC).
    constexpr TimePoint kMin = -62167219200000;  // 0000-01-01T00:00:00Z
    constexpr TimePoint kMax = 253402300799999;  // 9999-12-31T23:59:59.999Z
    if (t < kMin || t > kMax) {
        return std::nullopt;
    }
    return t;
}

namespace {
std::string format_with_offset(TimePoint t, int offset_minutes, bool millis) {
    const TimePoint local = t + std::int64_t{offset_minutes} * kMinute;
    std::int64_t secs = local / 1000;
    std::int64_t ms = local % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    const Civil c = civil_from_days(days);
    std::array<char, 64> buf{};
    int n = std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                          static_cast<long long>(c.y), c.m, c.d, static_cast<long long>(rem / 3600),
                          static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
    std::string out(buf.data(), static_cast<std::size_t>(n));
    if (millis) {
        n = std::snprintf(buf.data(), buf.size(), ".%03lld", static_cast<long long>(ms));
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    if (offset_minutes == 0) {
        out += 'Z';
    } else {
        const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
        n = std::snprintf(buf.data(), buf.size(), "%c%02d:%02d", offset_minutes < 0 ? '-' : '+',
                          a / 60, a % 60);
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}
}  // namespace

std::string format_timestamp(TimePoint t) {
    return format_with_offset(t, 0, true);
}

std::string format_timestamp_offset(TimePoint t, int offset_minutes) {
    return format_with_offset(t, offset_minutes, false);
}

std::string format_yyyymmdd(TimePoint t, int offset_minutes) {
    const std::string s = format_with_offset(t, offset_minutes, false);
    return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2);
}

}  // namespace sonae::core
