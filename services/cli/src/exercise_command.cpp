#include <filesystem>
#include <fstream>
#include <iostream>

#include <sonae/core/library.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/sim/risk.hpp>
#include <sonae/sim/simulate.hpp>

#include "commands.hpp"

namespace sonae::cli {

namespace {

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
        std::cerr << "sonae exercise simulate: cannot write " << path << "\n";
        return false;
    }
    return true;
}

}  // namespace

int run_simulate(const SimulateArgs& args) {
    const auto lang = sim::parse_lang(args.lang);
    if (!lang) {
        std::cerr << "sonae exercise simulate: --lang wants ja or en, got '" << args.lang << "'\n";
        return 2;
    }
    sim::Options options;
    options.lang = *lang;
    for (const auto& w : args.what_if) {
        const auto eq = w.find('=');
        auto d = eq == std::string::npos ? std::nullopt : sim::parse_offset(w.substr(eq + 1));
        if (!d) {
            std::cerr << "sonae exercise simulate: --what-if wants step=duration (e.g. "
                         "restore=36h), got '"
                      << w << "'\n";
            return 2;
        }
        options.what_if[w.substr(0, eq)] = *d;
    }
    auto schemas = loader::Schemas::load(args.schema_dir);
    if (!schemas) {
        std::cerr << "sonae exercise simulate: " << schemas.error().message << "\n";
        return 2;
    }
    auto scenario = loader::load_scenario(args.scenario, *schemas);
    if (!scenario) {
        std::cerr << scenario.error().message << "\n";
        return 2;
    }
    auto lib = loader::load_library(args.playbooks, args.catalog, *schemas);
    if (!lib) {
        std::cerr << lib.error().message << "\n";
        return 2;
    }
    if (args.runs > 0) {
        sim::RiskOptions risk;
        risk.runs = args.runs;
        risk.seed = args.seed;
        risk.base = options;
        risk.threads = args.threads;
        for (const auto& v : args.vary) {
            auto parsed = sim::parse_vary(v);
            if (!parsed) {
                std::cerr << "sonae exercise simulate: " << parsed.error().message << "\n";
                return 2;
            }
            risk.vary.push_back(std::move(parsed.value()));
        }
        auto result = sim::assess_rto_risk(*scenario, *lib.value()->engine, risk);
        if (!result) {
            std::cerr << "sonae exercise simulate: " << result.error().message << "\n";
            return 1;
        }
        const std::string text = result->dump(2) + "\n";
        if (!args.out.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(args.out, ec);
            if (!write_file(args.out + "/risk.json", text) ||
                !write_file(args.out + "/risk.md", sim::render_risk_markdown(*result, *lang)))
                return 1;
        }
        std::cout << text;
        return 0;
    }
    if (!args.vary.empty()) {
        std::cerr << "sonae exercise simulate: --vary needs --runs N\n";
        return 2;
    }
    auto report = sim::simulate(*scenario, *lib.value()->engine, options);
    if (!report) {
        std::cerr << "sonae exercise simulate: " << report.error().message << "\n";
        return 1;
    }
    const std::string text = report->dump(2) + "\n";
    if (!args.out.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(args.out, ec);
        if (!write_file(args.out + "/report.json", text) ||
            !write_file(args.out + "/report.md", sim::render_markdown(*report, *lang)) ||
            !write_file(args.out + "/report.html", sim::render_html(*report, *lang)))
            return 1;
    }
    std::cout << text;
    return 0;
}

void add_exercise_commands(CLI::App& app, Context& ctx) {
    auto* exercise = app.add_subcommand("exercise", "tabletop exercises");
    exercise->require_subcommand(1);
    auto sim = std::make_shared<SimulateArgs>();
    sim->playbooks = ctx.env.playbook_dir;
    auto* simulate =
        exercise->add_subcommand("simulate", "run a scenario in virtual time (no servers)");
    simulate->add_option("scenario", sim->scenario, "scenario YAML")->required();
    simulate->add_option("--playbooks", sim->playbooks, "playbook directory");
    simulate->add_option("--catalog", sim->catalog,
                         "catalog (default: catalog.yaml in the playbook directory)");
    simulate->add_option("--out", sim->out,
                         "write report.json, report.md and report.html into this directory");
    simulate->add_option("--lang", sim->lang, "language of the report: ja (default) or en");
    simulate
        ->add_option("--runs", sim->runs,
                     "RTO risk: simulate N times with --vary durations sampled")
        ->check(CLI::Range(1, 1000000));
    simulate->add_option("--vary", sim->vary,
                         "step=lognormal(mean,sd) or step=triangular(min,mode,max) (repeatable)");
    simulate->add_option("--seed", sim->seed, "seed of the risk runs (default 12)");
    simulate->add_option("--threads", sim->threads, "threads of the risk runs (default 2)")
        ->check(CLI::Range(1, 64));
    simulate->add_option("--what-if", sim->what_if,
                         "step=duration: how long players take for a step");
    simulate->callback([&ctx, sim] {
        ctx.action = [&ctx, sim] {
            sim->schema_dir = ctx.schema_dir;
            return run_simulate(*sim);
        };
    });
    add_import_command(*exercise, ctx);
    add_drill_commands(*exercise, ctx);
}

}  // namespace sonae::cli
