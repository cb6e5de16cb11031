// Splunk's built-in webhook alert action: the search's name and the first result row.
#include <array>
#include <string>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;
using core::Severity;

// Splunk's numeric alert severity (1 debug .. 6 fatal) spread over our five levels.
std::optional<Severity> severity_of_number(double n) {
    if (n < 1 || n > 6) {
        return std::nullopt;
    }
    if (n < 3) {
        return Severity::kInfo;
    }
    if (n < 4) {
        return Severity::kLow;
    }
    if (n < 5) {
        return Severity::kMedium;
    }
    if (n < 6) {
        return Severity::kHigh;
    }
    return Severity::kCritical;
}

// Fields that name the entity an alert is about, in the order they make the dedup key.
constexpr std::array<std::string_view, 7> kIdentity{"dest", "dest_host", "dest_ip", "host",
                                                    "src",  "src_ip",    "user"};

}  // namespace

Events adapt_splunk(const json& body, const AdaptContext& ctx) {
    if (!body.is_object()) {
        return Error::invalid_field("", "the webhook body must be a JSON object");
    }
    const json* name = member(body, "search_name");
    if (name == nullptr || !name->is_string() ||
        trim(name->get_ref<const std::string&>()).empty()) {
        return Error::invalid_field("/search_name", "/search_name: required string");
    }
    static const json empty_result = json::object();
    const json* result_ptr = member(body, "result");
    if (result_ptr != nullptr && !result_ptr->is_object() && !result_ptr->is_null()) {
        return Error::invalid_field("/result", "/result: must be an object");
    }
    const json& result =
        result_ptr != nullptr && result_ptr->is_object() ? *result_ptr : empty_result;
    auto get = [&](std::string_view key) { return first_text(member(result, key)); };

    core::Event e;
    e.title = name->get<std::string>();

    std::optional<Severity> severity;
    for (const char* key : {"severity", "urgency", "priority"}) {
        const json* v = member(result, key);
        if (!severity) {
            severity = severity_from_name(first_text(v));
        }
        if (!severity && v != nullptr && v->is_number()) {
            severity = severity_of_number(v->get<double>());
        }
    }
    e.severity = severity.value_or(Severity::kMedium);
    e.occurred_at = timestamp(member(result, "_time"));

    // The search name plus who/what the row is about: stable across runs of the same search,
    // unlike the sid, and distinct for different hosts or users.
    std::string identity;
    for (std::string_view key : kIdentity) {
        if (std::string v = get(key); !v.empty()) {
            identity += (identity.empty() ? "" : ",") + std::string(key) + "=" + v;
        }
    }
    e.dedup_key = e.title + (identity.empty() ? "" : "/" + identity);

    core::Asset target;
    for (const char* key : {"dest", "dest_host", "dest_ip"}) {
        set_host_or_ip(target, get(key));
    }
    target.user = get("user");
    add_asset(e, target);
    core::Asset origin;
    set_host_or_ip(origin, get("host"));
    if (origin.host != target.host || origin.ip != target.ip) {
        add_asset(e, std::move(origin));
    }
    for (const char* key : {"src", "src_ip"}) {
        // A private source is one of ours; a public one is the attacker and stays a label.
        if (std::string ip = get(key); is_private_ip(ip)) {
            add_asset(e, core::Asset{"", ip, "", ""});
        }
    }

    // MITRE ATT&CK as Splunk ES / Security Content annotate their searches (multivalue fields
    // arrive as arrays or comma-joined), or as a search writes it itself.
    std::string techniques;
    for (const char* key :
         {"annotations.mitre_attack", "annotations.mitre_attack.mitre_technique_id",
          "mitre_technique_id", "mitre_technique"}) {
        techniques += text(member(result, key)) + "\n";
    }
    std::string tactics;
    for (const char* key : {"annotations.mitre_attack.mitre_tactic", "mitre_tactic"}) {
        tactics += text(member(result, key)) + "\n";
    }
    if (auto c = category_from_name(get("category"))) {
        e.category = *c;
    } else {
        e.category = infer_category(e.title + "\n" + get("signature") + "\n" + get("rule_name") +
                                    "\n" + get("rule_title") + "\n" +
                                    text(member(result, "category")) + "\n" + techniques + tactics);
    }
    e.classification = classification_from(member(result, "classification"));
    e.exercise = truthy(member(result, "exercise"));

    for (const char* key : {"search_name", "sid", "app", "owner", "results_link"}) {
        add_label(e, key, member(body, key));
    }
    for (const auto& [k, v] : result.items()) {
        // Underscore fields are Splunk internals (_raw can be huge).
        if (!k.empty() && k.front() != '_' && !v.is_object()) {
            add_label(e, "result." + k, &v);
        }
    }

    add_mitre_labels(e, techniques, tactics);

    e.raw = body;
    finish(e, ctx, "Splunk alert");
    std::vector<core::Event> out;
    out.push_back(std::move(e));
    return out;
}

}  // namespace sonae::ingest::detail
