// The Redis key layout, in one place (documented in docs/architecture.md). Every key starts with
// the configurable prefix and, except the global sets, carries the tenant. The members of the
// global sets are encoded and decoded here and nowhere else.
#pragma once

#include <optional>
#include <string>

#include <sonae/core/time.hpp>
#include <sonae/core/timer_id.hpp>

namespace sonae::store {

// A member of the global timer set: "<tenant>|<incident>|<timer>".
struct TimerMember {
    std::string tenant;
    std::string incident;
    core::TimerId timer;

    std::string str() const { return tenant + "|" + incident + "|" + timer.str(); }
    static std::optional<TimerMember> parse(const std::string& member) {
        const auto a = member.find('|');
        if (a == std::string::npos || a == 0)
            return std::nullopt;
        const auto b = member.find('|', a + 1);
        if (b == std::string::npos || b == a + 1)
            return std::nullopt;
        auto timer = core::TimerId::parse(std::string_view(member).substr(b + 1));
        if (!timer)
            return std::nullopt;
        return TimerMember{member.substr(0, a), member.substr(a + 1, b - a - 1), std::move(*timer)};
    }
};

// A lease of a timer firing: "<member>@<due ms>", so that a crashed replica's firing is found
// again and the same firing always has the same idempotency key. The lease scripts get the
// separator from here.
inline constexpr const char* kLeaseSeparator = "@";
inline std::string timer_lease(const std::string& member, core::TimePoint due) {
    return member + kLeaseSeparator + std::to_string(due);
}

// A member of the outbox set: "<tenant>|<processed id>".
struct OutboxMember {
    std::string tenant;
    std::string processed_id;

    std::string str() const { return tenant + "|" + processed_id; }
    static std::optional<OutboxMember> parse(const std::string& member) {
        const auto bar = member.find('|');
        if (bar == std::string::npos)
            return std::nullopt;
        return OutboxMember{member.substr(0, bar), member.substr(bar + 1)};
    }
};

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
    // STRING correlation group -> "<open incident id>|<ms of its last alert>" (engine time)
    std::string group(const std::string& tenant, const std::string& key) const {
        return t(tenant) + "grp:" + key;
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
    // STREAM of changes for the live board (gateway /v1/stream): one entry {t: tenant, i:
    // incident} per commit or timeline append, trimmed to about the last 1,000 (Lua in store.cpp).
    // Global and capped: its memory does not grow with the number of incidents.
    std::string board() const { return prefix + ":board"; }
    // Pub/sub channel: a deadline (ms) earlier than every pending one was scheduled
    std::string timer_wake() const { return prefix + ":timers:wake"; }
    // STRING marker: notification delivered to a channel ("1"), or refused by it for good
    // ("refused": a redelivered copy is dead-lettered again, not sent)
    std::string delivered(const std::string& tenant, const std::string& notification,
                          const std::string& channel) const {
        return t(tenant) + "delivered:" + notification + ":" + channel;
    }
    // STRING JSON answer to a command (for the API/chat that sent it), with a TTL
    std::string command_result(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "cmd:" + id;
    }
    // STRING marker with a TTL: a chat request (by the hash of its signature or trigger id) was
    // seen; a second one is a replay. Global: the identity (and so the tenant) comes later.
    std::string chat_seen(const std::string& platform, const std::string& request_hash) const {
        return prefix + ":chat:seen:" + platform + ":" + request_hash;
    }
    // HASH of API tokens: SHA-256 (hex) of the token -> {"name","tenant","role","created_at"}
    // (sonae token create). Global: a token names its tenant.
    std::string tokens() const { return prefix + ":tokens"; }
    // Live drills (store/exercises.hpp), in the tenant's keys: ZSET exercise id by start time;
    // HASH {meta, state, started_at, speed, paused_total, paused_at, stopped_at}; LIST of its
    // plan's items (JSON), so that a firing reads its own item only.
    std::string exercises(const std::string& tenant) const { return t(tenant) + "exercises"; }
    std::string exercise(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "ex:" + id;
    }
    std::string exercise_plan(const std::string& tenant, const std::string& id) const {
        return t(tenant) + "ex:" + id + ":plan";
    }
    // ZSET of timer members of a drill's namespace that came due while it was paused.
    std::string parked_timers(const std::string& ns) const { return t(ns) + "parked"; }
    // STRING marker: HTTP action executed (its result was published)
    std::string action_done(const std::string& tenant, const std::string& action) const {
        return t(tenant) + "action:" + action;
    }
};

}  // namespace sonae::store
