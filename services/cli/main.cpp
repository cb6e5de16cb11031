// sonae: the command line (PRODUCT §6, §10, §11): version, playbook lint, exercise simulate, the
// operator's incident, services and playbooks commands over the REST API, and API tokens.
// Exit status: 0 ok, 1 refused, not found or failed, 2 usage.
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

    // Over the REST API: SONAE_URL (default http://127.0.0.1:8080) and SONAE_TOKEN.
    auto* incident =
        app.add_subcommand("incident", "incidents over the REST API (SONAE_URL, SONAE_TOKEN)");
    incident->require_subcommand(1);
    sonae::cli::ListArgs list;
    auto* list_cmd = incident->add_subcommand("list", "incidents, newest first");
    list_cmd->add_option("--status", list.status, "triggered|acknowledged|resolved|open");
    list_cmd->add_option("--severity", list.severity, "severities, comma-separated");
    list_cmd->add_option("--service", list.service, "impacted business service id");
    list_cmd->add_option("--since", list.since, "opened at or after (RFC 3339)");
    list_cmd->add_option("--tenant", list.tenant, "one tenant (prefecture tokens)");
    list_cmd->add_flag("--exercise", list.exercise, "include exercise incidents");
    list_cmd->add_option("--limit", list.limit, "incidents per page (1-200)")
        ->check(CLI::Range(1, 200));
    list_cmd->add_flag("--all", list.all, "every page");
    list_cmd->add_flag("--json", list.json, "the API's JSON");
    sonae::cli::ShowArgs show, timeline, verify;
    auto* show_cmd = incident->add_subcommand("show", "one incident: steps and RTO clocks");
    show_cmd->add_option("id", show.incident, "incident id")->required();
    show_cmd->add_flag("--json", show.json, "the API's JSON");
    auto* timeline_cmd = incident->add_subcommand("timeline", "an incident's audit timeline");
    timeline_cmd->add_option("id", timeline.incident, "incident id")->required();
    timeline_cmd->add_flag("--json", timeline.json, "the API's JSON");
    auto* verify_cmd =
        incident->add_subcommand("verify", "check an incident's tamper-evident timeline");
    verify_cmd->add_option("id", verify.incident, "incident id")->required();
    sonae::cli::CmdArgs cmd;
    auto* cmd_cmd = incident->add_subcommand(
        "cmd",
        "send a command (ack, assign, done, skip, fail, decide, note, severity, escalate, "
        "status, timeline, resolve, help) and print its result");
    cmd_cmd->add_option("id", cmd.incident, "incident id")->required();
    cmd_cmd->add_option("command", cmd.words, "the command line, e.g. done triage isolated")
        ->required();
    cmd_cmd->add_flag("!--no-wait", cmd.wait, "print the command id without waiting");
    cmd_cmd->add_option("--wait", cmd.wait_seconds, "seconds to wait for the result")
        ->check(CLI::Range(1, 300));
    cmd_cmd->add_flag("--json", cmd.json, "the API's JSON");

    sonae::cli::ListingArgs services_args, playbooks_args;
    auto* services_cmd =
        app.add_subcommand("services", "RTO status per business service (REST API)");
    services_cmd->add_option("--tenant", services_args.tenant, "one tenant");
    services_cmd->add_flag("--exercise", services_args.exercise, "count exercise incidents");
    services_cmd->add_flag("--json", services_args.json, "the API's JSON");
    auto* playbooks_cmd = app.add_subcommand("playbooks", "the playbooks loaded (REST API)");
    playbooks_cmd->add_option("--tenant", playbooks_args.tenant, "one tenant");
    playbooks_cmd->add_flag("--json", playbooks_args.json, "the API's JSON");

    auto* token = app.add_subcommand("token", "API tokens in Redis (SONAE_REDIS_URL)");
    token->require_subcommand(1);
    sonae::cli::TokenArgs tok;
    tok.redis_url = env->redis_url;
    tok.prefix = env->prefix;
    tok.redis_ca = env->redis_ca;
    auto* token_create =
        token->add_subcommand("create", "make a token; it is printed once, its hash stored");
    token_create->add_option("--tenant", tok.tenant, "tenant (default: default)");
    token_create->add_option("--role", tok.role, "viewer|responder|commander|admin|prefecture")
        ->required();
    token_create->add_option("--name", tok.name, "name (default: <tenant>-<role>)");
    token_create->add_flag("--json", tok.json, "JSON with the token");
    auto* token_list = token->add_subcommand("list", "tokens in Redis (names, never tokens)");
    token_list->add_flag("--json", tok.json, "JSON");
    auto* token_revoke = token->add_subcommand("revoke", "delete a token by name");
    token_revoke->add_option("name", tok.name, "token name")->required();

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
    if (*list_cmd)
        return sonae::cli::run_incident_list(list);
    if (*show_cmd)
        return sonae::cli::run_incident_show(show);
    if (*timeline_cmd)
        return sonae::cli::run_incident_timeline(timeline);
    if (*verify_cmd)
        return sonae::cli::run_verify(verify);
    if (*cmd_cmd)
        return sonae::cli::run_incident_cmd(cmd);
    if (*services_cmd)
        return sonae::cli::run_services(services_args);
    if (*playbooks_cmd)
        return sonae::cli::run_playbooks(playbooks_args);
    if (*token_create)
        return sonae::cli::run_token_create(tok);
    if (*token_list)
        return sonae::cli::run_token_list(tok);
    if (*token_revoke)
        return sonae::cli::run_token_revoke(tok);
    if (*simulate) {
        sim.schema_dir = schema_dir;
        return sonae::cli::run_simulate(sim);
    }
    return 2;
}
