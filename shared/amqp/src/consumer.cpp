#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include <sonae/amqp/consumer.hpp>

namespace sonae::amqp {

ConsumerLoop::ConsumerLoop(ConsumerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

void ConsumerLoop::run(const std::atomic<bool>& running) {
    std::chrono::milliseconds backoff(100);
    std::minstd_rand rng(std::random_device{}());
    auto pause = [&](std::chrono::milliseconds d) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (running.load() && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    };
    while (running.load()) {
        try {
            Connection conn(options_.settings);
            options_.topology.declare(conn);
            conn.enable_confirms();
            conn.set_prefetch(options_.prefetch);
            for (const auto& kind : options_.kinds)
                conn.consume(options_.topology.queue(kind));
            spdlog::info("{}: consuming {} from {}:{}", options_.name, options_.kinds.size(),
                         conn.endpoint().host, conn.endpoint().port);
            backoff = std::chrono::milliseconds(100);
            while (running.load()) {
                auto frame = conn.next(std::chrono::milliseconds(200));
                if (!frame)
                    continue;
                auto* d = std::get_if<Delivery>(&*frame);
                if (d == nullptr)
                    continue;  // stray confirm of an earlier publish
                Verdict v = Verdict::kRetry;
                try {
                    v = handler_(conn, *d);
                } catch (const ConnectionError&) {
                    throw;
                } catch (const std::exception& e) {
                    spdlog::error("{}: delivery {} failed: {}", options_.name, d->message_id,
                                  e.what());
                    v = Verdict::kRetry;
                }
                switch (v) {
                    case Verdict::kAck:
                        conn.ack(d->delivery_tag);
                        break;
                    case Verdict::kDeadLetter:
                        conn.reject(d->delivery_tag, false);
                        break;
                    case Verdict::kRetry:
                        pause(options_.retry_pause);
                        conn.reject(d->delivery_tag, true);
                        break;
                }
            }
        } catch (const ConnectionError& e) {
            const auto jitter =
                std::chrono::milliseconds(rng() % static_cast<unsigned>(backoff.count() / 2 + 1));
            spdlog::warn("{}: {} (reconnecting in {} ms)", options_.name, e.what(),
                         (backoff + jitter).count());
            pause(backoff + jitter);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        }
    }
}

}  // namespace sonae::amqp
