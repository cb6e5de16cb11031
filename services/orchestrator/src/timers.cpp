#include "timers.hpp"

#include <algorithm>
#include <memory>

#include <spdlog/spdlog.h>

#include "outgoing.hpp"

namespace sonae::orchestrator {

std::size_t TimerRunner::fire_due(amqp::MessageSink& sink) {
    const core::TimePoint now = clock_.now();
    auto firings = processor_.store().lease_due_timers(now, now + options_.lease, options_.batch);
    Outgoing outgoing(topology_);
    Metrics& m = processor_.metrics();
    for (const auto& f : firings) {
        m.timer_lateness.observe(static_cast<double>(now - f.due) / core::kSecond);
        for (const auto& applied : processor_.on_timer(f, clock_.now()))
            outgoing.add(applied);
    }
    outgoing.flush(sink, processor_);
    m.timers_fired.inc({}, static_cast<double>(firings.size()));
    // Finished only after the publish: a crash before re-fires them, and the engine and the
    // idempotency marker make that harmless.
    processor_.store().finish_timers(firings);
    return firings.size();
}

void TimerRunner::sweep(amqp::MessageSink& sink) {
    const core::TimePoint now = clock_.now();
    processor_.store().requeue_expired_leases(now);
    Outgoing outgoing(topology_);
    for (const auto& m : processor_.store().stale_outboxes(now - options_.stale_outbox))
        outgoing.add(processor_.store().outbox(m.tenant, m.processed_id), m);
    outgoing.flush(sink, processor_);
}

void TimerRunner::run(const amqp::Settings& settings, bool sweeper, service::Stop& stop) {
    std::unique_ptr<amqp::Connection> conn;
    core::TimePoint last_sweep = 0;
    std::chrono::milliseconds backoff(100);
    while (!stop.requested()) {
        try {
            if (!conn) {
                conn = std::make_unique<amqp::Connection>(settings);
                topology_.declare(*conn);
                conn->enable_confirms();
            }
            amqp::ConnectionSink sink(*conn);
            const std::size_t fired = fire_due(sink);
            if (sweeper && clock_.now() - last_sweep >= options_.sweep_every) {
                last_sweep = clock_.now();
                sweep(sink);
            }
            // Drain the connection so heartbeats are answered and stray frames do not pile up.
            while (conn->next(std::chrono::milliseconds(0))) {
            }
            backoff = std::chrono::milliseconds(100);
            if (fired == 0)
                stop.sleep_for(options_.idle);
        } catch (const amqp::ConnectionError& e) {
            spdlog::warn("timers: {} (retrying in {} ms)", e.what(), backoff.count());
            conn.reset();
            stop.sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        } catch (const std::exception& e) {
            spdlog::warn("timers: {} (retrying in {} ms)", e.what(), backoff.count());
            stop.sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        }
    }
}

}  // namespace sonae::orchestrator
