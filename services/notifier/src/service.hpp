// The notifier service: worker threads, each with its own Redis and broker connections and its
// own Dispatcher, consuming notifications and actions.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/stop.hpp>
#include <sonae/store/keys.hpp>

namespace sonae::notifier {

struct Settings {
    config::Config config;
    redis::Settings redis;
    amqp::Settings amqp;
    std::string prefix = "sonae";
    int workers = 2;
    // Deliveries a worker holds at once: a hanging receiver ties up at most these.
    std::uint16_t prefetch = 64;
};

class Service final : public service::Service {
  public:
    Service(Settings settings, const clock::Clock& clock);
    ~Service() override;

    // Reads the channels and connection settings named by the environment; refuses channels it
    // cannot deliver to.
    static core::Result<std::unique_ptr<service::Service>> create(const config::Environment& env);

    void start() override;
    void stop() override;

  private:
    void run_worker(int index);

    Settings settings_;
    const clock::Clock& clock_;
    const store::Keys keys_;
    const amqp::Topology topology_;
    service::Stop stop_;
    std::vector<std::thread> threads_;
};

}  // namespace sonae::notifier
