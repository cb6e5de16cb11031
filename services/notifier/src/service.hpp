// The notifier service: worker threads, each with its own Redis and broker connections and its
// own Dispatcher, consuming notifications and actions; the admin listener serves their metrics.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/metrics/metrics.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/admin.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/workers.hpp>
#include <sonae/store/keys.hpp>

#include "metrics.hpp"

namespace sonae::notifier {

struct Settings {
    config::Config config;
    service::Bus bus;
    int workers = 2;
    // Deliveries a worker holds at once: a hanging receiver ties up at most these.
    std::uint16_t prefetch = 64;
    std::string admin_address = "127.0.0.1";  // SONAE_ADMIN_ADDR
    std::uint16_t admin_port = 9102;          // 0 picks a free port
};

class Service final : public service::Workers {
  public:
    Service(Settings settings, const clock::Clock& clock);
    ~Service() override { stop(); }

    // Reads the channels and connection settings named by the environment; refuses channels it
    // cannot deliver to.
    static core::Result<std::unique_ptr<service::Service>> create(const config::Environment& env);

    void start() override;
    void stop() override;
    std::uint16_t admin_port() const { return admin_.port(); }
    const metrics::Registry& registry() const { return registry_; }

  private:
    void run_worker(int index);

    Settings settings_;
    metrics::Registry registry_;
    Metrics metrics_{registry_};
    service::AdminServer admin_;
};

}  // namespace sonae::notifier
