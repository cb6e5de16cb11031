// The gateway service: the HTTP server on a pool of Asio threads in front of the request handler,
// the confirming publisher's thread, and the Redis worker's thread (hiredis blocks, so it never
// runs on an Asio thread; it also keeps readiness fresh). Stopping drains: /readyz turns 503 while
// requests are still served for a moment, then the listener closes, requests in flight finish,
// and the publisher stops.
#pragma once

#include <atomic>
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

#include "board_feed.hpp"
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
    // On stop: /readyz answers 503 and requests are still served this long (SONAE_DRAIN_SECONDS),
    std::chrono::milliseconds drain{2000};
    // then the listener closes and requests in flight get this long to finish (a publish waits
    // at most its 5 s confirm deadline).
    std::chrono::milliseconds finish{5000};
    core::Libraries libraries;  // playbooks and catalogs, for the REST API
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
    // The gateway's handler, counted while it runs; a draining gateway closes each connection
    // after its answer.
    boost::asio::awaitable<http::Response> serve(http::Request& req);

    Settings settings_;
    loader::Schemas schemas_;
    amqp::ConfirmingPublisher publisher_;
    Health health_;
    RedisWorker redis_;
    BoardFeed board_feed_;
    Gateway gateway_;
    boost::asio::io_context ioc_;
    http::Server server_;
    service::Threads threads_;  // the HTTP threads
    std::atomic<int> in_flight_{0};
    bool started_ = false;
};

}  // namespace sonae::gateway
