// What the REST API (PRODUCT §10) shows of incidents, playbooks and business services, and who
// may see and do what. Pure: no I/O, the time is an argument (unit-tested in api_view_test).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/config/config.hpp>
#include <sonae/core/command.hpp>
#include <sonae/core/exercise.hpp>
#include <sonae/core/incident.hpp>
#include <sonae/core/library.hpp>
#include <sonae/core/result.hpp>

namespace sonae::gateway::api {

// The bearer of an API token: its name, tenant and role (viewer | responder | commander | admin |
// prefecture; a prefecture token acts as a commander in every tenant).
struct Principal {
    std::string name;
    std::string tenant = "default";
    std::string role;

    bool all_tenants() const { return role == "prefecture"; }
    // A drill's namespace "<tenant>~<exercise>" is seen by whoever sees its tenant.
    bool sees(const std::string& tenant_of) const {
        return all_tenants() || core::base_tenant(tenant_of) == tenant;
    }
    core::Permission permission() const {
        return core::parse_permission(role).value_or(core::Permission::kViewer);
    }
};
bool valid_role(std::string_view role);
// Tenant names are [a-z0-9-]+ (they are part of incident ids, keys and URLs).
bool valid_tenant(std::string_view tenant);

// "Authorization: Bearer <token>": the token, or none.
std::optional<std::string> bearer_token(std::string_view authorization);

// Query filters of GET /v1/incidents.
struct IncidentFilter {
    std::optional<std::string> status;  // triggered | acknowledged | resolved | open
    std::vector<core::Severity> severities;
    std::optional<std::string> service;
    core::TimePoint since = 0;
    bool exercise = false;  // exercise incidents are listed only when asked for
    std::optional<std::string> tenant;
    std::size_t limit = 50;
    // The last incident of the previous page (opened time, id), or none for the first page.
    std::optional<std::pair<core::TimePoint, std::string>> after;

    bool matches(const core::Incident& i) const;
};
// Parses status, severity (comma list), service, since (RFC 3339), exercise, tenant, limit
// (1..200) and cursor; an invalid value is a kInvalidField error naming the parameter.
core::Result<IncidentFilter> parse_incident_filter(const std::map<std::string, std::string>& q);
std::string encode_cursor(core::TimePoint opened, const std::string& id);
std::optional<std::pair<core::TimePoint, std::string>> decode_cursor(const std::string& cursor);

// Newest first; ties by id, descending (the order of ZREVRANGEBYSCORE).
bool newer(const std::pair<core::TimePoint, std::string>& a,
           const std::pair<core::TimePoint, std::string>& b);

// RFC 3339 UTC, or null for 0 (not happened).
nlohmann::json time_or_null(core::TimePoint t);

// The first RTO fraction at which the playbook escalates (its earliest at_rto_fraction rule), or
// none: where the board's countdown turns from green to amber.
std::optional<double> first_threshold(const core::Playbook* playbook);

// One RTO clock as the API shows it: state not_started | running | recovered | breached, the
// deadline and the time left in seconds (negative once breached; null when stopped), and the
// seconds left until the first escalation threshold (`threshold`, a fraction of the RTO; null
// without one or when stopped).
nlohmann::json service_clock(const core::ServiceClock& s, const core::Incident& i,
                             core::TimePoint now, std::optional<double> threshold = std::nullopt);
// The escalations fired for this service ("<escalation id>:<service>" in Incident::fired).
std::vector<std::string> escalations_of(const core::Incident& i, const std::string& service);

// What a list shows of an incident; `playbook` (may be null) gives the services' thresholds.
nlohmann::json incident_summary(const core::Incident& i, core::TimePoint now,
                                const core::Playbook* playbook = nullptr);
// State, steps (in the playbook's order, with owners and due times) and RTO clocks.
nlohmann::json incident_detail(const core::Incident& i, const core::Playbook* playbook,
                               core::TimePoint now);
nlohmann::json playbook_view(const core::Playbook& p, const std::string& tenant);
// One business service: its RTO, the open incidents touching it, the least time left among
// them, and the latest escalation fired for it. `catalog` may be null (a service an incident
// names that the catalog does not).
nlohmann::json service_status(const std::string& tenant, const std::string& id,
                              const core::Service* catalog,
                              const std::vector<const core::Incident*>& open, core::TimePoint now);

}  // namespace sonae::gateway::api
