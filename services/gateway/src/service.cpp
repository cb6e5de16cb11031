#include "service.hpp"

#include <spdlog/spdlog.h>

#include <sonae/loader/loader.hpp>

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

Service::Service(Settings settings, core::SchemaValidator event_schema, const clock::Clock& clock)
    : settings_(std::move(settings)),
      event_schema_(std::move(event_schema)),
      publisher_(publisher_options(settings_)),
      gateway_(settings_.config, event_schema_, publisher_, health_, clock,
               Options{amqp::Topology{settings_.prefix}}),
      server_(ioc_, settings_.server, [this](http::Request& req) { return gateway_.handle(req); }) {
}

Service::~Service() {
    stop();
}

core::Result<std::unique_ptr<service::Service>> Service::create(const config::Environment& env) {
    auto schemas = loader::Schemas::load(env.schema_dir);
    if (!schemas)
        return schemas.error();
    auto cfg = config::load(env.config_dir, *schemas);
    if (!cfg)
        return core::Error{cfg.error().code, "configuration refused: " + cfg.error().message, ""};
    spdlog::info("{}", config::describe(*cfg));
    auto amqp = amqp::Settings::parse(env.amqp_url);
    if (!amqp)
        return amqp.error();
    auto redis = redis::Settings::parse(env.redis_url);
    if (!redis)
        return redis.error();
    Settings s;
    s.amqp = *amqp;
    s.redis = *redis;
    s.redis.command_timeout = std::chrono::milliseconds(1000);
    s.server.address = env.http_address;
    s.server.port = env.http_port;
    for (const auto& src : cfg->sources)
        s.server.max_body = std::max(s.server.max_body, src.max_body);
    s.server.max_connections = static_cast<std::size_t>(env.max_connections);
    s.threads = env.http_threads;
    s.prefix = env.prefix;
    s.config = std::move(cfg.value());
    auto event_schema = loader::load_schema(env.schema_dir + "/event.schema.json");
    if (!event_schema)
        return event_schema.error();
    return std::unique_ptr<service::Service>(std::make_unique<Service>(
        std::move(s), std::move(event_schema.value()), clock::SystemClock::instance()));
}

void Service::start() {
    started_ = true;
    publisher_.start();
    threads_.emplace_back([this] { probe_redis(); });
    server_.start();  // throws when the address is taken
    spdlog::info("listening on http://{}:{}", settings_.server.address, server_.port());
    for (int i = 0; i < settings_.threads; ++i)
        threads_.emplace_back([this] { ioc_.run(); });
}

void Service::stop() {
    if (!started_)
        return;
    started_ = false;
    server_.stop();
    // Open connections get a moment to finish their request (a publish may be in flight).
    const auto deadline = std::chrono::steady_clock::now() + settings_.drain;
    while (server_.active_connections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ioc_.stop();
    stop_.request();
    for (auto& t : threads_)
        t.join();
    threads_.clear();
    publisher_.stop();
}

void Service::probe_redis() {
    redis::Connection conn(settings_.redis);
    while (!stop_.requested()) {
        try {
            health_.redis = conn.command({"PING"}).str() == "PONG";
        } catch (const std::exception&) {
            health_.redis = false;
        }
        stop_.sleep_for(std::chrono::seconds(1));
    }
}

}  // namespace sonae::gateway
