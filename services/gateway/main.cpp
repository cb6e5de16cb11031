// sonae-gateway: HTTP ingest, health and metrics in front of RabbitMQ.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sonae/config/config.hpp>
#include <sonae/log/log.hpp>
#include <sonae/redis/redis.hpp>

#include "src/gateway.hpp"

namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

}  // namespace

int main() {
    using namespace sonae;
    log::init("gateway");
    auto env = config::read_environment();
    if (!env) {
        std::cerr << "sonae-gateway: " << env.error().message << "\n";
        return 2;
    }
    auto cfg = config::load(env->config_dir, env->schema_dir);
    if (!cfg) {
        std::cerr << "sonae-gateway: configuration refused: " << cfg.error().message << "\n";
        return 2;
    }
    spdlog::info("{}", config::describe(*cfg));

    amqp::Topology topology{env->prefix};
    amqp::ConfirmingPublisher::Options popts;
    try {
        popts.settings = amqp::Settings::from_url(env->amqp_url);
    } catch (const std::exception& e) {
        std::cerr << "sonae-gateway: SONAE_AMQP_URL: " << e.what() << "\n";
        return 2;
    }
    popts.on_connect = [topology](amqp::Connection& c) { topology.declare(c); };
    amqp::ConfirmingPublisher publisher(std::move(popts));
    publisher.start();

    redis::Settings rsettings;
    try {
        rsettings = redis::Settings::from_url(env->redis_url);
    } catch (const std::exception& e) {
        std::cerr << "sonae-gateway: SONAE_REDIS_URL: " << e.what() << "\n";
        return 2;
    }
    gateway::Health health;
    std::atomic<bool> running{true};
    // Readiness probe on its own thread: hiredis is blocking and never runs on an Asio thread.
    std::thread probe([&] {
        rsettings.command_timeout = std::chrono::milliseconds(1000);
        redis::Connection conn(rsettings);
        while (running.load()) {
            try {
                health.redis = conn.command({"PING"}).str() == "PONG";
            } catch (const std::exception&) {
                health.redis = false;
            }
            for (int i = 0; i < 10 && running.load(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });

    gateway::Gateway gw(*cfg,
                        core::SchemaValidator::from_file(env->schema_dir + "/event.schema.json"),
                        publisher, health, gateway::Options{topology});
    boost::asio::io_context ioc;
    http::ServerOptions sopts;
    sopts.address = env->http_address;
    sopts.port = env->http_port;
    for (const auto& s : cfg->sources)
        sopts.max_body = std::max(sopts.max_body, s.max_body);
    sopts.max_connections = static_cast<std::size_t>(env_int("SONAE_MAX_CONNECTIONS", 4096));
    http::Server server(ioc, sopts, [&gw](http::Request& req) { return gw.handle(req); });
    try {
        server.start();
    } catch (const std::exception& e) {
        std::cerr << "sonae-gateway: cannot listen on " << sopts.address << ":" << sopts.port
                  << ": " << e.what() << "\n";
        running = false;
        probe.join();
        return 1;
    }
    spdlog::info("listening on http://{}:{}", sopts.address, server.port());

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    boost::asio::steady_timer drain(ioc);
    std::chrono::steady_clock::time_point drain_deadline;
    std::function<void()> wait_drained = [&] {
        if (server.active_connections() == 0 || std::chrono::steady_clock::now() > drain_deadline) {
            ioc.stop();
            return;
        }
        drain.expires_after(std::chrono::milliseconds(50));
        drain.async_wait([&](const boost::system::error_code&) { wait_drained(); });
    };
    signals.async_wait([&](const boost::system::error_code&, int sig) {
        spdlog::info("signal {}: stopping (open connections get 5 s to finish)", sig);
        server.stop();
        drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        wait_drained();
    });

    const int threads = std::max(1, env_int("SONAE_HTTP_THREADS", 2));
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
        pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool)
        t.join();
    publisher.stop();
    running = false;
    probe.join();
    spdlog::info("stopped");
    return 0;
}
