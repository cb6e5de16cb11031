// The playbook engine: a pure, deterministic core (PRODUCT §1).
//   (incident state, input, now) -> (new state, effects)
// Inputs are events, commands, fired timers and results of HTTP actions; effects are timeline
// entries, notifications, HTTP actions and timer schedule/cancel. No I/O, no clock, no
// randomness: production (orchestrator), the tabletop simulator and the tests run this code.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/catalog.hpp>
#include <sonae/core/command.hpp>
#include <sonae/core/event.hpp>
#include <sonae/core/incident.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/core/result.hpp>

namespace sonae::core {

struct EventInput {
    Event event;
};
struct CommandInput {
    std::string actor;  // who (responder id or "api:<token name>")
    Permission permission = Permission::kViewer;
    Command command;
};
struct TimerInput {
    std::string timer_id;
    TimePoint due = 0;  // when set, a timer rescheduled to another time is not this firing
};
struct ActionResultInput {
    std::string step;
    bool ok = false;
    int status = 0;
    std::string detail;
};
using Input = std::variant<EventInput, CommandInput, TimerInput, ActionResultInput>;

struct TimelineEntry {
    TimePoint at = 0;
    std::string kind;   // opened, event, step, escalation, command, rto, notification, resolved ...
    std::string actor;  // "sonae", "source:<name>", a responder id
    std::string text;
    nlohmann::json data = nlohmann::json::object();
};

struct Notification {
    std::string id;  // stable: "<tenant>:<incident>:n<seq>" (webhook-id, de-duplication)
    std::string tenant;
    std::string incident_id;
    std::string kind;  // opened, escalation, step, severity, rto, resolved
    std::string title;
    std::string text;
    std::string redacted_title;  // for channels cleared below the incident's classification
    std::string redacted_text;
    std::vector<std::string> roles;
    std::vector<std::string> channels;
    Severity severity = Severity::kMedium;
    std::optional<Classification> classification;
    bool exercise = false;
    TimePoint at = 0;
};
nlohmann::json to_json(const Notification& n);
Notification notification_from_json(const nlohmann::json& j);

struct HttpAction {
    std::string id;  // stable: "<tenant>:<incident>:http:<step>"
    std::string tenant;
    std::string incident_id;
    std::string step;
    std::string method;
    std::string url;
    std::map<std::string, std::string> headers;
    std::string body;
    Duration timeout = 0;
    int retries = 0;
    bool exercise = false;
};
nlohmann::json to_json(const HttpAction& a);
HttpAction http_action_from_json(const nlohmann::json& j);

struct TimerChange {
    std::string id;
    TimePoint due = 0;  // schedule at `due`; ignored when cancel
    bool cancel = false;
};

struct Transition {
    Incident incident;
    bool changed = false;  // false: nothing to store (e.g. a stale timer, a status query)
    std::vector<TimelineEntry> timeline;
    std::vector<Notification> notifications;
    std::vector<HttpAction> actions;
    std::vector<TimerChange> timers;
};

// Projected recovery of one service from the remaining critical path.
struct Projection {
    std::string service;
    TimePoint deadline = 0;
    std::optional<TimePoint> projected;  // none when no recovery steps remain to be timed
    bool recovered = false;
};

class Engine {
  public:
    Engine(const PlaybookSet& playbooks, const Catalog& catalog);

    const Playbook* select(const Event& event) const { return playbooks_.select(event); }
    const Catalog& catalog() const { return catalog_; }
    const PlaybookSet& playbooks() const { return playbooks_; }

    // Opens an incident for an event with the given playbook (normally select(event)).
    Result<Transition> open(const Event& event, const Playbook& playbook,
                            const std::string& incident_id, TimePoint now) const;
    // Applies one input. Commands that are not allowed or not valid come back as errors
    // (kForbidden, kInvalidCommand, kNotFound, kConflict) and change nothing.
    Result<Transition> apply(const Incident& incident, const Input& input, TimePoint now) const;

    std::vector<Projection> project(const Incident& incident, TimePoint now) const;

  private:
    const PlaybookSet& playbooks_;
    const Catalog& catalog_;
};

// Incident fields for `when` conditions: category, severity, classification, title, status,
// exercise, labels.<k>, assets.host|ip|user|system, services (impacted ids), sources.
std::vector<std::string> incident_field(const Incident& i, const std::string& field);

// "<tenant>|<incident>|<timer>" member of the timer set, and back.
std::string timer_member(const std::string& tenant, const std::string& incident,
                         const std::string& timer);
bool parse_timer_member(const std::string& member, std::string& tenant, std::string& incident,
                        std::string& timer);

}  // namespace sonae::core
