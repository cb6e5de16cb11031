#include "timers.hpp"

#include <algorithm>
#include <memory>

#include <spdlog/spdlog.h>

#include "outgoing.hpp"

namespace sonae::orchestrator {

std::uint64_t TimerWake::generation() const {
    const std::lock_guard lock(mu_);
    return generation_;
}

void TimerWake::notify() {
    {
        const std::lock_guard lock(mu_);
        ++generation_;
    }
    cv_.notify_all();
}

void TimerWake::interrupt() {
    {
        const std::lock_guard lock(mu_);
        interrupted_ = true;
    }
    cv_.notify_all();
}

void TimerWake::wait(std::uint64_t seen, std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return interrupted_ || generation_ != seen; });
}

void listen_for_timers(const redis::Settings& settings, const std::string& channel, TimerWake& wake,
                       service::Stop& stop) {
    redis::Connection conn(settings);
    std::chrono::milliseconds backoff(100);
    while (!stop.requested()) {
        try {
            if (!conn.connected()) {
                conn.command({"SUBSCRIBE", channel});
                // Deadlines announced while we were not listening: everyone looks again.
                wake.notify();
                backoff = std::chrono::milliseconds(100);
            }
            // Bounded, so that a stop is seen within 200 ms.
            if (auto m = conn.poll_reply(std::chrono::milliseconds(200))) {
                const auto& e = m->elements();
                if (e.size() == 3 && e[0].str() == "message")
                    wake.notify();
            }
        } catch (const redis::Error& e) {
            conn.disconnect();
            spdlog::warn("timers: wake-up channel: {} (retrying in {} ms)", e.what(),
                         backoff.count());
            stop.sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        }
    }
}

std::size_t TimerRunner::fire_due(amqp::MessageSink& sink,
                                  std::optional<core::TimePoint>* next_due) {
    const core::TimePoint now = clock_.now();
    auto firings =
        processor_.store().lease_due_timers(now, now + options_.lease, options_.batch, next_due);
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
            // Read before leasing: a deadline announced from now on ends the sleep below.
            const std::uint64_t seen = wake_ != nullptr ? wake_->generation() : 0;
            std::optional<core::TimePoint> next;
            const std::size_t fired = fire_due(sink, &next);
            if (sweeper && clock_.now() - last_sweep >= options_.sweep_every) {
                last_sweep = clock_.now();
                sweep(sink);
            }
            // Drain the connection so heartbeats are answered and stray frames do not pile up.
            while (conn->next(std::chrono::milliseconds(0))) {
            }
            backoff = std::chrono::milliseconds(100);
            if (fired < static_cast<std::size_t>(options_.batch)) {
                // Until the next deadline, the next sweep, or at most max_idle (10 ms without
                // a wake-up channel).
                const core::TimePoint now = clock_.now();
                core::Duration sleep = wake_ != nullptr ? options_.max_idle.count() : 10;
                if (next)
                    sleep = std::min(sleep, *next - now);
                if (sweeper)
                    sleep = std::min(sleep, last_sweep + options_.sweep_every - now);
                if (sleep > 0) {
                    if (wake_ != nullptr)
                        wake_->wait(seen, std::chrono::milliseconds(sleep));
                    else
                        stop.sleep_for(std::chrono::milliseconds(sleep));
                }
            }
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
