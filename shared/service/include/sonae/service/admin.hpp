// The admin listener of the orchestrator and the notifier (SONAE_ADMIN_ADDR): GET /metrics (the
// service's registry in the Prometheus text format) and GET /healthz, on one Asio thread of its
// own so that a scrape never competes with the service's work.
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include <sonae/http/server.hpp>
#include <sonae/metrics/metrics.hpp>

namespace sonae::service {

// A /metrics response of `registry` (text/plain; version=0.0.4); the gateway serves it too.
http::Response metrics_response(const metrics::Registry& registry, unsigned version = 11);

class AdminServer {
  public:
    AdminServer(std::string address, std::uint16_t port, const metrics::Registry& registry);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    // Binds (port 0 picks a free one) and serves; throws std::system_error when the address is
    // taken.
    void start();
    void stop();
    std::uint16_t port() const { return server_.port(); }  // the bound port once started

  private:
    boost::asio::awaitable<http::Response> handle(http::Request& req);

    const metrics::Registry& registry_;
    boost::asio::io_context ioc_;
    http::Server server_;
    std::thread thread_;
};

}  // namespace sonae::service
