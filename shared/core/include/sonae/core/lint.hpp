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

// Checks of a catalog against the whole library of its playbooks: a service's `playbook:` must
// be one of them, and every business service must be covered: a playbook named for it in the
// catalog (even the default, as a decision), or a playbook other than the default listing it in
// `services:` or recovering it in a step. An uncovered service's alerts would only ever get the
// default playbook, and nobody decided that.
std::vector<Finding> lint_library(const Catalog& catalog, const std::vector<Playbook>& playbooks);

// Critical path (sum of planned durations along the longest chain) from the incident start to
// the recovery of `service`; 0 when the playbook has no recovery step for it. `path` receives
// the chain of step ids.
Duration critical_path(const Playbook& pb, const std::string& service,
                       std::vector<std::string>* path);

}  // namespace sonae::core
