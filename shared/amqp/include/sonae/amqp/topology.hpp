// sonae's broker topology, declared by every service at start-up (idempotent) and documented in
// docs/architecture.md. Names derive from one prefix so that tests can run side by side.
#pragma once

#include <array>
#include <chrono>
#include <string>

#include <sonae/amqp/connection.hpp>

namespace sonae::amqp {

struct Topology {
    std::string prefix = "sonae";

    std::string exchange() const { return prefix; }  // direct: work queues
    std::string dead_letter_exchange() const { return prefix + ".dlx"; }
    std::string retry_exchange() const { return prefix + ".retry"; }  // direct: delay queues
    std::string queue(const std::string& kind) const { return prefix + "." + kind; }
    std::string dead_queue(const std::string& kind) const { return prefix + "." + kind + ".dead"; }
    std::string retry_queue(const std::string& kind, std::chrono::seconds delay) const;
    std::string retry_key(const std::string& kind, std::chrono::seconds delay) const;

    // Work queues: events (ingest → orchestrator), commands (chat/API → orchestrator),
    // notifications and actions (orchestrator → notifier).
    static constexpr std::array<const char*, 4> kKinds{"events", "commands", "notifications",
                                                       "actions"};
    // Delays of the notifier's retry queues (messages wait there, then dead-letter back).
    static constexpr std::array<int, 6> kRetryDelaysS{1, 5, 30, 120, 600, 1800};
    // A message redelivered this often (a crash loop) goes to the dead-letter queue.
    static constexpr std::int64_t kDeliveryLimit = 20;

    void declare(Connection& conn) const;
    // Deletes every queue and exchange of this prefix (tests clean up after themselves).
    void remove(Connection& conn) const;
};

}  // namespace sonae::amqp
