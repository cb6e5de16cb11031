// The `sonae` command line: global options, the sub-command groups, parse, run the chosen one.
#include <iostream>

#include "commands.hpp"

namespace sonae::cli {

int run(int argc, const char* const* argv, const config::Environment& env,
        const clock::Clock& clock) {
    Context ctx;
    ctx.env = env;
    ctx.schema_dir = env.schema_dir;
    ctx.clock = &clock;
    CLI::App app{"sonae: incident response and cyber-resilience orchestration"};
    app.require_subcommand(1);
    app.add_option("--schemas", ctx.schema_dir, "JSON Schema directory (SONAE_SCHEMA_DIR)");
    app.add_subcommand("version", "print the version")->callback([&ctx] {
        ctx.action = [] {
            std::cout << "sonae " << SONAE_VERSION << "\n";
            return 0;
        };
    });
    add_playbook_commands(app, ctx);
    add_exercise_commands(app, ctx);
    add_incident_commands(app, ctx);
    add_token_commands(app, ctx);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    return ctx.action ? ctx.action() : 2;
}

}  // namespace sonae::cli
