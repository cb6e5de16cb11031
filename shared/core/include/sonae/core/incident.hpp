// Live state of one incident: what the engine reads and writes, and what Redis stores as JSON.
// Keys are short because every open incident must fit in a few KiB (PRODUCT §12).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/event.hpp>
#include <sonae/core/time.hpp>
#include <sonae/core/timer_id.hpp>

namespace sonae::core {

enum class IncidentStatus { kTriggered, kAcknowledged, kResolved };
enum class StepStatus { kPending, kActive, kDone, kSkipped, kFailed };
std::string_view to_string(IncidentStatus s);
std::string_view to_string(StepStatus s);

struct StepState {
    StepStatus status = StepStatus::kPending;
    TimePoint activated_at = 0;
    TimePoint due_at = 0;       // 0: no due time
    TimePoint finished_at = 0;  // done, skipped or failed
    std::string assignee;
    std::string decision;  // chosen option of a decision step
    std::string note;      // done note, skip/fail reason, or the HTTP result
    bool finished() const { return status == StepStatus::kDone || status == StepStatus::kSkipped; }
};

struct ServiceClock {
    std::string id;
    std::string name;
    Duration rto = 0;
    TimePoint started_at = 0;    // 0 until the clock starts (declaration mode)
    TimePoint recovered_at = 0;  // 0 while not recovered
    bool breached = false;
    bool breach_predicted = false;
    TimePoint deadline() const { return started_at + rto; }
};

struct AlertState {
    std::string source;
    int count = 0;
    bool resolved = false;
    TimePoint first_seen = 0;
    TimePoint last_seen = 0;
};

// Distinct assets counted per incident; alerts on further assets are counted in event_count only.
constexpr std::size_t kMaxCountedAssets = 256;

struct Incident {
    std::string tenant = "default";
    std::string id;
    std::string playbook_id;
    int playbook_version = 0;
    std::string title;
    Category category = Category::kOther;
    Severity severity = Severity::kMedium;
    std::optional<Classification> classification;
    IncidentStatus status = IncidentStatus::kTriggered;
    bool exercise = false;
    TimePoint opened_at = 0;
    TimePoint acked_at = 0;
    TimePoint resolved_at = 0;
    std::string acked_by;
    std::string resolved_by;
    std::string resolution;
    std::vector<Asset> assets;
    std::map<std::string, std::string> labels;
    std::map<std::string, AlertState> alerts;  // by dedup key
    std::string group;                         // the correlation key that groups its alerts
    // Alerts per asset (host, else ip, user or system), at most kMaxCountedAssets of them.
    std::map<std::string, int> asset_counts;
    int event_count = 0;
    std::map<std::string, StepState> steps;
    std::vector<ServiceClock> services;
    std::set<std::string> fired;          // escalation firings, e.g. "half:juki"
    std::map<TimerId, TimePoint> timers;  // pending timer -> due
    std::int64_t notification_seq = 0;
    std::int64_t timeline_seq = 0;

    bool open() const { return status != IncidentStatus::kResolved; }
    ServiceClock* service(const std::string& id);
    const ServiceClock* service(const std::string& id) const;
};

// Incident ids: INC-YYYYMMDD-NNNN in the default tenant, "<tenant>.INC-YYYYMMDD-NNNN" in every
// other, so that an id names its tenant and stays URL-safe (tenant names are [a-z0-9-]).
std::string incident_id_prefix(const std::string& tenant);
// The tenant an incident id names ("default" without a prefix); none when `text` is no id.
std::optional<std::string> tenant_of_incident(std::string_view text);

nlohmann::json to_json(const Incident& i);
Incident incident_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception

}  // namespace sonae::core
