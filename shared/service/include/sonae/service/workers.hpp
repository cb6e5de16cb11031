// The shape of the orchestrator and the notifier: worker threads that each own their Redis and
// broker connections, under one name prefix, stopped together. A derived service starts its
// threads in start() and calls stop() first in its destructor (before its own members go).
#pragma once

#include <string>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/stop.hpp>
#include <sonae/store/keys.hpp>

namespace sonae::service {

// Where a service's state and messages live.
struct Bus {
    redis::Settings redis;
    amqp::Settings amqp;
    std::string prefix = "sonae";  // Redis keys and broker names
};

class Workers : public Service {
  public:
    void stop() override { threads_.stop(); }

  protected:
    Workers(Bus bus, const clock::Clock& clock)
        : bus_(std::move(bus)), keys_{bus_.prefix}, topology_{bus_.prefix}, clock_(clock) {}

    const Bus bus_;
    const store::Keys keys_;
    const amqp::Topology topology_;
    const clock::Clock& clock_;
    Threads threads_;
};

}  // namespace sonae::service
