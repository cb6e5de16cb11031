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

}  // namespace sonae::sim
