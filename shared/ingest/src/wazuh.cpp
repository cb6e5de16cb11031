// Wazuh alerts as written by integratord (alert_format json) or read from alerts.json.
#include <cmath>
#include <string>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;
using core::Severity;

// Wazuh's own dashboard bands (low 0-6, medium 7-11, high 12-14, critical 15+), with levels
// 0-3 (ignored, system notices, successful logins) split off as info.
Severity severity_of_level(int level) {
    if (level <= 3) {
        return Severity::kInfo;
    }
    if (level <= 6) {
        return Severity::kLow;
    }
    if (level <= 11) {
        return Severity::kMedium;
    }
    if (level <= 14) {
        return Severity::kHigh;
    }
    return Severity::kCritical;
}

}  // namespace

Events adapt_wazuh(const json& body, const AdaptContext& ctx) {
    if (!body.is_object()) {
        return Error::invalid_field("", "the alert must be a JSON object");
    }
    const json* rule = member(body, "rule");
    if (rule == nullptr || !rule->is_object()) {
        return Error::invalid_field("/rule", "/rule: required object");
    }
    const auto level = number(member(*rule, "level"));
    if (!level || *level < 0 || *level > 16 || std::floor(*level) != *level) {
        return Error::invalid_field("/rule/level", "/rule/level: must be an integer from 0 to 16");
    }
    core::Event e;
    e.severity = severity_of_level(static_cast<int>(*level));

    const std::string rule_id = text(member(*rule, "id"));
    const std::string description = text(member(*rule, "description"));
    e.title = description.empty() ? "Wazuh rule " + rule_id : description;
    e.occurred_at = timestamp(member(body, "timestamp"));
    if (!e.occurred_at) {
        e.occurred_at = timestamp(member(body, "@timestamp"));
    }

    const json* agent = member(body, "agent");
    const std::string agent_id = text(agent ? member(*agent, "id") : nullptr);
    const std::string agent_name = text(agent ? member(*agent, "name") : nullptr);
    // Same shape as the dedup keys of Wazuh's PagerDuty integration, so that an alert reaching
    // us both ways lands in one incident.
    e.dedup_key = "wazuh-" + (rule_id.empty() ? description : rule_id) + "-" +
                  (!agent_name.empty() ? agent_name
                   : !agent_id.empty() ? agent_id
                                       : "manager");

    const json* mitre = member(*rule, "mitre");
    const json* data = member(body, "data");
    const std::string srcip = text(data ? member(*data, "srcip") : nullptr);
    e.category = infer_category(
        text(member(*rule, "groups")) + "\n" + text(mitre ? member(*mitre, "id") : nullptr) + "\n" +
        text(mitre ? member(*mitre, "technique") : nullptr) + "\n" +
        text(mitre ? member(*mitre, "tactic") : nullptr) + "\n" + description);

    core::Asset asset;
    asset.host = agent_name;
    const std::string agent_ip = text(agent ? member(*agent, "ip") : nullptr);
    if (looks_like_ip(agent_ip)) {
        asset.ip = agent_ip;
    }
    asset.user = text(data ? member(*data, "dstuser") : nullptr);
    add_asset(e, std::move(asset));
    // Agentless syslog arrives through the manager: the device is the predecoded hostname.
    if (const auto host = text(member_path(body, {"predecoder", "hostname"}));
        !host.empty() && host != agent_name) {
        core::Asset device;
        set_host_or_ip(device, host);
        add_asset(e, std::move(device));
    }
    // A private source address is one of ours (lateral movement); a public one is the attacker
    // and stays a label.
    if (is_private_ip(srcip)) {
        add_asset(e, core::Asset{"", srcip, "", ""});
    }

    add_label(e, "rule.id", rule_id);
    add_label(e, "rule.level", member(*rule, "level"));
    add_label(e, "rule.groups", member(*rule, "groups"));
    if (mitre != nullptr) {
        add_label(e, "rule.mitre.id", member(*mitre, "id"));
        add_label(e, "rule.mitre.tactic", member(*mitre, "tactic"));
        add_label(e, "rule.mitre.technique", member(*mitre, "technique"));
    }
    add_label(e, "agent.id", agent_id);
    add_label(e, "manager.name", member_path(body, {"manager", "name"}));
    add_label(e, "decoder.name", member_path(body, {"decoder", "name"}));
    add_label(e, "location", member(body, "location"));
    add_label(e, "id", member(body, "id"));
    add_label(e, "data.srcip", srcip);
    if (data != nullptr) {
        add_label(e, "data.srcuser", member(*data, "srcuser"));
        add_label(e, "data.dstuser", member(*data, "dstuser"));
    }
    add_label(e, "syscheck.path", member_path(body, {"syscheck", "path"}));
    if (mitre != nullptr) {
        add_mitre_labels(e, text(member(*mitre, "id")), text(member(*mitre, "tactic")));
    }

    e.raw = body;
    finish(e, ctx, "Wazuh alert");
    std::vector<core::Event> out;
    out.push_back(std::move(e));
    return out;
}

}  // namespace sonae::ingest::detail
