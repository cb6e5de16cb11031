#include "outgoing.hpp"

namespace sonae::orchestrator {

void Outgoing::add(const Applied& applied) {
    add(applied.outbox, applied.processed);
}

void Outgoing::add(const std::vector<store::OutboxMessage>& out,
                   const store::OutboxMember& processed) {
    if (processed.processed_id.empty())
        return;  // an input that was refused before it was marked: nothing to clear
    for (const auto& o : out) {
        messages_.push_back(
            topology_.message(o.routing_key, o.message_id, o.type, o.body, processed.tenant));
        // Notifications may travel combined (the sink's coalescing); chat replies stay single.
        if (o.routing_key == core::wire::kNotifications && o.type == core::wire::kTypeNotification)
            messages_.back().batch_type = core::wire::kTypeNotifications;
    }
    published_.push_back(processed);
}

void Outgoing::flush(amqp::MessageSink& sink, Processor& processor) {
    sink.publish_confirmed(messages_);
    processor.published(published_);
    messages_.clear();
    published_.clear();
}

}  // namespace sonae::orchestrator
