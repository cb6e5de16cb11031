// ConsumerLoop: a thread's own broker connection consuming some of sonae's queues with manual
// acks and bounded prefetch. The handler decides each delivery's fate after it committed its
// state; broker failures reconnect with backoff (unacked deliveries come back, so handlers must
// be idempotent: at-least-once delivery plus idempotency).
//
// A handler may also finish deliveries later (Verdict::kDeferred): the notifier starts its HTTP
// calls and returns at once, and the loop keeps serving the broker (heartbeats, new deliveries)
// while it waits on both the broker socket and the handler's own work.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>

namespace sonae::amqp {

enum class Verdict {
    kAck,         // done (state committed, outputs published)
    kRetry,       // transient failure (Redis down...): requeue after a pause
    kDeadLetter,  // poison (unparseable): to the dead-letter queue
    kDeferred,    // the handler settles it later (AsyncHandler only)
};

struct ConsumerOptions {
    Settings settings;
    Topology topology;
    std::vector<std::string> kinds;  // e.g. {"events", "commands"}
    std::uint16_t prefetch = 32;
    std::string name = "consumer";
    std::chrono::milliseconds retry_pause{500};
    // Batch handlers get up to this many deliveries that had already arrived (never waits to
    // fill a batch), so that one broker confirm and one Redis round trip serve them all.
    std::size_t max_batch = 64;
    // On stop, deferred deliveries get this long to finish before the connection closes.
    std::chrono::milliseconds drain{5000};
};

// Settles a deferred delivery of the current connection.
using Settle = std::function<void(std::uint64_t delivery_tag, Verdict verdict)>;

class AsyncHandler {
  public:
    virtual ~AsyncHandler() = default;
    // New deliveries: one verdict each, kDeferred for those finished later through poll().
    virtual std::vector<Verdict> on_batch(Connection& conn, const std::vector<Delivery>& batch) = 0;
    // Waits up to `budget` for the handler's own work or for `broker_fd` to become readable
    // (-1: do not wait on it), then finishes what completed, settling deferred deliveries.
    virtual void poll(Connection& conn, int broker_fd, std::chrono::milliseconds budget,
                      const Settle& settle) = 0;
    // The connection is gone: deferred deliveries will be redelivered; never settle them.
    virtual void on_disconnect() = 0;
    // Deferred deliveries not settled yet (a stopping loop gives them time to finish).
    virtual std::size_t pending() const { return 0; }
};

class ConsumerLoop {
  public:
    using Handler = std::function<Verdict(Connection&, const Delivery&)>;
    // One verdict per delivery, in order.
    using BatchHandler =
        std::function<std::vector<Verdict>(Connection&, const std::vector<Delivery>&)>;
    ConsumerLoop(ConsumerOptions options, Handler handler);
    ConsumerLoop(ConsumerOptions options, BatchHandler handler);
    ConsumerLoop(ConsumerOptions options, AsyncHandler& handler);
    ~ConsumerLoop();
    // Runs until `running` turns false (checked at least every 200 ms).
    void run(const std::atomic<bool>& running);
    // Connections made so far (1 while the first one holds).
    int connections() const { return connections_.load(); }

  private:
    void serve(Connection& conn, const std::atomic<bool>& running);
    void settle(Connection& conn, const Delivery& d, Verdict v);

    ConsumerOptions options_;
    std::unique_ptr<AsyncHandler> owned_;  // a batch handler wrapped as an AsyncHandler
    AsyncHandler* handler_;
    std::atomic<int> connections_{0};
};

}  // namespace sonae::amqp
