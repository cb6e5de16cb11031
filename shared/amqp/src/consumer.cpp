#include <algorithm>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include <sonae/amqp/consumer.hpp>

namespace sonae::amqp {

ConsumerLoop::ConsumerLoop(ConsumerOptions options, Handler handler)
    : options_(std::move(options)) {
    options_.max_batch = 1;
    // A failure of one delivery is that delivery's retry, not the whole batch's.
    handler_ = [h = std::move(handler), name = options_.name](Connection& conn,
                                                              const std::vector<Delivery>& batch) {
        std::vector<Verdict> verdicts;
        for (const auto& d : batch) {
            try {
                verdicts.push_back(h(conn, d));
            } catch (const ConnectionError&) {
                throw;
            } catch (const std::exception& e) {
                spdlog::error("{}: delivery {} failed: {}", name, d.message_id, e.what());
                verdicts.push_back(Verdict::kRetry);
            }
        }
        return verdicts;
    };
}

ConsumerLoop::ConsumerLoop(ConsumerOptions options, BatchHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
    options_.max_batch = std::max<std::size_t>(1, options_.max_batch);
}

void ConsumerLoop::settle(Connection& conn, const Delivery& d, Verdict v) {
    switch (v) {
        case Verdict::kAck:
            conn.ack(d.delivery_tag);
            break;
        case Verdict::kDeadLetter:
            conn.reject(d.delivery_tag, false);
            break;
        case Verdict::kRetry:
            conn.reject(d.delivery_tag, true);
            break;
    }
}

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
            std::vector<Delivery> batch;
            while (running.load()) {
                batch.clear();
                auto frame = conn.next(std::chrono::milliseconds(200));
                // Take what has already arrived, up to max_batch, without waiting for more.
                while (frame) {
                    if (auto* d = std::get_if<Delivery>(&*frame))  // else: a stray confirm
                        batch.push_back(std::move(*d));
                    if (batch.size() >= options_.max_batch)
                        break;
                    frame = conn.next(std::chrono::milliseconds(0));
                }
                if (batch.empty())
                    continue;
                std::vector<Verdict> verdicts;
                try {
                    verdicts = handler_(conn, batch);
                } catch (const ConnectionError&) {
                    throw;
                } catch (const std::exception& e) {
                    spdlog::error("{}: a batch of {} failed: {}", options_.name, batch.size(),
                                  e.what());
                }
                verdicts.resize(batch.size(), Verdict::kRetry);
                if (std::find(verdicts.begin(), verdicts.end(), Verdict::kRetry) != verdicts.end())
                    pause(options_.retry_pause);
                const bool all_acked = std::all_of(verdicts.begin(), verdicts.end(),
                                                   [](Verdict v) { return v == Verdict::kAck; });
                if (all_acked && batch.size() > 1) {
                    // Everything received before this batch is settled, and deliveries stashed
                    // meanwhile have higher tags: one frame acknowledges the whole batch.
                    conn.ack(batch.back().delivery_tag, true);
                } else {
                    for (std::size_t i = 0; i < batch.size(); ++i)
                        settle(conn, batch[i], verdicts[i]);
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
