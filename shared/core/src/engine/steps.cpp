// The step graph (PRODUCT §6): conditions, activation of ready steps, completion, settling after
// every input, opening an incident, events joining it, acknowledgement and resolution.
#include <algorithm>

#include "run.hpp"

namespace sonae::core::detail {

bool Run::holds(const std::optional<Condition>& c) {
    if (!c)
        return true;
    ConditionSubject subject{[this](const std::string& f) { return incident_field(inc(), f); },
                             [this](const std::string& step) -> std::optional<std::string> {
                                 auto it = inc().steps.find(step);
                                 if (it == inc().steps.end() || it->second.decision.empty())
                                     return std::nullopt;
                                 return it->second.decision;
                             }};
    return evaluate(*c, subject);
}

bool Run::deps_finished(const Step& s) {
    for (const auto& d : s.after) {
        auto it = inc().steps.find(d);
        if (it == inc().steps.end() || !it->second.finished())
            return false;
    }
    return true;
}

void Run::activate_ready() {
    bool progress = true;
    while (progress && inc().open()) {
        progress = false;
        for (const auto& s : pb_.steps) {
            StepState& st = inc().steps[s.id];
            if (st.status != StepStatus::kPending || !deps_finished(s))
                continue;
            progress = true;
            if (!holds(s.when)) {
                st.status = StepStatus::kSkipped;
                st.finished_at = now_;
                st.note = "condition not met";
                timeline("step", "skipped " + s.id + " (condition not met)",
                         {{"step", s.id}, {"before", "pending"}, {"after", "skipped"}});
                continue;
            }
            activate(s, st);
        }
    }
}

void Run::activate(const Step& s, StepState& st) {
    st.status = StepStatus::kActive;
    st.activated_at = now_;
    if (s.due) {
        st.due_at = (s.due_from_start ? inc().opened_at : now_) + *s.due;
        // The owner hears before the due time: when a fifth of the time is left, at least a
        // minute and at most half an hour before. One timer at a time per step (each pending
        // timer costs Redis memory): the reminder schedules the due time when it fires.
        const Duration before = std::clamp<Duration>((st.due_at - now_) / 5, kMinute, 30 * kMinute);
        const bool remind = s.type == StepType::kTask || s.type == StepType::kDecision;
        if (remind && st.due_at - before > now_)
            schedule(TimerId::soon(s.id), st.due_at - before);
        else
            schedule(TimerId::due(s.id), st.due_at);
    }
    json data = {
        {"step", s.id}, {"type", to_string(s.type)}, {"before", "pending"}, {"after", "active"}};
    if (!s.owner.empty())
        data["owner"] = s.owner;
    if (st.due_at)
        data["due"] = format_timestamp(st.due_at);
    timeline("step", "started " + s.id + ": " + s.title, data);
    switch (s.type) {
        case StepType::kNotify: {
            const json extra = {{"step", {{"id", s.id}, {"title", s.title}}}};
            notify("step", s.notify, msg("step.title"),
                   s.message.empty() ? msg("step.text") : s.message, extra);
            finish_step(s, StepStatus::kDone, "sent", "sonae");
            break;
        }
        case StepType::kWait:
            schedule(TimerId::wait(s.id), now_ + s.wait);
            break;
        case StepType::kHttp: {
            const json v = view(false, {{"step", {{"id", s.id}, {"title", s.title}}}});
            HttpAction a;
            a.id = inc().tenant + ":" + inc().id + ":http:" + s.id;
            a.tenant = inc().tenant;
            a.incident_id = inc().id;
            a.step = s.id;
            a.method = s.http.method;
            const TemplateView tv(v);
            a.url = engine_.templates().render(s.http.url, tv);
            for (const auto& [k, h] : s.http.headers)
                a.headers[k] = engine_.templates().render(h, tv);
            a.body = engine_.templates().render(s.http.body, tv);
            a.timeout = s.http.timeout;
            a.retries = s.http.retries;
            a.exercise = inc().exercise;
            tr_.actions.push_back(std::move(a));
            break;
        }
        case StepType::kDecision:
            notify_step("decision", s);
            break;
        case StepType::kTask:
            break;
    }
}

void Run::finish_step(const Step& s, StepStatus to, const std::string& note,
                      const std::string& actor) {
    StepState& st = inc().steps[s.id];
    const StepStatus from = st.status;
    st.status = to;
    st.finished_at = now_;
    if (!note.empty())
        st.note = note;
    cancel(TimerId::due(s.id));
    cancel(TimerId::soon(s.id));
    cancel(TimerId::wait(s.id));
    json data = {{"step", s.id}, {"before", to_string(from)}, {"after", to_string(to)}};
    if (!note.empty())
        data["note"] = note;
    if (!st.decision.empty())
        data["decision"] = st.decision;
    timeline("step", std::string(to_string(to)) + " " + s.id + (note.empty() ? "" : ": " + note),
             data, actor);
}

void Run::resolve(const std::string& actor, const std::string& resolution) {
    Incident& i = inc();
    if (!i.open())
        return;
    for (auto& svc : i.services) {
        if (svc.recovered_at == 0)
            recover(svc);
    }
    i.status = IncidentStatus::kResolved;
    i.resolved_at = now_;
    i.resolved_by = actor;
    i.resolution = resolution;
    std::vector<TimerId> pending;
    for (const auto& [id, due] : i.timers)
        pending.push_back(id);
    for (const auto& id : pending)
        cancel(id);
    timeline("resolved", "resolved: " + resolution, {{"resolution", resolution}}, actor);
    notify("resolved", open_target(), msg("resolved.title"), msg("resolved.text"),
           {{"resolution", resolution}});
}

void Run::settle() {
    activate_ready();
    update_services();
    if (inc().open()) {
        bool all_done = !pb_.steps.empty();
        for (const auto& s : pb_.steps) {
            all_done = all_done && inc().steps[s.id].finished();
        }
        if (all_done) {
            resolve("sonae", "all playbook steps completed");
            return;
        }
        if (pb_.auto_resolve && !inc().alerts.empty()) {
            bool all_resolved = true;
            for (const auto& [k, a] : inc().alerts)
                all_resolved = all_resolved && a.resolved;
            if (all_resolved) {
                resolve("sonae", "all alerts resolved by their sources (auto_resolve)");
                return;
            }
        }
        predict();
    }
}

void Run::on_event(const Event& e, const std::string& group) {
    Incident& i = inc();
    ++i.event_count;
    const std::string key = e.dedup_key.empty() ? e.id : e.dedup_key;
    AlertState& a = i.alerts[key];
    // A new alert of an incident that collects a group joined by it: dedup keys are bound to an
    // incident only by opening it or by joining its group. (The caller may not know: it may have
    // opened the incident, lost the race to a joining alert, and applied its own on a retry.)
    const std::string& joined_group = group.empty() ? i.group : group;
    const bool joined = a.count == 0 && !joined_group.empty();
    const std::string actor = "source:" + e.source;
    if (a.count == 0)
        a.first_seen = now_;
    a.source = e.source;
    a.last_seen = now_;
    switch (e.action) {
        case Action::kTrigger:
            ++a.count;
            a.resolved = false;
            if (opening_) {
                opening_data()["dedup_key"] = key;
                opening_data()["severity"] = to_string(e.severity);
                break;
            }
            if (joined) {
                // Another alert of the incident's group: the entry says which and by what key.
                json data = {{"event", e.id},
                             {"dedup_key", key},
                             {"count", a.count},
                             {"severity", to_string(e.severity)},
                             {"group", joined_group}};
                if (!e.assets.empty()) {
                    json assets = json::array();
                    for (const auto& x : e.assets)
                        assets.push_back(!x.host.empty() ? x.host : !x.ip.empty() ? x.ip : x.user);
                    data["assets"] = std::move(assets);
                }
                timeline("event", "alert joined by correlation (" + joined_group + "): " + e.title,
                         std::move(data), actor);
                break;
            }
            timeline("event", e.title + " (count " + std::to_string(a.count) + ")",
                     {{"event", e.id},
                      {"dedup_key", key},
                      {"count", a.count},
                      {"severity", to_string(e.severity)}},
                     actor);
            break;
        case Action::kResolve:
            a.resolved = true;
            timeline("event", "alert resolved by source: " + key,
                     {{"event", e.id}, {"dedup_key", key}}, actor);
            break;
        case Action::kAcknowledge:
            timeline("event", "alert acknowledged by source: " + key,
                     {{"event", e.id}, {"dedup_key", key}}, actor);
            acknowledge(actor);
            break;
    }
    for (const auto& asset : e.assets) {
        if (std::find(i.assets.begin(), i.assets.end(), asset) == i.assets.end() &&
            i.assets.size() < 64) {
            i.assets.push_back(asset);
        }
    }
    if (e.action == Action::kTrigger)
        count_assets(e.assets);
    if (e.classification && (!i.classification || *i.classification < *e.classification)) {
        i.classification = e.classification;
    }
    add_services(catalog_.impacted_services(e.assets),
                 pb_.rto_start == RtoStart::kDetection || i.acked_at != 0);
    if (e.action == Action::kTrigger && e.severity > i.severity)
        change_severity(e.severity, actor);
}

void Run::acknowledge(const std::string& actor) {
    Incident& i = inc();
    if (i.status != IncidentStatus::kTriggered)
        return;
    i.status = IncidentStatus::kAcknowledged;
    i.acked_at = now_;
    i.acked_by = actor;
    timeline("ack", "acknowledged by " + actor,
             {{"before", "triggered"}, {"after", "acknowledged"}}, actor);
    if (pb_.rto_start == RtoStart::kDeclaration) {
        for (auto& s : i.services)
            start_clock(s.id);
    }
}

void Run::on_action_result(const ActionResultInput& r) {
    const Step* s = pb_.step(r.step);
    if (s == nullptr || s->type != StepType::kHttp)
        return;
    StepState& st = inc().steps[r.step];
    if (st.status != StepStatus::kActive)
        return;  // duplicate result
    const std::string note = (r.ok ? "HTTP " : "failed: HTTP ") + std::to_string(r.status) +
                             (r.detail.empty() ? "" : " " + r.detail.substr(0, 200));
    finish_step(*s, r.ok ? StepStatus::kDone : StepStatus::kFailed, note, "sonae");
}

void Run::open(const Event& e, const std::string& id, const OpenContext& context) {
    Incident& i = inc();
    i.tenant = e.tenant;
    i.id = id;
    i.playbook_id = pb_.id;
    i.playbook_version = pb_.version;
    i.title = e.title;
    i.category = e.category;
    i.severity = e.severity;
    i.classification = e.classification;
    if (pb_.classification && (!i.classification || *i.classification < *pb_.classification)) {
        i.classification = pb_.classification;
    }
    i.exercise = e.exercise;
    i.opened_at = now_;
    i.labels = e.labels;
    for (const auto& s : pb_.steps)
        i.steps[s.id] = StepState{};
    i.group = context.group;
    // One entry tells the opening: the alert, the playbook, why it was chosen, the grouping key
    // and the impacted services.
    json opened = {{"playbook", pb_.id}, {"version", pb_.version}, {"event", e.id}};
    if (!context.selection.by.empty()) {
        opened["selected_by"] = context.selection.by;
        // A match explains itself, and the default's reason is always the same words (the text
        // names the default): only a service's choice keeps its reason (every byte is kept, per
        // incident).
        if (context.selection.by == "service")
            opened["reason"] = context.selection.reason;
        if (!context.selection.service.empty())
            opened["service"] = context.selection.service;
    }
    if (!context.group.empty())
        opened["group"] = context.group;
    if (e.occurred_at)  // when it happened, as the source saw it (the reports' 発生日時)
        opened["occurred_at"] = format_timestamp(*e.occurred_at);
    // The default needs no more words than its name; a service's choice says which and why.
    timeline("opened",
             "opened from " + e.source + " with " +
                 (context.selection.by == "default" ? "the default playbook " : "playbook ") +
                 pb_.id + ": " + e.title +
                 (context.selection.by == "service" ? " (" + context.selection.reason + ")" : ""),
             std::move(opened), "source:" + e.source);
    const std::size_t entry = tr_.timeline.size() - 1;
    opening_ = entry;
    std::vector<std::string> services = catalog_.impacted_services(e.assets);
    add_unique(services, pb_.services);
    const bool start = pb_.rto_start == RtoStart::kDetection;
    Event first = e;
    first.assets.clear();
    on_event(first);  // counts the alert; assets/services below keep a stable order
    for (const auto& asset : e.assets) {
        if (i.assets.size() < 64)
            i.assets.push_back(asset);
    }
    add_services(services, start);
    opening_.reset();
    if (!i.services.empty()) {
        std::string names;
        for (const auto& svc : i.services)
            names +=
                (names.empty() ? "" : ", ") + svc.name + " (RTO " + format_duration(svc.rto) + ")";
        tr_.timeline[entry].text += "; impacted: " + names;
    }
    for (const auto& esc : pb_.escalation) {
        if (esc.trigger == EscalationTrigger::kAfter) {
            schedule(TimerId::escalation(esc.id), now_ + esc.after);
        } else if (esc.trigger == EscalationTrigger::kAtTime) {
            const Duration offset = Duration{catalog_.utc_offset_minutes} * kMinute;
            const TimePoint local = now_ + offset;
            TimePoint at =
                (local - (local % kDay + kDay) % kDay) + esc.minute_of_day * kMinute - offset;
            if (at <= now_)
                at += kDay;
            schedule(TimerId::escalation(esc.id), at);
        }
    }
    notify("opened", open_target(), msg("opened.title"), msg("opened.text"));
    fire_severity_rules();
    if (e.action == Action::kTrigger)
        count_assets(e.assets);
}

}  // namespace sonae::core::detail
