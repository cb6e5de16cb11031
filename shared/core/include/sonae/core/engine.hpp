// The playbook engine: a pure, deterministic core (PRODUCT §1).
//   (incident state, input, now) -> (new state, effects)
// Inputs are events, commands, fired timers and results of HTTP actions; effects are timeline
// entries, notifications, HTTP actions and timer schedule/cancel. No I/O, no clock, no
// randomness: production (orchestrator), the tabletop simulator and the tests run this code.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/catalog.hpp>
#include <sonae/core/command.hpp>
#include <sonae/core/event.hpp>
#include <sonae/core/incident.hpp>
#include <sonae/core/messages.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/template.hpp>
#include <sonae/core/timer_id.hpp>
#include <sonae/core/wire.hpp>

namespace sonae::core {

struct EventInput {
    explicit EventInput(Event e, std::string joined_group = {})
        : event(std::move(e)), group(std::move(joined_group)) {}
    Event event;
    std::string group;  // set when the event joined the incident by its correlation group
};

// Which playbook opens an incident for an event, and why (the "opened" entry records it):
// a playbook whose `match` holds (highest priority first); else the playbook the catalog names
// for the most important impacted business service; else the catalog's default.
struct Selection {
    const Playbook* playbook = nullptr;
    std::string by;       // "match", "service" or "default"
    std::string service;  // by "service": the impacted service that chose it
    std::string reason;   // one sentence for the timeline
};

// The correlation group of an event (PRODUCT §5): events with the same key join one open
// incident while each arrives within `window` of the previous one.
struct Grouping {
    std::string key;
    Duration window = 0;
};

// What the orchestrator knows when it opens an incident, beyond the event.
struct OpenContext {
    Selection selection;
    std::string group;  // the grouping key the incident collects, if any
};
struct CommandInput {
    std::string actor;  // who (responder id or "api:<token name>")
    Permission permission = Permission::kViewer;
    Command command;
};
struct TimerInput {
    TimerId timer;
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

struct TimerChange {
    TimerId id;
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
    // Keeps references to its arguments; compiles every template they hold.
    Engine(const PlaybookSet& playbooks, const Catalog& catalog,
           const Messages& messages = Messages::defaults());

    const Playbook* select(const Event& event) const { return choose(event).playbook; }
    Selection choose(const Event& event) const;
    // The event's group under the rule of `playbook` (else the catalog's); none without a rule.
    std::optional<Grouping> grouping(const Event& event, const Playbook& playbook) const;
    const Catalog& catalog() const { return catalog_; }
    const PlaybookSet& playbooks() const { return playbooks_; }
    const Messages& messages() const { return messages_; }
    const TemplateSet& templates() const { return templates_; }

    // Opens an incident for an event with the given playbook (normally select(event)).
    Result<Transition> open(const Event& event, const Playbook& playbook,
                            const std::string& incident_id, TimePoint now,
                            const OpenContext& context = {}) const;
    // Applies one input. Commands that are not allowed or not valid come back as errors
    // (kForbidden, kInvalidCommand, kNotFound, kConflict) and change nothing.
    Result<Transition> apply(const Incident& incident, const Input& input, TimePoint now) const;

    std::vector<Projection> project(const Incident& incident, TimePoint now) const;

  private:
    const PlaybookSet& playbooks_;
    const Catalog& catalog_;
    const Messages& messages_;
    TemplateSet templates_;
};

// Incident fields for `when` conditions: category, severity, classification, title, status,
// exercise, labels.<k>, assets.host|ip|user|system, services (impacted ids), sources.
std::vector<std::string> incident_field(const Incident& i, const std::string& field);

}  // namespace sonae::core
