#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include <sonae/core/catalog.hpp>
#include <sonae/core/lint.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/loader/loader.hpp>

#include "commands.hpp"

namespace sonae::cli {
namespace fs = std::filesystem;

namespace {

// "file:line: message" from a loader error that already says where.
void print_error(const std::string& message, int& findings) {
    std::cout << message << "\n";
    ++findings;
}

}  // namespace

int run_lint(const LintArgs& args) {
    std::vector<std::string> paths = args.paths;
    if (paths.empty())
        paths.emplace_back("playbooks");
    auto schemas = loader::Schemas::load(args.schema_dir);
    if (!schemas) {
        std::cerr << "sonae playbook lint: " << schemas.error().message << "\n";
        return 2;
    }
    // Playbook files to lint, grouped by the catalog that applies to them.
    std::map<std::string, std::vector<std::string>> by_catalog;
    std::set<std::string> whole;  // catalogs linted with a whole directory of playbooks
    std::vector<std::string> message_files;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<std::string> files = loader::playbook_files(p);
            if (const auto messages = fs::path(p) / "messages.yaml"; fs::exists(messages))
                message_files.push_back(messages.string());
            const std::string catalog = !args.catalog.empty() ? args.catalog
                                        : fs::exists(fs::path(p) / "catalog.yaml")
                                            ? (fs::path(p) / "catalog.yaml").string()
                                            : "";
            auto& list = by_catalog[catalog];
            list.insert(list.end(), files.begin(), files.end());
            whole.insert(catalog);
            // A library's tenants (tenants/<name>/, loader::load_libraries) are libraries of
            // their own, each with its catalog.
            const fs::path tenants = fs::path(p) / "tenants";
            if (args.catalog.empty() && fs::is_directory(tenants, ec)) {
                for (const auto& t : fs::directory_iterator(tenants, ec)) {
                    if (!t.is_directory())
                        continue;
                    const auto tenant_files = loader::playbook_files(t.path().string());
                    const auto tenant_catalog = t.path() / "catalog.yaml";
                    auto& tl = by_catalog[fs::exists(tenant_catalog) ? tenant_catalog.string()
                                                                     : std::string{}];
                    tl.insert(tl.end(), tenant_files.begin(), tenant_files.end());
                    if (fs::exists(tenant_catalog))
                        whole.insert(tenant_catalog.string());
                }
            }
        } else if (fs::is_regular_file(p, ec)) {
            const auto sibling = fs::path(p).parent_path() / "catalog.yaml";
            const std::string catalog =
                !args.catalog.empty()                                             ? args.catalog
                : fs::exists(sibling) && fs::path(p).filename() != "catalog.yaml" ? sibling.string()
                                                                                  : "";
            if (fs::path(p).filename() == "catalog.yaml") {
                by_catalog[p];  // lint the catalog alone
            } else {
                by_catalog[catalog].push_back(p);
            }
        } else {
            std::cerr << "sonae playbook lint: " << p << ": no such file or directory\n";
            return 2;
        }
    }
    for (auto& [catalog, list] : by_catalog) {  // a file named twice is linted once
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
    }
    int findings = 0;
    std::size_t files = 0;
    for (const auto& [catalog_path, list] : by_catalog) {
        // Playbook id -> file within one library (a tenant may override a shipped id).
        std::map<std::string, std::string> ids;
        std::optional<core::Catalog> catalog;
        if (!catalog_path.empty()) {
            ++files;
            auto c = loader::load_catalog(catalog_path, *schemas);
            if (!c) {
                print_error(c.error().message, findings);
            } else {
                catalog = std::move(c.value());
            }
        }
        const core::LintContext ctx{catalog ? &*catalog : nullptr, nullptr};
        std::vector<core::Playbook> library;
        for (const auto& file : list) {
            ++files;
            auto pb = loader::load_playbook(file, *schemas);
            if (!pb) {
                print_error(pb.error().message, findings);
                continue;
            }
            library.push_back(*pb);
            if (auto [it, fresh] = ids.emplace(pb->id, file); !fresh) {
                print_error(file + ":" + std::to_string(pb->line_of("/id")) + ": playbook id '" +
                                pb->id + "' is also used by " + it->second,
                            findings);
            }
            for (const auto& f : core::lint_playbook(*pb, ctx))
                print_error(core::format_finding(f), findings);
        }
        // Coverage needs the whole library: only when a directory (or the catalog with its
        // playbooks) was linted, not for a single playbook file.
        if (catalog && whole.count(catalog_path) != 0 && library.size() == list.size()) {
            for (const auto& f : core::lint_library(*catalog, library))
                print_error(core::format_finding(f), findings);
        }
        if (catalog && !catalog->default_playbook.empty()) {
            bool found = false;
            for (const auto& [id, f] : ids)
                found = found || id == catalog->default_playbook;
            if (!found && !list.empty()) {
                print_error(catalog_path + ":" + std::to_string(catalog->lines.empty() ? 1 : 1) +
                                ": default_playbook '" + catalog->default_playbook +
                                "' is not among the linted playbooks",
                            findings);
            }
        }
    }
    for (const auto& file : message_files) {
        ++files;
        if (auto m = loader::load_messages(file, *schemas); !m)
            print_error(m.error().message, findings);
    }
    std::cerr << files << " files, " << findings << (findings == 1 ? " finding" : " findings")
              << "\n";
    return findings == 0 ? 0 : 1;
}

void add_playbook_commands(CLI::App& app, Context& ctx) {
    auto* playbook = app.add_subcommand("playbook", "work with playbooks");
    playbook->require_subcommand(1);
    auto args = std::make_shared<LintArgs>();
    auto* lint =
        playbook->add_subcommand("lint", "check playbooks: schema, graph, roles, RTO feasibility");
    lint->add_option("paths", args->paths, "playbook files or directories (default: playbooks)");
    lint->add_option("--catalog", args->catalog,
                     "business-service catalog (default: catalog.yaml beside them)");
    lint->callback([&ctx, args] {
        ctx.action = [&ctx, args] {
            args->schema_dir = ctx.schema_dir;
            return run_lint(*args);
        };
    });
}

}  // namespace sonae::cli
