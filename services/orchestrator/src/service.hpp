// The orchestrator service: worker threads consuming events and commands, a timer thread per
// worker (the first also sweeps) and one listening for earlier deadlines, a thread sampling
// incident state for the gauges, and the admin listener serving them. Every thread owns its Redis
// and broker connections.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/library.hpp>
#include <sonae/metrics/metrics.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/admin.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/workers.hpp>
#include <sonae/store/keys.hpp>

#include "metrics.hpp"
#include "timers.hpp"

namespace sonae::orchestrator {

struct Settings {
    service::Bus bus;
    int workers = 2;
    std::uint16_t prefetch = 64;
    TimerOptions timers;
    std::string admin_address = "127.0.0.1";       // SONAE_ADMIN_ADDR
    std::uint16_t admin_port = 9101;               // 0 picks a free port
    std::chrono::milliseconds sample_every{5000};  // gauges of incident state
};

class Service final : public service::Workers {
  public:
    Service(core::Libraries libraries, Settings settings, const clock::Clock& clock);
    ~Service() override { stop(); }

    // Loads the playbook libraries and reads the connection settings from the environment.
    static core::Result<std::unique_ptr<service::Service>> create(const config::Environment& env);

    void start() override;
    void stop() override;
    std::uint16_t admin_port() const { return admin_.port(); }
    const metrics::Registry& registry() const { return registry_; }

  private:
    void run_worker(int index);
    void run_timers(int index);
    void run_sampler();

    core::Libraries libraries_;
    Settings settings_;
    metrics::Registry registry_;
    Metrics metrics_{registry_};
    TimerWake timer_wake_;
    service::AdminServer admin_;
};

}  // namespace sonae::orchestrator
