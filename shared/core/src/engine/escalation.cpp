// Escalation rules (PRODUCT §6): each fires at most once per key, and severity changes.
#include "run.hpp"

namespace sonae::core::detail {

void Run::fire(const Escalation& e, const std::string& key, const json& extra) {
    if (inc().fired.count(key) != 0)
        return;
    if (!holds(e.when))
        return;
    inc().fired.insert(key);
    timeline("escalation", "escalation " + e.id + " → " + join(e.notify.roles, ","),
             {{"escalation", e.id}, {"key", key}, {"roles", e.notify.roles}});
    json ex = extra;
    ex["escalation"] = e.id;
    notify("escalation", e.notify, msg("escalation.title"),
           e.message.empty() ? msg("escalation.text") : e.message, ex);
}

void Run::fire_severity_rules() {
    for (const auto& e : pb_.escalation) {
        if (e.trigger == EscalationTrigger::kSeverity && inc().severity >= e.severity) {
            fire(e, e.id);
        }
    }
}

void Run::count_assets(const std::vector<Asset>& assets) {
    auto& counts = inc().asset_counts;
    for (const auto& a : assets) {
        const std::string& name = !a.host.empty()   ? a.host
                                  : !a.ip.empty()   ? a.ip
                                  : !a.user.empty() ? a.user
                                                    : a.system;
        if (name.empty())
            continue;
        if (auto it = counts.find(name); it != counts.end()) {
            ++it->second;
        } else if (counts.size() < kMaxCountedAssets) {
            counts.emplace(name, 1);
        }
    }
    fire_asset_rules();
}

void Run::fire_asset_rules() {
    const std::size_t n = inc().asset_counts.size();
    for (const auto& e : pb_.escalation) {
        if (e.trigger == EscalationTrigger::kAssets && n >= static_cast<std::size_t>(e.assets))
            fire(e, e.id, {{"assets", n}});
    }
}

void Run::change_severity(Severity to, const std::string& actor) {
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
        notify("severity", target, msg("severity.title"), msg("severity.text"),
               {{"from", to_string(from)}});
        fire_severity_rules();
    }
}

}  // namespace sonae::core::detail
