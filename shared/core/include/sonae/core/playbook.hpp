// The playbook language (PRODUCT §6, docs/playbooks.md): match conditions, roles, RTO clocks,
// escalation rules and a graph of steps. Parsed from YAML checked by schemas/playbook.schema.json;
// every element keeps its line so that lint and the loader can say `file:line: message`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sonae/core/catalog.hpp>
#include <sonae/core/condition.hpp>
#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/core/time.hpp>
#include <sonae/core/yaml.hpp>

namespace sonae::core {

struct NotifyTarget {
    std::vector<std::string> roles;
    std::vector<std::string> channels;
    bool empty() const { return roles.empty() && channels.empty(); }
};

enum class StepType { kTask, kDecision, kNotify, kHttp, kWait };
std::string_view to_string(StepType t);

// Bounds of one outbound HTTP call (a playbook's action, a channel's delivery): long enough for a
// slow API, short enough that a hanging receiver is given up on well before anyone notices.
constexpr Duration kMinRequestTimeout = 100;
constexpr Duration kMaxRequestTimeout = 60 * kSecond;

struct HttpSpec {
    std::string method = "POST";
    std::string url;  // mustache template
    std::map<std::string, std::string> headers;
    std::string body;  // mustache template
    Duration timeout = 10 * kSecond;
    int retries = 3;
};

struct Step {
    std::string id;
    std::string title;
    std::string description;
    StepType type = StepType::kTask;
    std::vector<std::string> after;
    std::optional<Condition> when;
    std::optional<Duration> due;
    bool due_from_start = false;  // due measured from the incident start, not from activation
    std::optional<Duration> estimate;
    std::string owner;
    std::vector<std::string> options;   // decision
    NotifyTarget notify;                // notify
    std::string message;                // notify: mustache template
    HttpSpec http;                      // http
    Duration wait = 0;                  // wait
    std::vector<std::string> recovers;  // services this step brings back
    // Done, it marks `contained` or a report submitted: first-report, ppc-preliminary, ppc-final.
    std::string milestone;
    int line = 0;
    std::string pointer;

    // Expected duration used for the critical path: estimate, else due (from activation),
    // else the wait; 0 for automatic steps.
    Duration planned() const;
};

enum class EscalationTrigger {
    kRtoFraction,
    kAfter,
    kAtTime,
    kOverdue,
    kPredictedBreach,
    kSeverity,
    kAssets
};

struct Escalation {
    std::string id;
    EscalationTrigger trigger = EscalationTrigger::kAfter;
    double fraction = 0;                      // at_rto_fraction
    Duration after = 0;                       // after (from incident start)
    int minute_of_day = 0;                    // at_time, in the catalog's UTC offset
    std::vector<std::string> steps;           // overdue: these steps (empty = any step)
    Severity severity = Severity::kCritical;  // severity_at_least
    int assets = 0;                           // assets_at_least: distinct assets in the incident
    std::optional<Condition> when;
    NotifyTarget notify;
    std::string message;
    int line = 0;
    std::string pointer;
};

enum class RtoStart { kDetection, kDeclaration };

struct Playbook {
    std::string id;
    std::string title;
    std::string description;
    std::string file;
    int version = 1;
    int priority = 0;
    std::optional<Condition> match;
    RtoStart rto_start = RtoStart::kDetection;
    bool auto_resolve = false;
    std::optional<Correlation> correlate;          // alert grouping; else the catalog's
    std::optional<Classification> classification;  // at least this class for its incidents
    std::vector<std::string> roles;
    std::vector<std::string> services;           // extra RTO clocks
    NotifyTarget notify;                         // told when an incident opens
    std::vector<std::string> manual_escalation;  // roles told on `escalate` without a role
    std::vector<Escalation> escalation;
    std::vector<Step> steps;
    LocatedJson source;  // the document, for line numbers

    const Step* step(const std::string& id) const;
    int line_of(const std::string& pointer) const { return source.line_of(pointer); }
};

// Parses one playbook document (YAML already converted). Errors: "file:line: message".
Result<Playbook> parse_playbook(const LocatedJson& doc, const std::string& file,
                                const SchemaValidator& schema);

// The playbooks of one tenant, in a deterministic order.
class PlaybookSet {
  public:
    PlaybookSet() = default;
    explicit PlaybookSet(std::vector<Playbook> playbooks, std::string default_id = {});

    // The matching playbook with the highest priority (ties: smallest id), else the default.
    const Playbook* select(const Event& event) const;
    // The matching playbook with the highest priority; none when only the default would do.
    const Playbook* match(const Event& event) const;
    const std::string& default_id() const { return default_id_; }
    const Playbook* find(const std::string& id) const;
    const std::vector<Playbook>& all() const { return playbooks_; }

  private:
    std::vector<Playbook> playbooks_;
    std::string default_id_;
};

// The values of an event field for match conditions: category, severity, source, title,
// classification, action, dedup_key, labels.<name>, assets.host / .ip / .user / .system.
std::vector<std::string> event_field(const Event& e, const std::string& field);

}  // namespace sonae::core
