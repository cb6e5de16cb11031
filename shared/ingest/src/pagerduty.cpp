// PagerDuty Events API v2 (also spoken at /v2/enqueue): validated as PagerDuty validates it,
// because tools that switch their URL to us expect the same 400s.
#include <string>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;

Error invalid(const std::string& where, std::string_view why) {
    return Error::invalid_field(where, where + ": " + std::string(why));
}

// PagerDuty's four severities; "low" has no PagerDuty equivalent.
std::optional<core::Severity> pagerduty_severity(std::string_view s) {
    if (s == "critical") {
        return core::Severity::kCritical;
    }
    if (s == "error") {
        return core::Severity::kHigh;
    }
    if (s == "warning") {
        return core::Severity::kMedium;
    }
    if (s == "info") {
        return core::Severity::kInfo;
    }
    return std::nullopt;
}

}  // namespace

Events adapt_pagerduty(const json& body, const AdaptContext& ctx) {
    if (!body.is_object()) {
        return Error::invalid_field("", "the event must be a JSON object");
    }
    core::Event e;
    const std::string action = str(member(body, "event_action"));
    if (action == "trigger") {
        e.action = core::Action::kTrigger;
    } else if (action == "acknowledge") {
        e.action = core::Action::kAcknowledge;
    } else if (action == "resolve") {
        e.action = core::Action::kResolve;
    } else {
        return invalid("/event_action", "must be trigger, acknowledge or resolve");
    }
    if (const json* k = member(body, "dedup_key"); k != nullptr && !k->is_null()) {
        if (!k->is_string()) {
            return invalid("/dedup_key", "must be a string");
        }
        e.dedup_key = k->get<std::string>();
    }

    if (e.action != core::Action::kTrigger) {
        // acknowledge and resolve name an alert and carry no payload.
        if (trim(e.dedup_key).empty()) {
            return invalid("/dedup_key", "required for " + action);
        }
        e.severity = core::Severity::kInfo;
        e.title = "PagerDuty " + action + ": " + e.dedup_key;
    } else {
        const json* payload = member(body, "payload");
        if (payload == nullptr || !payload->is_object()) {
            return invalid("/payload", "required object for trigger");
        }
        e.title = str(member(*payload, "summary"));
        if (trim(e.title).empty()) {
            return invalid("/payload/summary", "required string");
        }
        const std::string source = str(member(*payload, "source"));
        if (trim(source).empty()) {
            return invalid("/payload/source", "required string");
        }
        const auto severity = pagerduty_severity(str(member(*payload, "severity")));
        if (!severity) {
            return invalid("/payload/severity", "must be critical, error, warning or info");
        }
        e.severity = *severity;
        if (const json* ts = member(*payload, "timestamp"); ts != nullptr && !ts->is_null()) {
            e.occurred_at = ts->is_string() ? timestamp(ts) : std::nullopt;
            if (!e.occurred_at) {
                return invalid("/payload/timestamp", "must be an ISO 8601 timestamp");
            }
        }
        core::Asset asset;
        set_host_or_ip(asset, source);
        add_asset(e, std::move(asset));

        const json* details = member(*payload, "custom_details");
        for (const char* key : {"component", "group", "class"}) {
            add_label(e, key, member(*payload, key));
        }
        add_label(e, "client", member(body, "client"));
        add_label(e, "client_url", member(body, "client_url"));
        if (details != nullptr && details->is_object()) {
            for (const auto& [k, v] : details->items()) {
                if (!v.is_structured()) {
                    add_label(e, "custom_details." + k, &v);
                }
            }
        } else if (details != nullptr && details->is_string()) {
            add_label(e, "custom_details", details);
        }

        const json* category = details != nullptr ? member(*details, "category") : nullptr;
        if (auto c = category_from_name(text(category))) {
            e.category = *c;
        } else {
            e.category = infer_category(e.title + "\n" + text(member(*payload, "class")) + "\n" +
                                        text(member(*payload, "component")) + "\n" +
                                        text(member(*payload, "group")));
        }
        if (details != nullptr) {
            e.classification = classification_from(member(*details, "classification"));
            e.exercise = truthy(member(*details, "exercise"));
        }
    }

    // The routing key authenticates /v2/enqueue: it must not live on in stored events.
    json raw = body;
    if (raw.contains("routing_key")) {
        raw["routing_key"] = "[redacted]";
    }
    e.raw = std::move(raw);
    finish(e, ctx, "PagerDuty event");
    std::vector<core::Event> out;
    out.push_back(std::move(e));
    return out;
}

}  // namespace sonae::ingest::detail
