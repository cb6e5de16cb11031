// The business-service catalog (PRODUCT §5): assets (host globs, CIDRs) → systems → business
// services with RTO, RPO, priority, classification and network zone; plus the functional roles
// and escalation chain playbooks refer to. A municipality edits it; the shipped one is a default.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/core/time.hpp>
#include <sonae/core/yaml.hpp>

namespace sonae::core {

struct Role {
    std::string id;
    std::string name;
    std::string escalates_to;  // next role in the chain, if any
    bool external = false;     // outside the municipality (prefecture, ministry, police, PPC...)
};

struct System {
    std::string id;
    std::string name;
    std::string zone;                // individual-number | lgwan | internet
    std::vector<std::string> hosts;  // globs
    std::vector<std::string> cidrs;
    std::vector<std::string> services;
};

// Alert grouping (PRODUCT §5, docs/playbooks.md "Correlation"): events whose `by` values are
// equal join one open incident while they keep arriving within `window` of the previous one.
// `by` names: service, category, system, asset, source, severity, labels.<name>.
struct Correlation {
    std::vector<std::string> by;
    Duration window = 0;
    int line = 0;
};

struct Service {
    std::string id;
    std::string name;
    Duration rto = 0;
    Duration rpo = 0;
    int priority = 3;
    Classification classification = Classification::k3C;
    std::string zone;
    std::string playbook;  // chosen for an alert on this service that no playbook matches
};

struct Catalog {
    std::string file;
    std::string tenant = "default";
    std::string municipality;         // the reporting body's name, as the reports print it
    int utc_offset_minutes = 9 * 60;  // Japan
    std::string default_playbook;
    std::optional<Correlation> correlate;  // for playbooks without a rule of their own
    std::vector<Role> roles;
    std::vector<System> systems;
    std::vector<Service> services;
    std::map<std::string, int> lines;  // "service:<id>" / "role:<id>" / "system:<id>" -> line

    const Service* service(const std::string& id) const;
    const Role* role(const std::string& id) const;
    // Service ids impacted by these assets (host glob, IP in CIDR, or system id/name), sorted.
    std::vector<std::string> impacted_services(const std::vector<Asset>& assets) const;
    // System ids these assets belong to, in catalog order.
    std::vector<std::string> impacted_systems(const std::vector<Asset>& assets) const;
};

// Parses a catalog already converted from YAML, checked against catalog.schema.json.
// Errors read "file:line: message".
Result<Catalog> parse_catalog(const LocatedJson& doc, const std::string& file,
                              const SchemaValidator& schema);

bool ip_in_cidr(const std::string& ip, const std::string& cidr);

// A `correlate:` object already checked by a schema; none when its window is not a duration.
std::optional<Correlation> correlation_from_json(const nlohmann::json& j, int line);

}  // namespace sonae::core
