// Timers (PRODUCT §7): due deadlines are leased atomically in Redis (so threads and replicas
// share a burst and never fire one twice), applied as inputs, published under one confirm, and
// only then finished. The sweep puts back leases of a crashed replica and publishes outboxes a
// crash left between commit and publish.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/sink.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/stop.hpp>

#include "processor.hpp"

namespace sonae::orchestrator {

struct TimerOptions {
    core::Duration lease = 30 * core::kSecond;         // a firing not finished by then is re-leased
    int batch = 50;                                    // leased per round, so a burst is shared
    core::Duration sweep_every = core::kSecond;        // sweeper thread only
    core::Duration stale_outbox = 10 * core::kSecond;  // older outboxes are a crash's leftovers
    // The longest sleep when nothing is due soon: a bound on a missed wake-up (a lost pub/sub
    // message while Redis restarts), and on how long a changed clock goes unnoticed.
    std::chrono::milliseconds max_idle{1000};
};

// Wakes a replica's sleeping timer threads: a thread sleeps until the earliest pending
// deadline, and a deadline scheduled earlier than every pending one (by any replica, or by the
// gateway starting a drill) is announced on the Redis channel keys.timer_wake(), which one
// thread per replica listens to and passes on here.
class TimerWake {
  public:
    // The count of wake-ups so far: read before leasing, passed to wait().
    std::uint64_t generation() const;
    // Wakes every waiter (a deadline was scheduled, or the listener lost messages).
    void notify();
    // Wakes every waiter now and later: the service is stopping.
    void interrupt();
    // Sleeps `d`, or until notify() after `seen` was read, or interrupt().
    void wait(std::uint64_t seen, std::chrono::milliseconds d);

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t generation_ = 0;
    bool interrupted_ = false;
};

// The listener: subscribes to the wake channel and calls wake.notify() for every message, and
// once after each (re)subscription, since messages may have been missed meanwhile.
void listen_for_timers(const redis::Settings& settings, const std::string& channel, TimerWake& wake,
                       service::Stop& stop);

class TimerRunner {
  public:
    TimerRunner(Processor& processor, const clock::Clock& clock, const amqp::Topology& topology,
                TimerOptions options = {}, TimerWake* wake = nullptr)
        : processor_(processor),
          clock_(clock),
          topology_(topology),
          options_(options),
          wake_(wake) {}

    // One round: lease what is due now, apply it, publish, finish the leases. Returns how many
    // firings it handled; `next_due` gets the earliest deadline still pending.
    std::size_t fire_due(amqp::MessageSink& sink,
                         std::optional<core::TimePoint>* next_due = nullptr);
    // Requeues expired leases and publishes stale outboxes.
    void sweep(amqp::MessageSink& sink);

    // The thread's loop: its own broker connection, reconnecting with backoff, until `stop`.
    // Between rounds it sleeps until the next deadline (at most `max_idle`), woken early by
    // `wake` (without one: every 10 ms). The sweeper (one thread per replica) also sweeps every
    // `sweep_every`.
    void run(const amqp::Settings& settings, bool sweeper, service::Stop& stop);

  private:
    Processor& processor_;
    const clock::Clock& clock_;
    const amqp::Topology& topology_;
    TimerOptions options_;
    TimerWake* wake_;
};

}  // namespace sonae::orchestrator
