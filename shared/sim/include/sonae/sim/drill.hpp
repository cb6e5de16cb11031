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

#include <sonae/sim/simulate.hpp>

namespace sonae::sim {

nlohmann::json drill_plan(const Scenario& scenario);

}  // namespace sonae::sim
