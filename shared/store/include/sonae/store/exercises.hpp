// Live drills in Redis (PRODUCT §11, core/exercise.hpp): the record of each drill, the plan of
// injects and scripted player actions the orchestrator's timers fire, and the drill clock's
// state. A drill's incidents live in its own namespace "<tenant>~<id>", like a tenant's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/exercise.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/store/keys.hpp>

namespace sonae::store {

struct Exercise {
    std::string tenant;
    std::string id;
    nlohmann::json meta = nlohmann::json::object();  // scenario, title, fill_in, created_by ...
    nlohmann::json plan = nlohmann::json::array();   // items, each with "at" (drill ms offset)
    core::ExerciseClock clock;
    core::TimePoint stopped_at = 0;
    std::string ns() const { return core::exercise_namespace(tenant, id); }
};

class ExerciseStore {
  public:
    ExerciseStore(redis::Connection& redis, Keys keys) : redis_(redis), keys_(std::move(keys)) {}

    // Starts a drill: a fresh id "ex-<day>-NNNN", its record, and one timer per plan item
    // ("inject:<n>", due when drill time reaches the item's "at"), in one transaction.
    Exercise create(const std::string& tenant, const std::string& day, nlohmann::json meta,
                    nlohmann::json plan, double speed, core::TimePoint now);
    std::optional<Exercise> load(const std::string& tenant, const std::string& id,
                                 bool with_plan = true);
    // Item `n` of a drill's plan; none when there is no such item.
    std::optional<nlohmann::json> plan_item(const std::string& tenant, const std::string& id,
                                            std::size_t n);
    // A drill's clock by its namespace; none when there is no such drill.
    std::optional<core::ExerciseClock> clock(const std::string& ns);
    // Newest first.
    std::vector<Exercise> list(const std::string& tenant);

    // State changes: the state after the call, none when there is no such drill. Pausing a
    // drill that is not running, or resuming one that is not paused, changes nothing.
    std::optional<core::ExerciseState> pause(const std::string& tenant, const std::string& id,
                                             core::TimePoint now);
    // Back to running: the time paused no longer counts, and the timers that came due meanwhile
    // are due now (the orchestrator puts each back at its drill time).
    std::optional<core::ExerciseState> resume(const std::string& tenant, const std::string& id,
                                              core::TimePoint now);
    std::optional<core::ExerciseState> stop(const std::string& tenant, const std::string& id,
                                            core::TimePoint now);

    // A timer of a paused drill: kept aside until the drill resumes.
    void park(const std::string& ns, const std::string& member, core::TimePoint due);
    // A timer that came due before drill time reached it (a pause): due again at `wall`.
    void reschedule(const std::string& member, core::TimePoint wall);

  private:
    redis::Connection& redis_;
    Keys keys_;
};

}  // namespace sonae::store
