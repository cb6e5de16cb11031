#include <algorithm>
#include <limits>
#include <set>

#include <sonae/core/engine.hpp>
#include <sonae/core/template.hpp>

namespace sonae::core {
namespace {

using nlohmann::json;

constexpr Duration kNever = std::numeric_limits<Duration>::min() / 4;
constexpr std::string_view kExercisePrefix = "【訓練】[EXERCISE] ";

// finish(t) = max(c, t + d): the projected finish of a step as a function of "now" t.
// Closed under max and +constant, so the whole critical path keeps this shape.
struct Finish {
    TimePoint c = kNever;
    Duration d = kNever;
    static Finish max(const Finish& a, const Finish& b) {
        return {std::max(a.c, b.c), std::max(a.d, b.d)};
    }
    TimePoint at(TimePoint now) const { return std::max(c, d == kNever ? kNever : now + d); }
};

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? sep : "") + v[i];
    return out;
}

// Mustache splits names on dots, so a label "rule.id" is also offered as "rule_id".
json template_labels(const std::map<std::string, std::string>& labels) {
    json out = json::object();
    for (const auto& [k, v] : labels) {
        out[k] = v;
        std::string flat = k;
        std::replace(flat.begin(), flat.end(), '.', '_');
        out[flat] = v;
    }
    return out;
}

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& x : from) {
        if (std::find(to.begin(), to.end(), x) == to.end())
            to.push_back(x);
    }
}

class Run {
  public:
    Run(const Playbook& pb, const Catalog& catalog, Transition& tr, TimePoint now)
        : pb_(pb), catalog_(catalog), tr_(tr), now_(now) {}

    Incident& inc() { return tr_.incident; }

    // --- effects --------------------------------------------------------------------------
    void timeline(const std::string& kind, const std::string& text, json data = json::object(),
                  const std::string& actor = "sonae") {
        tr_.timeline.push_back(TimelineEntry{now_, kind, actor, text, std::move(data)});
        ++inc().timeline_seq;
        tr_.changed = true;
    }

    void schedule(const std::string& id, TimePoint due) {
        auto it = inc().timers.find(id);
        if (it != inc().timers.end() && it->second == due)
            return;
        inc().timers[id] = due;
        tr_.timers.push_back(TimerChange{id, due, false});
        tr_.changed = true;
    }

    void cancel(const std::string& id) {
        if (inc().timers.erase(id) > 0) {
            tr_.timers.push_back(TimerChange{id, 0, true});
            tr_.changed = true;
        }
    }

    json view(bool redacted, const json& extra = json::object()) {
        const Incident& i = inc();
        json services = json::array();
        std::vector<std::string> service_names;
        for (const auto& s : i.services) {
            services.push_back(
                {{"id", s.id},
                 {"name", s.name},
                 {"rto", format_duration(s.rto)},
                 {"deadline",
                  s.started_at ? format_timestamp_offset(s.deadline(), catalog_.utc_offset_minutes)
                               : ""}});
            service_names.push_back(s.name + " (RTO " + format_duration(s.rto) + ")");
        }
        std::vector<std::string> hosts;
        json assets = json::array();
        for (const auto& a : i.assets) {
            if (!a.host.empty())
                hosts.push_back(a.host);
            else if (!a.system.empty())
                hosts.push_back(a.system);
            else if (!a.ip.empty())
                hosts.push_back(a.ip);
            assets.push_back(
                {{"host", a.host}, {"ip", a.ip}, {"user", a.user}, {"system", a.system}});
        }
        const std::string cls = i.classification ? std::string(to_string(*i.classification)) : "";
        json v = {
            {"id", i.id},
            {"tenant", i.tenant},
            {"title", redacted
                          ? "機密性" + cls + "のインシデント (classified incident " + i.id + ")"
                          : i.title},
            {"severity", to_string(i.severity)},
            {"category", to_string(i.category)},
            {"status", to_string(i.status)},
            {"classification", cls},
            {"playbook", pb_.id},
            {"playbook_title", pb_.title},
            {"opened_at", format_timestamp_offset(i.opened_at, catalog_.utc_offset_minutes)},
            {"now", format_timestamp_offset(now_, catalog_.utc_offset_minutes)},
            {"services", services},
            {"services_text", service_names.empty() ? "-" : join(service_names, ", ")},
            {"assets", redacted ? json::array() : assets},
            {"hosts", redacted ? "[redacted]" : (hosts.empty() ? "-" : join(hosts, ", "))},
            {"labels", redacted ? json::object() : template_labels(i.labels)},
            {"exercise", i.exercise},
            {"events", i.event_count},
        };
        for (const auto& [k, val] : extra.items())
            v[k] = val;
        v["incident"] = v;  // {{incident.title}} and {{title}} both work
        return v;
    }

    void notify(const std::string& kind, const NotifyTarget& target, const std::string& title_tmpl,
                const std::string& text_tmpl, const json& extra = json::object()) {
        Incident& i = inc();
        Notification n;
        n.id = i.tenant + ":" + i.id + ":n" + std::to_string(++i.notification_seq);
        n.tenant = i.tenant;
        n.incident_id = i.id;
        n.kind = kind;
        n.roles = target.roles;
        n.channels = target.channels;
        n.severity = i.severity;
        n.classification = i.classification;
        n.exercise = i.exercise;
        n.at = now_;
        const TemplateView full(view(false, extra));
        const TemplateView red(view(true, extra));
        const std::string prefix = i.exercise ? std::string(kExercisePrefix) : "";
        n.title = prefix + full.render(title_tmpl);
        n.text = full.render(text_tmpl);
        n.redacted_title = prefix + red.render(title_tmpl);
        n.redacted_text = red.render(text_tmpl);
        tr_.notifications.push_back(std::move(n));
        tr_.changed = true;
        timeline("notification",
                 "notification " + kind + " to " + join(target.roles, ",") +
                     (target.channels.empty() ? "" : " #" + join(target.channels, ",")),
                 {{"notification", tr_.notifications.back().id}});
    }

    NotifyTarget open_target() const {
        if (!pb_.notify.empty())
            return pb_.notify;
        return NotifyTarget{pb_.roles, {}};
    }

    // --- conditions -----------------------------------------------------------------------
    bool holds(const std::optional<Condition>& c) {
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

    // --- RTO clocks -----------------------------------------------------------------------
    void add_services(const std::vector<std::string>& ids, bool start) {
        for (const auto& id : ids) {
            if (inc().service(id) != nullptr)
                continue;
            const Service* svc = catalog_.service(id);
            if (svc == nullptr)
                continue;  // lint reports unknown services
            inc().services.push_back(
                ServiceClock{svc->id, svc->name, svc->rto, 0, 0, false, false});
            timeline("service",
                     "impacted service " + svc->name + " (RTO " + format_duration(svc->rto) + ")",
                     {{"service", svc->id}, {"rto_seconds", svc->rto / kSecond}});
            if (start)
                start_clock(svc->id);
            // The service's classification raises the incident's.
            if (!inc().classification || *inc().classification < svc->classification) {
                inc().classification = svc->classification;
            }
        }
    }

    void start_clock(const std::string& id) {
        ServiceClock* s = inc().service(id);
        if (s == nullptr || s->started_at != 0)
            return;
        s->started_at = now_;
        schedule("rto:" + id, s->deadline());
        for (const auto& e : pb_.escalation) {
            if (e.trigger == EscalationTrigger::kRtoFraction) {
                const auto offset = static_cast<Duration>(static_cast<double>(s->rto) * e.fraction);
                schedule("esc:" + e.id + ":" + id, s->started_at + offset);
            }
        }
        tr_.changed = true;
    }

    // --- escalation -----------------------------------------------------------------------
    void fire(const Escalation& e, const std::string& key, const json& extra = json::object()) {
        if (inc().fired.count(key) != 0)
            return;
        if (!holds(e.when))
            return;
        inc().fired.insert(key);
        timeline("escalation", "escalation " + e.id + " → " + join(e.notify.roles, ","),
                 {{"escalation", e.id}, {"key", key}, {"roles", e.notify.roles}});
        const std::string text =
            e.message.empty() ? "{{title}} ({{id}}): エスカレーション {{escalation}} / escalation"
                              : e.message;
        json ex = extra;
        ex["escalation"] = e.id;
        notify("escalation", e.notify, "[エスカレーション/ESCALATION] {{title}}", text, ex);
    }

    void fire_severity_rules() {
        for (const auto& e : pb_.escalation) {
            if (e.trigger == EscalationTrigger::kSeverity && inc().severity >= e.severity) {
                fire(e, e.id);
            }
        }
    }

    void change_severity(Severity to, const std::string& actor) {
        const Severity from = inc().severity;
        if (to == from)
            return;
        inc().severity = to;
        timeline("severity",
                 std::string("severity ") + std::string(to_string(from)) + " → " +
                     std::string(to_string(to)),
                 {{"before", to_string(from)}, {"after", to_string(to)}}, actor);
        if (to > from) {
            // Re-escalate to everyone already told, so nobody works at the old urgency.
            NotifyTarget target = open_target();
            for (const auto& e : pb_.escalation) {
                for (const auto& key : inc().fired) {
                    if (key == e.id || key.rfind(e.id + ":", 0) == 0) {
                        add_unique(target.roles, e.notify.roles);
                        add_unique(target.channels, e.notify.channels);
                    }
                }
            }
            notify("severity", target, "[{{severity}}] {{title}}",
                   "重大度が {{from}} から {{severity}} に上がりました / severity raised ({{id}})",
                   {{"from", to_string(from)}});
            fire_severity_rules();
        }
    }

    // --- steps ----------------------------------------------------------------------------
    bool deps_finished(const Step& s) {
        for (const auto& d : s.after) {
            auto it = inc().steps.find(d);
            if (it == inc().steps.end() || !it->second.finished())
                return false;
        }
        return true;
    }

    void activate_ready() {
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

    void activate(const Step& s, StepState& st) {
        st.status = StepStatus::kActive;
        st.activated_at = now_;
        if (s.due) {
            st.due_at = (s.due_from_start ? inc().opened_at : now_) + *s.due;
            schedule("due:" + s.id, st.due_at);
        }
        json data = {{"step", s.id},
                     {"type", to_string(s.type)},
                     {"before", "pending"},
                     {"after", "active"}};
        if (!s.owner.empty())
            data["owner"] = s.owner;
        if (st.due_at)
            data["due"] = format_timestamp(st.due_at);
        timeline("step", "started " + s.id + ": " + s.title, data);
        switch (s.type) {
            case StepType::kNotify: {
                const json extra = {{"step", {{"id", s.id}, {"title", s.title}}}};
                notify("step", s.notify, s.title + " — {{title}}",
                       s.message.empty() ? s.title : s.message, extra);
                finish_step(s, StepStatus::kDone, "sent", "sonae");
                break;
            }
            case StepType::kWait:
                schedule("wait:" + s.id, now_ + s.wait);
                break;
            case StepType::kHttp: {
                const json v = view(false, {{"step", {{"id", s.id}, {"title", s.title}}}});
                HttpAction a;
                a.id = inc().tenant + ":" + inc().id + ":http:" + s.id;
                a.tenant = inc().tenant;
                a.incident_id = inc().id;
                a.step = s.id;
                a.method = s.http.method;
                a.url = render_template(s.http.url, v);
                for (const auto& [k, h] : s.http.headers)
                    a.headers[k] = render_template(h, v);
                a.body = render_template(s.http.body, v);
                a.timeout = s.http.timeout;
                a.retries = s.http.retries;
                a.exercise = inc().exercise;
                tr_.actions.push_back(std::move(a));
                break;
            }
            case StepType::kTask:
            case StepType::kDecision:
                break;
        }
    }

    void finish_step(const Step& s, StepStatus to, const std::string& note,
                     const std::string& actor) {
        StepState& st = inc().steps[s.id];
        const StepStatus from = st.status;
        st.status = to;
        st.finished_at = now_;
        if (!note.empty())
            st.note = note;
        cancel("due:" + s.id);
        cancel("wait:" + s.id);
        json data = {{"step", s.id}, {"before", to_string(from)}, {"after", to_string(to)}};
        if (!note.empty())
            data["note"] = note;
        if (!st.decision.empty())
            data["decision"] = st.decision;
        timeline("step",
                 std::string(to_string(to)) + " " + s.id + (note.empty() ? "" : ": " + note), data,
                 actor);
    }

    // --- services, prediction, completion -------------------------------------------------
    std::vector<const Step*> recovery_steps(const std::string& service) const {
        std::vector<const Step*> out;
        for (const auto& s : pb_.steps) {
            if (std::find(s.recovers.begin(), s.recovers.end(), service) != s.recovers.end())
                out.push_back(&s);
        }
        return out;
    }

    void update_services() {
        for (auto& svc : inc().services) {
            if (svc.recovered_at != 0)
                continue;
            const auto steps = recovery_steps(svc.id);
            if (steps.empty())
                continue;
            bool all_finished = true;
            bool any_done = false;
            for (const Step* s : steps) {
                const StepState& st = inc().steps[s->id];
                all_finished = all_finished && st.finished();
                any_done = any_done || st.status == StepStatus::kDone;
            }
            if (!all_finished || !any_done)
                continue;
            recover(svc);
        }
    }

    void recover(ServiceClock& svc) {
        if (svc.started_at == 0)
            svc.started_at = now_;
        svc.recovered_at = now_;
        const bool met = svc.recovered_at <= svc.deadline();
        timeline("rto", "recovered " + svc.name + (met ? " within RTO" : " after the RTO"),
                 {{"service", svc.id},
                  {"met", met},
                  {"elapsed_seconds", (svc.recovered_at - svc.started_at) / kSecond},
                  {"rto_seconds", svc.rto / kSecond}});
        cancel("rto:" + svc.id);
        cancel("predict:" + svc.id);
        for (const auto& e : pb_.escalation) {
            if (e.trigger == EscalationTrigger::kRtoFraction)
                cancel("esc:" + e.id + ":" + svc.id);
        }
    }

    Finish finish_of(const std::string& id, std::map<std::string, Finish>& memo, int depth = 0) {
        if (auto it = memo.find(id); it != memo.end())
            return it->second;
        const Step* s = pb_.step(id);
        if (s == nullptr || depth > 512)
            return {};
        const StepState& st = inc().steps[id];
        Finish f;
        switch (st.status) {
            case StepStatus::kDone:
            case StepStatus::kSkipped:
                f = {st.finished_at, kNever};
                break;
            case StepStatus::kActive:
                f = {st.activated_at + s->planned(), 0};
                break;
            case StepStatus::kFailed:
                f = {kNever, s->planned()};
                break;
            case StepStatus::kPending: {
                Finish deps{kNever, 0};
                for (const auto& d : s->after)
                    deps = Finish::max(deps, finish_of(d, memo, depth + 1));
                deps.d = std::max<Duration>(deps.d, 0);
                f = {deps.c == kNever ? kNever : deps.c + s->planned(), deps.d + s->planned()};
                break;
            }
        }
        // A step due at a fixed time from the start (a legal deadline) without an estimate is
        // planned to finish at that time, as lint's critical path assumes.
        if (!st.finished() && s->due_from_start && !s->estimate && s->due) {
            f.c = std::max(f.c, inc().opened_at + *s->due);
        }
        memo[id] = f;
        return f;
    }

    // Projection for one service: nullopt when it has no recovery steps left to time.
    std::optional<Finish> projection(const ServiceClock& svc) {
        std::map<std::string, Finish> memo;
        std::optional<Finish> out;
        for (const Step* s : recovery_steps(svc.id)) {
            if (inc().steps[s->id].status == StepStatus::kSkipped)
                continue;
            const Finish f = finish_of(s->id, memo);
            out = out ? Finish::max(*out, f) : f;
        }
        return out;
    }

    void predict() {
        for (auto& svc : inc().services) {
            if (svc.started_at == 0 || svc.recovered_at != 0 || svc.breached ||
                svc.breach_predicted) {
                cancel("predict:" + svc.id);
                continue;
            }
            auto p = projection(svc);
            if (!p)
                continue;
            const TimePoint projected = p->at(now_);
            const TimePoint deadline = svc.deadline();
            if (projected > deadline) {
                svc.breach_predicted = true;
                cancel("predict:" + svc.id);
                timeline("rto",
                         "RTO breach predicted for " + svc.name + ": projected recovery " +
                             format_timestamp_offset(projected, catalog_.utc_offset_minutes) +
                             " > deadline " +
                             format_timestamp_offset(deadline, catalog_.utc_offset_minutes),
                         {{"service", svc.id},
                          {"projected", format_timestamp(projected)},
                          {"deadline", format_timestamp(deadline)}});
                const json extra = {
                    {"service", {{"id", svc.id}, {"name", svc.name}}},
                    {"projected", format_timestamp_offset(projected, catalog_.utc_offset_minutes)}};
                bool any_rule = false;
                for (const auto& e : pb_.escalation) {
                    if (e.trigger == EscalationTrigger::kPredictedBreach) {
                        any_rule = true;
                        fire(e, e.id + ":" + svc.id, extra);
                    }
                }
                if (!any_rule) {
                    notify("rto", open_target(), "[RTO予測/PREDICTED BREACH] {{title}}",
                           "{{service.name}} の復旧見込み {{projected}} がRTOを超えます / "
                           "projected recovery passes the RTO",
                           extra);
                }
            } else if (p->d != kNever) {
                // The projection crosses the deadline at t = deadline - d if nothing changes.
                const TimePoint cross = deadline - p->d + 1;
                if (cross > now_) {
                    schedule("predict:" + svc.id, cross);
                } else {
                    cancel("predict:" + svc.id);
                }
            } else {
                cancel("predict:" + svc.id);
            }
        }
    }

    void resolve(const std::string& actor, const std::string& resolution) {
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
        std::vector<std::string> pending;
        for (const auto& [id, due] : i.timers)
            pending.push_back(id);
        for (const auto& id : pending)
            cancel(id);
        timeline("resolved", "resolved: " + resolution, {{"resolution", resolution}}, actor);
        notify("resolved", open_target(), "[解決/RESOLVED] {{title}}",
               "インシデント {{id}} は解決しました / resolved: {{resolution}}",
               {{"resolution", resolution}});
    }

    void settle() {
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

    // --- inputs ---------------------------------------------------------------------------
    void on_event(const Event& e) {
        Incident& i = inc();
        ++i.event_count;
        const std::string key = e.dedup_key.empty() ? e.id : e.dedup_key;
        AlertState& a = i.alerts[key];
        const std::string actor = "source:" + e.source;
        if (a.count == 0)
            a.first_seen = now_;
        a.source = e.source;
        a.last_seen = now_;
        switch (e.action) {
            case Action::kTrigger:
                ++a.count;
                a.resolved = false;
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
        if (e.classification && (!i.classification || *i.classification < *e.classification)) {
            i.classification = e.classification;
        }
        add_services(catalog_.impacted_services(e.assets),
                     pb_.rto_start == RtoStart::kDetection || i.acked_at != 0);
        if (e.action == Action::kTrigger && e.severity > i.severity)
            change_severity(e.severity, actor);
    }

    void acknowledge(const std::string& actor) {
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

    Result<Ok> on_command(const CommandInput& in) {
        const Command& c = in.command;
        if (in.permission < required_permission(c.verb)) {
            return Error{ErrorCode::kForbidden,
                         "`" + std::string(to_string(c.verb)) + "` needs the " +
                             (required_permission(c.verb) == Permission::kCommander ? "commander"
                                                                                    : "responder") +
                             " role",
                         ""};
        }
        if (!c.changes_state())
            return Ok{};
        Incident& i = inc();
        if (!i.open() && c.verb != Verb::kNote) {
            return Error{ErrorCode::kConflict, "incident " + i.id + " is resolved", ""};
        }
        const std::string& actor = in.actor;
        const Step* step = nullptr;
        if (!c.step.empty()) {
            step = pb_.step(c.step);
            if (step == nullptr) {
                std::vector<std::string> ids;
                for (const auto& s : pb_.steps)
                    ids.push_back(s.id);
                return Error{ErrorCode::kNotFound,
                             "unknown step '" + c.step + "' (steps: " + join(ids, ", ") + ")", ""};
            }
        }
        const json audit = {{"command", format_command(c)}};
        switch (c.verb) {
            case Verb::kAck:
                if (i.status != IncidentStatus::kTriggered)
                    return Error{ErrorCode::kConflict, "already acknowledged by " + i.acked_by, ""};
                acknowledge(actor);
                break;
            case Verb::kAssign: {
                StepState& st = i.steps[step->id];
                const std::string before = st.assignee;
                st.assignee = c.arg;
                timeline("command", "assigned " + step->id + " to " + c.arg,
                         {{"command", format_command(c)},
                          {"step", step->id},
                          {"before", before},
                          {"after", c.arg}},
                         actor);
                break;
            }
            case Verb::kDone:
            case Verb::kSkip:
            case Verb::kFail:
            case Verb::kDecide: {
                StepState& st = i.steps[step->id];
                if (st.status == StepStatus::kDone || st.status == StepStatus::kSkipped) {
                    return Error{
                        ErrorCode::kConflict,
                        "step " + step->id + " is already " + std::string(to_string(st.status)),
                        ""};
                }
                if (c.verb == Verb::kDecide) {
                    if (step->type != StepType::kDecision)
                        return Error{ErrorCode::kInvalidCommand, step->id + " is not a decision",
                                     ""};
                    if (std::find(step->options.begin(), step->options.end(), c.arg) ==
                        step->options.end()) {
                        return Error{ErrorCode::kInvalidCommand,
                                     "unknown option '" + c.arg +
                                         "' (options: " + join(step->options, ", ") + ")",
                                     ""};
                    }
                }
                if (c.verb == Verb::kDone && step->type == StepType::kDecision) {
                    return Error{ErrorCode::kInvalidCommand,
                                 step->id + " is a decision: use `decide " + step->id + " <" +
                                     join(step->options, "|") + ">`",
                                 ""};
                }
                if (c.verb != Verb::kSkip && st.status == StepStatus::kPending) {
                    std::vector<std::string> waiting;
                    for (const auto& d : step->after) {
                        if (!i.steps[d].finished())
                            waiting.push_back(d);
                    }
                    return Error{ErrorCode::kConflict,
                                 "step " + step->id +
                                     " has not started (waiting for: " + join(waiting, ", ") + ")",
                                 ""};
                }
                if (c.verb == Verb::kFail && st.status != StepStatus::kActive) {
                    return Error{ErrorCode::kConflict, "step " + step->id + " is not active", ""};
                }
                if (c.verb == Verb::kDecide)
                    st.decision = c.arg;
                const StepStatus to = c.verb == Verb::kSkip   ? StepStatus::kSkipped
                                      : c.verb == Verb::kFail ? StepStatus::kFailed
                                                              : StepStatus::kDone;
                finish_step(*step, to, c.verb == Verb::kDecide ? "decided " + c.arg : c.arg, actor);
                tr_.timeline.back().data["command"] = format_command(c);
                break;
            }
            case Verb::kNote:
                timeline("note", c.arg, audit, actor);
                break;
            case Verb::kSeverity: {
                const Severity to = *parse_severity(c.arg);
                if (to == i.severity)
                    return Error{ErrorCode::kConflict, "severity is already " + c.arg, ""};
                change_severity(to, actor);
                break;
            }
            case Verb::kEscalate: {
                NotifyTarget target;
                if (!c.arg.empty()) {
                    if (catalog_.role(c.arg) == nullptr &&
                        std::find(pb_.roles.begin(), pb_.roles.end(), c.arg) == pb_.roles.end()) {
                        return Error{ErrorCode::kNotFound, "unknown role '" + c.arg + "'", ""};
                    }
                    target.roles = {c.arg};
                } else {
                    target.roles =
                        pb_.manual_escalation.empty() ? pb_.roles : pb_.manual_escalation;
                }
                timeline("escalation", "manual escalation to " + join(target.roles, ","),
                         {{"command", format_command(c)}, {"roles", target.roles}}, actor);
                notify("escalation", target, "[エスカレーション/ESCALATION] {{title}}",
                       "{{actor}} がエスカレーションしました / escalated by {{actor}} ({{id}})",
                       {{"actor", actor}});
                break;
            }
            case Verb::kResolve:
                resolve(actor, c.arg);
                break;
            case Verb::kStatus:
            case Verb::kTimeline:
            case Verb::kHelp:
                break;
        }
        return Ok{};
    }

    void on_timer(const std::string& id, TimePoint due) {
        Incident& i = inc();
        auto it = i.timers.find(id);
        // Cancelled, already fired or moved to another time: a timer never fires twice.
        if (it == i.timers.end() || (due != 0 && it->second != due))
            return;
        i.timers.erase(it);
        tr_.changed = true;
        const auto colon = id.find(':');
        const std::string kind = id.substr(0, colon);
        const std::string rest = colon == std::string::npos ? "" : id.substr(colon + 1);
        if (kind == "due") {
            const Step* s = pb_.step(rest);
            if (s == nullptr || i.steps[rest].status != StepStatus::kActive)
                return;
            timeline("overdue", "step overdue: " + s->id + " (" + s->title + ")",
                     {{"step", s->id}});
            const json extra = {
                {"step", {{"id", s->id}, {"title", s->title}, {"owner", s->owner}}}};
            for (const auto& e : pb_.escalation) {
                if (e.trigger != EscalationTrigger::kOverdue)
                    continue;
                if (!e.steps.empty() &&
                    std::find(e.steps.begin(), e.steps.end(), s->id) == e.steps.end())
                    continue;
                fire(e, e.id + ":" + s->id, extra);
            }
        } else if (kind == "wait") {
            const Step* s = pb_.step(rest);
            if (s != nullptr && i.steps[rest].status == StepStatus::kActive)
                finish_step(*s, StepStatus::kDone, "waited", "sonae");
        } else if (kind == "esc") {
            const auto c2 = rest.find(':');
            const std::string rule = rest.substr(0, c2);
            const std::string service = c2 == std::string::npos ? "" : rest.substr(c2 + 1);
            for (const auto& e : pb_.escalation) {
                if (e.id != rule)
                    continue;
                if (service.empty()) {
                    fire(e, e.id);
                } else if (const ServiceClock* svc = i.service(service);
                           svc != nullptr && svc->recovered_at == 0) {
                    fire(e, e.id + ":" + service,
                         {{"service",
                           {{"id", svc->id},
                            {"name", svc->name},
                            {"rto", format_duration(svc->rto)}}},
                          {"fraction", e.fraction}});
                }
            }
        } else if (kind == "rto") {
            ServiceClock* svc = i.service(rest);
            if (svc == nullptr || svc->recovered_at != 0)
                return;
            svc->breached = true;
            timeline("rto", "RTO breached: " + svc->name + " (" + format_duration(svc->rto) + ")",
                     {{"service", svc->id}, {"rto_seconds", svc->rto / kSecond}});
            notify("rto", open_target(), "[RTO超過/RTO BREACHED] {{title}}",
                   "{{service.name}} の目標復旧時間 {{service.rto}} を超過しました / RTO breached",
                   {{"service",
                     {{"id", svc->id}, {"name", svc->name}, {"rto", format_duration(svc->rto)}}}});
        }
        // predict:<service> needs nothing here: settle() re-projects after every input.
    }

    void on_action_result(const ActionResultInput& r) {
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

    // --- open -----------------------------------------------------------------------------
    void open(const Event& e, const std::string& id) {
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
        timeline("opened", "opened from " + e.source + " with playbook " + pb_.id,
                 {{"playbook", pb_.id}, {"version", pb_.version}, {"event", e.id}},
                 "source:" + e.source);
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
        for (const auto& esc : pb_.escalation) {
            if (esc.trigger == EscalationTrigger::kAfter) {
                schedule("esc:" + esc.id, now_ + esc.after);
            } else if (esc.trigger == EscalationTrigger::kAtTime) {
                const Duration offset = Duration{catalog_.utc_offset_minutes} * kMinute;
                const TimePoint local = now_ + offset;
                TimePoint at =
                    (local - (local % kDay + kDay) % kDay) + esc.minute_of_day * kMinute - offset;
                if (at <= now_)
                    at += kDay;
                schedule("esc:" + esc.id, at);
            }
        }
        notify("opened", open_target(), "[{{severity}}] {{title}}",
               "インシデント {{id}} を起票しました / incident opened\n"
               "プレイブック/playbook: {{playbook_title}}\n影響業務/services: "
               "{{services_text}}\n資産/assets: {{hosts}}");
        fire_severity_rules();
    }

  private:
    const Playbook& pb_;
    const Catalog& catalog_;
    Transition& tr_;
    TimePoint now_;
};

}  // namespace

std::vector<std::string> incident_field(const Incident& i, const std::string& field) {
    if (field == "category")
        return {std::string(to_string(i.category))};
    if (field == "severity")
        return {std::string(to_string(i.severity))};
    if (field == "status")
        return {std::string(to_string(i.status))};
    if (field == "title")
        return {i.title};
    if (field == "exercise")
        return {i.exercise ? "true" : "false"};
    if (field == "classification") {
        if (i.classification)
            return {std::string(to_string(*i.classification))};
        return {};
    }
    if (field == "services") {
        std::vector<std::string> out;
        for (const auto& s : i.services)
            out.push_back(s.id);
        return out;
    }
    if (field == "sources") {
        std::set<std::string> out;
        for (const auto& [k, a] : i.alerts)
            out.insert(a.source);
        return {out.begin(), out.end()};
    }
    if (field.rfind("labels.", 0) == 0) {
        auto it = i.labels.find(field.substr(7));
        if (it != i.labels.end())
            return {it->second};
        return {};
    }
    if (field.rfind("assets.", 0) == 0) {
        const std::string part = field.substr(7);
        std::vector<std::string> out;
        for (const auto& a : i.assets) {
            const std::string& v = part == "host"   ? a.host
                                   : part == "ip"   ? a.ip
                                   : part == "user" ? a.user
                                                    : a.system;
            if (!v.empty())
                out.push_back(v);
        }
        return out;
    }
    return {};
}

std::string timer_member(const std::string& tenant, const std::string& incident,
                         const std::string& timer) {
    return tenant + "|" + incident + "|" + timer;
}

bool parse_timer_member(const std::string& member, std::string& tenant, std::string& incident,
                        std::string& timer) {
    const auto a = member.find('|');
    if (a == std::string::npos)
        return false;
    const auto b = member.find('|', a + 1);
    if (b == std::string::npos)
        return false;
    tenant = member.substr(0, a);
    incident = member.substr(a + 1, b - a - 1);
    timer = member.substr(b + 1);
    return !tenant.empty() && !incident.empty() && !timer.empty();
}

Engine::Engine(const PlaybookSet& playbooks, const Catalog& catalog)
    : playbooks_(playbooks), catalog_(catalog) {}

Result<Transition> Engine::open(const Event& event, const Playbook& playbook,
                                const std::string& incident_id, TimePoint now) const {
    Transition tr;
    Run run(playbook, catalog_, tr, now);
    run.open(event, incident_id);
    run.settle();
    tr.changed = true;
    return tr;
}

Result<Transition> Engine::apply(const Incident& incident, const Input& input,
                                 TimePoint now) const {
    const Playbook* pb = playbooks_.find(incident.playbook_id);
    if (pb == nullptr) {
        return Error{ErrorCode::kNotFound,
                     "playbook " + incident.playbook_id + " is no longer loaded", ""};
    }
    Transition tr;
    tr.incident = incident;
    Run run(*pb, catalog_, tr, now);
    if (const auto* e = std::get_if<EventInput>(&input)) {
        if (!incident.open())
            return Error{ErrorCode::kConflict, "incident " + incident.id + " is resolved", ""};
        run.on_event(e->event);
    } else if (const auto* c = std::get_if<CommandInput>(&input)) {
        if (auto r = run.on_command(*c); !r)
            return r.error();
    } else if (const auto* t = std::get_if<TimerInput>(&input)) {
        run.on_timer(t->timer_id, t->due);
    } else if (const auto* a = std::get_if<ActionResultInput>(&input)) {
        run.on_action_result(*a);
    }
    if (tr.changed && tr.incident.open())
        run.settle();
    return tr;
}

std::vector<Projection> Engine::project(const Incident& incident, TimePoint now) const {
    std::vector<Projection> out;
    const Playbook* pb = playbooks_.find(incident.playbook_id);
    if (pb == nullptr)
        return out;
    Transition tr;
    tr.incident = incident;
    Run run(*pb, catalog_, tr, now);
    for (const auto& svc : incident.services) {
        Projection p;
        p.service = svc.id;
        p.deadline = svc.deadline();
        p.recovered = svc.recovered_at != 0;
        if (!p.recovered && svc.started_at != 0) {
            if (auto f = run.projection(svc))
                p.projected = f->at(now);
        }
        out.push_back(p);
    }
    return out;
}

json to_json(const Notification& n) {
    json j = {{"id", n.id},
              {"tenant", n.tenant},
              {"incident", n.incident_id},
              {"kind", n.kind},
              {"title", n.title},
              {"text", n.text},
              {"redacted_title", n.redacted_title},
              {"redacted_text", n.redacted_text},
              {"roles", n.roles},
              {"channels", n.channels},
              {"severity", to_string(n.severity)},
              {"exercise", n.exercise},
              {"at", format_timestamp(n.at)}};
    if (n.classification)
        j["classification"] = to_string(*n.classification);
    return j;
}

Notification notification_from_json(const json& j) {
    Notification n;
    n.id = j.at("id").get<std::string>();
    n.tenant = j.value("tenant", "default");
    n.incident_id = j.value("incident", "");
    n.kind = j.value("kind", "");
    n.title = j.value("title", "");
    n.text = j.value("text", "");
    n.redacted_title = j.value("redacted_title", n.title);
    n.redacted_text = j.value("redacted_text", n.text);
    n.roles = j.value("roles", std::vector<std::string>{});
    n.channels = j.value("channels", std::vector<std::string>{});
    n.severity = parse_severity(j.value("severity", "medium")).value_or(Severity::kMedium);
    if (auto it = j.find("classification"); it != j.end())
        n.classification = parse_classification(it->get<std::string>());
    n.exercise = j.value("exercise", false);
    n.at = parse_timestamp(j.value("at", "")).value_or(0);
    return n;
}

json to_json(const HttpAction& a) {
    return {{"id", a.id},           {"tenant", a.tenant},    {"incident", a.incident_id},
            {"step", a.step},       {"method", a.method},    {"url", a.url},
            {"headers", a.headers}, {"body", a.body},        {"timeout_ms", a.timeout},
            {"retries", a.retries}, {"exercise", a.exercise}};
}

HttpAction http_action_from_json(const json& j) {
    HttpAction a;
    a.id = j.at("id").get<std::string>();
    a.tenant = j.value("tenant", "default");
    a.incident_id = j.value("incident", "");
    a.step = j.value("step", "");
    a.method = j.value("method", "POST");
    a.url = j.value("url", "");
    a.headers = j.value("headers", std::map<std::string, std::string>{});
    a.body = j.value("body", "");
    a.timeout = j.value("timeout_ms", Duration{10000});
    a.retries = j.value("retries", 3);
    a.exercise = j.value("exercise", false);
    return a;
}

}  // namespace sonae::core
