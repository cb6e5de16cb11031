#include "worker.hpp"

#include <spdlog/spdlog.h>

#include <sonae/log/log.hpp>

#include "outgoing.hpp"

namespace sonae::orchestrator {

amqp::Verdict Worker::apply(const amqp::Delivery& d, Outgoing& outgoing) {
    const nlohmann::json body = nlohmann::json::parse(d.body, nullptr, false);
    if (d.routing_key == core::wire::kEvents) {
        if (body.is_array() && !body.empty())
            return apply_events(d, body, outgoing);
        auto e = body.is_object() ? core::event_from_json(body)
                                  : core::Result<core::Event>(core::Error{});
        if (!e || e->id.empty()) {
            spdlog::error("dead-lettering unreadable event {}", d.message_id);
            return amqp::Verdict::kDeadLetter;
        }
        const log::Scope scope{{"event", e->id}};
        outgoing.add(processor_.on_event(*e, clock_.now()));
        return amqp::Verdict::kAck;
    }
    const bool action_result =
        body.is_object() && body.value("type", "") == core::wire::kTypeActionResult;
    if (action_result) {
        auto r = core::action_result_from_json(body);
        if (!r) {
            spdlog::error("dead-lettering {}: {}", d.message_id, r.error().message);
            return amqp::Verdict::kDeadLetter;
        }
        const log::Scope scope{{"incident", r->incident}};
        outgoing.add(processor_.on_action_result(*r, clock_.now()));
        return amqp::Verdict::kAck;
    }
    auto c = core::command_message_from_json(body);
    if (!c) {
        spdlog::error("dead-lettering {}: {}", d.message_id, c.error().message);
        return amqp::Verdict::kDeadLetter;
    }
    const log::Scope scope{{"incident", c->incident}, {"command", c->id}};
    outgoing.add(processor_.on_command(*c, clock_.now(), nullptr));
    return amqp::Verdict::kAck;
}

// A combined message (amqp/coalesce.hpp): each event keeps its own idempotency marker, so a
// failure retries the whole message and its redelivery re-applies none of those applied before.
// An element that is not an event cannot become one by retrying, and dead-lettering the array
// would take its readable neighbours with it: it is logged, counted and skipped.
amqp::Verdict Worker::apply_events(const amqp::Delivery& d, const nlohmann::json& body,
                                   Outgoing& outgoing) {
    for (std::size_t i = 0; i < body.size(); ++i) {
        auto e = body[i].is_object() ? core::event_from_json(body[i])
                                     : core::Result<core::Event>(core::Error{});
        if (!e || e->id.empty()) {
            spdlog::error("skipping unreadable event {} of {} in {}", i + 1, body.size(),
                          d.message_id);
            processor_.metrics().events.inc({"unreadable"});
            continue;
        }
        const log::Scope scope{{"event", e->id}};
        outgoing.add(processor_.on_event(*e, clock_.now()));
    }
    return amqp::Verdict::kAck;
}

std::vector<amqp::Verdict> Worker::handle(amqp::MessageSink& sink,
                                          const std::vector<amqp::Delivery>& batch) {
    std::vector<amqp::Verdict> verdicts;
    Outgoing outgoing(topology_);
    for (const auto& d : batch) {
        try {
            verdicts.push_back(apply(d, outgoing));
        } catch (const std::exception& e) {
            spdlog::error("delivery {} failed: {}", d.message_id, e.what());
            verdicts.push_back(amqp::Verdict::kRetry);
        }
    }
    outgoing.flush(sink, processor_);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (verdicts[i] == amqp::Verdict::kDeadLetter)
            processor_.metrics().dead_lettered.inc({batch[i].routing_key});
    }
    return verdicts;
}

}  // namespace sonae::orchestrator
