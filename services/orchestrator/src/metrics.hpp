// The orchestrator's series (docs/architecture.md, "Metrics"). Counters and histograms move where
// the work happens (Processor, Worker, TimerRunner); the gauges of live state (open incidents,
// RTO time left, timers pending) are sampled from Redis by StateSampler on a thread of its own,
// so they are right across replicas and restarts and a scrape never waits for Redis.
#pragma once

#include <sonae/clock/clock.hpp>
#include <sonae/core/library.hpp>
#include <sonae/metrics/metrics.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/store/keys.hpp>

namespace sonae::orchestrator {

struct Metrics {
    explicit Metrics(metrics::Registry& registry);

    metrics::Counter& events;         // outcome
    metrics::Counter& commands;       // result
    metrics::Counter& dead_lettered;  // queue
    metrics::Histogram& timer_lateness;
    metrics::Counter& timers_fired;
    metrics::Gauge& incidents_open;  // tenant, severity
    metrics::Gauge& rto_left;        // tenant, incident, service
    metrics::Gauge& timers_pending;
    metrics::Gauge& sampled_at;  // unix seconds of the last successful sample
};

// Command results, as sonae_commands_total{result} names them.
namespace command_result {
inline constexpr const char* kApplied = "applied";      // changed the incident
inline constexpr const char* kAnswered = "answered";    // a query or a no-op, answered
inline constexpr const char* kRefused = "refused";      // above the actor's role, or not now
inline constexpr const char* kUnknown = "unknown";      // no such incident or tenant
inline constexpr const char* kInvalid = "invalid";      // not a command
inline constexpr const char* kDuplicate = "duplicate";  // a redelivery, applied before
}  // namespace command_result

class StateSampler {
  public:
    StateSampler(const core::Libraries& libraries, redis::Connection& redis, store::Keys keys,
                 const clock::Clock& clock, Metrics& metrics)
        : libraries_(libraries),
          redis_(redis),
          keys_(std::move(keys)),
          clock_(clock),
          metrics_(metrics) {}

    // Reads every tenant's open incidents and the timer set, and replaces the gauges. Exercise
    // incidents are left out: a drill must not page anyone. Throws redis::Error.
    void sample();

  private:
    const core::Libraries& libraries_;
    redis::Connection& redis_;
    const store::Keys keys_;
    const clock::Clock& clock_;
    Metrics& metrics_;
};

}  // namespace sonae::orchestrator
