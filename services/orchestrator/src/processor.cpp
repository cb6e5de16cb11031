#include "processor.hpp"

#include <spdlog/spdlog.h>

namespace sonae::orchestrator {
namespace {

constexpr int kMaxAttempts = 20;

std::vector<std::string> alert_keys(const core::Incident& i) {
    std::vector<std::string> out;
    for (const auto& [k, a] : i.alerts)
        out.push_back(k);
    return out;
}

std::vector<store::OutboxMessage> outbox_of(const core::Transition& tr) {
    std::vector<store::OutboxMessage> out;
    for (const auto& n : tr.notifications)
        out.push_back(core::OutboxEntry::of(n));
    for (const auto& a : tr.actions)
        out.push_back(core::OutboxEntry::of(a));
    return out;
}

// The commit of a transition of incident `id` in `tenant`, marking `processed_id` applied.
store::Commit commit_of(const core::Transition& tr, const std::string& tenant,
                        const std::string& id, std::int64_t expected_version,
                        const std::string& processed_id, core::TimePoint now) {
    store::Commit c;
    c.tenant = tenant;
    c.incident_id = id;
    c.expected_version = expected_version;
    c.transition = &tr;
    c.processed_id = processed_id;
    c.outbox = outbox_of(tr);
    c.now = now;
    if (!tr.incident.open())
        c.release_dedup_keys = alert_keys(tr.incident);
    return c;
}

}  // namespace

Processor::Processor(const core::Libraries& libraries, redis::Connection& redis, store::Keys keys)
    : libraries_(libraries), store_(redis, std::move(keys)) {}

const core::Library* Processor::library(const std::string& tenant) const {
    auto it = libraries_.find(tenant);
    return it == libraries_.end() ? nullptr : it->second.get();
}

void Processor::published(const std::vector<store::OutboxMember>& processed) {
    store_.clear_outboxes(processed);
}

Applied Processor::on_event(const core::Event& e, core::TimePoint now) {
    const std::string marker = "evt:" + e.id;
    return {event(e, marker, now), {e.tenant, marker}};
}

std::vector<store::OutboxMessage> Processor::event(const core::Event& e, const std::string& marker,
                                                   core::TimePoint now) {
    const core::Library* lib = library(e.tenant);
    if (lib == nullptr) {
        spdlog::error("event {}: no playbook library for tenant '{}'", e.id, e.tenant);
        return {};
    }
    const std::string key = e.dedup_key.empty() ? e.id : e.dedup_key;
    const std::string day = core::format_yyyymmdd(now, lib->catalog.utc_offset_minutes);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        // Acknowledge/resolve only ever touch an open incident; they never open one.
        auto prepared =
            store_.prepare_event(e.tenant, marker, key, day, e.action == core::Action::kTrigger);
        using Status = store::IncidentStore::Prepared::Status;
        if (prepared.status == Status::kAlreadyProcessed) {
            return store_.outbox(e.tenant, marker);  // applied before a crash: publish what is left
        }
        if (prepared.status == Status::kNoIncident) {
            spdlog::info("event {}: {} for {} matches no open incident", e.id,
                         core::to_string(e.action), key);
            return {};
        }
        const std::string id = prepared.incident_id;
        std::optional<store::Loaded>& loaded = prepared.loaded;
        core::Result<core::Transition> tr = core::Error{};
        std::int64_t expected = 0;
        if (!loaded) {
            if (e.action != core::Action::kTrigger)
                return {};
            const core::Playbook* pb = lib->engine->select(e);
            if (pb == nullptr) {
                spdlog::warn("event {} ({}): no playbook matches and the catalog names no default",
                             e.id, e.title);
                store_.release_dedup(e.tenant, key, id);
                return {};
            }
            tr = lib->engine->open(e, *pb, id, now);
        } else if (!loaded->incident.open()) {
            store_.release_dedup(e.tenant, key, id);  // stale mapping to a resolved incident
            continue;
        } else {
            expected = loaded->version;
            tr = lib->engine->apply(loaded->incident, core::EventInput{e}, now);
        }
        if (!tr) {
            spdlog::warn("event {}: refused by the engine: {}", e.id, tr.error().message);
            return {};
        }
        const store::Commit c = commit_of(*tr, e.tenant, id, expected, marker, now);
        switch (store_.commit(c)) {
            case store::CommitOutcome::kCommitted:
                return c.outbox;
            case store::CommitOutcome::kAlreadyProcessed:
                return store_.outbox(e.tenant, marker);
            case store::CommitOutcome::kConflict:
                continue;
        }
    }
    throw std::runtime_error("event " + e.id + ": too many concurrent changes");
}

std::vector<store::OutboxMessage> Processor::apply(const std::string& tenant, const std::string& id,
                                                   const core::Input& input,
                                                   const std::string& processed_id,
                                                   core::TimePoint now, core::CommandReply* reply) {
    auto answer = [reply](bool ok, std::string message) {
        if (reply) {
            reply->ok = ok;
            reply->message = std::move(message);
        }
    };
    const core::Library* lib = library(tenant);
    if (lib == nullptr) {
        answer(false, "unknown tenant " + tenant);
        return {};
    }
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        auto loaded = store_.load(tenant, id);
        if (!loaded) {
            answer(false, "unknown incident " + id);
            return {};
        }
        auto tr = lib->engine->apply(loaded->incident, input, now);
        if (!tr) {
            answer(false, tr.error().message);
            return {};
        }
        if (!tr->changed) {
            answer(true, "ok");
            return {};
        }
        store::Commit c = commit_of(*tr, tenant, id, loaded->version, processed_id, now);
        c.processed_ttl_s = 24 * 3600;
        switch (store_.commit(c)) {
            case store::CommitOutcome::kCommitted:
                answer(true, "ok");
                return c.outbox;
            case store::CommitOutcome::kAlreadyProcessed:
                answer(true, "already applied");
                return store_.outbox(tenant, processed_id);
            case store::CommitOutcome::kConflict:
                continue;
        }
    }
    throw std::runtime_error("incident " + id + ": too many concurrent changes");
}

Applied Processor::on_command(const core::CommandMessage& m, core::TimePoint now,
                              core::CommandReply* reply) {
    core::CommandReply local;
    core::CommandReply& r = reply != nullptr ? *reply : local;
    r.id = m.id;
    const std::string marker = "cmd:" + m.id;
    std::vector<store::OutboxMessage> out;
    if (store_.processed(m.tenant, marker)) {
        r.ok = true;
        r.message = "already applied";
        out = store_.outbox(m.tenant, marker);
    } else if (auto cmd = core::parse_command(m.text); !cmd) {
        r.ok = false;
        r.message = cmd.error().message;
    } else {
        out = apply(m.tenant, m.incident, core::CommandInput{m.actor, m.permission, *cmd}, marker,
                    now, &r);
    }
    store_.set_command_result(m.tenant, r);
    return {std::move(out), {m.tenant, marker}};
}

Applied Processor::on_action_result(const core::ActionResult& r, core::TimePoint now) {
    const std::string marker = "cmd:" + r.id;
    if (store_.processed(r.tenant, marker))
        return {store_.outbox(r.tenant, marker), {r.tenant, marker}};
    return {apply(r.tenant, r.incident, core::ActionResultInput{r.step, r.ok, r.status, r.detail},
                  marker, now, nullptr),
            {r.tenant, marker}};
}

Applied Processor::on_timer(const store::TimerFiring& f, core::TimePoint now) {
    const std::string marker = "tmr:" + f.lease;
    auto member = store::TimerMember::parse(f.member);
    if (!member) {
        spdlog::error("malformed timer member {}", f.member);
        return {};
    }
    const store::OutboxMember processed{member->tenant, marker};
    if (store_.processed(member->tenant, marker))
        return {store_.outbox(member->tenant, marker), processed};
    return {apply(member->tenant, member->incident, core::TimerInput{member->timer, f.due}, marker,
                  now, nullptr),
            processed};
}

}  // namespace sonae::orchestrator
