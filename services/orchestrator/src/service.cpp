#include "service.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

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
      settings_(std::move(settings)),
      admin_(settings_.admin_address, settings_.admin_port, registry_) {}

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
    if (env.admin_address)
        std::tie(s.admin_address, s.admin_port) = *env.admin_address;
    return std::unique_ptr<service::Service>(std::make_unique<Service>(
        std::move(libraries.value()), std::move(s), clock::SystemClock::instance()));
}

void Service::start() {
    admin_.start();  // throws when the address is taken
    spdlog::info("admin listening on http://{}:{} (/metrics, /healthz)", settings_.admin_address,
                 admin_.port());
    threads_.spawn([this] { run_sampler(); });
    for (int w = 0; w < settings_.workers; ++w)
        threads_.spawn([this, w] { run_worker(w); });
    // One timer thread per worker: leasing is atomic in Redis, so threads (and replicas) never
    // fire one timer twice, and a burst of deadlines is applied in parallel.
    for (int w = 0; w < settings_.workers; ++w)
        threads_.spawn([this, w] { run_timers(w); });
    threads_.spawn([this] {
        listen_for_timers(bus_.redis, keys_.timer_wake(), timer_wake_, threads_.stop_flag());
    });
    spdlog::info("orchestrator running with {} workers", settings_.workers);
}

void Service::run_worker(int index) {
    redis::Connection redis(bus_.redis);
    Processor processor(libraries_, redis, keys_, metrics_);
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
    Processor processor(libraries_, redis, keys_, metrics_);
    TimerRunner(processor, clock_, topology_, settings_.timers, &timer_wake_)
        .run(bus_.amqp, index == 0, threads_.stop_flag());
}

void Service::stop() {
    // Sleeping timer threads end their sleep at once (they see the stop after it).
    threads_.stop_flag().request();
    timer_wake_.interrupt();
    Workers::stop();
    admin_.stop();
}

void Service::run_sampler() {
    redis::Connection redis(bus_.redis);
    StateSampler sampler(libraries_, redis, keys_, clock_, metrics_);
    service::Stop& stop = threads_.stop_flag();
    std::chrono::milliseconds pause = settings_.sample_every;
    do {
        const metrics::Stopwatch took;
        try {
            sampler.sample();
        } catch (const std::exception& e) {
            // The gauges keep their last values; sonae_state_sampled_timestamp_seconds shows it.
            spdlog::warn("metrics: sampling incident state failed: {}", e.what());
        }
        // Reading every open incident costs time in proportion to how many there are (an alert
        // storm opens thousands): the sampler takes at most a twentieth of a core, and its gauges
        // get older instead (sonae_state_sampled_timestamp_seconds says how old).
        pause = std::max(settings_.sample_every,
                         std::chrono::milliseconds(std::llround(20'000 * took.seconds())));
    } while (stop.sleep_for(pause));
}

}  // namespace sonae::orchestrator
