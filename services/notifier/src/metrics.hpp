// The notifier's series (docs/architecture.md, "Metrics"), moved by the Dispatcher on its worker
// threads and served on the admin listener.
#pragma once

#include <sonae/metrics/metrics.hpp>

namespace sonae::notifier {

struct Metrics {
    explicit Metrics(metrics::Registry& registry)
        : notifications(registry.counter(
              "sonae_notifications_total",
              "Delivery attempts by channel (\"reply\" for answers to chat commands) and outcome: "
              "delivered, retried (will be tried again), failed (permanently, or out of "
              "attempts: dead-lettered).",
              {"channel", "outcome"})),
          actions(registry.counter("sonae_http_actions_total",
                                   "HTTP actions of playbooks by outcome: succeeded, retried, "
                                   "failed, skipped (exercise).",
                                   {"outcome"})),
          dead_lettered(registry.counter("sonae_dead_lettered_total",
                                         "Messages sent to a dead-letter queue, by the queue's "
                                         "kind.",
                                         {"queue"})) {
        for (const char* q : {"notifications", "actions"})
            dead_lettered.with({q});
    }

    metrics::Counter& notifications;  // channel, outcome
    metrics::Counter& actions;        // outcome
    metrics::Counter& dead_lettered;  // queue
};

}  // namespace sonae::notifier
