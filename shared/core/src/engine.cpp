// The engine's entry points; what a Run does lives in engine/*.cpp (see engine/run.hpp).
#include <algorithm>
#include <set>
#include <tuple>

#include <sonae/core/engine.hpp>

#include "engine/run.hpp"

namespace sonae::core {

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

Engine::Engine(const PlaybookSet& playbooks, const Catalog& catalog, const Messages& messages)
    : playbooks_(playbooks), catalog_(catalog), messages_(messages) {
    // Every text rendered while applying inputs, compiled once.
    for (const auto& [key, text] : messages_.all())
        templates_.add(text);
    for (const auto& pb : playbooks_.all()) {
        for (const auto& e : pb.escalation)
            templates_.add(e.message);
        for (const auto& s : pb.steps) {
            templates_.add(s.message);
            templates_.add(s.http.url);
            templates_.add(s.http.body);
            for (const auto& [k, h] : s.http.headers)
                templates_.add(h);
        }
    }
}

Selection Engine::choose(const Event& event) const {
    if (const Playbook* p = playbooks_.match(event))
        return {p, "match", "", "its match conditions hold for the alert"};
    // The impacted services, most important first: priority, then the shorter RTO, then id.
    std::vector<const Service*> services;
    for (const auto& id : catalog_.impacted_services(event.assets)) {
        if (const Service* s = catalog_.service(id))
            services.push_back(s);
    }
    std::sort(services.begin(), services.end(), [](const Service* a, const Service* b) {
        return std::tie(a->priority, a->rto, a->id) < std::tie(b->priority, b->rto, b->id);
    });
    for (const Service* s : services) {
        if (s->playbook.empty())
            continue;
        if (const Playbook* p = playbooks_.find(s->playbook)) {
            return {p, "service", s->id,
                    "no playbook matches the alert; the catalog names it for the impacted "
                    "service " +
                        s->name + " (" + s->id + ")"};
        }
    }
    const std::string& d = playbooks_.default_id();
    if (const Playbook* p = d.empty() ? nullptr : playbooks_.find(d))
        return {p, "default", "", "no playbook matches the alert or its impacted services"};
    return {};
}

std::optional<Grouping> Engine::grouping(const Event& event, const Playbook& playbook) const {
    const Correlation* rule = playbook.correlate   ? &*playbook.correlate
                              : catalog_.correlate ? &*catalog_.correlate
                                                   : nullptr;
    if (rule == nullptr)
        return std::nullopt;
    // "by=value" pairs in the rule's order; a playbook's rule groups that playbook's incidents,
    // the catalog's groups across playbooks.
    std::string key = playbook.correlate ? "pb=" + playbook.id : std::string("catalog");
    auto first_asset = [&] {
        for (const auto& a : event.assets) {
            for (const std::string* v : {&a.host, &a.ip, &a.user, &a.system}) {
                if (!v->empty())
                    return *v;
            }
        }
        return std::string();
    };
    for (const auto& field : rule->by) {
        std::string value;
        if (field == "service") {
            value = detail::join(catalog_.impacted_services(event.assets), ",");
        } else if (field == "system") {
            value = detail::join(catalog_.impacted_systems(event.assets), ",");
        } else if (field == "asset") {
            value = first_asset();
        } else {
            value = detail::join(event_field(event, field), ",");
        }
        key += ";" + field + "=" + value;
    }
    return Grouping{key, rule->window};
}

Result<Transition> Engine::open(const Event& event, const Playbook& playbook,
                                const std::string& incident_id, TimePoint now,
                                const OpenContext& context) const {
    Transition tr;
    detail::Run run(*this, playbook, tr, now);
    run.open(event, incident_id, context);
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
    detail::Run run(*this, *pb, tr, now);
    if (const auto* e = std::get_if<EventInput>(&input)) {
        if (!incident.open())
            return Error{ErrorCode::kConflict, "incident " + incident.id + " is resolved", ""};
        run.on_event(e->event, e->group);
    } else if (const auto* c = std::get_if<CommandInput>(&input)) {
        if (auto r = run.on_command(*c); !r)
            return r.error();
    } else if (const auto* t = std::get_if<TimerInput>(&input)) {
        run.on_timer(t->timer, t->due);
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
    detail::Run run(*this, *pb, tr, now);
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

}  // namespace sonae::core
