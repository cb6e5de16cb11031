// What a batch of inputs must publish, and the idempotency markers whose outboxes that empties.
#pragma once

#include <string>
#include <vector>

#include <sonae/amqp/sink.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/store/store.hpp>

#include "processor.hpp"

namespace sonae::orchestrator {

class Outgoing {
  public:
    explicit Outgoing(const amqp::Topology& topology) : topology_(topology) {}

    void add(const Applied& applied);
    // An outbox left behind by a crash between commit and publish.
    void add(const std::vector<store::OutboxMessage>& out, const store::OutboxMember& processed);
    // One broker confirm for all, then the outboxes are cleared in one Redis round trip. A crash
    // in between leaves them to be published again (idempotent downstream).
    void flush(amqp::MessageSink& sink, Processor& processor);

  private:
    const amqp::Topology& topology_;
    std::vector<amqp::Message> messages_;
    std::vector<store::OutboxMember> published_;
};

}  // namespace sonae::orchestrator
