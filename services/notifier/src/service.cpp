#include "service.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include <sonae/amqp/consumer.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/store/store.hpp>

#include "dispatcher.hpp"

namespace sonae::notifier {

Service::Service(Settings settings, const clock::Clock& clock)
    : settings_(std::move(settings)),
      clock_(clock),
      keys_{settings_.prefix},
      topology_{settings_.prefix} {}

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
    for (const auto& ch : cfg->channels) {
        if (ch.type == "lineworks" || ch.type == "email") {
            return core::Error::invalid_field(
                "", "channel " + ch.name + ": type " + ch.type +
                        " is not supported by this version (use webhook, slack, mattermost or "
                        "teams)");
        }
    }
    spdlog::info("{}", config::describe(*cfg));
    auto redis = redis::Settings::parse(env.redis_url);
    if (!redis)
        return redis.error();
    auto amqp = amqp::Settings::parse(env.amqp_url);
    if (!amqp)
        return amqp.error();
    Settings s;
    s.config = std::move(cfg.value());
    s.redis = *redis;
    s.amqp = *amqp;
    s.prefix = env.prefix;
    s.workers = env.workers;
    return std::unique_ptr<service::Service>(
        std::make_unique<Service>(std::move(s), clock::SystemClock::instance()));
}

void Service::start() {
    for (int w = 0; w < settings_.workers; ++w)
        threads_.emplace_back([this, w] { run_worker(w); });
    spdlog::info("notifier running with {} workers", settings_.workers);
}

void Service::stop() {
    stop_.request();
    for (auto& t : threads_)
        t.join();
    threads_.clear();
}

void Service::run_worker(int index) {
    redis::Connection redis(settings_.redis);
    store::IncidentStore store(redis, keys_);
    Dispatcher dispatcher(settings_.config, store, topology_, clock_, std::random_device{}());
    amqp::ConsumerOptions opts{settings_.amqp,
                               topology_,
                               {core::wire::kNotifications, core::wire::kActions},
                               settings_.prefetch,
                               "notifier-" + std::to_string(index)};
    amqp::ConsumerLoop loop(opts, dispatcher);
    loop.run(stop_.running());
}

}  // namespace sonae::notifier
