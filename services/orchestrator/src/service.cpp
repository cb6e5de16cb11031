#include "service.hpp"

#include <spdlog/spdlog.h>

#include <sonae/amqp/consumer.hpp>
#include <sonae/amqp/sink.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/service/common.hpp>

#include "worker.hpp"

namespace sonae::orchestrator {

Service::Service(core::Libraries libraries, Settings settings, const clock::Clock& clock)
    : Workers(settings.bus, clock),
      libraries_(std::move(libraries)),
      settings_(std::move(settings)) {}

core::Result<std::unique_ptr<service::Service>> Service::create(const config::Environment& env) {
    auto common = service::read_common(env, false);
    if (!common)
        return common.error();
    // The default tenant's library sits in SONAE_PLAYBOOK_DIR; others in tenants/<name>/.
    auto libraries =
        loader::load_libraries(env.playbook_dir, env.config_dir + "/catalog.yaml", common->schemas);
    if (!libraries)
        return core::Error{libraries.error().code,
                           "playbooks refused:\n" + libraries.error().message, ""};
    for (const auto& [tenant, l] : *libraries) {
        spdlog::info("tenant {}: {} playbooks, {} services, {} roles", tenant,
                     l->playbooks.all().size(), l->catalog.services.size(),
                     l->catalog.roles.size());
        for (const auto& f : l->findings)
            spdlog::warn("lint: {}", core::format_finding(f));
    }
    Settings s;
    s.bus = common->bus;
    s.workers = env.workers;
    return std::unique_ptr<service::Service>(std::make_unique<Service>(
        std::move(libraries.value()), std::move(s), clock::SystemClock::instance()));
}

void Service::start() {
    for (int w = 0; w < settings_.workers; ++w)
        threads_.spawn([this, w] { run_worker(w); });
    // One timer thread per worker: leasing is atomic in Redis, so threads (and replicas) never
    // fire one timer twice, and a burst of deadlines is applied in parallel.
    for (int w = 0; w < settings_.workers; ++w)
        threads_.spawn([this, w] { run_timers(w); });
    spdlog::info("orchestrator running with {} workers", settings_.workers);
}

void Service::run_worker(int index) {
    redis::Connection redis(bus_.redis);
    Processor processor(libraries_, redis, keys_);
    Worker worker(processor, clock_, topology_);
    amqp::ConsumerOptions opts{bus_.amqp,
                               topology_,
                               {core::wire::kEvents, core::wire::kCommands},
                               settings_.prefetch,
                               "worker-" + std::to_string(index)};
    amqp::ConsumerLoop loop(opts,
                            [&](amqp::Connection& conn, const std::vector<amqp::Delivery>& batch) {
                                amqp::ConnectionSink sink(conn);
                                return worker.handle(sink, batch);
                            });
    loop.run(threads_.stop_flag().running());
}

void Service::run_timers(int index) {
    redis::Connection redis(bus_.redis);
    Processor processor(libraries_, redis, keys_);
    TimerRunner(processor, clock_, topology_, settings_.timers)
        .run(bus_.amqp, index == 0, threads_.stop_flag());
}

}  // namespace sonae::orchestrator
