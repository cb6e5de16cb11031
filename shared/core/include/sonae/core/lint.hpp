// Semantic checks of playbooks and catalogs beyond their JSON Schema (PRODUCT §6): unknown steps
// in `after`, cycles, unreachable steps, unknown roles/services/channels/fields, decision options
// that do not exist, invalid templates, and RTO feasibility of the critical path.
#pragma once

#include <string>
#include <vector>

#include <sonae/core/catalog.hpp>
#include <sonae/core/playbook.hpp>

namespace sonae::core {

struct Finding {
    std::string file;
    int line = 1;
    std::string message;
    bool warning = false;
};
std::string format_finding(const Finding& f);  // "file:line: message"

struct LintContext {
    const Catalog* catalog = nullptr;                    // roles and services are checked when set
    const std::vector<std::string>* channels = nullptr;  // channel names, when known
};

std::vector<Finding> lint_playbook(const Playbook& pb, const LintContext& ctx);

// Critical path (sum of planned durations along the longest chain) from the incident start to
// the recovery of `service`; 0 when the playbook has no recovery step for it. `path` receives
// the chain of step ids.
Duration critical_path(const Playbook& pb, const std::string& service,
                       std::vector<std::string>* path);

}  // namespace sonae::core
