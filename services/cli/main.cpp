// sonae: the command line (PRODUCT §6, §11): version, playbook lint, exercise simulate.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include <sonae/config/config.hpp>

#include "src/commands.hpp"

int main(int argc, char** argv) {
    auto env = sonae::config::read_environment();
    if (!env) {
        std::cerr << "sonae: " << env.error().message << "\n";
        return 2;
    }
    CLI::App app{"sonae: incident response and cyber-resilience orchestration"};
    app.require_subcommand(1);
    std::string schema_dir = env->schema_dir;
    app.add_option("--schemas", schema_dir, "JSON Schema directory (SONAE_SCHEMA_DIR)");

    auto* version = app.add_subcommand("version", "print the version");

    auto* playbook = app.add_subcommand("playbook", "work with playbooks");
    playbook->require_subcommand(1);
    sonae::cli::LintArgs lint;
    auto* lint_cmd =
        playbook->add_subcommand("lint", "check playbooks: schema, graph, roles, RTO feasibility");
    lint_cmd->add_option("paths", lint.paths, "playbook files or directories (default: playbooks)");
    lint_cmd->add_option("--catalog", lint.catalog,
                         "business-service catalog (default: catalog.yaml beside them)");

    auto* exercise = app.add_subcommand("exercise", "tabletop exercises");
    exercise->require_subcommand(1);
    sonae::cli::SimulateArgs sim;
    sim.playbooks = env->playbook_dir;
    auto* simulate =
        exercise->add_subcommand("simulate", "run a scenario in virtual time (no servers)");
    simulate->add_option("scenario", sim.scenario, "scenario YAML")->required();
    simulate->add_option("--playbooks", sim.playbooks, "playbook directory");
    simulate->add_option("--catalog", sim.catalog,
                         "catalog (default: catalog.yaml in the playbook directory)");
    simulate->add_option("--out", sim.out, "write report.json into this directory");
    simulate->add_option("--what-if", sim.what_if,
                         "step=duration: how long players take for a step");

    auto* incident = app.add_subcommand("incident", "incident operations");
    incident->require_subcommand(1);
    sonae::cli::VerifyArgs verify{"", env->redis_url, env->prefix};
    auto* verify_cmd = incident->add_subcommand(
        "verify", "check an incident's tamper-evident timeline in Redis (SONAE_REDIS_URL)");
    verify_cmd->add_option("id", verify.incident, "incident id")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    if (*version) {
        std::cout << "sonae " << SONAE_VERSION << "\n";
        return 0;
    }
    if (*lint_cmd) {
        lint.schema_dir = schema_dir;
        return sonae::cli::run_lint(lint);
    }
    if (*verify_cmd)
        return sonae::cli::run_verify(verify);
    if (*simulate) {
        sim.schema_dir = schema_dir;
        return sonae::cli::run_simulate(sim);
    }
    return 2;
}
