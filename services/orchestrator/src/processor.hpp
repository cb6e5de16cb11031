// The orchestrator's work, one input at a time: correlate an event to an incident (or open one),
// run the engine, and commit state + timeline + timers + idempotency marker + outbox in one Redis
// transaction (optimistic, retried on a concurrent change by another replica). The caller then
// publishes the outbox and acknowledges the input. Replaying any input is harmless.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sonae/core/library.hpp>
#include <sonae/core/wire.hpp>
#include <sonae/store/exercises.hpp>
#include <sonae/store/store.hpp>

#include "metrics.hpp"

namespace sonae::orchestrator {

// What applying one input left to publish, and the input's idempotency marker, whose outbox is
// cleared once the broker confirmed it.
struct Applied {
    std::vector<store::OutboxMessage> outbox;
    store::OutboxMember processed;  // (tenant, "evt:<id>" | "cmd:<id>" | "tmr:<lease>")
};

// How applying one input to an incident went.
struct Attempt {
    enum class Kind {
        kCommitted,       // state, timeline, timers, marker and outbox written
        kAlreadyApplied,  // a redelivery: what is left of its outbox
        kUnchanged,       // applied, nothing to store (a query)
        kRefused,         // the engine said no (`error`)
        kUnknown,         // no such incident or tenant (`error`)
    };
    Kind kind = Kind::kUnknown;
    std::vector<store::OutboxMessage> outbox;
    core::Incident before;  // kUnchanged, kRefused: the state the input met
    core::Incident after;   // kCommitted
    core::Error error;
};

class Processor {
  public:
    Processor(const core::Libraries& libraries, redis::Connection& redis, store::Keys keys,
              Metrics& metrics);

    // Each returns what is left to publish (nothing when the input was already published).
    Applied on_event(const core::Event& event, core::TimePoint now);
    // A responder's command; the answer is stored for whoever sent it
    // (store::Keys::command_result).
    Applied on_command(const core::CommandMessage& command, core::TimePoint now,
                       core::CommandReply* reply);
    Applied on_action_result(const core::ActionResult& result, core::TimePoint now);
    // Several for a drill's inject of several events (an Alertmanager group).
    std::vector<Applied> on_timer(const store::TimerFiring& firing, core::TimePoint now);

    // After the outboxes of these (tenant, processed id) pairs were published: one round trip.
    void published(const std::vector<store::OutboxMember>& processed);

    store::IncidentStore& store() { return store_; }
    Metrics& metrics() { return metrics_; }

  private:
    // The playbooks of a tenant, or of the tenant of a drill's namespace.
    const core::Library* library(const std::string& tenant) const;
    // The time the engine sees: drill time in a drill's namespace (core/exercise.hpp), else
    // `now`. `clock` is the drill's clock, none for a tenant.
    static core::TimePoint engine_time(const std::optional<core::ExerciseClock>& clock,
                                       core::TimePoint now) {
        return clock ? clock->drill_time(now) : now;
    }
    std::optional<core::ExerciseClock> drill_clock(const std::string& tenant);
    // A timer of a drill's namespace: parked while paused, dropped once stopped, put back when
    // drill time has not reached it yet (after a pause), else applied.
    std::vector<Applied> drill_timer(const store::TimerMember& member, const store::TimerFiring& f,
                                     core::TimePoint now);
    // One item of a drill's plan (sim/drill.hpp): an event, a message to players, a scripted
    // player's command.
    std::vector<Applied> drill_item(const store::Exercise& x, const nlohmann::json& item,
                                    std::size_t n, core::TimePoint now, const std::string& marker);
    std::vector<store::OutboxMessage> event(const core::Event& e, const std::string& marker,
                                            core::TimePoint now);
    // Messages to commit with a transition, given the state it leads to.
    using ExtraOutbox =
        std::function<std::vector<store::OutboxMessage>(const core::Incident& after)>;
    // Applies `input` to incident `id`, retrying on a concurrent change.
    Attempt apply(const std::string& tenant, const std::string& id, const core::Input& input,
                  const std::string& processed_id, core::TimePoint now,
                  const ExtraOutbox& extra = {});

    const core::Libraries& libraries_;
    store::IncidentStore store_;
    store::ExerciseStore exercises_;
    Metrics& metrics_;
};

}  // namespace sonae::orchestrator
