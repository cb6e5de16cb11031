// The gateway service: the HTTP server on a pool of Asio threads in front of the request handler,
// the confirming publisher's thread, and the Redis worker's thread (hiredis blocks, so it never
// runs on an Asio thread; it also keeps readiness fresh). Stopping closes the listener, gives open
// connections time to finish, then stops the publisher.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <sonae/amqp/publisher.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/library.hpp>
#include <sonae/http/server.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/stop.hpp>

#include "gateway.hpp"
#include "redis_worker.hpp"

namespace sonae::gateway {

struct Settings {
    config::Config config;
    amqp::Settings amqp;
    redis::Settings redis;
    http::ServerOptions server;
    int threads = 2;
    std::string prefix = "sonae";
    std::chrono::milliseconds drain{5000};  // open connections get this long to finish
    core::Libraries libraries;              // playbooks and catalogs, for the REST API
};

class Service final : public service::Service {
  public:
    Service(Settings settings, loader::Schemas schemas, const clock::Clock& clock);
    ~Service() override;

    // Reads the configuration, schemas and connection settings named by the environment.
    static core::Result<std::unique_ptr<service::Service>> create(const config::Environment& env);

    void start() override;
    void stop() override;
    std::uint16_t port() const { return server_.port(); }

  private:
    Settings settings_;
    loader::Schemas schemas_;
    amqp::ConfirmingPublisher publisher_;
    Health health_;
    RedisWorker redis_;
    Gateway gateway_;
    boost::asio::io_context ioc_;
    http::Server server_;
    service::Threads threads_;  // the HTTP threads
    bool started_ = false;
};

}  // namespace sonae::gateway
