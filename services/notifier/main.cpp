// sonae-notifier: delivers notifications to channels and runs playbooks' HTTP actions.
#include <csignal>
#include <iostream>
#include <thread>

#include <sonae/config/config.hpp>
#include <sonae/log/log.hpp>

#include "src/delivery.hpp"

namespace {

std::atomic<bool> g_running{true};
extern "C" void on_signal(int) {
    g_running = false;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

}  // namespace

int main() {
    using namespace sonae;
    log::init("notifier");
    auto env = config::read_environment();
    if (!env) {
        std::cerr << "sonae-notifier: " << env.error().message << "\n";
        return 2;
    }
    auto cfg = config::load(env->config_dir, env->schema_dir);
    if (!cfg) {
        std::cerr << "sonae-notifier: configuration refused: " << cfg.error().message << "\n";
        return 2;
    }
    for (const auto& ch : cfg->channels) {
        if (ch.type == "lineworks" || ch.type == "email") {
            std::cerr
                << "sonae-notifier: channel " << ch.name << ": type " << ch.type
                << " is not supported by this version (use webhook, slack, mattermost or teams)\n";
            return 2;
        }
    }
    spdlog::info("{}", config::describe(*cfg));
    redis::Settings rsettings;
    amqp::Settings asettings;
    try {
        rsettings = redis::Settings::from_url(env->redis_url);
        asettings = amqp::Settings::from_url(env->amqp_url);
    } catch (const std::exception& e) {
        std::cerr << "sonae-notifier: " << e.what() << "\n";
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const amqp::Topology topology{env->prefix};
    const store::Keys keys{env->prefix};
    const int workers = std::max(1, env_int("SONAE_WORKERS", 2));
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            redis::Connection redis(rsettings);
            store::IncidentStore store(redis, keys);
            notifier::Notifier notifier(*cfg, store, topology);
            amqp::ConsumerOptions opts{asettings,
                                       topology,
                                       {"notifications", "actions"},
                                       16,
                                       "notifier-" + std::to_string(w)};
            // Notifications in batches (one Redis read and write per batch); actions one by one.
            amqp::ConsumerLoop loop(
                opts, [&](amqp::Connection& conn, const std::vector<amqp::Delivery>& batch) {
                    std::vector<amqp::Verdict> verdicts(batch.size(), amqp::Verdict::kRetry);
                    std::vector<const amqp::Delivery*> notifications;
                    std::vector<std::size_t> where;
                    for (std::size_t i = 0; i < batch.size(); ++i) {
                        if (batch[i].routing_key == "actions") {
                            verdicts[i] = notifier.on_action(conn, batch[i], now_ms());
                        } else {
                            notifications.push_back(&batch[i]);
                            where.push_back(i);
                        }
                    }
                    if (!notifications.empty()) {
                        auto v = notifier.on_notifications(conn, notifications, now_ms());
                        for (std::size_t k = 0; k < v.size(); ++k)
                            verdicts[where[k]] = v[k];
                    }
                    return verdicts;
                });
            loop.run(g_running);
        });
    }
    spdlog::info("notifier running with {} workers", workers);
    for (auto& t : threads)
        t.join();
    spdlog::info("stopped");
    return 0;
}
