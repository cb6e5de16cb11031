// Sub-commands of the `sonae` CLI. Each returns the process exit status:
// 0 success / clean, 1 findings or failure, 2 usage error.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sonae::cli {

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
};
int run_simulate(const SimulateArgs& args);

struct VerifyArgs {
    std::string incident;
    std::string redis_url;
    std::string prefix;
};
// The tamper-evident timeline of one incident, checked from Redis: 0 intact, 1 broken or not
// found, 2 usage.
int run_verify(const VerifyArgs& args);

}  // namespace sonae::cli
