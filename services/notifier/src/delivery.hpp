// What the notifier decides without I/O (PRODUCT §8): routing to channels, redaction above a
// channel's clearance, per-platform payloads, Standard Webhooks signatures, which outcomes are
// retried, and the backoff between retries. dispatcher.hpp does the sending.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sonae/config/config.hpp>
#include <sonae/core/wire.hpp>
#include <sonae/http/client.hpp>

namespace sonae::notifier {

// Channels that receive this notification: same tenant, exercise traffic only where accepted,
// and `all`, a named channel, or a role the channel serves.
std::vector<const config::Channel*> route(const config::Config& config,
                                          const core::Notification& n);

bool needs_redaction(const core::Notification& n, const config::Channel& ch);

struct Outgoing {
    std::string body;  // the HTTP body; email: the whole RFC 5322 message
    std::vector<std::pair<std::string, std::string>> headers;
    bool redacted = false;
};

struct RenderContext {
    core::TimePoint now = 0;       // webhook signatures, e-mail Date
    std::string public_url;        // the gateway as Mattermost reaches it (message buttons)
    std::string mattermost_token;  // signs the commands of Mattermost's buttons
};

// A command a notification offers as a button (Slack, Mattermost): "ack INC-…", "done <step>
// INC-…".
struct Button {
    std::string label;
    std::string command;
};
std::vector<Button> buttons(const core::Notification& n);

// The request for one channel, from the redacted texts when the channel is cleared below the
// notification (render.cpp): Slack Block Kit with buttons, Mattermost attachments with actions,
// a Teams Adaptive Card, a LINE WORKS bot message, an e-mail, or a signed sonae webhook.
Outgoing render(const core::Notification& n, const config::Channel& ch, const RenderContext& ctx);
// The signature a Mattermost button carries for its command (checked by the gateway).
std::string mattermost_button_signature(const std::string& token, const std::string& command);
// An e-mail message: UTF-8, the subject RFC 2047-encoded, one text/plain part, Message-ID and
// References threading every message of an incident.
std::string email_message(const core::Notification& n, const config::Channel& ch,
                          const std::string& subject, const std::string& text, core::TimePoint now);

enum class Outcome { kDelivered, kRetry, kPermanent };
// 2xx delivered; transport errors, 408, 425, 429 and 5xx retried; other 4xx permanent.
Outcome classify(const http::ClientResponse& r);
// The Retry-After header in seconds (0 when absent or an HTTP date).
std::int64_t retry_after_of(const http::ClientResponse& r);

// Exponential backoff with equal jitter: retry `attempt` (1-based) waits between half and all of
// min(30 min, 1 s x 2^(attempt-1)), chosen by `random`, at least `retry_after_s`, rounded up to
// the broker's next delay queue (amqp::Topology::kRetryDelaysS).
std::chrono::seconds retry_delay(int attempt, std::int64_t retry_after_s, std::uint64_t random);
// Attempts before a delivery is dead-lettered (under an hour of retries in all).
constexpr int kMaxAttempts = 12;

}  // namespace sonae::notifier
