// The orchestrator's work, one input at a time: correlate an event to an incident (or open one),
// run the engine, and commit state + timeline + timers + idempotency marker + outbox in one Redis
// transaction (optimistic, retried on a concurrent change by another replica). The caller then
// publishes the outbox and acknowledges the input. Replaying any input is harmless.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sonae/core/library.hpp>
#include <sonae/store/store.hpp>

namespace sonae::orchestrator {

// Tenant -> library. Read-only once loaded, shared by all threads.
using Libraries = std::map<std::string, std::unique_ptr<core::Library>>;

struct CommandReply {
    bool ok = false;
    std::string message;
    nlohmann::json to_json() const { return {{"ok", ok}, {"message", message}}; }
};

class Processor {
  public:
    Processor(const Libraries& libraries, redis::Connection& redis, store::Keys keys);

    // Returns the messages to publish (empty when the event was already applied and published).
    std::vector<store::OutboxMessage> on_event(const core::Event& event, core::TimePoint now);
    // A command message: {"id","tenant","incident","actor","permission","text"} or an action
    // result {"id","type":"action-result","tenant","incident","step","ok","status","detail"}.
    std::vector<store::OutboxMessage> on_command(const nlohmann::json& message, core::TimePoint now,
                                                 CommandReply* reply);
    std::vector<store::OutboxMessage> on_timer(const store::TimerFiring& firing,
                                               core::TimePoint now);

    // After the outbox of `processed_id` was published.
    void published(const std::string& tenant, const std::string& processed_id);
    // The same for a batch: (tenant, processed id) pairs, one Redis round trip.
    void published(const std::vector<std::pair<std::string, std::string>>& processed);

    store::IncidentStore& store() { return store_; }

  private:
    const core::Library* library(const std::string& tenant) const;
    std::vector<store::OutboxMessage> outbox_of(const core::Transition& tr) const;
    // Applies `input` to incident `id` with retries on conflict; returns the outbox.
    std::vector<store::OutboxMessage> apply(const std::string& tenant, const std::string& id,
                                            const core::Input& input,
                                            const std::string& processed_id, core::TimePoint now,
                                            CommandReply* reply);

    const Libraries& libraries_;
    store::IncidentStore store_;
};

}  // namespace sonae::orchestrator
