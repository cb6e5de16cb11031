// sonae-orchestrator: consumes events and commands, runs the playbook engine, fires timers.
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include <sonae/amqp/consumer.hpp>
#include <sonae/config/config.hpp>
#include <sonae/log/log.hpp>

#include "src/processor.hpp"

namespace {

std::atomic<bool> g_running{true};

extern "C" void on_signal(int) {
    g_running = false;
}

sonae::core::TimePoint now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

std::vector<sonae::amqp::Message> to_messages(const std::vector<sonae::store::OutboxMessage>& out,
                                              const sonae::amqp::Topology& topology,
                                              const std::string& tenant) {
    std::vector<sonae::amqp::Message> msgs;
    for (const auto& o : out) {
        sonae::amqp::Message m;
        m.exchange = topology.exchange();
        m.routing_key = o.routing_key;
        m.message_id = o.message_id;
        m.type = o.type;
        m.body = o.body;
        m.headers = {{"tenant", tenant}};
        msgs.push_back(std::move(m));
    }
    return msgs;
}

// What a batch of inputs must publish, and the idempotency markers whose outboxes that empties.
struct Outgoing {
    std::vector<sonae::amqp::Message> messages;
    std::vector<std::pair<std::string, std::string>> published;  // (tenant, processed id)

    void add(const std::vector<sonae::store::OutboxMessage>& out,
             const sonae::amqp::Topology& topology, const std::string& tenant,
             const std::string& processed_id) {
        for (auto& m : to_messages(out, topology, tenant))
            messages.push_back(std::move(m));
        published.emplace_back(tenant, processed_id);
    }
    // One broker confirm for all, then the outboxes are cleared in one Redis round trip. A crash
    // in between leaves them to be published again (idempotent downstream).
    void flush(sonae::amqp::Connection& conn, sonae::orchestrator::Processor& processor) const {
        if (!messages.empty())
            conn.publish_confirmed(messages, std::chrono::seconds(10));
        processor.published(published);
    }
};

// Applies one event or command (committed to Redis before it returns) and adds what it must
// publish to `outgoing`.
sonae::amqp::Verdict apply_delivery(sonae::orchestrator::Processor& processor,
                                    sonae::redis::Connection& redis, const sonae::store::Keys& keys,
                                    const sonae::amqp::Topology& topology,
                                    const sonae::amqp::Delivery& d, Outgoing& outgoing) {
    using namespace sonae;
    nlohmann::json body = nlohmann::json::parse(d.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        spdlog::error("dead-lettering unparseable message {} on {}", d.message_id, d.routing_key);
        return amqp::Verdict::kDeadLetter;
    }
    const std::string tenant = body.value("tenant", "default");
    if (d.routing_key == "events") {
        auto e = core::event_from_json(body);
        if (!e || e->id.empty())
            return amqp::Verdict::kDeadLetter;
        outgoing.add(processor.on_event(*e, now_ms()), topology, tenant, "evt:" + e->id);
        return amqp::Verdict::kAck;
    }
    if (!body.contains("id") || !body.contains("incident"))
        return amqp::Verdict::kDeadLetter;
    const std::string id = body["id"].get<std::string>();
    orchestrator::CommandReply reply;
    outgoing.add(processor.on_command(body, now_ms(), &reply), topology, tenant, "cmd:" + id);
    redis.command({"SET", keys.command_result(tenant, id), reply.to_json().dump(), "EX", "3600"});
    return amqp::Verdict::kAck;
}

void pause(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (g_running.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// What every worker and timer thread shares (read-only).
struct Shared {
    const sonae::orchestrator::Libraries& libraries;
    const sonae::redis::Settings& redis;
    const sonae::amqp::Settings& amqp;
    const sonae::store::Keys& keys;
    const sonae::amqp::Topology& topology;
};

// Consumes events and commands in batches: each delivery is committed in its own Redis
// transaction, then every outbox is published under one confirm and the batch acknowledged.
void run_worker(const Shared& s, int w) {
    using namespace sonae;
    redis::Connection redis(s.redis);
    orchestrator::Processor processor(s.libraries, redis, s.keys);
    amqp::ConsumerOptions opts{
        s.amqp, s.topology, {"events", "commands"}, 64, "worker-" + std::to_string(w)};
    amqp::ConsumerLoop loop(
        opts, [&](amqp::Connection& conn, const std::vector<amqp::Delivery>& batch) {
            std::vector<amqp::Verdict> verdicts;
            Outgoing outgoing;
            for (const auto& d : batch) {
                try {
                    verdicts.push_back(
                        apply_delivery(processor, redis, s.keys, s.topology, d, outgoing));
                } catch (const std::exception& e) {
                    spdlog::error("delivery {} failed: {}", d.message_id, e.what());
                    verdicts.push_back(amqp::Verdict::kRetry);
                }
            }
            outgoing.flush(conn, processor);
            return verdicts;
        });
    loop.run(g_running);
}

// One round of a timer thread: lease due timers (few, so that a burst is shared among the
// threads), apply them, publish under one confirm, and only then finish the leases (a crash
// before re-fires them: idempotent). Returns whether anything was due.
bool fire_due_timers(const Shared& s, sonae::orchestrator::Processor& processor,
                     sonae::amqp::Connection& conn) {
    const sonae::core::TimePoint now = now_ms();
    auto firings = processor.store().lease_due_timers(now, now + 30000, 50);
    Outgoing outgoing;
    for (const auto& f : firings) {
        const std::string tenant = f.member.substr(0, f.member.find('|'));
        outgoing.add(processor.on_timer(f, now_ms()), s.topology, tenant, "tmr:" + f.lease);
    }
    outgoing.flush(conn, processor);
    processor.store().finish_timers(firings);
    return !firings.empty();
}

// Puts back leases of a crashed replica and publishes outboxes left behind by a crash between
// commit and publish.
void sweep(const Shared& s, sonae::orchestrator::Processor& processor,
           sonae::amqp::Connection& conn) {
    const sonae::core::TimePoint now = now_ms();
    processor.store().requeue_expired_leases(now);
    Outgoing outgoing;
    for (const auto& [tenant, id] : processor.store().stale_outboxes(now - 10000))
        outgoing.add(processor.store().outbox(tenant, id), s.topology, tenant, id);
    outgoing.flush(conn, processor);
}

void run_timers(const Shared& s, bool sweeper) {
    using namespace sonae;
    redis::Connection redis(s.redis);
    orchestrator::Processor processor(s.libraries, redis, s.keys);
    std::unique_ptr<amqp::Connection> conn;
    auto last_sweep = std::chrono::steady_clock::now();
    std::chrono::milliseconds backoff(100);
    while (g_running.load()) {
        try {
            if (!conn) {
                conn = std::make_unique<amqp::Connection>(s.amqp);
                s.topology.declare(*conn);
                conn->enable_confirms();
            }
            const bool fired = fire_due_timers(s, processor, *conn);
            if (sweeper &&
                std::chrono::steady_clock::now() - last_sweep > std::chrono::seconds(1)) {
                last_sweep = std::chrono::steady_clock::now();
                sweep(s, processor, *conn);
            }
            // Drain the connection so heartbeats are answered and stray frames do not pile up.
            while (conn->next(std::chrono::milliseconds(0))) {
            }
            backoff = std::chrono::milliseconds(100);
            if (!fired)
                pause(std::chrono::milliseconds(10));
        } catch (const amqp::ConnectionError& e) {
            spdlog::warn("timers: {} (retrying in {} ms)", e.what(), backoff.count());
            conn.reset();
            pause(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        } catch (const std::exception& e) {
            spdlog::warn("timers: {} (retrying in {} ms)", e.what(), backoff.count());
            pause(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        }
    }
}

}  // namespace

int main() {
    using namespace sonae;
    log::init("orchestrator");
    auto env = config::read_environment();
    if (!env) {
        std::cerr << "sonae-orchestrator: " << env.error().message << "\n";
        return 2;
    }
    // The default tenant's library sits in SONAE_PLAYBOOK_DIR; others in tenants/<name>/.
    orchestrator::Libraries libraries;
    const std::string catalog_override = env->config_dir + "/catalog.yaml";
    auto lib = core::load_library(
        env->playbook_dir,
        std::filesystem::exists(catalog_override) ? catalog_override : std::string{},
        env->schema_dir);
    if (!lib) {
        std::cerr << "sonae-orchestrator: playbooks refused:\n" << lib.error().message << "\n";
        return 2;
    }
    libraries["default"] = std::move(lib.value());
    const std::filesystem::path tenants = std::filesystem::path(env->playbook_dir) / "tenants";
    if (std::filesystem::is_directory(tenants)) {
        for (const auto& d : std::filesystem::directory_iterator(tenants)) {
            if (!d.is_directory())
                continue;
            auto t = core::load_library(d.path().string(), {}, env->schema_dir);
            if (!t) {
                std::cerr << "sonae-orchestrator: playbooks refused:\n"
                          << t.error().message << "\n";
                return 2;
            }
            libraries[d.path().filename().string()] = std::move(t.value());
        }
    }
    for (const auto& [tenant, l] : libraries) {
        spdlog::info("tenant {}: {} playbooks, {} services, {} roles", tenant,
                     l->playbooks.all().size(), l->catalog.services.size(),
                     l->catalog.roles.size());
        for (const auto& f : l->findings)
            spdlog::warn("lint: {}", core::format_finding(f));
    }

    redis::Settings rsettings;
    amqp::Settings asettings;
    try {
        rsettings = redis::Settings::from_url(env->redis_url);
        asettings = amqp::Settings::from_url(env->amqp_url);
    } catch (const std::exception& e) {
        std::cerr << "sonae-orchestrator: " << e.what() << "\n";
        return 2;
    }
    const amqp::Topology topology{env->prefix};
    const store::Keys keys{env->prefix};
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    const Shared shared{libraries, rsettings, asettings, keys, topology};
    std::vector<std::thread> threads;
    const int workers = std::max(1, env_int("SONAE_WORKERS", 2));
    for (int w = 0; w < workers; ++w)
        threads.emplace_back([&shared, w] { run_worker(shared, w); });
    // One timer thread per worker: leasing is atomic in Redis, so threads (and replicas) never
    // fire one timer twice, and a burst of deadlines is applied in parallel.
    for (int w = 0; w < workers; ++w)
        threads.emplace_back([&shared, w] { run_timers(shared, w == 0); });
    spdlog::info("orchestrator running with {} workers", workers);
    for (auto& t : threads)
        t.join();
    spdlog::info("stopped");
    return 0;
}
