// RTO risk (PRODUCT §11): the scenario simulated many times with step durations drawn from the
// facilitators' estimates, giving per business service the probability of meeting its RTO, the
// P50/P90 recovery time and the steps most often on its critical path. Seeded and deterministic
// on every platform: the samplers are written here on top of std::mt19937_64 (whose output the
// standard fixes), because the standard library's distributions differ between implementations.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/engine.hpp>
#include <sonae/core/result.hpp>
#include <sonae/sim/report.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::sim {

// A step's duration as the facilitator estimates it. Parameters are of the duration itself:
// lognormal(mean, sd) is the log-normal distribution whose mean and standard deviation are
// `mean` and `sd` (not those of its logarithm); triangular(min, mode, max).
struct Distribution {
    enum class Kind { kLognormal, kTriangular };
    Kind kind = Kind::kLognormal;
    core::Duration a = 0;  // lognormal: mean; triangular: min
    core::Duration b = 0;  // lognormal: sd;   triangular: mode
    core::Duration c = 0;  // triangular: max
    std::string text;      // as written
};

// "lognormal(6h,2h)", "triangular(2h,4h,10h)" (durations as in scenarios: 90m, 1h30m, 2d).
core::Result<Distribution> parse_distribution(std::string_view text);

// One draw, in whole seconds (never negative).
core::Duration sample(const Distribution& d, std::mt19937_64& rng);

// A uniform double in [0, 1) and a standard normal (Box-Muller), from the generator's bits only.
double uniform01(std::mt19937_64& rng);
double standard_normal(std::mt19937_64& rng);

struct Vary {
    std::string step;
    Distribution distribution;
};

// "STEP=lognormal(6h,2h)".
core::Result<Vary> parse_vary(std::string_view text);

struct RiskOptions {
    int runs = 1000;
    std::uint64_t seed = 12;
    std::vector<Vary> vary;
    Options base;     // fixed what-ifs (a varied step's sample overrides them)
    int threads = 1;  // runs are split by index and merged in index order: same result
    int top_steps = 5;
};

// Per service (tenant, id): runs, met_runs, p_met, p50/p90_recovery_seconds (from the RTO
// clock's start; null when that share of runs did not recover) and critical_path (the steps most
// often on it, with their share of runs). The critical path of a service in one run: its last
// recovery step to finish (or one still unfinished), then repeatedly the predecessor (`after`)
// that finished last, i.e. the chain of steps that gated the recovery.
core::Result<nlohmann::json> assess_rto_risk(const Scenario& scenario, const core::Engine& engine,
                                             const RiskOptions& options);

// risk.md: a short table of the result.
std::string render_risk_markdown(const nlohmann::json& risk, Lang lang);

}  // namespace sonae::sim
