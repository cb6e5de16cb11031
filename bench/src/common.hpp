// Shared helpers of the benchmark tools: command-line parsing, clocks, percentiles and the
// single JSON object every tool prints on stdout. Header-only: each tool is one translation unit.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sonae::bench {

using Json = nlohmann::json;

// Bad command line: the tool prints the message and its usage, then exits with status 2.
class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kUsageExit = 2;

// Parses a numeric value in full ("12x" and "" are errors). Throws UsageError naming the option.
template <typename T>
T parse_number(std::string_view option, std::string_view text) {
    T value{};
    const char* first = text.data();
    const char* last = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (text.empty() || ec != std::errc{} || ptr != last) {
        throw UsageError("--" + std::string(option) + ": not a valid number: '" +
                         std::string(text) + "'");
    }
    return value;
}

// A minimal "--name value" / "--name=value" parser. Every option takes a value; unknown options,
// positional arguments and missing values are usage errors. "--help" / "-h" sets help().
class Args {
  public:
    Args(int argc, char** argv, std::set<std::string> known) : known_(std::move(known)) {
        for (int i = 1; i < argc; ++i) {
            std::string_view arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                help_ = true;
                continue;
            }
            if (!arg.starts_with("--") || arg.size() == 2) {
                throw UsageError("unexpected argument: '" + std::string(arg) + "'");
            }
            arg.remove_prefix(2);
            std::string name;
            std::string value;
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                name = arg.substr(0, eq);
                value = arg.substr(eq + 1);
            } else {
                name = arg;
                if (i + 1 >= argc) {
                    throw UsageError("--" + name + " needs a value");
                }
                value = argv[++i];
            }
            if (!known_.contains(name)) {
                throw UsageError("unknown option --" + name);
            }
            values_[name].push_back(std::move(value));
        }
    }

    bool help() const { return help_; }
    bool has(const std::string& name) const { return values_.contains(name); }

    // Every value of a repeatable option, in command-line order.
    std::vector<std::string> all(const std::string& name) const {
        const auto it = values_.find(name);
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }

    // The last value given (later options override earlier ones), if any.
    std::optional<std::string> get(const std::string& name) const {
        const auto it = values_.find(name);
        if (it == values_.end()) {
            return std::nullopt;
        }
        return it->second.back();
    }

    std::string required(const std::string& name) const {
        auto v = get(name);
        if (!v) {
            throw UsageError("--" + name + " is required");
        }
        return *v;
    }

    std::string string_or(const std::string& name, std::string fallback) const {
        return get(name).value_or(std::move(fallback));
    }

    template <typename T>
    std::optional<T> number(const std::string& name) const {
        const auto v = get(name);
        if (!v) {
            return std::nullopt;
        }
        return parse_number<T>(name, *v);
    }

    // A number that must satisfy lo <= value <= hi.
    template <typename T>
    T number_or(const std::string& name, T fallback, T lo, T hi) const {
        const T value = number<T>(name).value_or(fallback);
        if (!(value >= lo && value <= hi)) {
            throw UsageError("--" + name + ": out of range: " + std::to_string(value));
        }
        return value;
    }

  private:
    std::set<std::string> known_;
    std::map<std::string, std::vector<std::string>> values_;
    bool help_ = false;
};

// Runs a tool's body with the common error conventions: UsageError -> usage on stderr, exit 2;
// any other exception -> message on stderr, exit 1.
template <typename Body>
int run_main(const char* usage, Body&& body) {
    try {
        return body();
    } catch (const UsageError& e) {
        std::cerr << "error: " << e.what() << "\n\n" << usage;
        return kUsageExit;
    } catch (const std::exception& e) {
        std::cerr << "fatal: " << e.what() << "\n";
        return 1;
    }
}

// Wall-clock time (CLOCK_REALTIME) in nanoseconds since the epoch: comparable across processes.
inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline double seconds_between(std::chrono::steady_clock::time_point from,
                              std::chrono::steady_clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

// Rounds to 3 decimals (microsecond resolution when the unit is milliseconds).
inline double round3(double v) {
    return std::round(v * 1000.0) / 1000.0;
}

// Nearest-rank percentile of sorted values, q in [0, 1].
template <typename T>
T percentile_sorted(const std::vector<T>& sorted, double q) {
    const auto n = sorted.size();
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    return sorted[rank - 1];
}

// {"p50","p90","p99","p999","max","mean"} in milliseconds of microsecond samples (sorted in
// place). Every field is null when there are no samples.
inline Json latency_summary_ms(std::vector<std::int64_t>& us) {
    Json out = Json::object();
    const char* const names[] = {"p50", "p90", "p99", "p999", "max", "mean"};
    if (us.empty()) {
        for (const char* n : names) {
            out[n] = nullptr;
        }
        return out;
    }
    std::sort(us.begin(), us.end());
    auto ms = [](std::int64_t v) { return round3(static_cast<double>(v) / 1000.0); };
    out["p50"] = ms(percentile_sorted(us, 0.50));
    out["p90"] = ms(percentile_sorted(us, 0.90));
    out["p99"] = ms(percentile_sorted(us, 0.99));
    out["p999"] = ms(percentile_sorted(us, 0.999));
    out["max"] = ms(us.back());
    const double sum = std::accumulate(us.begin(), us.end(), 0.0, [](double a, std::int64_t b) {
        return a + static_cast<double>(b);
    });
    out["mean"] = round3(sum / static_cast<double>(us.size()) / 1000.0);
    return out;
}

// Prints one JSON object as a single line on stdout and flushes it.
inline void print_json(const Json& j) {
    std::cout << j.dump() << std::endl;
}

}  // namespace sonae::bench
