// A consumer's batch of events, commands and action results: each input is committed in its own
// Redis transaction, then every outbox is published under one broker confirm and the batch is
// acknowledged. A poison message is dead-lettered; a failure of one input retries only it. An
// events message may hold a JSON array of events (coalesced by the gateway's publisher).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/amqp/consumer.hpp>
#include <sonae/amqp/sink.hpp>
#include <sonae/clock/clock.hpp>

#include "processor.hpp"

namespace sonae::orchestrator {

class Outgoing;

class Worker {
  public:
    Worker(Processor& processor, const clock::Clock& clock, const amqp::Topology& topology)
        : processor_(processor), clock_(clock), topology_(topology) {}

    std::vector<amqp::Verdict> handle(amqp::MessageSink& sink,
                                      const std::vector<amqp::Delivery>& batch);

  private:
    amqp::Verdict apply(const amqp::Delivery& d, Outgoing& outgoing);
    amqp::Verdict apply_events(const amqp::Delivery& d, const nlohmann::json& body,
                               Outgoing& outgoing);

    Processor& processor_;
    const clock::Clock& clock_;
    const amqp::Topology& topology_;
};

}  // namespace sonae::orchestrator
