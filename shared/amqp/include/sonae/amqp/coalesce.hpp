// Coalescing: messages that opt in (Message::batch_type) and share an exchange, routing key and
// batch_type travel as ONE persistent broker message whose body is the JSON array of their
// bodies, so that the broker's per-message cost (persistence, quorum replication, confirm) is
// paid once for many. Bodies are concatenated, never re-parsed. A group of one stays the
// original message (old consumers and formats keep working when there is nothing to combine).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <sonae/amqp/connection.hpp>

namespace sonae::amqp {

struct CoalesceLimits {
    std::size_t max_messages = 128;      // per broker message; 0 or 1 turns coalescing off
    std::size_t max_bytes = 256 * 1024;  // of the combined body
};

// Splits messages[0..n) into groups, each one broker message, in publishing order: a group sits
// where its first member is, and a message that may not be combined closes the open group of its
// exchange and routing key first, so the order per routing key is kept.
std::vector<std::vector<std::size_t>> coalesce_groups(const std::vector<const Message*>& messages,
                                                      const CoalesceLimits& limits);

// One broker message of `parts` (at least two, same exchange, routing key and batch_type): type
// batch_type, body "[" + bodies joined by "," + "]", the headers all parts have in common.
Message combine(const std::vector<const Message*>& parts, std::string message_id);

// The broker messages for `messages`: combined groups get the id "<first id>+<others>".
std::vector<Message> coalesce(const std::vector<Message>& messages,
                              const CoalesceLimits& limits = {});

}  // namespace sonae::amqp
