#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include <sonae/sim/risk.hpp>

namespace sonae::sim {
namespace {

using core::Duration;
using core::TimePoint;
using nlohmann::json;

constexpr double kPi = 3.14159265358979323846;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

core::Error invalid(const std::string& message) {
    return core::Error{core::ErrorCode::kInvalidField, message, ""};
}

// Independent, reproducible streams per run: run i uses splitmix64(seed + i) as its seed.
std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// What one run says about one service.
struct ServiceRun {
    std::string tenant, id, name;
    std::int64_t rto_seconds = 0;
    std::int64_t recovery_seconds = kNever;  // kNever: not recovered
    bool met = false;
    std::vector<std::string> critical;
};

const core::StepState* state(const core::Incident& i, const std::string& step) {
    auto it = i.steps.find(step);
    return it == i.steps.end() ? nullptr : &it->second;
}

// When a step stopped holding up what comes after it (kNever while it still runs).
std::int64_t finished(const core::Incident& i, const std::string& step) {
    const core::StepState* st = state(i, step);
    if (st == nullptr || st->status == core::StepStatus::kPending)
        return -1;
    return st->finished() || st->status == core::StepStatus::kFailed ? st->finished_at : kNever;
}

std::vector<std::string> critical_path(const core::Playbook& pb, const core::Incident& i,
                                       const std::string& service) {
    const core::Step* last = nullptr;
    std::int64_t last_at = -1;
    for (const auto& step : pb.steps) {
        if (std::find(step.recovers.begin(), step.recovers.end(), service) == step.recovers.end())
            continue;
        const std::int64_t at = finished(i, step.id);
        if (at > last_at) {
            last = &step;
            last_at = at;
        }
    }
    std::vector<std::string> chain;
    while (last != nullptr && chain.size() <= pb.steps.size()) {
        chain.push_back(last->id);
        const core::Step* gate = nullptr;
        std::int64_t gate_at = -1;
        for (const auto& before : last->after) {
            const std::int64_t at = finished(i, before);
            if (at > gate_at) {
                gate = pb.step(before);
                gate_at = at;
            }
        }
        last = gate;
    }
    return chain;
}

std::vector<ServiceRun> outcome(const Drill& drill, const core::Engine& engine) {
    std::vector<ServiceRun> out;
    for (const auto& r : drill.records) {
        const core::Incident& i = r.incident;
        const core::Playbook* pb = engine.playbooks().find(i.playbook_id);
        for (const auto& svc : i.services) {
            ServiceRun s;
            s.tenant = i.tenant;
            s.id = svc.id;
            const core::Service* c = engine.catalog().service(svc.id);
            s.name = c != nullptr ? c->name : svc.name;
            s.rto_seconds = svc.rto / core::kSecond;
            if (svc.started_at != 0 && svc.recovered_at != 0) {
                s.recovery_seconds = (svc.recovered_at - svc.started_at) / core::kSecond;
                s.met = svc.recovered_at <= svc.deadline();
            }
            if (pb != nullptr)
                s.critical = critical_path(*pb, i, svc.id);
            out.push_back(std::move(s));
        }
    }
    return out;
}

struct Aggregate {
    std::string name;
    std::int64_t rto_seconds = 0;
    int runs = 0;
    int met = 0;
    std::vector<std::int64_t> recovery;
    std::map<std::string, int> critical;
    std::map<std::string, std::size_t> first_seen;  // ties: root of the path first
};

json percentile(std::vector<std::int64_t>& sorted, double q) {
    if (sorted.empty())
        return nullptr;
    // Nearest rank.
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    const std::int64_t v = sorted[rank - 1];
    return v == kNever ? json(nullptr) : json(v);
}

json distribution_json(const Vary& v) {
    const Distribution& d = v.distribution;
    if (d.kind == Distribution::Kind::kLognormal) {
        return {{"step", v.step},
                {"distribution", "lognormal"},
                {"mean_seconds", d.a / core::kSecond},
                {"sd_seconds", d.b / core::kSecond},
                {"text", d.text}};
    }
    return {{"step", v.step},
            {"distribution", "triangular"},
            {"min_seconds", d.a / core::kSecond},
            {"mode_seconds", d.b / core::kSecond},
            {"max_seconds", d.c / core::kSecond},
            {"text", d.text}};
}

}  // namespace

double uniform01(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

double standard_normal(std::mt19937_64& rng) {
    const double u1 = 1.0 - uniform01(rng);  // (0, 1]: the logarithm stays finite
    const double u2 = uniform01(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

core::Duration sample(const Distribution& d, std::mt19937_64& rng) {
    double seconds = 0;
    if (d.kind == Distribution::Kind::kLognormal) {
        const double mean = static_cast<double>(d.a) / core::kSecond;
        const double sd = static_cast<double>(d.b) / core::kSecond;
        const double sigma2 = std::log1p((sd * sd) / (mean * mean));
        const double mu = std::log(mean) - sigma2 / 2;
        seconds = std::exp(mu + std::sqrt(sigma2) * standard_normal(rng));
    } else {
        const double lo = static_cast<double>(d.a) / core::kSecond;
        const double mode = static_cast<double>(d.b) / core::kSecond;
        const double hi = static_cast<double>(d.c) / core::kSecond;
        const double u = uniform01(rng);
        if (hi <= lo) {
            seconds = lo;
        } else if (u < (mode - lo) / (hi - lo)) {
            seconds = lo + std::sqrt(u * (hi - lo) * (mode - lo));
        } else {
            seconds = hi - std::sqrt((1 - u) * (hi - lo) * (hi - mode));
        }
    }
    return std::max<Duration>(0, std::llround(seconds)) * core::kSecond;
}

core::Result<Distribution> parse_distribution(std::string_view text) {
    const auto open = text.find('(');
    if (open == std::string_view::npos || text.back() != ')')
        return invalid("expected lognormal(mean,sd) or triangular(min,mode,max), got '" +
                       std::string(text) + "'");
    const std::string_view name = text.substr(0, open);
    std::vector<Duration> args;
    std::string_view rest = text.substr(open + 1, text.size() - open - 2);
    while (true) {
        const auto comma = rest.find(',');
        std::string arg(rest.substr(0, comma));
        arg.erase(std::remove(arg.begin(), arg.end(), ' '), arg.end());
        auto d = parse_offset(arg);
        if (!d)
            return invalid("invalid duration '" + arg + "' in '" + std::string(text) + "'");
        args.push_back(*d);
        if (comma == std::string_view::npos)
            break;
        rest = rest.substr(comma + 1);
    }
    Distribution d;
    d.text = std::string(text);
    if (name == "lognormal") {
        if (args.size() != 2 || args[0] <= 0)
            return invalid("lognormal wants (mean,sd) with mean > 0: '" + d.text + "'");
        d.kind = Distribution::Kind::kLognormal;
        d.a = args[0];
        d.b = args[1];
    } else if (name == "triangular") {
        if (args.size() != 3 || !(args[0] <= args[1] && args[1] <= args[2]))
            return invalid("triangular wants (min,mode,max) with min <= mode <= max: '" + d.text +
                           "'");
        d.kind = Distribution::Kind::kTriangular;
        d.a = args[0];
        d.b = args[1];
        d.c = args[2];
    } else {
        return invalid("unknown distribution '" + std::string(name) +
                       "' (lognormal or triangular)");
    }
    return d;
}

core::Result<Vary> parse_vary(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0)
        return invalid(
            "--vary wants step=lognormal(mean,sd) or step=triangular(min,mode,max), "
            "got '" +
            std::string(text) + "'");
    auto d = parse_distribution(text.substr(eq + 1));
    if (!d)
        return d.error();
    return Vary{std::string(text.substr(0, eq)), std::move(d.value())};
}

core::Result<json> assess_rto_risk(const Scenario& scenario, const core::Engine& engine,
                                   const RiskOptions& options) {
    if (options.runs <= 0)
        return invalid("--runs must be positive");
    const auto runs = static_cast<std::size_t>(options.runs);
    std::vector<std::vector<ServiceRun>> results(runs);
    std::vector<std::string> errors(runs);
    std::set<std::string> varied;
    for (const auto& v : options.vary)
        varied.insert(v.step);
    Options base = options.base;
    base.until_recovered = true;
    const Fork fork(scenario, engine, base, varied);
    auto work = [&](std::size_t first, std::size_t stride) {
        for (std::size_t k = first; k < runs; k += stride) {
            std::mt19937_64 rng(splitmix64(options.seed + k));
            Options o = options.base;
            o.until_recovered = true;
            for (const auto& v : options.vary)
                o.what_if[v.step] = sample(v.distribution, rng);
            auto drill = fork.run(o);
            if (!drill) {
                errors[k] = drill.error().message;
                continue;
            }
            results[k] = outcome(*drill, engine);
        }
    };
    const std::size_t threads =
        std::clamp<std::size_t>(static_cast<std::size_t>(std::max(options.threads, 1)), 1, runs);
    if (threads == 1) {
        work(0, 1);
    } else {
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t)
            pool.emplace_back(work, t, threads);
        for (auto& t : pool)
            t.join();
    }
    for (const auto& e : errors) {
        if (!e.empty())
            return core::Error{core::ErrorCode::kInternal, e, ""};
    }
    // Merged in run order, keyed (tenant, service) in first-seen order.
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, Aggregate> agg;
    for (const auto& run : results) {
        std::set<std::pair<std::string, std::string>> seen;
        for (const auto& s : run) {
            const auto key = std::make_pair(s.tenant, s.id);
            if (!seen.insert(key).second)
                continue;  // a second incident of the same tenant: its first clock counts
            auto [it, fresh] = agg.try_emplace(key);
            if (fresh)
                order.push_back(key);
            Aggregate& a = it->second;
            a.name = s.name;
            a.rto_seconds = s.rto_seconds;
            ++a.runs;
            a.met += s.met ? 1 : 0;
            a.recovery.push_back(s.recovery_seconds);
            for (auto step = s.critical.rbegin(); step != s.critical.rend(); ++step) {
                ++a.critical[*step];
                a.first_seen.try_emplace(*step, a.first_seen.size());
            }
        }
    }
    json services = json::array();
    for (const auto& key : order) {
        Aggregate& a = agg[key];
        std::sort(a.recovery.begin(), a.recovery.end());
        std::vector<std::pair<std::string, int>> steps(a.critical.begin(), a.critical.end());
        std::sort(steps.begin(), steps.end(), [&a](const auto& x, const auto& y) {
            return x.second != y.second ? x.second > y.second
                                        : a.first_seen[x.first] < a.first_seen[y.first];
        });
        json critical = json::array();
        for (std::size_t i = 0; i < steps.size() && i < static_cast<std::size_t>(options.top_steps);
             ++i) {
            critical.push_back(
                {{"step", steps[i].first},
                 {"runs", steps[i].second},
                 {"share", static_cast<double>(steps[i].second) / static_cast<double>(a.runs)}});
        }
        services.push_back({{"tenant", key.first},
                            {"id", key.second},
                            {"name", a.name},
                            {"rto_seconds", a.rto_seconds},
                            {"runs", a.runs},
                            {"met_runs", a.met},
                            {"p_met", static_cast<double>(a.met) / static_cast<double>(a.runs)},
                            {"p50_recovery_seconds", percentile(a.recovery, 0.5)},
                            {"p90_recovery_seconds", percentile(a.recovery, 0.9)},
                            {"critical_path", critical}});
    }
    json vary = json::array();
    for (const auto& v : options.vary)
        vary.push_back(distribution_json(v));
    return json{{"scenario", scenario.id},
                {"title", scenario.title},
                {"runs", options.runs},
                {"seed", options.seed},
                {"vary", vary},
                {"services", services}};
}

std::string render_risk_markdown(const json& risk, Lang lang) {
    const bool en = lang == Lang::kEn;
    auto at = [](const json& s) {
        return s.is_number_integer() ? core::format_duration(s.get<std::int64_t>() * core::kSecond)
                                     : std::string("—");
    };
    auto percent = [](double p) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * p);
        return std::string(buf);
    };
    std::string out = std::string(en ? "# RTO risk: " : "# RTO 達成見込み: ") +
                      risk["title"].get<std::string>() + "\n\n";
    out += std::string(en ? "- Scenario: `" : "- シナリオ: `") +
           risk["scenario"].get<std::string>() + "`\n";
    out += std::string(en ? "- Runs: " : "- 試行回数: ") + risk["runs"].dump() +
           (en ? " (seed " : "（シード ") + risk["seed"].dump() + (en ? ")\n" : "）\n");
    for (const auto& v : risk["vary"]) {
        out += std::string(en ? "- Varied: `" : "- 変動させた手順: `") +
               v["step"].get<std::string>() + "` = " + v["text"].get<std::string>() + "\n";
    }
    out += en ? "\n| Tenant | Service | RTO | P(met) | P50 recovery | P90 recovery | Critical "
                "steps (share of runs) |\n"
              : "\n| 団体 | 業務 | RTO | 達成確率 | 復旧 P50 | 復旧 P90 | クリティカルパス上の手順"
                "（試行に占める割合） |\n";
    out += "| --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& s : risk["services"]) {
        std::string steps;
        for (const auto& c : s["critical_path"]) {
            steps += (steps.empty() ? "" : ", ") + ("`" + c["step"].get<std::string>() + "` ") +
                     percent(c["share"].get<double>());
        }
        out += "| " + s["tenant"].get<std::string>() + " | " + s["name"].get<std::string>() +
               " (`" + s["id"].get<std::string>() + "`) | " + at(s["rto_seconds"]) + " | " +
               percent(s["p_met"].get<double>()) + " | " + at(s["p50_recovery_seconds"]) + " | " +
               at(s["p90_recovery_seconds"]) + " | " + steps + " |\n";
    }
    return out;
}

}  // namespace sonae::sim
