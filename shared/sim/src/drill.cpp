#include <algorithm>

#include <sonae/sim/drill.hpp>

namespace sonae::sim {

nlohmann::json drill_plan(const Scenario& s) {
    using nlohmann::json;
    std::vector<json> items;
    for (const auto& in : s.injects) {
        if (!in.message.empty()) {
            items.push_back(
                {{"at", in.at}, {"kind", "message"}, {"text", in.message}, {"to", in.to}});
            continue;
        }
        json item = {{"at", in.at}, {"kind", "event"}, {"source", in.source}, {"event", in.event}};
        if (in.format)
            item["format"] = ingest::to_string(*in.format);
        items.push_back(std::move(item));
    }
    for (const auto& p : s.players) {
        items.push_back({{"at", p.at},
                         {"kind", "player"},
                         {"as", p.as},
                         {"permission", core::to_string(p.permission)},
                         {"command", p.command},
                         {"incident", p.incident}});
    }
    // Injects before players at the same moment, as the simulator orders them.
    std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
        return a["at"].get<core::Duration>() < b["at"].get<core::Duration>();
    });
    return json(items);
}

Record record_from_timeline(const core::Incident& incident,
                            const std::vector<nlohmann::json>& timeline) {
    Record r;
    r.incident = incident;
    for (const auto& j : timeline) {
        core::TimelineEntry e;
        e.at = core::parse_timestamp(j.value("at", "")).value_or(0);
        e.kind = j.value("kind", "");
        e.actor = j.value("actor", "");
        e.text = j.value("text", "");
        e.data = j.value("data", nlohmann::json::object());
        if (e.kind == "escalation" && e.data.contains("key"))
            r.escalations.emplace(e.data["key"].get<std::string>(), e.at);  // the first firing
        if (e.kind == "notification") {
            // "notification <kind> to <role>,<role>[ #<channel>,...]" (engine/effects.cpp)
            core::Notification n;
            n.id = e.data.value("notification", "");
            n.at = e.at;
            n.incident_id = incident.id;
            n.tenant = incident.tenant;
            const auto to = e.text.find(" to ");
            if (to != std::string::npos) {
                std::string roles = e.text.substr(to + 4);
                roles = roles.substr(0, roles.find(" #"));
                for (std::size_t start = 0; start < roles.size();) {
                    const auto comma = std::min(roles.find(',', start), roles.size());
                    if (comma > start)
                        n.roles.push_back(roles.substr(start, comma - start));
                    start = comma + 1;
                }
            }
            r.notifications.push_back(std::move(n));
        }
        r.timeline.push_back(std::move(e));
    }
    return r;
}

}  // namespace sonae::sim
