#include <algorithm>
#include <random>
#include <thread>

#include <poll.h>
#include <spdlog/spdlog.h>

#include <sonae/amqp/consumer.hpp>

namespace sonae::amqp {
namespace {

// A synchronous batch handler as an AsyncHandler: it never defers, and its poll only waits for
// the broker socket.
class SyncAdapter final : public AsyncHandler {
  public:
    explicit SyncAdapter(ConsumerLoop::BatchHandler handler) : handler_(std::move(handler)) {}
    std::vector<Verdict> on_batch(Connection& conn, const std::vector<Delivery>& batch) override {
        return handler_(conn, batch);
    }
    void poll(Connection&, int broker_fd, std::chrono::milliseconds budget,
              const Settle&) override {
        if (broker_fd < 0)
            return;
        pollfd p{broker_fd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(budget.count()));
    }
    void on_disconnect() override {}

  private:
    ConsumerLoop::BatchHandler handler_;
};

// Sleeps `d`, or less when `running` turns false.
void pause(const std::atomic<bool>& running, std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (running.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

ConsumerLoop::ConsumerLoop(ConsumerOptions options, Handler handler)
    : options_(std::move(options)) {
    options_.max_batch = 1;
    // A failure of one delivery is that delivery's retry, not the whole batch's.
    owned_ =
        std::make_unique<SyncAdapter>([h = std::move(handler), name = options_.name](
                                          Connection& conn, const std::vector<Delivery>& batch) {
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
        });
    handler_ = owned_.get();
}

ConsumerLoop::ConsumerLoop(ConsumerOptions options, BatchHandler handler)
    : options_(std::move(options)),
      owned_(std::make_unique<SyncAdapter>(std::move(handler))),
      handler_(owned_.get()) {
    options_.max_batch = std::max<std::size_t>(1, options_.max_batch);
}

ConsumerLoop::ConsumerLoop(ConsumerOptions options, AsyncHandler& handler)
    : options_(std::move(options)), handler_(&handler) {
    options_.max_batch = std::max<std::size_t>(1, options_.max_batch);
}

ConsumerLoop::~ConsumerLoop() = default;

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
        case Verdict::kDeferred:
            break;
    }
}

void ConsumerLoop::serve(Connection& conn, const std::atomic<bool>& running) {
    std::size_t deferred = 0;  // deliveries the handler still holds on this connection
    const Settle settle_later = [&](std::uint64_t tag, Verdict v) {
        Delivery d;
        d.delivery_tag = tag;
        settle(conn, d, v);
        if (deferred > 0)
            --deferred;
    };
    std::vector<Delivery> batch;
    while (running.load()) {
        // Wait for the broker or for the handler's work; rabbitmq-c may already hold frames in
        // user space, which poll() on its socket would not see.
        try {
            handler_->poll(conn, conn.has_buffered_frames() ? -1 : conn.fd(),
                           conn.has_buffered_frames() ? std::chrono::milliseconds(0)
                                                      : std::chrono::milliseconds(200),
                           settle_later);
        } catch (const ConnectionError&) {
            throw;
        } catch (const std::exception& e) {
            spdlog::error("{}: {}", options_.name, e.what());
            pause(running, options_.retry_pause);
        }
        batch.clear();
        // Take what has already arrived, up to max_batch, without waiting for more. next(0) also
        // answers the broker's heartbeats.
        for (auto frame = conn.next(std::chrono::milliseconds(0)); frame;
             frame = conn.next(std::chrono::milliseconds(0))) {
            if (auto* d = std::get_if<Delivery>(&*frame))  // else: a stray confirm
                batch.push_back(std::move(*d));
            if (batch.size() >= options_.max_batch)
                break;
        }
        if (batch.empty())
            continue;
        std::vector<Verdict> verdicts;
        try {
            verdicts = handler_->on_batch(conn, batch);
        } catch (const ConnectionError&) {
            throw;
        } catch (const std::exception& e) {
            spdlog::error("{}: a batch of {} failed: {}", options_.name, batch.size(), e.what());
        }
        verdicts.resize(batch.size(), Verdict::kRetry);
        if (std::find(verdicts.begin(), verdicts.end(), Verdict::kRetry) != verdicts.end())
            pause(running, options_.retry_pause);
        const bool all_acked = std::all_of(verdicts.begin(), verdicts.end(),
                                           [](Verdict v) { return v == Verdict::kAck; });
        if (all_acked && batch.size() > 1 && deferred == 0) {
            // Everything received before this batch is settled, and deliveries stashed
            // meanwhile have higher tags: one frame acknowledges the whole batch.
            conn.ack(batch.back().delivery_tag, true);
        } else {
            for (std::size_t i = 0; i < batch.size(); ++i) {
                settle(conn, batch[i], verdicts[i]);
                if (verdicts[i] == Verdict::kDeferred)
                    ++deferred;
            }
        }
    }
    // Stopping: what the handler still holds gets a moment to finish and be acknowledged; the
    // rest is redelivered to another consumer when this connection closes.
    const auto deadline = std::chrono::steady_clock::now() + options_.drain;
    while (handler_->pending() > 0 && std::chrono::steady_clock::now() < deadline)
        handler_->poll(conn, -1, std::chrono::milliseconds(50), settle_later);
}

void ConsumerLoop::run(const std::atomic<bool>& running) {
    std::chrono::milliseconds backoff(100);
    std::minstd_rand rng(std::random_device{}());
    while (running.load()) {
        try {
            Connection conn(options_.settings);
            options_.topology.declare(conn);
            conn.enable_confirms();
            conn.set_prefetch(options_.prefetch);
            for (const auto& kind : options_.kinds)
                conn.consume(options_.topology.queue(kind));
            ++connections_;
            spdlog::info("{}: consuming {} from {}:{}", options_.name, options_.kinds.size(),
                         conn.endpoint().host, conn.endpoint().port);
            backoff = std::chrono::milliseconds(100);
            serve(conn, running);
        } catch (const ConnectionError& e) {
            handler_->on_disconnect();
            const auto jitter =
                std::chrono::milliseconds(rng() % static_cast<unsigned>(backoff.count() / 2 + 1));
            spdlog::warn("{}: {} (reconnecting in {} ms)", options_.name, e.what(),
                         (backoff + jitter).count());
            pause(running, backoff + jitter);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        }
    }
    handler_->on_disconnect();
}

}  // namespace sonae::amqp
