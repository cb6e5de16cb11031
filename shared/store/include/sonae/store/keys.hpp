// The Redis key layout, in one place (documented in docs/architecture.md). Every key starts with
// the configurable prefix and, except the global timer set, carries the tenant.
#pragma once

#include <string>

namespace sonae::store {

struct Keys {
    std::string prefix = "sonae";

    std::string t(const std::string& tenant) const { return prefix + ":" + tenant + ":"; }
    // HASH {state: incident JSON, ver: n}
    std::string incident(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "inc:" + id;
    }
    // LIST of timeline entries (JSON), oldest first. Not a stream: Redis preallocates 4 KiB for
    // every new stream, which alone would exceed the memory budget of an incident.
    std::string timeline(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "tl:" + id;
    }
    // STRING dedup key -> open incident id
    std::string dedup(const std::string& tenant, const std::string& key) const {
        return t(tenant) + "dedup:" + key;
    }
    // STRING counter per local day for INC-YYYYMMDD-NNNN
    std::string sequence(const std::string& tenant, const std::string& day) const {
        return t(tenant) + "seq:" + day;
    }
    // ZSET incident id by opened time; SET of open incident ids
    std::string incidents(const std::string& tenant) const { return t(tenant) + "incidents"; }
    std::string open(const std::string& tenant) const { return t(tenant) + "open"; }
    // STRING marker: this event/command/timer firing was applied (idempotency), with a TTL
    std::string processed(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "done:" + id;
    }
    // LIST of AMQP messages a committed transition still has to publish (transactional outbox)
    std::string outbox(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "outbox:" + id;
    }
    // SET of outbox ids not yet published (swept after a crash)
    std::string outboxes() const { return prefix + ":outboxes"; }
    // ZSET "<tenant>|<incident>|<timer>" by due time (ms); and leases of firings in progress
    std::string timers() const { return prefix + ":timers"; }
    std::string timer_leases() const { return prefix + ":timers:leased"; }
    // STRING marker: notification delivered to a channel
    std::string delivered(const std::string& tenant, const std::string& notification,
                          const std::string& channel) const {
        return t(tenant) + "delivered:" + notification + ":" + channel;
    }
    // STRING JSON answer to a command (for the API/chat that sent it), with a TTL
    std::string command_result(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "cmd:" + id;
    }
    // STRING marker: HTTP action executed (its result was published)
    std::string action_done(const std::string& tenant, const std::string& action) const {
        return t(tenant) + "action:" + action;
    }
};

}  // namespace sonae::store
