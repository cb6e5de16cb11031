// ConsumerLoop: a thread's own broker connection consuming some of sonae's queues with manual
// acks and bounded prefetch. The handler decides each delivery's fate after it committed its
// state; broker failures reconnect with backoff (unacked deliveries come back, so handlers must
// be idempotent: at-least-once delivery plus idempotency).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/topology.hpp>

namespace sonae::amqp {

enum class Verdict {
    kAck,         // done (state committed, outputs published)
    kRetry,       // transient failure (Redis down...): requeue after a pause
    kDeadLetter,  // poison (unparseable): to the dead-letter queue
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
};

class ConsumerLoop {
  public:
    using Handler = std::function<Verdict(Connection&, const Delivery&)>;
    // One verdict per delivery, in order.
    using BatchHandler =
        std::function<std::vector<Verdict>(Connection&, const std::vector<Delivery>&)>;
    ConsumerLoop(ConsumerOptions options, Handler handler);
    ConsumerLoop(ConsumerOptions options, BatchHandler handler);
    // Runs until `running` turns false (checked at least every 200 ms).
    void run(const std::atomic<bool>& running);

  private:
    void settle(Connection& conn, const Delivery& d, Verdict v);

    ConsumerOptions options_;
    BatchHandler handler_;
};

}  // namespace sonae::amqp
