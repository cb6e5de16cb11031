// A scenario as the plan of a live drill (PRODUCT §11, `sonae exercise start`): every inject
// and scripted player action in time order, as JSON the orchestrator's timers fire. Each item
// has "at" (drill ms from the start) and "kind":
//   event   {"format" (ingest format name, absent for a canonical event), "source", "event"}
//   message {"text", "to" (roles)}                      a narrative inject for players
//   player  {"as", "permission", "command", "incident"}  run only when `as` is filled in
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/incident.hpp>
#include <sonae/sim/report.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::sim {

nlohmann::json drill_plan(const Scenario& scenario);

// A live drill's incident for the report (report.hpp), from its state and its stored timeline
// (the audited record): escalations fired and notifications sent, with their roles, are read
// back from the timeline's "escalation" and "notification" entries.
Record record_from_timeline(const core::Incident& incident,
                            const std::vector<nlohmann::json>& timeline);

}  // namespace sonae::sim
