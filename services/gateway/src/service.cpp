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
      gateway_(settings_.config, schemas_.event(), publisher_, health_, clock,
               Options{amqp::Topology{settings_.prefix}}, &redis_),
      server_(ioc_, settings_.server, [this](http::Request& req) { return gateway_.handle(req); }) {
}

Service::~Service() {
    stop();
}

core::Result<std::unique_ptr<service::Service>> Service::create(const config::Environment& env) {
    auto common = service::read_common(env, true);
    if (!common)
        return common.error();
    config::Config& cfg = common->config;
    Settings s;
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
    s.prefix = env.prefix;
    s.config = std::move(cfg);
    return std::unique_ptr<service::Service>(std::make_unique<Service>(
        std::move(s), std::move(common->schemas), clock::SystemClock::instance()));
}

void Service::start() {
    started_ = true;
    publisher_.start();
    redis_.start();
    server_.start();  // throws when the address is taken
    spdlog::info("listening on {}://{}:{}", settings_.server.tls ? "https" : "http",
                 settings_.server.address, server_.port());
    for (int i = 0; i < settings_.threads; ++i)
        threads_.spawn([this] { ioc_.run(); });
}

void Service::stop() {
    if (!started_)
        return;
    started_ = false;
    server_.stop();
    // Open connections get a moment to finish their request (a publish may be in flight).
    constexpr std::chrono::milliseconds kStep{50};
    for (auto waited = std::chrono::milliseconds(0);
         server_.active_connections() > 0 && waited < settings_.drain; waited += kStep)
        std::this_thread::sleep_for(kStep);
    ioc_.stop();
    threads_.stop();
    redis_.stop();
    publisher_.stop();
}

}  // namespace sonae::gateway
