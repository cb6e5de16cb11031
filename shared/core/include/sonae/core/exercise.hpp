// Live tabletop exercises (PRODUCT §11): where a drill's state lives and how its clock runs.
//
// A drill runs in its own namespace, "<tenant>~<exercise id>": its incidents, timelines, timers
// and markers sit under that "tenant" in Redis, so they are never in the tenant's incident
// lists, metrics or reports, and a real alert during the drill opens a real incident as usual.
// Incident ids name the namespace ("default~ex-20261202-0001.INC-20261202-0001"), so a command
// finds its drill. Everything else (playbooks, channels, responders) is the tenant's.
//
// The drill's clock runs `speed` times faster than the wall clock from its start, and stands
// still while paused: the engine sees drill time, Redis timers hold wall-clock times.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sonae/core/time.hpp>

namespace sonae::core {

// "ex-YYYYMMDD-NNNN".
bool valid_exercise_id(std::string_view id);
std::string exercise_namespace(const std::string& tenant, const std::string& exercise);
// The tenant of a namespace ("default" of "default~ex-..."); the tenant itself otherwise.
std::string base_tenant(std::string_view tenant_or_namespace);
// The exercise a namespace belongs to; none for a plain tenant.
std::optional<std::string> exercise_of(std::string_view tenant_or_namespace);

// The id a drill is known by outside: "ex-..." in the default tenant, "<tenant>.ex-..." in
// every other (like incident ids); and back to (tenant, id), none when `text` is no such id.
std::string public_exercise_id(const std::string& tenant, const std::string& exercise);
std::optional<std::pair<std::string, std::string>> parse_public_exercise_id(std::string_view text);

enum class ExerciseState { kRunning, kPaused, kStopped };
std::string_view to_string(ExerciseState s);
std::optional<ExerciseState> parse_exercise_state(std::string_view s);

struct ExerciseClock {
    TimePoint started_at = 0;   // wall clock at the start; drill time starts there too
    double speed = 1;           // drill seconds per wall-clock second (>= 1)
    Duration paused_total = 0;  // wall-clock time spent paused before the current pause
    TimePoint paused_at = 0;    // wall clock when the current pause began; 0 when running
    ExerciseState state = ExerciseState::kRunning;

    // Drill time at wall-clock time `wall` (frozen while paused).
    TimePoint drill_time(TimePoint wall) const;
    // The wall-clock time at which drill time reaches `drill` (rounded up, so that
    // drill_time(wall_time(t)) >= t), assuming no further pause.
    TimePoint wall_time(TimePoint drill) const;
};

}  // namespace sonae::core
