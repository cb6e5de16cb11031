// Prometheus Alertmanager webhook (version 4) and Grafana alerting webhook, which extends it
// with title/message/state: one event per entry of `alerts`.
#include <string>

#include <sonae/crypto/crypto.hpp>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;

// A label or annotation from the alert, else from the group's common set.
std::string pick(const json& alert, const json& body, std::string_view set, std::string_view common,
                 std::string_view key) {
    std::string v = text(member_path(alert, {set, key}));
    return v.empty() ? text(member_path(body, {common, key})) : v;
}

std::string fingerprint_of(const json& alert) {
    std::string fp = str(member(alert, "fingerprint"));
    if (fp.empty()) {
        // Alertmanager derives its fingerprint from the label set; so do we when it is missing.
        const json* labels = member(alert, "labels");
        const std::string canonical = labels != nullptr ? labels->dump() : "{}";
        fp = crypto::to_hex(crypto::sha256(canonical)).substr(0, 16);
    }
    return fp;
}

std::string make_title(const std::string& alertname, const std::string& summary) {
    if (summary.empty()) {
        return alertname;
    }
    if (alertname.empty() || contains(summary, alertname)) {
        return summary;
    }
    return alertname + ": " + summary;
}

core::Result<core::Event> one_alert(const json& body, const json& alert, std::size_t index,
                                    const SplitRaw& split, const AdaptContext& ctx, bool grafana) {
    const std::string base = pointer("/alerts", index);
    core::Event e;

    std::string status = str(member(alert, "status"));
    if (status.empty()) {
        status = str(member(body, "status"));
    }
    if (status == "resolved") {
        e.action = core::Action::kResolve;
    } else if (status.empty() || status == "firing") {
        e.action = core::Action::kTrigger;
    } else {
        const std::string where = pointer(base, "status");
        return Error::invalid_field(where, where + ": must be firing or resolved");
    }

    const std::string alertname = pick(alert, body, "labels", "commonLabels", "alertname");
    std::string summary = pick(alert, body, "annotations", "commonAnnotations", "summary");
    const std::string description =
        pick(alert, body, "annotations", "commonAnnotations", "description");
    e.title = make_title(alertname, summary.empty() ? description : summary);
    if (e.title.empty() && grafana) {
        e.title = text(member(body, "title"));
    }

    const auto starts = timestamp(member(alert, "startsAt"));
    const auto ends = timestamp(member(alert, "endsAt"));
    e.occurred_at = e.action == core::Action::kResolve && ends ? ends : starts;

    const std::string group_key = str(member(body, "groupKey"));
    const std::string fingerprint = fingerprint_of(alert);
    e.dedup_key = group_key.empty() ? fingerprint : group_key + "/" + fingerprint;

    const std::string severity = pick(alert, body, "labels", "commonLabels", "severity");
    const std::string priority = pick(alert, body, "labels", "commonLabels", "priority");
    e.severity = severity_from_name(severity).value_or(
        severity_from_name(priority).value_or(core::Severity::kMedium));

    // ATT&CK as rule authors label it (`mitre_technique`, `mitre_tactic`), or in Falco's tags
    // (`T1003`, `mitre_credential_access`) as Falcosidekick forwards them.
    const std::string tags = pick(alert, body, "labels", "commonLabels", "tags");
    const std::string techniques =
        pick(alert, body, "labels", "commonLabels", "mitre_technique") + "\n" + tags;
    std::string tactics = pick(alert, body, "labels", "commonLabels", "mitre_tactic");
    for (std::size_t pos = 0; pos < tags.size();) {
        std::size_t end = tags.find(',', pos);
        if (end == std::string::npos) {
            end = tags.size();
        }
        const std::string_view tag = trim(std::string_view(tags).substr(pos, end - pos));
        if (lower(tag).rfind("mitre_", 0) == 0) {
            tactics += "\n" + std::string(tag);
        }
        pos = end + 1;
    }
    if (auto c = category_from_name(pick(alert, body, "labels", "commonLabels", "category"))) {
        e.category = *c;
    } else {
        // Common annotations describe every alert of the group, so they are fair evidence too;
        // so are Falco's rule name (label `rule`) and the ATT&CK labels.
        e.category =
            infer_category(alertname + "\n" + summary + "\n" + description + "\n" +
                           text(member_path(body, {"commonAnnotations", "summary"})) + "\n" +
                           text(member_path(body, {"commonAnnotations", "description"})) + "\n" +
                           pick(alert, body, "labels", "commonLabels", "rule") + "\n" + techniques +
                           "\n" + tactics);
    }
    add_mitre_labels(e, techniques, tactics);
    e.classification = classification_from(member_path(alert, {"labels", "classification"}));
    if (!e.classification) {
        e.classification =
            classification_from(member_path(body, {"commonLabels", "classification"}));
    }
    e.exercise = truthy(member_path(alert, {"labels", "exercise"})) ||
                 truthy(member_path(body, {"commonLabels", "exercise"}));

    core::Asset asset;
    for (const char* key : {"host", "hostname", "nodename", "node", "instance"}) {
        set_host_or_ip(asset, pick(alert, body, "labels", "commonLabels", key));
    }
    if (asset.ip.empty()) {
        set_host_or_ip(asset, pick(alert, body, "labels", "commonLabels", "ip"));
    }
    asset.user = pick(alert, body, "labels", "commonLabels", "user");
    asset.system = pick(alert, body, "labels", "commonLabels", "system");
    if (asset.system.empty()) {
        asset.system = pick(alert, body, "labels", "commonLabels", "service");
    }
    add_asset(e, std::move(asset));

    const json* labels = member(alert, "labels");
    if (labels == nullptr || !labels->is_object()) {
        labels = member(body, "commonLabels");
    }
    if (labels != nullptr && labels->is_object()) {
        for (const auto& [k, v] : labels->items()) {
            if (!v.is_structured()) {
                add_label(e, k, &v);
            }
        }
    }

    // raw: the payload as if this alert had been sent alone, so that a group of N alerts does
    // not store N copies of all N alerts.
    e.raw = split.for_item(alert);
    finish(e, ctx, grafana ? "Grafana alert" : "Alertmanager alert");
    return e;
}

}  // namespace

Events adapt_alertmanager(const json& body, const AdaptContext& ctx, bool grafana) {
    if (!body.is_object()) {
        return Error::invalid_field("", "the webhook body must be a JSON object");
    }
    const json* alerts = member(body, "alerts");
    if (alerts == nullptr || !alerts->is_array()) {
        return Error::invalid_field("/alerts", "/alerts: required array of alerts");
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
    std::vector<core::Event> out;
    out.reserve(alerts->size());
    for (std::size_t i = 0; i < alerts->size(); ++i) {
        const json& alert = (*alerts)[i];
        if (!alert.is_object()) {
            const std::string where = pointer("/alerts", i);
            return Error::invalid_field(where, where + ": must be an object");
        }
        auto e = one_alert(body, alert, i, split, ctx, grafana);
        if (!e) {
            return e.error();
        }
        out.push_back(std::move(e.value()));
    }
    return out;
}

}  // namespace sonae::ingest::detail
