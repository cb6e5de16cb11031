// Delivery of notifications and automated HTTP actions (PRODUCT §8): routing to channels,
// redaction above a channel's clearance, per-platform payloads, Standard Webhooks signatures,
// retries with backoff through the broker's delay queues, dead-lettering of permanent failures,
// and every outcome written to the incident timeline.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/consumer.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/engine.hpp>
#include <sonae/http/client.hpp>
#include <sonae/store/store.hpp>

namespace sonae::notifier {

// Channels that receive this notification: same tenant, exercise traffic only where accepted,
// and `all`, a named channel, or a role the channel serves.
std::vector<const config::Channel*> route(const config::Config& config,
                                          const core::Notification& n);

bool needs_redaction(const core::Notification& n, const config::Channel& ch);

struct Outgoing {
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool redacted = false;
};
// The request for one channel; webhooks are signed for `now_s`.
Outgoing render(const core::Notification& n, const config::Channel& ch, std::int64_t now_s);

enum class Outcome { kDelivered, kRetry, kPermanent };
// 2xx delivered; transport errors, 408, 425, 429 and 5xx retried; other 4xx permanent.
Outcome classify(const http::ClientResponse& r);

// Delay before attempt `attempt` (1-based retry count), at least `retry_after_s`.
std::chrono::seconds retry_delay(int attempt, std::int64_t retry_after_s);
constexpr int kMaxAttempts = static_cast<int>(amqp::Topology::kRetryDelaysS.size()) + 1;

class Notifier {
  public:
    Notifier(const config::Config& config, store::IncidentStore& store, amqp::Topology topology);

    amqp::Verdict on_notification(amqp::Connection& conn, const amqp::Delivery& d,
                                  std::int64_t now_ms);
    // A batch: one verdict per delivery, in order; Redis is read and written once per batch.
    std::vector<amqp::Verdict> on_notifications(amqp::Connection& conn,
                                                const std::vector<const amqp::Delivery*>& batch,
                                                std::int64_t now_ms);
    amqp::Verdict on_action(amqp::Connection& conn, const amqp::Delivery& d, std::int64_t now_ms);

  private:
    void retry(amqp::Connection& conn, const amqp::Delivery& d, const std::string& kind,
               int attempt, std::int64_t retry_after_s);
    amqp::Verdict publish_result(amqp::Connection& conn, const core::HttpAction& a, bool ok,
                                 long status, const std::string& detail);
    void dead_letter(amqp::Connection& conn, const amqp::Delivery& d, const std::string& kind,
                     const std::string& why);

    const config::Config& config_;
    store::IncidentStore& store_;
    amqp::Topology topology_;
    http::Client client_;
};

}  // namespace sonae::notifier
