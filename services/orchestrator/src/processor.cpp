#include "processor.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include <spdlog/spdlog.h>

#include <sonae/core/answer.hpp>
#include <sonae/core/exercise.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/log/log.hpp>

namespace sonae::orchestrator {
namespace {

constexpr int kMaxAttempts = 20;
// How long an acknowledge or resolve that matches no incident is retried before it is dropped.
constexpr core::Duration kLateTriggerGrace = 30 * core::kSecond;

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

// A drill's engine schedules in drill time; Redis holds wall-clock times.
void to_wall(core::Transition& tr, const std::optional<core::ExerciseClock>& clock) {
    if (!clock)
        return;
    for (auto& t : tr.timers) {
        if (!t.cancel)
            t.due = clock->wall_time(t.due);
    }
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
    if (!tr.incident.open()) {
        c.release_dedup_keys = alert_keys(tr.incident);
        c.release_group = tr.incident.group;
    }
    return c;
}

}  // namespace

Processor::Processor(const core::Libraries& libraries, redis::Connection& redis, store::Keys keys,
                     Metrics& metrics)
    : libraries_(libraries),
      store_(redis, keys),
      exercises_(redis, std::move(keys)),
      metrics_(metrics) {}

const core::Library* Processor::library(const std::string& tenant) const {
    auto it = libraries_.find(core::base_tenant(tenant));
    return it == libraries_.end() ? nullptr : it->second.get();
}

std::optional<core::ExerciseClock> Processor::drill_clock(const std::string& tenant) {
    if (!core::exercise_of(tenant))
        return std::nullopt;
    auto clock = exercises_.clock(tenant);
    if (!clock)  // the drill's record is gone: its incidents go on in wall-clock time
        spdlog::warn("no drill record for {}: wall-clock time", tenant);
    return clock;
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
        metrics_.events.inc({"no_playbook"});
        return {};
    }
    const std::string key = e.dedup_key.empty() ? e.id : e.dedup_key;
    const auto clock = drill_clock(e.tenant);
    const core::TimePoint at = engine_time(clock, now);
    const std::string day = core::format_yyyymmdd(at, lib->catalog.utc_offset_minutes);
    const bool trigger = e.action == core::Action::kTrigger;
    // The playbook a trigger would open, and so its correlation group (the playbook's rule, else
    // the catalog's): pure, so computed once, before the store decides open or join.
    const core::Selection selection = trigger ? lib->engine->choose(e) : core::Selection{};
    store::IncidentStore::Group group;
    if (selection.playbook != nullptr) {
        if (auto g = lib->engine->grouping(e, *selection.playbook)) {
            group.key = std::move(g->key);
            group.window = g->window;
            group.now = at;
        }
    }
    // Joined by the group on any attempt: a retry after a conflict finds the dedup key the join
    // bound, and the event still joined by its group.
    bool joined = false;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        // Acknowledge/resolve only ever touch an open incident; they never open one.
        auto prepared = store_.prepare_event(e.tenant, marker, key, day, trigger, group);
        joined = joined || prepared.joined;
        using Status = store::IncidentStore::Prepared::Status;
        if (prepared.status == Status::kAlreadyProcessed) {
            metrics_.events.inc({"duplicate"});
            return store_.outbox(e.tenant, marker);  // applied before a crash: publish what is left
        }
        if (prepared.status == Status::kNoIncident) {
            // Two workers consume in parallel, so a resolve can overtake the trigger published
            // just before it. A young one goes back through the retry queue (1 s, 2 s, ...) in
            // case its trigger is still on its way; after kLateTriggerGrace it is dropped, as
            // PagerDuty drops a resolve for a key it does not know.
            if (e.received_at != 0 && now - e.received_at < kLateTriggerGrace) {
                throw std::runtime_error("event " + e.id + ": " +
                                         std::string(core::to_string(e.action)) + " for " + key +
                                         " before any incident; retried in case its trigger "
                                         "is still on its way");
            }
            spdlog::info("event {}: {} for {} matches no open incident", e.id,
                         core::to_string(e.action), key);
            metrics_.events.inc({"no_incident"});
            return {};
        }
        const std::string id = prepared.incident_id;
        const log::Scope scope{{"incident", id}};
        std::optional<store::Loaded>& loaded = prepared.loaded;
        core::Result<core::Transition> tr = core::Error{};
        std::int64_t expected = 0;
        if (!loaded) {
            if (e.action != core::Action::kTrigger) {
                // The key is reserved by a trigger not committed yet: another worker is opening
                // the incident (or crashed doing so, and its event comes back). An acknowledge
                // or resolve waits for it rather than being lost; then the retry queue does.
                if (attempt + 1 == kMaxAttempts)
                    throw std::runtime_error("event " + e.id + ": the incident of " + key +
                                             " is still being opened");
                std::this_thread::sleep_for(std::chrono::milliseconds(5 * (attempt + 1)));
                continue;
            }
            if (selection.playbook == nullptr) {
                spdlog::warn("event {} ({}): no playbook matches and the catalog names no default",
                             e.id, e.title);
                store_.release_dedup(e.tenant, key, id, group.key);
                metrics_.events.inc({"no_playbook"});
                return {};
            }
            tr = lib->engine->open(e, *selection.playbook, id, at,
                                   core::OpenContext{selection, group.key});
        } else if (!loaded->incident.open()) {
            // A stale mapping to a resolved incident (of the key or of the group).
            store_.release_dedup(e.tenant, key, id, group.key);
            continue;
        } else {
            expected = loaded->version;
            tr = lib->engine->apply(loaded->incident, core::EventInput{e, joined ? group.key : ""},
                                    at);
        }
        if (!tr) {
            spdlog::warn("event {}: refused by the engine: {}", e.id, tr.error().message);
            metrics_.events.inc({"refused"});
            return {};
        }
        to_wall(*tr, clock);
        const store::Commit c = commit_of(*tr, e.tenant, id, expected, marker, now);
        switch (store_.commit(c)) {
            case store::CommitOutcome::kCommitted:
                metrics_.events.inc({!loaded ? "opened" : joined ? "grouped" : "correlated"});
                return c.outbox;
            case store::CommitOutcome::kAlreadyProcessed:
                metrics_.events.inc({"duplicate"});
                return store_.outbox(e.tenant, marker);
            case store::CommitOutcome::kConflict:
                continue;
        }
    }
    throw std::runtime_error("event " + e.id + ": too many concurrent changes");
}

Attempt Processor::apply(const std::string& tenant, const std::string& id, const core::Input& input,
                         const std::string& processed_id, core::TimePoint now,
                         const ExtraOutbox& extra) {
    Attempt a;
    const core::Library* lib = library(tenant);
    if (lib == nullptr) {
        a.kind = Attempt::Kind::kUnknown;
        a.error = core::Error{core::ErrorCode::kNotFound, "unknown tenant " + tenant, ""};
        return a;
    }
    const auto clock = drill_clock(tenant);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        auto loaded = store_.load(tenant, id);
        if (!loaded) {
            a.kind = Attempt::Kind::kUnknown;
            a.error = core::Error{core::ErrorCode::kNotFound, "unknown incident " + id, ""};
            return a;
        }
        auto tr = lib->engine->apply(loaded->incident, input, engine_time(clock, now));
        if (!tr || !tr->changed) {
            a.kind = tr ? Attempt::Kind::kUnchanged : Attempt::Kind::kRefused;
            if (!tr)
                a.error = tr.error();
            a.before = std::move(loaded->incident);
            return a;
        }
        to_wall(*tr, clock);
        store::Commit c = commit_of(*tr, tenant, id, loaded->version, processed_id, now);
        c.processed_ttl_s = 24 * 3600;
        c.timeline_head = loaded->timeline_head;
        if (extra) {
            for (auto& o : extra(tr->incident))
                c.outbox.push_back(std::move(o));
        }
        switch (store_.commit(c)) {
            case store::CommitOutcome::kCommitted:
                a.kind = Attempt::Kind::kCommitted;
                a.outbox = std::move(c.outbox);
                a.after = std::move(tr->incident);
                return a;
            case store::CommitOutcome::kAlreadyProcessed:
                a.kind = Attempt::Kind::kAlreadyApplied;
                a.outbox = store_.outbox(tenant, processed_id);
                return a;
            case store::CommitOutcome::kConflict:
                continue;
        }
    }
    throw std::runtime_error("incident " + id + ": too many concurrent changes");
}

Applied Processor::on_command(const core::CommandMessage& m, core::TimePoint now,
                              core::CommandReply* reply) {
    const std::string marker = "cmd:" + m.id;
    const store::OutboxMember processed{m.tenant, marker};
    if (store_.processed(m.tenant, marker)) {
        metrics_.commands.inc({command_result::kDuplicate});
        if (reply) {
            auto stored = store_.command_result(m.tenant, m.id);
            *reply = stored ? *stored : core::CommandReply{m.id, true, "already applied"};
        }
        return {store_.outbox(m.tenant, marker), processed};
    }
    core::CommandReply r{m.id, false, ""};
    // The answer travels back to chat with the state change, in the same transaction.
    auto answer_out = [&](const std::string& text, bool ok) {
        r.ok = ok;
        r.message = text;
        std::vector<store::OutboxMessage> out;
        if (!m.reply.empty())
            out.push_back(core::OutboxEntry::of(
                core::ChatReply{"reply:" + m.id, m.tenant, m.incident, m.reply, ok, text}));
        return out;
    };
    // Inputs that change nothing still get their answer and their marker, atomically.
    auto side_commit = [&](std::vector<core::TimelineEntry> entries,
                           std::vector<store::OutboxMessage> out) {
        store::Append a;
        a.tenant = m.tenant;
        a.incident = m.incident;
        a.entries = std::move(entries);
        a.processed_id = marker;
        a.outbox = std::move(out);
        a.now = now;
        if (store_.append(a) == store::CommitOutcome::kAlreadyProcessed)
            return store_.outbox(m.tenant, marker);
        return a.outbox;
    };
    std::vector<store::OutboxMessage> out;
    auto cmd = core::parse_command(m.text);
    if (!cmd) {
        metrics_.commands.inc({command_result::kInvalid});
        out = side_commit({}, answer_out(core::answer_error(cmd.error(), std::nullopt), false));
    } else {
        const core::Command& c = *cmd;
        Attempt a = apply(m.tenant, m.incident, core::CommandInput{m.actor, m.permission, c},
                          marker, now, [&](const core::Incident& after) {
                              return answer_out(core::answer_ok(c, after), true);
                          });
        switch (a.kind) {
            case Attempt::Kind::kCommitted:
                metrics_.commands.inc({command_result::kApplied});
                out = std::move(a.outbox);
                break;
            case Attempt::Kind::kAlreadyApplied:
                metrics_.commands.inc({command_result::kDuplicate});
                out = std::move(a.outbox);
                r = core::CommandReply{m.id, true, "already applied"};
                break;
            case Attempt::Kind::kUnknown:
                metrics_.commands.inc({command_result::kUnknown});
                out = side_commit({}, answer_out(core::answer_error(a.error, c), false));
                break;
            case Attempt::Kind::kRefused: {
                metrics_.commands.inc({command_result::kRefused});
                // Refused commands are audited: who tried what, and why not.
                const core::TimelineEntry refused{
                    engine_time(drill_clock(m.tenant), now),
                    "command",
                    m.actor,
                    "refused `" + core::format_command(c) + "`: " + a.error.message,
                    {{"command", core::format_command(c)},
                     {"refused", true},
                     {"reason", a.error.message},
                     {"code", core::error_code_name(a.error.code)}}};
                out = side_commit({refused}, answer_out(core::answer_error(a.error, c), false));
                break;
            }
            case Attempt::Kind::kUnchanged: {
                metrics_.commands.inc({command_result::kAnswered});
                const core::Library* lib = library(m.tenant);
                std::string text = "✓ " + core::format_command(c);
                if (c.verb == core::Verb::kStatus) {
                    text = core::status_text(a.before, *lib->engine,
                                             engine_time(drill_clock(m.tenant), now));
                } else if (c.verb == core::Verb::kTimeline) {
                    text = core::timeline_text(a.before, store_.timeline(m.tenant, m.incident),
                                               lib->catalog.utc_offset_minutes);
                } else if (c.verb == core::Verb::kHelp) {
                    text = core::help_text();
                }
                out = side_commit({}, answer_out(text, true));
                break;
            }
        }
    }
    store_.set_command_result(m.tenant, r);
    if (reply)
        *reply = r;
    return {std::move(out), processed};
}

Applied Processor::on_action_result(const core::ActionResult& r, core::TimePoint now) {
    const std::string marker = "cmd:" + r.id;
    if (store_.processed(r.tenant, marker))
        return {store_.outbox(r.tenant, marker), {r.tenant, marker}};
    return {apply(r.tenant, r.incident, core::ActionResultInput{r.step, r.ok, r.status, r.detail},
                  marker, now)
                .outbox,
            {r.tenant, marker}};
}

std::vector<Applied> Processor::on_timer(const store::TimerFiring& f, core::TimePoint now) {
    const std::string marker = "tmr:" + f.lease;
    auto member = store::TimerMember::parse(f.member);
    if (!member) {
        spdlog::error("malformed timer member {}", f.member);
        return {};
    }
    const store::OutboxMember processed{member->tenant, marker};
    const log::Scope scope{{"incident", member->incident}, {"timer", member->timer.str()}};
    if (store_.processed(member->tenant, marker))
        return {Applied{store_.outbox(member->tenant, marker), processed}};
    if (core::exercise_of(member->tenant))
        return drill_timer(*member, f, now);
    return {Applied{
        apply(member->tenant, member->incident, core::TimerInput{member->timer, f.due}, marker, now)
            .outbox,
        processed}};
}

std::vector<Applied> Processor::drill_timer(const store::TimerMember& member,
                                            const store::TimerFiring& f, core::TimePoint now) {
    const std::string marker = "tmr:" + f.lease;
    const std::string& ns = member.tenant;
    const auto x = exercises_.load(core::base_tenant(ns), *core::exercise_of(ns), false);
    const core::ExerciseClock* clock = x ? &x->clock : nullptr;
    if (!clock || clock->state == core::ExerciseState::kStopped)
        return {};  // the drill is over: its timers end with it
    if (clock->state == core::ExerciseState::kPaused) {
        exercises_.park(ns, f.member, f.due);
        return {};
    }
    const core::TimePoint drill_now = clock->drill_time(now);
    if (member.timer.kind == core::TimerId::Kind::kInject) {
        std::optional<nlohmann::json> item;
        std::size_t n = 0;
        try {
            n = std::stoul(member.timer.subject);
            item = exercises_.plan_item(x->tenant, x->id, n);
        } catch (const std::invalid_argument&) {
        } catch (const std::out_of_range&) {
        }
        if (!item) {
            spdlog::error("drill timer {}: no such plan item", f.member);
            return {};
        }
        const core::TimePoint due = clock->started_at + item->value("at", core::Duration{0});
        if (drill_now < due) {
            exercises_.reschedule(f.member, clock->wall_time(due));
            return {};
        }
        return drill_item(*x, *item, n, now, marker);
    }
    const auto loaded = store_.load(ns, member.incident);
    if (!loaded)
        return {};
    const auto it = loaded->incident.timers.find(member.timer);
    if (it == loaded->incident.timers.end())
        return {};  // cancelled or fired already
    if (drill_now < it->second) {
        exercises_.reschedule(f.member, clock->wall_time(it->second));
        return {};
    }
    return {Applied{
        apply(ns, member.incident, core::TimerInput{member.timer, it->second}, marker, now).outbox,
        {ns, marker}}};
}

std::vector<Applied> Processor::drill_item(const store::Exercise& x, const nlohmann::json& item,
                                           std::size_t n, core::TimePoint now,
                                           const std::string& marker) {
    const std::string ns = x.ns();
    const std::string kind = item.value("kind", "");
    const core::TimePoint at = x.clock.drill_time(now);
    const core::Library* lib = library(ns);
    if (lib == nullptr)
        return {};
    if (kind == "event") {
        std::vector<core::Event> events;
        const std::string source = item.value("source", "scenario");
        if (item.contains("format")) {
            const auto format = ingest::parse_format(item["format"].get<std::string>());
            ingest::AdaptContext ctx{source, ns, at};
            auto r = format ? ingest::adapt(*format, item["event"], ingest::HeaderMap{}, ctx)
                            : core::Result<std::vector<core::Event>>(core::Error{});
            if (!r) {
                spdlog::error("drill {}: inject {} is not a valid event", x.id, n);
                return {};
            }
            events = std::move(r.value());
        } else {
            auto e = core::event_from_json(item["event"]);
            if (!e) {
                spdlog::error("drill {}: inject {}: {}", x.id, n, e.error().message);
                return {};
            }
            events.push_back(std::move(e.value()));
        }
        std::vector<Applied> out;
        for (std::size_t k = 0; k < events.size(); ++k) {
            core::Event& e = events[k];
            e.id = x.id + "-" + std::to_string(n) + (k == 0 ? "" : "-" + std::to_string(k));
            e.tenant = ns;
            e.exercise = true;
            e.received_at = now;
            e.occurred_at = at;  // the scenario's own timestamps are of another day
            if (e.source.empty())
                e.source = source;
            if (e.dedup_key.empty())
                e.dedup_key = e.id;
            out.push_back(on_event(e, now));
        }
        return out;
    }
    if (kind == "message") {
        // A narrative inject (a press call, a vendor's e-mail) to the players of these roles.
        core::Notification note;
        note.id = ns + ":" + x.id + ":i" + std::to_string(n);
        note.tenant = ns;
        note.incident_id = x.id;
        note.kind = "inject";
        note.title = lib->engine->messages().get("exercise_prefix") + x.meta.value("title", x.id);
        note.text = item.value("text", "");
        note.roles = item.value("to", std::vector<std::string>{});
        note.exercise = true;
        note.at = at;
        store::Append a;
        a.tenant = ns;
        a.incident = x.id;
        a.entries.push_back(
            {at, "inject", "exercise:" + x.id, note.text, {{"inject", n}, {"to", note.roles}}});
        a.processed_id = marker;
        a.outbox.push_back(core::OutboxEntry::of(note));
        a.now = now;
        if (store_.append(a) == store::CommitOutcome::kAlreadyProcessed)
            return {Applied{store_.outbox(ns, marker), {ns, marker}}};
        return {Applied{a.outbox, {ns, marker}}};
    }
    if (kind == "player") {
        // A scripted player stands in for a team only when the drill was started so.
        const std::string as = item.value("as", "");
        const auto fill_in = x.meta.value("fill_in", std::vector<std::string>{});
        if (std::find(fill_in.begin(), fill_in.end(), "all") == fill_in.end() &&
            std::find(fill_in.begin(), fill_in.end(), as) == fill_in.end())
            return {};
        const auto ids = store_.incidents_before(ns, std::numeric_limits<core::TimePoint>::max(), 0,
                                                 1000);  // newest first
        if (ids.empty()) {
            spdlog::info("drill {}: player {} has no incident to act on", x.id, as);
            return {};
        }
        const int which = item.value("incident", 0);
        const std::size_t k = which > 0 && static_cast<std::size_t>(which) <= ids.size()
                                  ? ids.size() - static_cast<std::size_t>(which)
                                  : 0;
        core::CommandMessage m;
        m.id = x.id + "-" + std::to_string(n);
        m.tenant = ns;
        m.incident = ids[k].first;
        m.actor = as;
        m.permission = core::parse_permission(item.value("permission", "commander"))
                           .value_or(core::Permission::kCommander);
        m.text = item.value("command", "");
        return {on_command(m, now, nullptr)};
    }
    spdlog::error("drill {}: plan item {} of unknown kind '{}'", x.id, n, kind);
    return {};
}

}  // namespace sonae::orchestrator
