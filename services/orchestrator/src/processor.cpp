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

}  // namespace

Processor::Processor(const Libraries& libraries, redis::Connection& redis, store::Keys keys)
    : libraries_(libraries), store_(redis, std::move(keys)) {}

const core::Library* Processor::library(const std::string& tenant) const {
    auto it = libraries_.find(tenant);
    return it == libraries_.end() ? nullptr : it->second.get();
}

std::vector<store::OutboxMessage> Processor::outbox_of(const core::Transition& tr) const {
    std::vector<store::OutboxMessage> out;
    for (const auto& n : tr.notifications) {
        out.push_back({"notifications", n.id, "notification", core::to_json(n).dump()});
    }
    for (const auto& a : tr.actions) {
        out.push_back({"actions", a.id, "action", core::to_json(a).dump()});
    }
    return out;
}

void Processor::published(const std::string& tenant, const std::string& processed_id) {
    store_.clear_outbox(tenant, processed_id);
}

void Processor::published(const std::vector<std::pair<std::string, std::string>>& processed) {
    store_.clear_outboxes(processed);
}

std::vector<store::OutboxMessage> Processor::on_event(const core::Event& e, core::TimePoint now) {
    const std::string marker = "evt:" + e.id;
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
        store::Commit c;
        c.tenant = e.tenant;
        c.incident_id = id;
        c.expected_version = expected;
        c.transition = &tr.value();
        c.processed_id = marker;
        c.outbox = outbox_of(*tr);
        c.now = now;
        if (!tr->incident.open())
            c.release_dedup_keys = alert_keys(tr->incident);
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
                                                   core::TimePoint now, CommandReply* reply) {
    const core::Library* lib = library(tenant);
    if (lib == nullptr) {
        if (reply)
            *reply = {false, "unknown tenant " + tenant};
        return {};
    }
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        auto loaded = store_.load(tenant, id);
        if (!loaded) {
            if (reply)
                *reply = {false, "unknown incident " + id};
            return {};
        }
        auto tr = lib->engine->apply(loaded->incident, input, now);
        if (!tr) {
            if (reply)
                *reply = {false, tr.error().message};
            return {};
        }
        if (!tr->changed) {
            if (reply)
                *reply = {true, "ok"};
            return {};
        }
        store::Commit c;
        c.tenant = tenant;
        c.incident_id = id;
        c.expected_version = loaded->version;
        c.transition = &tr.value();
        c.processed_id = processed_id;
        c.processed_ttl_s = 24 * 3600;
        c.outbox = outbox_of(*tr);
        c.now = now;
        if (!tr->incident.open())
            c.release_dedup_keys = alert_keys(tr->incident);
        switch (store_.commit(c)) {
            case store::CommitOutcome::kCommitted:
                if (reply)
                    *reply = {true, "ok"};
                return c.outbox;
            case store::CommitOutcome::kAlreadyProcessed:
                if (reply)
                    *reply = {true, "already applied"};
                return store_.outbox(tenant, processed_id);
            case store::CommitOutcome::kConflict:
                continue;
        }
    }
    throw std::runtime_error("incident " + id + ": too many concurrent changes");
}

std::vector<store::OutboxMessage> Processor::on_command(const nlohmann::json& m,
                                                        core::TimePoint now, CommandReply* reply) {
    const std::string id = m.at("id").get<std::string>();
    const std::string tenant = m.value("tenant", "default");
    const std::string marker = "cmd:" + id;
    if (store_.processed(tenant, marker)) {
        if (reply)
            *reply = {true, "already applied"};
        return store_.outbox(tenant, marker);
    }
    const std::string incident = m.at("incident").get<std::string>();
    if (m.value("type", "command") == "action-result") {
        core::ActionResultInput in{m.at("step").get<std::string>(), m.value("ok", false),
                                   m.value("status", 0), m.value("detail", "")};
        return apply(tenant, incident, in, marker, now, reply);
    }
    auto cmd = core::parse_command(m.at("text").get<std::string>());
    if (!cmd) {
        if (reply)
            *reply = {false, cmd.error().message};
        return {};
    }
    core::CommandInput in{
        m.value("actor", "unknown"),
        core::parse_permission(m.value("permission", "viewer")).value_or(core::Permission::kViewer),
        *cmd};
    return apply(tenant, incident, in, marker, now, reply);
}

std::vector<store::OutboxMessage> Processor::on_timer(const store::TimerFiring& f,
                                                      core::TimePoint now) {
    std::string tenant, incident, timer;
    if (!core::parse_timer_member(f.member, tenant, incident, timer)) {
        spdlog::error("malformed timer member {}", f.member);
        return {};
    }
    const std::string marker = "tmr:" + f.lease;
    if (store_.processed(tenant, marker))
        return store_.outbox(tenant, marker);
    return apply(tenant, incident, core::TimerInput{timer, f.due}, marker, now, nullptr);
}

}  // namespace sonae::orchestrator
