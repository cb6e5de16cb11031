// Timers (PRODUCT §7): due deadlines are leased atomically in Redis (so threads and replicas
// share a burst and never fire one twice), applied as inputs, published under one confirm, and
// only then finished. The sweep puts back leases of a crashed replica and publishes outboxes a
// crash left between commit and publish.
#pragma once

#include <chrono>
#include <cstddef>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/sink.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/service/stop.hpp>

#include "processor.hpp"

namespace sonae::orchestrator {

struct TimerOptions {
    core::Duration lease = 30 * core::kSecond;         // a firing not finished by then is re-leased
    int batch = 50;                                    // leased per round, so a burst is shared
    core::Duration sweep_every = core::kSecond;        // sweeper thread only
    core::Duration stale_outbox = 10 * core::kSecond;  // older outboxes are a crash's leftovers
    std::chrono::milliseconds idle{10};                // pause when nothing was due
};

class TimerRunner {
  public:
    TimerRunner(Processor& processor, const clock::Clock& clock, const amqp::Topology& topology,
                TimerOptions options = {})
        : processor_(processor), clock_(clock), topology_(topology), options_(options) {}

    // One round: lease what is due now, apply it, publish, finish the leases. Returns how many
    // firings it handled.
    std::size_t fire_due(amqp::MessageSink& sink);
    // Requeues expired leases and publishes stale outboxes.
    void sweep(amqp::MessageSink& sink);

    // The thread's loop: its own broker connection, reconnecting with backoff, until `stop`.
    // The sweeper (one thread per replica) also sweeps every `sweep_every`.
    void run(const amqp::Settings& settings, bool sweeper, service::Stop& stop);

  private:
    Processor& processor_;
    const clock::Clock& clock_;
    const amqp::Topology& topology_;
    TimerOptions options_;
};

}  // namespace sonae::orchestrator
