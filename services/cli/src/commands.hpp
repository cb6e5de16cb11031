// Sub-commands of the `sonae` CLI. Each returns the process exit status:
// 0 success / clean, 1 findings or failure, 2 usage error.
//
// Each group registers its sub-commands on the app (add_*_commands); a sub-command's callback
// leaves what to run in Context::action, which app.cpp runs once parsing is complete.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>

namespace sonae::cli {

struct Context {
    config::Environment env;
    std::string schema_dir;  // --schemas, default SONAE_SCHEMA_DIR
    const clock::Clock* clock = &clock::SystemClock::instance();
    std::function<int()> action;  // the chosen sub-command
};

// `sonae ...` with these arguments (argv[0] is the program); returns the exit status.
int run(int argc, const char* const* argv, const config::Environment& env,
        const clock::Clock& clock = clock::SystemClock::instance());

// Sub-command groups: playbook; exercise; incident, services and playbooks; token.
void add_playbook_commands(CLI::App& app, Context& ctx);
void add_exercise_commands(CLI::App& app, Context& ctx);
void add_incident_commands(CLI::App& app, Context& ctx);
void add_token_commands(CLI::App& app, Context& ctx);
// exercise start|status|list|pause|resume|stop|report: live drills over the REST API.
void add_drill_commands(CLI::App& exercise, Context& ctx);
// `exercise import` (import_command.cpp), registered by add_exercise_commands.
void add_import_command(CLI::App& exercise, Context& ctx);

struct LintArgs {
    std::vector<std::string> paths;
    std::string catalog;
    std::string schema_dir;
};
int run_lint(const LintArgs& args);

struct SimulateArgs {
    std::string scenario;
    std::string playbooks;
    std::string catalog;
    std::string out;
    std::vector<std::string> what_if;  // step=duration
    std::string schema_dir;
    std::string lang = "ja";        // of report.md / report.html / risk.md
    int runs = 0;                   // > 0: RTO risk over this many sampled runs
    std::vector<std::string> vary;  // step=lognormal(mean,sd) | step=triangular(min,mode,max)
    std::uint64_t seed = 12;        // of the risk runs
    int threads = 2;                // of the risk runs (the result does not depend on it)
};
int run_simulate(const SimulateArgs& args);

// Operator commands over the REST API (SONAE_URL, SONAE_TOKEN). Exit status: 0 ok, 1 refused,
// not found or unreachable, 2 usage (including a request the API calls invalid).
struct ListArgs {
    std::string status, severity, service, since, tenant;
    bool exercise = false;
    int limit = 50;
    bool all = false;  // follow next_cursor to the end
    bool json = false;
};
int run_incident_list(const ListArgs& args);

struct ShowArgs {
    std::string incident;
    bool json = false;
};
int run_incident_show(const ShowArgs& args);
int run_incident_timeline(const ShowArgs& args);
// The tamper-evident timeline of one incident (GET /v1/incidents/{id}/chain), checked here:
// 0 intact, 1 broken or not found, 2 usage.
int run_verify(const ShowArgs& args);

struct ReportArgs {
    std::string incident;
    std::string kind;                 // first | ppc-preliminary | ppc-final | review
    std::string format = "markdown";  // markdown | html | json
    std::string lang = "ja";
    std::string out;  // a file instead of standard output
};
int run_incident_report(const ReportArgs& args);

struct CmdArgs {
    std::string incident;
    std::vector<std::string> words;  // the command line
    bool wait = true;                // wait for the orchestrator's result
    int wait_seconds = 15;
    bool json = false;
};
// 0 applied (or accepted and still pending with --no-wait), 1 refused or not found, 2 usage.
int run_incident_cmd(const CmdArgs& args, const clock::Clock& clock);

struct ListingArgs {
    std::string tenant;
    bool exercise = false;
    bool json = false;
};
int run_services(const ListingArgs& args);
int run_playbooks(const ListingArgs& args);

// API tokens in Redis (SONAE_REDIS_URL, SONAE_PREFIX): create prints the token once.
struct TokenArgs {
    std::string name, tenant = "default", role;
    std::string redis_url, prefix;
    std::string redis_ca;  // SONAE_REDIS_CA, for rediss://
    bool json = false;
};
int run_token_create(const TokenArgs& args, const clock::Clock& clock);
int run_token_list(const TokenArgs& args);
int run_token_revoke(const TokenArgs& args);

}  // namespace sonae::cli
