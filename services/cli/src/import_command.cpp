// `sonae exercise import TIMELINE.csv`: reads the facilitator's spreadsheet, converts it
// (timeline_import.hpp), checks the result the way `sonae exercise simulate` reads a scenario,
// and writes it only when every row converted.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <sonae/core/yaml.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/sim/simulate.hpp>

#include "commands.hpp"
#include "timeline_import.hpp"

namespace sonae::cli {
namespace {

struct ImportArgs {
    std::string timeline;
    std::string out;  // empty: stdout
    std::string id, title;
    std::string start = kDefaultImportStart;
    std::string schema_dir;
};

int run_import(const ImportArgs& args) {
    std::ifstream in(args.timeline, std::ios::binary);
    if (!in) {
        std::cerr << "sonae exercise import: cannot read " << args.timeline << ": "
                  << std::strerror(errno) << "\n";
        return 2;
    }
    std::stringstream bytes;
    bytes << in.rdbuf();
    const TimelineImport result =
        import_timeline(bytes.str(), {args.timeline, args.id, args.title, args.start});
    if (!result.errors.empty()) {
        for (const auto& e : result.errors)
            std::cerr << e << "\n";
        return 2;
    }
    // The converter only writes what the schema allows; check it as the simulator will read it,
    // so that a mistake here shows now and not in the exercise.
    auto schemas = loader::Schemas::load(args.schema_dir);
    if (!schemas) {
        std::cerr << "sonae exercise import: " << schemas.error().message << "\n";
        return 2;
    }
    const std::string name = args.out.empty() ? "<stdout>" : args.out;
    auto doc = core::parse_yaml(result.yaml, name);
    if (!doc) {
        std::cerr << "sonae exercise import: internal error: " << doc.error().message << "\n";
        return 1;
    }
    if (auto s = sim::parse_scenario(*doc, name, schemas->scenario()); !s) {
        std::cerr << "sonae exercise import: internal error: " << s.error().message << "\n";
        return 1;
    }
    if (args.out.empty()) {
        std::cout << result.yaml;
        return 0;
    }
    // Written beside the target and renamed over it: a reader never sees half a scenario.
    const std::string tmp = args.out + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << result.yaml;
        out.close();
        if (!out) {
            std::cerr << "sonae exercise import: cannot write " << tmp << "\n";
            std::filesystem::remove(tmp);
            return 1;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, args.out, ec);
    if (ec) {
        std::cerr << "sonae exercise import: cannot write " << args.out << ": " << ec.message()
                  << "\n";
        std::filesystem::remove(tmp, ec);
        return 1;
    }
    std::cerr << args.out << ": " << result.injects << " injects, " << result.players
              << " player actions, " << result.expectations << " expectations (from "
              << result.encoding << ")\n";
    return 0;
}

}  // namespace

void add_import_command(CLI::App& exercise, Context& ctx) {
    auto args = std::make_shared<ImportArgs>();
    auto* cmd = exercise.add_subcommand(
        "import", "turn a facilitator's CSV timeline (UTF-8 or Shift_JIS) into a scenario YAML");
    cmd->add_option("timeline", args->timeline, "CSV file (docs/exercises.md)")->required();
    cmd->add_option("--out", args->out, "write the scenario here (default: stdout)");
    cmd->add_option("--id", args->id, "scenario id (default: from the file name)");
    cmd->add_option("--title", args->title, "scenario title (default: the file name)");
    cmd->add_option("--start", args->start, "RFC 3339 start of the exercise")
        ->default_str(kDefaultImportStart);
    cmd->callback([&ctx, args] {
        ctx.action = [&ctx, args] {
            args->schema_dir = ctx.schema_dir;
            return run_import(*args);
        };
    });
}

}  // namespace sonae::cli
