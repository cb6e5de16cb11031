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
};

class ConsumerLoop {
  public:
    using Handler = std::function<Verdict(Connection&, const Delivery&)>;
    ConsumerLoop(ConsumerOptions options, Handler handler);
    // Runs until `running` turns false (checked at least every 200 ms).
    void run(const std::atomic<bool>& running);

  private:
    ConsumerOptions options_;
    Handler handler_;
};

}  // namespace sonae::amqp
