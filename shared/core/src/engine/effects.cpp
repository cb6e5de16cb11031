// Effects of a Run: timeline entries, timer changes, notifications, and the view templates see.
#include <algorithm>

#include "run.hpp"

namespace sonae::core::detail {
namespace {

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

}  // namespace

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? sep : "") + v[i];
    return out;
}

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& x : from) {
        if (std::find(to.begin(), to.end(), x) == to.end())
            to.push_back(x);
    }
}

void Run::timeline(const std::string& kind, const std::string& text, json data,
                   const std::string& actor) {
    tr_.timeline.push_back(TimelineEntry{now_, kind, actor, text, std::move(data)});
    ++inc().timeline_seq;
    tr_.changed = true;
}

void Run::schedule(const TimerId& id, TimePoint due) {
    auto it = inc().timers.find(id);
    if (it != inc().timers.end() && it->second == due)
        return;
    inc().timers[id] = due;
    tr_.timers.push_back(TimerChange{id, due, false});
    tr_.changed = true;
}

void Run::cancel(const TimerId& id) {
    if (inc().timers.erase(id) > 0) {
        tr_.timers.push_back(TimerChange{id, 0, true});
        tr_.changed = true;
    }
}

std::string Run::render(const std::string& tmpl, const json& v) const {
    return engine_.templates().render(tmpl, TemplateView(v));
}

json Run::view(bool redacted, const json& extra) {
    const Incident& i = inc();
    json services = json::array();
    std::vector<std::string> service_names;
    for (const auto& s : i.services) {
        services.push_back(
            {{"id", s.id},
             {"name", s.name},
             {"rto", format_duration(s.rto)},
             {"deadline", s.started_at
                              ? format_timestamp_offset(s.deadline(), catalog_.utc_offset_minutes)
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
        assets.push_back({{"host", a.host}, {"ip", a.ip}, {"user", a.user}, {"system", a.system}});
    }
    const std::string cls = i.classification ? std::string(to_string(*i.classification)) : "";
    json v = {
        {"id", i.id},
        {"tenant", i.tenant},
        {"title", redacted ? render(msg("redacted_title"), {{"classification", cls}, {"id", i.id}})
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

void Run::notify(const std::string& kind, const NotifyTarget& target, const std::string& title_tmpl,
                 const std::string& text_tmpl, const json& extra) {
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
    const TemplateSet& templates = engine_.templates();
    const TemplateView full(view(false, extra));
    const TemplateView red(view(true, extra));
    const std::string prefix = i.exercise ? msg("exercise_prefix") : "";
    n.title = prefix + templates.render(title_tmpl, full);
    n.text = templates.render(text_tmpl, full);
    n.redacted_title = prefix + templates.render(title_tmpl, red);
    n.redacted_text = templates.render(text_tmpl, red);
    tr_.notifications.push_back(std::move(n));
    tr_.changed = true;
    timeline("notification",
             "notification " + kind + " to " + join(target.roles, ",") +
                 (target.channels.empty() ? "" : " #" + join(target.channels, ",")),
             {{"notification", tr_.notifications.back().id}});
}

void Run::notify_step(const std::string& kind, const Step& s, const json& extra) {
    const StepState& st = inc().steps[s.id];
    json ex = extra;
    ex["step"] = {
        {"id", s.id},
        {"title", s.title},
        {"owner", s.owner},
        {"options", join(s.options, " / ")},
        {"due", st.due_at ? format_timestamp_offset(st.due_at, catalog_.utc_offset_minutes) : ""}};
    const NotifyTarget target = s.owner.empty() ? open_target() : NotifyTarget{{s.owner}, {}};
    notify(kind, target, msg((kind + ".title").c_str()), msg((kind + ".text").c_str()), ex);
    Notification& n = tr_.notifications.back();
    n.step = s.id;
    n.options = s.options;
}

NotifyTarget Run::open_target() const {
    if (!pb_.notify.empty())
        return pb_.notify;
    return NotifyTarget{pb_.roles, {}};
}

}  // namespace sonae::core::detail
