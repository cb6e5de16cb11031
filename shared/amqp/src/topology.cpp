#include <spdlog/spdlog.h>

#include <sonae/amqp/topology.hpp>

namespace sonae::amqp {

std::string Topology::retry_queue(const std::string& kind, std::chrono::seconds delay) const {
    return prefix + "." + kind + ".delay." + std::to_string(delay.count()) + "s";
}

std::string Topology::retry_key(const std::string& kind, std::chrono::seconds delay) const {
    return kind + "." + std::to_string(delay.count()) + "s";
}

std::chrono::seconds Topology::retry_step(std::chrono::milliseconds wanted) {
    for (int s : kRetryDelaysS) {
        if (std::chrono::milliseconds(std::int64_t{s} * 1000) >= wanted)
            return std::chrono::seconds(s);
    }
    return std::chrono::seconds(kRetryDelaysS.back());
}

Message Topology::message(const std::string& kind, std::string id, std::string type,
                          std::string body, const std::string& tenant) const {
    Message m;
    m.exchange = exchange();
    m.routing_key = kind;
    m.message_id = std::move(id);
    m.type = std::move(type);
    m.body = std::move(body);
    m.headers = {{"tenant", tenant}};
    return m;
}

void Topology::declare(Connection& conn) const {
    conn.declare_exchange(exchange());
    conn.declare_exchange(dead_letter_exchange());
    conn.declare_exchange(retry_exchange());
    for (const char* kind : kKinds) {
        const std::string dead = dead_queue(kind);
        conn.declare_queue(QueueSpec{dead, true, "", "", 0, 0});
        conn.bind_queue(dead, dead_letter_exchange(), kind);

        const std::string q = queue(kind);
        conn.declare_queue(QueueSpec{q, true, dead_letter_exchange(), "", kDeliveryLimit, 0});
        conn.bind_queue(q, exchange(), kind);
    }
    // Delay queues hold a message for a fixed time, then dead-letter it back to its work queue.
    // Quorum queues, so that the dead-lettering is at least once (declare_queue): a classic
    // queue dead-letters at most once, and drops what expires while the broker starts or
    // stops (the fault suite lost every retry waiting across a broker restart). A declaration
    // the broker refuses (a queue without its majority) must not keep the work queues from
    // being served: their retries wait.
    int unavailable = 0;
    std::string first;
    for (const char* kind : {"notifications", "actions"}) {
        for (int s : kRetryDelaysS) {
            const std::chrono::seconds delay(s);
            const std::string rq = retry_queue(kind, delay);
            if (auto why = conn.try_declare_queue(
                    QueueSpec{rq, true, exchange(), kind, 0, std::int64_t{s} * 1000},
                    retry_exchange(), retry_key(kind, delay))) {
                if (unavailable++ == 0)
                    first = rq + ": " + *why;
            }
        }
    }
    if (unavailable > 0) {
        spdlog::warn("amqp: {} delay queues unavailable, their retries wait (e.g. {})", unavailable,
                     first);
    }
}

void Topology::remove(Connection& conn) const {
    for (const char* kind : {"notifications", "actions"}) {
        for (int s : kRetryDelaysS)
            conn.delete_queue(retry_queue(kind, std::chrono::seconds(s)));
    }
    for (const char* kind : kKinds) {
        conn.delete_queue(queue(kind));
        conn.delete_queue(dead_queue(kind));
    }
    conn.delete_exchange(retry_exchange());
    conn.delete_exchange(dead_letter_exchange());
    conn.delete_exchange(exchange());
}

}  // namespace sonae::amqp
