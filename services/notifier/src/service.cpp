#include "service.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include <sonae/amqp/consumer.hpp>
#include <sonae/service/common.hpp>
#include <sonae/store/store.hpp>

#include "dispatcher.hpp"

namespace sonae::notifier {

Service::Service(Settings settings, const clock::Clock& clock)
    : Workers(settings.bus, clock),
      settings_(std::move(settings)),
      admin_(settings_.admin_address, settings_.admin_port, registry_) {}

core::Result<std::unique_ptr<service::Service>> Service::create(const config::Environment& env) {
    auto common = service::read_common(env, true);
    if (!common)
        return common.error();
    config::Config& cfg = common->config;
    for (const auto& ch : cfg.channels) {
        const auto& bot = cfg.chat.lineworks;
        if (ch.type == "lineworks" && (bot.bot_id.empty() || bot.private_key.empty())) {
            return core::Error::invalid_field(
                "", "channel " + ch.name +
                        ": a lineworks channel needs the bot of responders.yaml (chat.lineworks: "
                        "bot_id, client_id, client_secret, service_account, private_key)");
        }
    }
    Settings s;
    s.config = std::move(cfg);
    s.bus = common->bus;
    s.workers = env.workers;
    if (env.admin_address)
        std::tie(s.admin_address, s.admin_port) = *env.admin_address;
    return std::unique_ptr<service::Service>(
        std::make_unique<Service>(std::move(s), clock::SystemClock::instance()));
}

void Service::start() {
    admin_.start();  // throws when the address is taken
    spdlog::info("admin listening on http://{}:{} (/metrics, /healthz)", settings_.admin_address,
                 admin_.port());
    for (int w = 0; w < settings_.workers; ++w)
        threads_.spawn([this, w] { run_worker(w); });
    spdlog::info("notifier running with {} workers", settings_.workers);
}

void Service::stop() {
    Workers::stop();
    admin_.stop();
}

void Service::run_worker(int index) {
    redis::Connection redis(bus_.redis);
    store::IncidentStore store(redis, keys_);
    Dispatcher dispatcher(settings_.config, store, topology_, clock_, std::random_device{}(),
                          metrics_);
    amqp::ConsumerOptions opts{bus_.amqp,
                               topology_,
                               {core::wire::kNotifications, core::wire::kActions},
                               settings_.prefetch,
                               "notifier-" + std::to_string(index)};
    amqp::ConsumerLoop loop(opts, dispatcher);
    loop.run(threads_.stop_flag().running());
}

}  // namespace sonae::notifier
