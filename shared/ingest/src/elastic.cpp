// Elastic Security / Kibana alerts posted by a webhook connector. Admins write the body template,
// so ECS fields may come dotted-flat ("kibana.alert.rule.name"), nested, or mixed, and the alerts
// as an `alerts` array, one `alert` object, or the body itself.
#include <array>
#include <string>
#include <vector>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;
using core::Severity;

constexpr std::size_t kMaxSegments = 8;

const json* lookup(const json& obj, const std::vector<std::string_view>& segments,
                   std::size_t start) {
    if (!obj.is_object()) {
        return nullptr;
    }
    // Longest dotted key first: {"kibana.alert.rule.name": ...} before {"kibana": {...}}.
    for (std::size_t end = segments.size(); end > start; --end) {
        std::string key(segments[start]);
        for (std::size_t i = start + 1; i < end; ++i) {
            key += '.';
            key += segments[i];
        }
        const json* v = member(obj, key);
        if (v == nullptr) {
            continue;
        }
        if (end == segments.size()) {
            return v;
        }
        if (const json* found = lookup(*v, segments, end)) {
            return found;
        }
    }
    return nullptr;
}

// An ECS field by its dotted name, however the object spells the nesting. The recursion is
// bounded by the number of segments in `path`, not by the input.
const json* ecs(const json& obj, std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t pos = 0;
    while (pos <= path.size() && segments.size() < kMaxSegments) {
        std::size_t dot = path.find('.', pos);
        if (dot == std::string_view::npos) {
            dot = path.size();
        }
        segments.push_back(path.substr(pos, dot - pos));
        pos = dot + 1;
    }
    return lookup(obj, segments, 0);
}

// The first non-empty text among `paths` of the alert, then of the wrapper around it.
std::string field(const json& alert, const json* wrapper,
                  std::initializer_list<std::string_view> paths) {
    for (std::string_view p : paths) {
        if (std::string v = first_text(ecs(alert, p)); !v.empty()) {
            return v;
        }
    }
    if (wrapper != nullptr) {
        for (std::string_view p : paths) {
            if (std::string v = first_text(ecs(*wrapper, p)); !v.empty()) {
                return v;
            }
        }
    }
    return {};
}

// Elastic's default mapping between risk score and severity.
Severity severity_of_risk(double score) {
    if (score < 22) {
        return Severity::kLow;
    }
    if (score < 48) {
        return Severity::kMedium;
    }
    if (score < 74) {
        return Severity::kHigh;
    }
    return Severity::kCritical;
}

std::optional<Severity> severity_of(const json& obj) {
    for (std::string_view p : {"kibana.alert.severity", "signal.rule.severity"}) {
        if (auto s = severity_from_name(first_text(ecs(obj, p)))) {
            return s;
        }
    }
    for (std::string_view p : {"kibana.alert.risk_score", "signal.rule.risk_score"}) {
        if (auto n = number(ecs(obj, p))) {
            return severity_of_risk(*n);
        }
    }
    return std::nullopt;
}

// The rule's MITRE ATT&CK mapping (kibana.alert.rule.threat, or the ECS `threat` fields of the
// event itself): tactic names, and technique ids and names.
struct Threat {
    std::string tactics;     // one name per line
    std::string techniques;  // "<id> <name>" per line, sub-technique ids on lines of their own
};

Threat threat_of(const json& alert) {
    Threat out;
    const json* threats = ecs(alert, "kibana.alert.rule.threat");
    if (threats == nullptr) {
        threats = ecs(alert, "signal.rule.threat");
    }
    if (threats != nullptr && threats->is_array()) {
        for (const auto& t : *threats) {
            out.tactics += text(member_path(t, {"tactic", "name"})) + "\n";
            const json* techniques = member(t, "technique");
            if (techniques == nullptr || !techniques->is_array()) {
                continue;
            }
            for (const auto& tech : *techniques) {
                out.techniques +=
                    text(member(tech, "id")) + " " + text(member(tech, "name")) + "\n";
                if (const json* subs = member(tech, "subtechnique"); subs && subs->is_array()) {
                    for (const auto& sub : *subs) {
                        out.techniques += text(member(sub, "id")) + "\n";
                    }
                }
            }
        }
    }
    // ECS threat fields on the document (endpoint alerts, third-party detections).
    out.tactics += text(ecs(alert, "threat.tactic.name")) + "\n";
    out.techniques += text(ecs(alert, "threat.technique.id")) + "\n" +
                      text(ecs(alert, "threat.technique.subtechnique.id")) + "\n" +
                      text(ecs(alert, "threat.technique.name")) + "\n";
    return out;
}

core::Result<core::Event> one_alert(const json& alert, const json* wrapper, const std::string& base,
                                    json raw, const AdaptContext& ctx) {
    // Without a wrapper the body is both: its own admin-written fields ("rule", "severity")
    // are the fallbacks.
    const json& outer = wrapper != nullptr ? *wrapper : alert;
    core::Event e;
    e.title = field(alert, nullptr, {"kibana.alert.rule.name", "signal.rule.name", "rule.name"});
    if (e.title.empty()) {
        e.title = field(outer, nullptr, {"kibana.alert.rule.name", "rule.name", "rule", "title"});
    }
    if (e.title.empty()) {
        e.title = field(alert, wrapper, {"kibana.alert.reason", "message"});
    }
    if (e.title.empty()) {
        const std::string where = pointer(base, "kibana.alert.rule.name");
        return Error::invalid_field(where, where + ": the alert names no rule");
    }

    auto severity = severity_of(alert);
    if (!severity && wrapper != nullptr) {
        severity = severity_of(*wrapper);
    }
    if (!severity) {
        severity = severity_from_name(first_text(member(outer, "severity")));
    }
    if (!severity) {
        if (auto n = number(member(outer, "risk_score"))) {
            severity = severity_of_risk(*n);
        }
    }
    e.severity = severity.value_or(Severity::kMedium);

    if (field(alert, nullptr, {"kibana.alert.status"}) == "recovered") {
        e.action = core::Action::kResolve;
    }
    e.occurred_at = timestamp(ecs(alert, "kibana.alert.original_time"));
    if (!e.occurred_at) {
        e.occurred_at = timestamp(ecs(alert, "signal.original_time"));
    }
    if (!e.occurred_at) {
        e.occurred_at = timestamp(member(alert, "@timestamp"));
    }
    if (!e.occurred_at && wrapper != nullptr) {
        e.occurred_at = timestamp(member(*wrapper, "@timestamp"));
    }

    core::Asset asset;
    asset.host = field(alert, nullptr, {"host.name", "host.hostname"});
    asset.ip = field(alert, nullptr, {"host.ip"});
    if (!looks_like_ip(asset.ip)) {
        asset.ip.clear();
    }
    asset.user = field(alert, nullptr, {"user.name"});
    const std::string entity = !asset.host.empty() ? asset.host
                               : !asset.ip.empty() ? asset.ip
                                                   : asset.user;
    add_asset(e, std::move(asset));

    const std::string rule =
        field(alert, nullptr, {"kibana.alert.rule.uuid", "signal.rule.id", "rule.uuid", "rule.id"});
    e.dedup_key = (rule.empty() ? e.title : rule) + (entity.empty() ? "" : "/" + entity);

    const Threat threat = threat_of(alert);
    if (auto c = category_from_name(field(alert, wrapper, {"labels.category", "category"}))) {
        e.category = *c;
    } else {
        e.category = infer_category(
            e.title + "\n" + field(alert, wrapper, {"kibana.alert.reason"}) + "\n" +
            text(ecs(alert, "kibana.alert.rule.tags")) + "\n" + text(ecs(alert, "event.category")) +
            "\n" + threat.tactics + threat.techniques);
    }
    for (std::string_view p : {"labels.classification", "classification"}) {
        if (!e.classification) {
            e.classification = classification_from(ecs(alert, p));
        }
        if (!e.classification && wrapper) {
            e.classification = classification_from(ecs(*wrapper, p));
        }
    }
    for (std::string_view p : {"labels.exercise", "exercise"}) {
        e.exercise = e.exercise || truthy(ecs(alert, p)) || (wrapper && truthy(ecs(*wrapper, p)));
    }

    for (std::string_view p :
         {"kibana.alert.rule.name", "kibana.alert.rule.uuid", "kibana.alert.uuid",
          "kibana.alert.severity", "kibana.alert.risk_score", "kibana.alert.status",
          "kibana.alert.reason", "event.action", "event.category", "process.name", "source.ip",
          "destination.ip"}) {
        add_label(e, p, ecs(alert, p));
    }
    if (wrapper != nullptr) {
        add_label(e, "link", member(*wrapper, "link"));
    }
    add_mitre_labels(e, threat.techniques, threat.tactics);
    // ECS `labels` are the admin's own key/value pairs.
    if (const json* labels = member(alert, "labels"); labels != nullptr && labels->is_object()) {
        for (const auto& [k, v] : labels->items()) {
            if (!v.is_structured()) {
                add_label(e, k, &v);
            }
        }
    }

    e.raw = std::move(raw);
    finish(e, ctx, "Elastic alert");
    return e;
}

}  // namespace

Events adapt_elastic(const json& body, const AdaptContext& ctx) {
    if (!body.is_object()) {
        return Error::invalid_field("", "the webhook body must be a JSON object");
    }
    std::vector<core::Event> out;
    if (const json* alerts = member(body, "alerts")) {
        if (!alerts->is_array()) {
            return Error::invalid_field("/alerts", "/alerts: must be an array");
        }
        if (alerts->empty()) {
            return Error::invalid_field("/alerts", "/alerts: no alerts");
        }
        if (alerts->size() > kMaxEventsPerRequest) {
            return Error::invalid_field("/alerts", "/alerts: more than " +
                                                       std::to_string(kMaxEventsPerRequest) +
                                                       " alerts in one request");
        }
        const SplitRaw split(body, "alerts", alerts->size());
        for (std::size_t i = 0; i < alerts->size(); ++i) {
            const json& alert = (*alerts)[i];
            const std::string base = pointer("/alerts", i);
            if (!alert.is_object()) {
                return Error::invalid_field(base, base + ": must be an object");
            }
            auto e = one_alert(alert, &body, base, split.for_item(alert), ctx);
            if (!e) {
                return e.error();
            }
            out.push_back(std::move(e.value()));
        }
        return out;
    }
    core::Result<core::Event> e = core::Error{};
    if (const json* alert = member(body, "alert"); alert != nullptr && alert->is_object()) {
        e = one_alert(*alert, &body, "/alert", body, ctx);
    } else {
        e = one_alert(body, nullptr, "", body, ctx);
    }
    if (!e) {
        return e.error();
    }
    out.push_back(std::move(e.value()));
    return out;
}

}  // namespace sonae::ingest::detail
