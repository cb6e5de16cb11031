// After-action report of a drill (PRODUCT §11): report.json built from neutral inputs (the
// incidents, their timelines, notifications and escalations), so that the simulator and the live
// drill (incidents read back from Redis) produce the same report; report.md and report.html are
// rendered from report.json alone. Deterministic: no clock is read, every list has a fixed order.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/engine.hpp>
#include <sonae/core/incident.hpp>
#include <sonae/core/time.hpp>
#include <sonae/core/wire.hpp>

namespace sonae::sim {

struct Scenario;

// The language of the report's labels and generated findings. Texts from playbooks, catalogs and
// scenarios stay as written.
enum class Lang { kJa, kEn };
std::optional<Lang> parse_lang(std::string_view text);  // "ja" | "en"
std::string_view to_string(Lang lang);

// One incident of the drill as the engine left it.
struct Record {
    core::Incident incident;
    std::vector<core::TimelineEntry> timeline;
    std::vector<core::Notification> notifications;
    std::map<std::string, core::TimePoint> escalations;  // fired key -> when
};

// What happened in the drill besides its incidents.
struct DrillLog {
    core::TimePoint start = 0;          // every time in the report is seconds from here
    core::TimePoint end = 0;            // expectations without `by` expire here
    core::TimePoint last_activity = 0;  // virtual_end_seconds (0: none)
    int events = 0;
    nlohmann::json messages = nlohmann::json::array();           // narrative injects sent
    nlohmann::json rejected_commands = nlohmann::json::array();  // commands the engine refused
    nlohmann::json unmatched_events = nlohmann::json::array();   // titles no playbook took
};

// The engine (playbooks and catalog) of a tenant; a drill across municipalities may give each
// tenant its own library.
using EngineFor = std::function<const core::Engine&(const std::string& tenant)>;

// Improvement-plan rows are due this long after the drill's start (a month to act on findings).
constexpr core::Duration kImprovementDue = 30 * core::kDay;

// report.json: PRODUCT §11's keys (`scenario`, `score`, `services[]`, `steps[]`,
// `expectations[]`) plus incidents with their tenant, escalations, time to acknowledge and the
// improvement plan. docs/exercises.md describes every field.
nlohmann::json build_report(const Scenario& scenario, const EngineFor& engine_for,
                            const std::vector<Record>& records, const DrillLog& log,
                            Lang lang = Lang::kJa);
nlohmann::json build_report(const Scenario& scenario, const core::Engine& engine,
                            const std::vector<Record>& records, const DrillLog& log,
                            Lang lang = Lang::kJa);

// report.md and a self-contained report.html (inline CSS, an inline SVG timeline of the steps
// against each service's RTO deadline), from a report built above.
std::string render_markdown(const nlohmann::json& report, Lang lang);
std::string render_html(const nlohmann::json& report, Lang lang);

// "D+1 H+3 M+45" for a number of seconds from the start (the facilitators' notation).
std::string format_offset(std::int64_t seconds);

}  // namespace sonae::sim
