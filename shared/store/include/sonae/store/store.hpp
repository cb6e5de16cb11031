// IncidentStore: the orchestrator's and notifier's view of Redis. Every multi-key change is one
// Lua script, so a crash never leaves half a transition: the incident state (with a version for
// optimistic concurrency between replicas), its timeline, its timers, the idempotency marker of
// the input and the transactional outbox of messages still to publish are written together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/engine.hpp>
#include <sonae/core/wire.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/store/keys.hpp>

namespace sonae::store {

struct Loaded {
    core::Incident incident;
    std::int64_t version = 0;
    std::string timeline_head;  // hash of the last timeline entry ("" for none)
};

// A message the transition must publish once committed (the wire contract's outbox entry).
using OutboxMessage = core::OutboxEntry;

struct Commit {
    std::string tenant;
    std::string incident_id;
    std::int64_t expected_version = 0;  // 0: the incident must not exist yet
    const core::Transition* transition = nullptr;
    std::string processed_id;  // idempotency marker of the input (event id, timer firing)
    std::int64_t processed_ttl_s = 7 * 24 * 3600;
    std::vector<OutboxMessage> outbox;
    std::vector<std::string> release_dedup_keys;  // when the incident resolves
    std::string release_group;                    // its correlation group, when it resolves
    core::TimePoint now = 0;                      // commit time (orders the outbox sweep)
    std::string timeline_head;                    // as loaded with the incident
};

// The correlation group of an event (core::Engine::grouping), for IncidentStore::prepare_event.
struct CorrelationGroup {
    std::string key;  // empty: no correlation rule
    core::Duration window = 0;
    core::TimePoint now = 0;  // engine time of the event
};

// Timeline entries without a change of state (deliveries, refusals, answers), optionally with
// the idempotency marker of the input and an outbox, in one transaction.
struct Append {
    std::string tenant;
    std::string incident;
    std::vector<core::TimelineEntry> entries;
    std::string processed_id;  // empty: no marker, no outbox
    std::vector<OutboxMessage> outbox;
    std::int64_t processed_ttl_s = 24 * 3600;
    core::TimePoint now = 0;
};

enum class CommitOutcome { kCommitted, kConflict, kAlreadyProcessed };

struct TimerFiring {
    std::string member;  // TimerMember::str()
    core::TimePoint due = 0;
    std::string lease;  // timer_lease(member, due): to finish, or to find again after a crash
};

class IncidentStore {
  public:
    IncidentStore(redis::Connection& redis, Keys keys);

    const Keys& keys() const { return keys_; }

    bool processed(const std::string& tenant, const std::string& id);
    // Plain markers by full key (delivered notifications, executed actions).
    bool processed_key_exists(const std::string& key);
    void mark(const std::string& key, std::int64_t ttl_s);
    // One round trip for an incoming event: was it applied already; which open incident its
    // dedup key belongs to (reserving a fresh id and the key when `create` and there is none);
    // and that incident's state. Atomic, so two replicas never open two incidents for one key.
    struct Prepared {
        enum class Status { kAlreadyProcessed, kNoIncident, kReady };
        Status status = Status::kNoIncident;
        std::string incident_id;
        // None: a fresh id, or a reservation whose commit never happened (a crash): open it.
        std::optional<Loaded> loaded;
        bool joined = false;  // found by the correlation group, not by the dedup key
    };
    // The incident of an event: by its dedup key; else, for a trigger with a correlation group,
    // the group's incident when its last alert is at most `window` before `now` (the dedup key
    // then maps to it too); else a fresh id reserved for the key and the group. One script, so
    // concurrent replicas agree on one incident per key and per group.
    using Group = CorrelationGroup;
    Prepared prepare_event(const std::string& tenant, const std::string& processed_id,
                           const std::string& dedup_key, const std::string& day, bool create,
                           const Group& group = {});

    std::optional<Loaded> load(const std::string& tenant, const std::string& id);
    CommitOutcome commit(const Commit& c);
    // kCommitted, or kAlreadyProcessed when the marker exists (nothing written then).
    CommitOutcome append(const Append& a);
    // Appends without markers to several incidents in two round trips.
    void append_all(const std::vector<Append>& appends);
    std::string timeline_head(const std::string& tenant, const std::string& incident);
    // Removes dedup -> id (and group -> id) only if it still points at this incident.
    void release_dedup(const std::string& tenant, const std::string& dedup_key,
                       const std::string& incident_id, const std::string& group = {});

    // Outbox of one committed input: read, then clear once published (many in one round trip).
    std::vector<OutboxMessage> outbox(const std::string& tenant, const std::string& processed_id);
    void clear_outboxes(const std::vector<OutboxMember>& published);
    // Outboxes older than `older_than` (crash between commit and publish).
    std::vector<OutboxMember> stale_outboxes(core::TimePoint older_than);

    // Moves due timers into leases until `lease_until`; returns the firings, and in `next_due`
    // the earliest deadline still pending (nothing: none).
    std::vector<TimerFiring> lease_due_timers(core::TimePoint now, core::TimePoint lease_until,
                                              int limit,
                                              std::optional<core::TimePoint>* next_due = nullptr);
    // Tells sleeping timer threads (of every replica) that a deadline at `due` was scheduled
    // outside commit() (which does it itself when it adds the earliest deadline).
    void wake_timers(core::TimePoint due);
    // Ends the leases of applied firings (one round trip).
    void finish_timers(const std::vector<TimerFiring>& firings);
    // Puts back timers whose lease expired (their orchestrator died). Returns how many.
    int requeue_expired_leases(core::TimePoint now);

    // Appends one entry to an incident's timeline (deliveries, refused commands).
    void append_timeline(const std::string& tenant, const std::string& incident,
                         const core::TimelineEntry& e);
    // The values of these plain markers (nothing: absent), in one round trip.
    std::vector<std::optional<std::string>> marker_values(const std::vector<std::string>& keys);
    // Deliveries' outcomes in one round trip: each one's marker (when not empty) and timeline
    // entry (when `incident` is not empty).
    struct Record {
        std::string marker;
        std::int64_t ttl_s = 0;
        std::string tenant;
        std::string incident;
        core::TimelineEntry entry;
        std::string marker_value = "1";  // delivered; the notifier also marks a refusal
    };
    void record(const std::vector<Record>& records);
    std::vector<nlohmann::json> timeline(const std::string& tenant, const std::string& incident);

    // The answer to a command, kept an hour for whoever sent it (chat, API).
    void set_command_result(const std::string& tenant, const core::CommandReply& reply);
    std::optional<core::CommandReply> command_result(const std::string& tenant,
                                                     const std::string& id);

    // Reads for the REST API. Incident ids of a tenant by opened time, newest first, from
    // `max_opened` (inclusive) down: `count` of them from the `offset`th.
    std::vector<std::pair<std::string, core::TimePoint>> incidents_before(
        const std::string& tenant, core::TimePoint max_opened, std::size_t offset,
        std::size_t count);
    std::vector<std::string> open_ids(const std::string& tenant);
    // The incidents of these ids that exist, in their order (one round trip).
    std::vector<core::Incident> load_many(const std::string& tenant,
                                          const std::vector<std::string>& ids);
    // Stored timeline entries [start, start + count) and the timeline's length.
    std::pair<std::vector<std::string>, std::int64_t> timeline_page(const std::string& tenant,
                                                                    const std::string& incident,
                                                                    std::int64_t start,
                                                                    std::int64_t count);

  private:
    redis::Connection& redis_;
    Keys keys_;
};

nlohmann::json timeline_entry_json(const core::TimelineEntry& e);

// The tamper-evident timeline (PRODUCT §13): every stored entry is the canonical JSON of the
// entry (sorted keys, no white space) with "prev", the hash of the entry before it ("" for the
// first); the incident's hash keeps the hash of the last one ("tlh"). A hash is the base64url
// SHA-256 of the stored bytes.
std::string chained_entry(const core::TimelineEntry& e, const std::string& prev);
std::string timeline_hash(std::string_view stored_entry);
struct ChainCheck {
    bool intact = true;
    std::size_t bad_entry = 0;  // 0-based index of the first entry that is not what was chained
    std::string why;
};
ChainCheck verify_chain(const std::vector<std::string>& stored, const std::string& head);

}  // namespace sonae::store
