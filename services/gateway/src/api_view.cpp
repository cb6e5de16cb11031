#include "api_view.hpp"

#include <algorithm>
#include <charconv>

namespace sonae::gateway::api {
namespace {

using nlohmann::json;

core::Error bad_param(const std::string& name, const std::string& why) {
    return core::Error::invalid_field(name, "query parameter '" + name + "': " + why);
}

json seconds(core::Duration d) {
    return d / 1000;
}

}  // namespace

bool valid_role(std::string_view role) {
    return role == "viewer" || role == "responder" || role == "commander" || role == "admin" ||
           role == "prefecture";
}

bool valid_tenant(std::string_view tenant) {
    if (tenant.empty() || tenant.size() > 63)
        return false;
    return std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

std::optional<std::string> bearer_token(std::string_view authorization) {
    constexpr std::string_view kScheme = "bearer ";
    if (authorization.size() <= kScheme.size())
        return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i])
            return std::nullopt;
    }
    std::string token(authorization.substr(kScheme.size()));
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.pop_back();
    while (!token.empty() && token.front() == ' ')
        token.erase(0, 1);
    if (token.empty())
        return std::nullopt;
    return token;
}

bool IncidentFilter::matches(const core::Incident& i) const {
    if (i.exercise && !exercise)
        return false;
    if (status) {
        if (*status == "open" ? !i.open() : core::to_string(i.status) != *status)
            return false;
    }
    if (!severities.empty() &&
        std::find(severities.begin(), severities.end(), i.severity) == severities.end())
        return false;
    if (service && i.service(*service) == nullptr)
        return false;
    return i.opened_at >= since;
}

core::Result<IncidentFilter> parse_incident_filter(const std::map<std::string, std::string>& q) {
    IncidentFilter f;
    for (const auto& [name, value] : q) {
        if (name == "status") {
            if (value != "triggered" && value != "acknowledged" && value != "resolved" &&
                value != "open")
                return bad_param(name, "one of triggered, acknowledged, resolved, open");
            f.status = value;
        } else if (name == "severity") {
            std::size_t start = 0;
            while (start <= value.size()) {
                const auto comma = std::min(value.find(',', start), value.size());
                auto s = core::parse_severity(value.substr(start, comma - start));
                if (!s)
                    return bad_param(name, "severities are critical, high, medium, low, info");
                f.severities.push_back(*s);
                start = comma + 1;
            }
        } else if (name == "service") {
            if (value.empty())
                return bad_param(name, "a business service id");
            f.service = value;
        } else if (name == "since") {
            auto t = core::parse_timestamp(value);
            if (!t)
                return bad_param(name, "an RFC 3339 time such as 2026-04-01T09:00:00+09:00");
            f.since = *t;
        } else if (name == "exercise") {
            if (value != "true" && value != "false")
                return bad_param(name, "true or false");
            f.exercise = value == "true";
        } else if (name == "tenant") {
            if (!valid_tenant(value))
                return bad_param(name, "a tenant name ([a-z0-9-])");
            f.tenant = value;
        } else if (name == "limit") {
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size() || n < 1 || n > 200)
                return bad_param(name, "a number from 1 to 200");
            f.limit = n;
        } else if (name == "cursor") {
            f.after = decode_cursor(value);
            if (!f.after)
                return bad_param(name, "the next_cursor of a previous page");
        } else {
            return bad_param(name, "unknown parameter");
        }
    }
    return f;
}

// "<opened ms>~<id>": URL-safe as it is ('~' is unreserved, ids are [A-Za-z0-9.-]).
std::string encode_cursor(core::TimePoint opened, const std::string& id) {
    return std::to_string(opened) + "~" + id;
}

std::optional<std::pair<core::TimePoint, std::string>> decode_cursor(const std::string& cursor) {
    const auto bar = cursor.find('~');
    if (bar == std::string::npos || bar + 1 >= cursor.size())
        return std::nullopt;
    core::TimePoint t = 0;
    const auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + bar, t);
    if (ec != std::errc{} || end != cursor.data() + bar)
        return std::nullopt;
    std::string id = cursor.substr(bar + 1);
    if (!core::tenant_of_incident(id))
        return std::nullopt;
    return std::make_pair(t, std::move(id));
}

bool newer(const std::pair<core::TimePoint, std::string>& a,
           const std::pair<core::TimePoint, std::string>& b) {
    return a.first != b.first ? a.first > b.first : a.second > b.second;
}

json time_or_null(core::TimePoint t) {
    return t == 0 ? json(nullptr) : json(core::format_timestamp(t));
}

std::vector<std::string> escalations_of(const core::Incident& i, const std::string& service) {
    std::vector<std::string> out;
    const std::string suffix = ":" + service;
    for (const auto& key : i.fired) {
        if (key.size() > suffix.size() &&
            key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(key.substr(0, key.size() - suffix.size()));
    }
    return out;
}

std::optional<double> first_threshold(const core::Playbook* playbook) {
    std::optional<double> out;
    if (playbook == nullptr)
        return out;
    for (const auto& e : playbook->escalation) {
        if (e.trigger == core::EscalationTrigger::kRtoFraction && (!out || e.fraction < *out))
            out = e.fraction;
    }
    return out;
}

json service_clock(const core::ServiceClock& s, const core::Incident& i, core::TimePoint now,
                   std::optional<double> threshold) {
    json j = {{"id", s.id},
              {"name", s.name},
              {"rto_seconds", seconds(s.rto)},
              {"started_at", time_or_null(s.started_at)},
              {"recovered_at", time_or_null(s.recovered_at)},
              {"deadline", s.started_at == 0 ? json(nullptr) : time_or_null(s.deadline())},
              {"time_left_seconds", nullptr},
              {"breached", s.breached},
              {"breach_predicted", s.breach_predicted},
              {"escalations", escalations_of(i, s.id)},
              {"threshold", threshold ? json(*threshold) : json()},
              {"threshold_left_seconds", nullptr}};
    std::string state = "not_started";
    if (s.recovered_at != 0) {
        state = "recovered";
    } else if (s.started_at != 0) {
        const core::Duration left = s.deadline() - now;
        j["time_left_seconds"] = seconds(left);
        state = (s.breached || left < 0) ? "breached" : "running";
        if (threshold) {
            const auto at =
                s.started_at + static_cast<core::Duration>(*threshold * static_cast<double>(s.rto));
            j["threshold_left_seconds"] = seconds(at - now);
        }
        if (!i.open()) {
            j["time_left_seconds"] = nullptr;
            j["threshold_left_seconds"] = nullptr;
        }
    }
    j["state"] = state;
    return j;
}

json incident_summary(const core::Incident& i, core::TimePoint now,
                      const core::Playbook* playbook) {
    json services = json::array();
    const auto threshold = first_threshold(playbook);
    for (const auto& s : i.services) {
        json c = service_clock(s, i, now, threshold);
        services.push_back({{"id", s.id},
                            {"name", s.name},
                            {"state", c["state"]},
                            {"rto_seconds", c["rto_seconds"]},
                            {"time_left_seconds", c["time_left_seconds"]},
                            {"threshold_left_seconds", c["threshold_left_seconds"]},
                            {"breach_predicted", s.breach_predicted},
                            {"escalations", c["escalations"]}});
    }
    int active = 0;
    for (const auto& [id, st] : i.steps)
        active += st.status == core::StepStatus::kActive ? 1 : 0;
    return {
        {"id", i.id},
        {"tenant", i.tenant},
        {"title", i.title},
        {"status", core::to_string(i.status)},
        {"severity", core::to_string(i.severity)},
        {"category", core::to_string(i.category)},
        {"classification", i.classification ? json(core::to_string(*i.classification)) : json()},
        {"exercise", i.exercise},
        {"playbook", i.playbook_id},
        {"opened_at", time_or_null(i.opened_at)},
        {"acked_at", time_or_null(i.acked_at)},
        {"resolved_at", time_or_null(i.resolved_at)},
        {"active_steps", active},
        {"services", services}};
}

json incident_detail(const core::Incident& i, const core::Playbook* playbook, core::TimePoint now) {
    json j = incident_summary(i, now, playbook);
    j["playbook_version"] = i.playbook_version;
    j["playbook_title"] = playbook != nullptr ? json(playbook->title) : json();
    j["acked_by"] = i.acked_by.empty() ? json() : json(i.acked_by);
    j["resolved_by"] = i.resolved_by.empty() ? json() : json(i.resolved_by);
    j["resolution"] = i.resolution.empty() ? json() : json(i.resolution);
    j["event_count"] = i.event_count;
    j["labels"] = i.labels;
    json assets = json::array();
    for (const auto& a : i.assets) {
        json o = json::object();
        for (const auto& [k, v] : {std::pair<const char*, const std::string*>{"host", &a.host},
                                   {"ip", &a.ip},
                                   {"user", &a.user},
                                   {"system", &a.system}}) {
            if (!v->empty())
                o[k] = *v;
        }
        assets.push_back(o);
    }
    j["assets"] = assets;
    json alerts = json::array();
    for (const auto& [key, a] : i.alerts) {
        alerts.push_back({{"dedup_key", key},
                          {"source", a.source},
                          {"count", a.count},
                          {"resolved", a.resolved},
                          {"first_seen", time_or_null(a.first_seen)},
                          {"last_seen", time_or_null(a.last_seen)}});
    }
    j["alerts"] = alerts;
    j["group"] = i.group.empty() ? json() : json(i.group);
    j["asset_counts"] = i.asset_counts;  // alerts per asset (host, else ip, user, system)

    // Steps in the playbook's order (then any the playbook no longer has).
    std::vector<std::string> order;
    if (playbook != nullptr) {
        for (const auto& s : playbook->steps)
            order.push_back(s.id);
    }
    for (const auto& [id, st] : i.steps) {
        if (std::find(order.begin(), order.end(), id) == order.end())
            order.push_back(id);
    }
    json steps = json::array();
    for (const auto& id : order) {
        const core::Step* def = playbook != nullptr ? playbook->step(id) : nullptr;
        auto it = i.steps.find(id);
        const core::StepState st = it != i.steps.end() ? it->second : core::StepState{};
        const bool overdue =
            st.status == core::StepStatus::kActive && st.due_at != 0 && st.due_at < now;
        steps.push_back(
            {{"id", id},
             {"title", def != nullptr ? json(def->title) : json(id)},
             {"type", def != nullptr ? json(core::to_string(def->type)) : json("task")},
             {"owner", def != nullptr && !def->owner.empty() ? json(def->owner) : json()},
             {"after", def != nullptr ? json(def->after) : json::array()},
             {"status", core::to_string(st.status)},
             {"assignee", st.assignee.empty() ? json() : json(st.assignee)},
             {"activated_at", time_or_null(st.activated_at)},
             {"due_at", time_or_null(st.due_at)},
             {"finished_at", time_or_null(st.finished_at)},
             {"overdue", overdue},
             {"decision", st.decision.empty() ? json() : json(st.decision)},
             {"note", st.note.empty() ? json() : json(st.note)}});
    }
    j["steps"] = steps;
    json services = json::array();
    const auto threshold = first_threshold(playbook);
    for (const auto& s : i.services)
        services.push_back(service_clock(s, i, now, threshold));
    j["services"] = services;
    return j;
}

json playbook_view(const core::Playbook& p, const std::string& tenant) {
    json steps = json::array();
    for (const auto& s : p.steps) {
        steps.push_back({{"id", s.id},
                         {"title", s.title},
                         {"type", core::to_string(s.type)},
                         {"owner", s.owner.empty() ? json() : json(s.owner)},
                         {"due_seconds", s.due ? json(*s.due / 1000) : json()}});
    }
    return {{"tenant", tenant},       {"id", p.id},
            {"title", p.title},       {"description", p.description},
            {"version", p.version},   {"priority", p.priority},
            {"services", p.services}, {"roles", p.roles},
            {"steps", steps}};
}

json service_status(const std::string& tenant, const std::string& id, const core::Service* catalog,
                    const std::vector<const core::Incident*>& open, core::TimePoint now) {
    json incidents = json::array();
    json least = nullptr;
    bool breached = false;
    bool predicted = false;
    std::string name = catalog != nullptr ? catalog->name : id;
    core::Duration rto = catalog != nullptr ? catalog->rto : 0;
    std::string stage;
    core::TimePoint stage_at = 0;
    for (const core::Incident* i : open) {
        const core::ServiceClock* s = i->service(id);
        if (s == nullptr)
            continue;
        if (catalog == nullptr) {
            name = s->name;
            rto = s->rto;
        }
        json c = service_clock(*s, *i, now);
        if (c["time_left_seconds"].is_number() &&
            (least.is_null() ||
             c["time_left_seconds"].get<std::int64_t>() < least.get<std::int64_t>()))
            least = c["time_left_seconds"];
        breached = breached || c["state"] == "breached";
        predicted = predicted || s->breach_predicted;
        const auto fired = escalations_of(*i, id);
        // The stage of the incident furthest along (the one opened first among equals).
        if (!fired.empty() && (stage.empty() || i->opened_at < stage_at)) {
            stage = fired.back();
            stage_at = i->opened_at;
        }
        incidents.push_back({{"id", i->id},
                             {"severity", core::to_string(i->severity)},
                             {"state", c["state"]},
                             {"time_left_seconds", c["time_left_seconds"]},
                             {"escalations", fired}});
    }
    return {{"tenant", tenant},
            {"id", id},
            {"name", name},
            {"rto_seconds", seconds(rto)},
            {"open_incidents", incidents},
            {"time_left_seconds", least},
            {"breached", breached},
            {"breach_predicted", predicted},
            {"escalation_stage", stage.empty() ? json() : json(stage)}};
}

}  // namespace sonae::gateway::api
