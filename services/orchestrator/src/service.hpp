// The orchestrator service: worker threads consuming events and commands, and a timer thread per
// worker (the first also sweeps). Every thread owns its Redis and broker connections.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/library.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/workers.hpp>
#include <sonae/store/keys.hpp>

#include "timers.hpp"

namespace sonae::orchestrator {

struct Settings {
    service::Bus bus;
    int workers = 2;
    std::uint16_t prefetch = 64;
    TimerOptions timers;
};

class Service final : public service::Workers {
  public:
    Service(core::Libraries libraries, Settings settings, const clock::Clock& clock);
    ~Service() override { stop(); }

    // Loads the playbook libraries and reads the connection settings from the environment.
    static core::Result<std::unique_ptr<service::Service>> create(const config::Environment& env);

    void start() override;

  private:
    void run_worker(int index);
    void run_timers(int index);

    core::Libraries libraries_;
    Settings settings_;
};

}  // namespace sonae::orchestrator
