#include "service.hpp"

#include <spdlog/spdlog.h>

#include <sonae/service/common.hpp>

namespace sonae::gateway {
namespace {

amqp::ConfirmingPublisher::Options publisher_options(const Settings& s) {
    amqp::ConfirmingPublisher::Options o;
    o.settings = s.amqp;
    const amqp::Topology topology{s.prefix};
    o.on_connect = [topology](amqp::Connection& c) { topology.declare(c); };
    return o;
}

}  // namespace

Service::Service(Settings settings, loader::Schemas schemas, const clock::Clock& clock)
    : settings_(std::move(settings)),
      schemas_(std::move(schemas)),
      publisher_(publisher_options(settings_)),
      redis_(settings_.redis, &health_),
      board_feed_(settings_.redis, store::Keys{settings_.prefix}.board()),
      gateway_(settings_.config, schemas_.event(), publisher_, health_, clock,
               Options{.topology = amqp::Topology{settings_.prefix},
                       .scenario_schema = &schemas_.scenario(),
                       .board_feed = &board_feed_},
               &redis_, &settings_.libraries),
      server_(ioc_, settings_.server, [this](http::Request& req) { return serve(req); }) {}

Service::~Service() {
    stop();
}

core::Result<std::unique_ptr<service::Service>> Service::create(const config::Environment& env) {
    auto common = service::read_common(env, true);
    if (!common)
        return common.error();
    config::Config& cfg = common->config;
    // The API shows the same playbooks and catalogs as the orchestrator runs.
    auto libraries =
        loader::load_libraries(env.playbook_dir, env.config_dir + "/catalog.yaml", common->schemas);
    if (!libraries)
        return core::Error{libraries.error().code,
                           "playbooks refused:\n" + libraries.error().message, ""};
    Settings s;
    s.libraries = std::move(libraries.value());
    s.amqp = common->bus.amqp;
    s.redis = common->bus.redis;
    s.redis.command_timeout = std::chrono::milliseconds(1000);  // never hold a request long
    s.server.address = env.http_address;
    s.server.port = env.http_port;
    for (const auto& src : cfg.sources)
        s.server.max_body = std::max(s.server.max_body, src.max_body);
    s.server.max_connections = static_cast<std::size_t>(env.max_connections);
    if (!env.tls_cert.empty()) {
        try {
            s.server.tls = http::make_tls_context(env.tls_cert, env.tls_key);
        } catch (const std::exception& e) {
            return core::Error::invalid_field("SONAE_TLS_CERT",
                                              std::string("HTTPS refused: ") + e.what());
        }
    }
    s.threads = env.http_threads;
    s.drain = std::chrono::seconds(env.drain_seconds);
    s.prefix = env.prefix;
    s.config = std::move(cfg);
    return std::unique_ptr<service::Service>(std::make_unique<Service>(
        std::move(s), std::move(common->schemas), clock::SystemClock::instance()));
}

void Service::start() {
    started_ = true;
    publisher_.start();
    redis_.start();
    board_feed_.start();
    server_.start();  // throws when the address is taken
    spdlog::info("listening on {}://{}:{}", settings_.server.tls ? "https" : "http",
                 settings_.server.address, server_.port());
    for (int i = 0; i < settings_.threads; ++i)
        threads_.spawn([this] { ioc_.run(); });
}

boost::asio::awaitable<http::Response> Service::serve(http::Request& req) {
    struct Counted {
        std::atomic<int>& n;
        explicit Counted(std::atomic<int>& counter) : n(counter) { ++n; }
        ~Counted() { --n; }
        Counted(const Counted&) = delete;
        Counted& operator=(const Counted&) = delete;
    } counted(in_flight_);
    http::Response res = co_await gateway_.handle(req);
    if (health_.draining.load())
        res.keep_alive(false);  // the client reconnects, through the load balancer, elsewhere
    co_return res;
}

void Service::stop() {
    if (!started_)
        return;
    started_ = false;
    // Drain: /readyz answers 503 so that a load balancer stops sending here, while requests that
    // still come are served as before.
    health_.draining = true;
    if (settings_.drain.count() > 0) {
        spdlog::info("draining: /readyz answers 503, closing the listener in {} ms",
                     settings_.drain.count());
        std::this_thread::sleep_for(settings_.drain);
    }
    server_.stop();
    board_feed_.stop();  // boards waiting for a change are answered now
    // Requests in flight finish (a publish may await its confirm); idle keep-alive connections
    // are closed with the I/O threads.
    constexpr std::chrono::milliseconds kStep{20};
    for (auto waited = std::chrono::milliseconds(0);
         in_flight_.load() > 0 && waited < settings_.finish; waited += kStep)
        std::this_thread::sleep_for(kStep);
    if (in_flight_.load() > 0)
        spdlog::warn("stopping with {} requests unanswered", in_flight_.load());
    ioc_.stop();
    threads_.stop();
    redis_.stop();
    publisher_.stop();
}

}  // namespace sonae::gateway
