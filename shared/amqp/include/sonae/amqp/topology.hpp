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
    // direct: the delay queues. Named ".delay" since they became quorum queues: the classic
    // ".retry" queues of earlier versions stay bound to ".retry" only and drain by themselves.
    std::string retry_exchange() const { return prefix + ".delay"; }
    std::string queue(const std::string& kind) const { return prefix + "." + kind; }
    std::string dead_queue(const std::string& kind) const { return prefix + "." + kind + ".dead"; }
    std::string retry_queue(const std::string& kind, std::chrono::seconds delay) const;
    std::string retry_key(const std::string& kind, std::chrono::seconds delay) const;

    // Work queues: events (ingest → orchestrator), commands (chat/API → orchestrator),
    // notifications and actions (orchestrator → notifier).
    static constexpr std::array<const char*, 4> kKinds{"events", "commands", "notifications",
                                                       "actions"};
    // Delays of the notifier's retry queues (messages wait there, then dead-letter back): a
    // ladder about 1.5x apart, so a jittered exponential backoff rounds up to a step within ~50%.
    static constexpr std::array<int, 19> kRetryDelaysS{
        1, 2, 3, 5, 8, 12, 18, 27, 40, 60, 90, 135, 200, 300, 450, 675, 1000, 1500, 1800};
    // The smallest delay queue at least `wanted` long (the longest when none is).
    static std::chrono::seconds retry_step(std::chrono::milliseconds wanted);
    // A message redelivered this often (a crash loop) goes to the dead-letter queue.
    static constexpr std::int64_t kDeliveryLimit = 20;

    // A persistent, mandatory message for the work exchange, tagged with its tenant.
    Message message(const std::string& kind, std::string id, std::string type, std::string body,
                    const std::string& tenant) const;

    void declare(Connection& conn) const;
    // Deletes every queue and exchange of this prefix (tests clean up after themselves).
    void remove(Connection& conn) const;
};

}  // namespace sonae::amqp
