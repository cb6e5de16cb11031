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

// Applies one event or command and appends what it must publish to `messages` (and its
// idempotency marker to `published`). Committed to Redis before it returns.
sonae::amqp::Verdict apply_delivery(sonae::orchestrator::Processor& processor,
                                    sonae::redis::Connection& redis, const sonae::store::Keys& keys,
                                    const sonae::amqp::Topology& topology,
                                    const sonae::amqp::Delivery& d,
                                    std::vector<sonae::amqp::Message>& messages,
                                    std::vector<std::pair<std::string, std::string>>& published) {
    using namespace sonae;
    nlohmann::json body = nlohmann::json::parse(d.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        spdlog::error("dead-lettering unparseable message {} on {}", d.message_id, d.routing_key);
        return amqp::Verdict::kDeadLetter;
    }
    const std::string tenant = body.value("tenant", "default");
    std::vector<store::OutboxMessage> out;
    std::string marker;
    if (d.routing_key == "events") {
        auto e = core::event_from_json(body);
        if (!e || e->id.empty())
            return amqp::Verdict::kDeadLetter;
        out = processor.on_event(*e, now_ms());
        marker = "evt:" + e->id;
    } else {
        if (!body.contains("id") || !body.contains("incident"))
            return amqp::Verdict::kDeadLetter;
        orchestrator::CommandReply reply;
        out = processor.on_command(body, now_ms(), &reply);
        marker = "cmd:" + body["id"].get<std::string>();
        redis.command({"SET", keys.command_result(tenant, body["id"].get<std::string>()),
                       reply.to_json().dump(), "EX", "3600"});
    }
    if (!out.empty()) {
        auto msgs = to_messages(out, topology, tenant);
        std::move(msgs.begin(), msgs.end(), std::back_inserter(messages));
        published.emplace_back(tenant, marker);
    }
    return amqp::Verdict::kAck;
}

void pause(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (g_running.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
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

    std::vector<std::thread> threads;
    const int workers = std::max(1, env_int("SONAE_WORKERS", 2));
    for (int w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            redis::Connection redis(rsettings);
            orchestrator::Processor processor(libraries, redis, keys);
            amqp::ConsumerOptions opts{
                asettings, topology, {"events", "commands"}, 64, "worker-" + std::to_string(w)};
            // A batch: apply each delivery (one Redis transaction each), publish every outbox
            // under one broker confirm, clear the outboxes in one round trip, then ack.
            amqp::ConsumerLoop loop(
                opts, [&](amqp::Connection& conn, const std::vector<amqp::Delivery>& batch) {
                    std::vector<amqp::Verdict> verdicts;
                    std::vector<amqp::Message> messages;
                    std::vector<std::pair<std::string, std::string>> published;
                    for (const auto& d : batch) {
                        try {
                            verdicts.push_back(apply_delivery(processor, redis, keys, topology, d,
                                                              messages, published));
                        } catch (const std::exception& e) {
                            spdlog::error("delivery {} failed: {}", d.message_id, e.what());
                            verdicts.push_back(amqp::Verdict::kRetry);
                        }
                    }
                    if (!messages.empty())
                        conn.publish_confirmed(messages, std::chrono::seconds(10));
                    processor.published(published);
                    return verdicts;
                });
            loop.run(g_running);
        });
    }

    // Timers: lease due ones, apply them, publish. One timer thread per worker: leasing is atomic
    // in Redis, so threads (and replicas) never fire one timer twice, and a burst of deadlines
    // is applied in parallel. The first also puts back leases of a crashed replica and publishes
    // outboxes left behind by a crash between commit and publish.
    for (int w = 0; w < workers; ++w)
        threads.emplace_back([&, sweeper = w == 0] {
            redis::Connection redis(rsettings);
            orchestrator::Processor processor(libraries, redis, keys);
            std::unique_ptr<amqp::Connection> conn;
            auto last_sweep = std::chrono::steady_clock::now();
            std::chrono::milliseconds backoff(100);
            while (g_running.load()) {
                try {
                    if (!conn) {
                        conn = std::make_unique<amqp::Connection>(asettings);
                        topology.declare(*conn);
                        conn->enable_confirms();
                    }
                    const core::TimePoint now = now_ms();
                    // Small leases, so that a burst is shared among the timer threads.
                    auto firings = processor.store().lease_due_timers(now, now + 30000, 50);
                    // One broker confirm for every firing of this round; a firing is finished only
                    // once its messages are confirmed (a crash before re-fires it: idempotent).
                    std::vector<amqp::Message> messages;
                    std::vector<std::pair<std::string, std::string>> published;
                    for (const auto& f : firings) {
                        auto out = processor.on_timer(f, now_ms());
                        if (!out.empty()) {
                            std::string tenant = f.member.substr(0, f.member.find('|'));
                            auto msgs = to_messages(out, topology, tenant);
                            std::move(msgs.begin(), msgs.end(), std::back_inserter(messages));
                            published.emplace_back(tenant, "tmr:" + f.lease);
                        }
                    }
                    if (!messages.empty())
                        conn->publish_confirmed(messages, std::chrono::seconds(10));
                    processor.published(published);
                    processor.store().finish_timers(firings);
                    if (sweeper &&
                        std::chrono::steady_clock::now() - last_sweep > std::chrono::seconds(1)) {
                        last_sweep = std::chrono::steady_clock::now();
                        processor.store().requeue_expired_leases(now);
                        for (const auto& [tenant, id] :
                             processor.store().stale_outboxes(now - 10000)) {
                            auto out = processor.store().outbox(tenant, id);
                            if (!out.empty()) {
                                conn->publish_confirmed(to_messages(out, topology, tenant),
                                                        std::chrono::seconds(10));
                            }
                            processor.published(tenant, id);
                        }
                    }
                    // Drain the connection so heartbeats are answered and stray frames do not pile
                    // up.
                    while (conn->next(std::chrono::milliseconds(0))) {
                    }
                    backoff = std::chrono::milliseconds(100);
                    if (firings.empty())
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
        });
    spdlog::info("orchestrator running with {} workers", workers);
    for (auto& t : threads)
        t.join();
    spdlog::info("stopped");
    return 0;
}
