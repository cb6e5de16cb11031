// CloudEvents 1.0 over HTTP: structured mode (the body is the whole event) and binary mode
// (attributes in ce-* headers, the body is `data`). `data` carries canonical-looking fields.
#include <string>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;

struct Attributes {
    std::string id;
    std::string source;
    std::string type;
    std::string subject;
    std::optional<core::TimePoint> time;
};

core::Result<core::Event> build(const Attributes& ce, const json* data, std::string_view data_ptr,
                                json raw, const AdaptContext& ctx) {
    core::Event e;
    bool has_category = false;
    if (data != nullptr && data->is_object()) {
        auto ok = read_canonical_fields(*data, data_ptr, e, has_category);
        if (!ok) {
            return ok.error();
        }
    }
    if (e.title.empty()) {
        e.title = ce.subject.empty() ? ce.type : ce.type + " " + ce.subject;
    }
    if (!e.occurred_at) {
        e.occurred_at = ce.time;
    }
    if (e.dedup_key.empty()) {
        e.dedup_key = ce.source + "/" + (ce.subject.empty() ? ce.id : ce.subject);
    }
    if (!has_category) {
        e.category = infer_category(e.title + "\n" + ce.type + "\n" + ce.subject);
    }
    // The attributes win over same-named data labels: they are what the producer signed up to.
    core::Event attrs;
    add_label(attrs, "ce.type", ce.type);
    add_label(attrs, "ce.source", ce.source);
    add_label(attrs, "ce.id", ce.id);
    add_label(attrs, "ce.subject", ce.subject);
    for (auto& [k, v] : e.labels) {
        if (attrs.labels.size() >= kMaxLabels) {
            break;
        }
        attrs.labels.emplace(k, std::move(v));
    }
    e.labels = std::move(attrs.labels);
    e.raw = std::move(raw);
    finish(e, ctx, ce.type);
    return e;
}

// Structured mode: required attributes are checked as the spec requires them.
Events structured(const json& body, const AdaptContext& ctx) {
    if (!body.is_object()) {
        return Error::invalid_field("", "a CloudEvent must be a JSON object");
    }
    const json* spec = member(body, "specversion");
    if (spec == nullptr || !spec->is_string()) {
        return Error::invalid_field("/specversion", "/specversion: required (structured mode)");
    }
    if (spec->get_ref<const std::string&>().rfind("1.", 0) != 0) {
        return Error::invalid_field("/specversion",
                                    "/specversion: only CloudEvents 1.x is supported");
    }
    Attributes ce;
    for (auto [key, out] :
         {std::pair{"id", &ce.id}, std::pair{"source", &ce.source}, std::pair{"type", &ce.type}}) {
        *out = str(member(body, key));
        if (out->empty()) {
            const std::string where = pointer("", key);
            return Error::invalid_field(where, where + ": required non-empty string");
        }
    }
    ce.subject = str(member(body, "subject"));
    if (const json* t = member(body, "time"); t != nullptr && !t->is_null()) {
        ce.time = timestamp(t);
        if (!ce.time || !t->is_string()) {
            return Error::invalid_field("/time", "/time: must be an RFC 3339 timestamp");
        }
    }
    auto e = build(ce, member(body, "data"), "/data", body, ctx);
    if (!e) {
        return e.error();
    }
    std::vector<core::Event> out;
    out.push_back(std::move(e.value()));
    return out;
}

// Binary mode: header values are percent-encoded (HTTP binding §3.1.3.2) and must be UTF-8.
core::Result<std::string> header(const HeaderMap& headers, std::string_view name) {
    auto v = headers.get(name);
    if (!v) {
        return std::string{};
    }
    std::string decoded = percent_decode(trim(*v), false);
    if (!valid_utf8(decoded)) {
        return Error::invalid_field("", "header " + std::string(name) + ": not UTF-8");
    }
    return decoded;
}

Events binary(const json& body, const HeaderMap& headers, const AdaptContext& ctx) {
    auto spec = header(headers, "ce-specversion");
    if (!spec) {
        return spec.error();
    }
    if (spec->rfind("1.", 0) != 0) {
        return Error::invalid_field("", "header ce-specversion: only CloudEvents 1.x is supported");
    }
    Attributes ce;
    for (auto [name, out] :
         {std::pair{"ce-id", &ce.id}, std::pair{"ce-source", &ce.source},
          std::pair{"ce-type", &ce.type}, std::pair{"ce-subject", &ce.subject}}) {
        auto v = header(headers, name);
        if (!v) {
            return v.error();
        }
        *out = std::move(v.value());
    }
    for (auto [name, value] : {std::pair{"ce-id", &ce.id}, std::pair{"ce-source", &ce.source},
                               std::pair{"ce-type", &ce.type}}) {
        if (value->empty()) {
            return Error::invalid_field("", std::string("header ") + name + ": required");
        }
    }
    auto time = header(headers, "ce-time");
    if (!time) {
        return time.error();
    }
    if (!time->empty()) {
        ce.time = parse_time(*time);
        if (!ce.time) {
            return Error::invalid_field("", "header ce-time: must be an RFC 3339 timestamp");
        }
    }
    // raw keeps the event as its structured-mode equivalent, so no attribute is lost.
    json raw = json::object();
    for (const auto& [name, value] : headers.all()) {
        if (name.rfind("ce-", 0) == 0 && name.size() > 3) {
            std::string decoded = percent_decode(trim(value), false);
            if (valid_utf8(decoded) && valid_utf8(name)) {
                raw[name.substr(3)] = std::move(decoded);
            }
        }
    }
    if (auto content_type = headers.get("content-type");
        content_type && valid_utf8(*content_type)) {
        raw["datacontenttype"] = std::string(trim(*content_type));
    }
    raw["data"] = body;
    auto e = build(ce, &body, "", std::move(raw), ctx);
    if (!e) {
        return e.error();
    }
    std::vector<core::Event> out;
    out.push_back(std::move(e.value()));
    return out;
}

}  // namespace

core::Result<core::Ok> read_canonical_fields(const json& data, std::string_view base,
                                             core::Event& e, bool& has_category) {
    auto bad = [&](std::string_view key, std::string_view why) {
        const std::string where = pointer(base, key);
        return Error::invalid_field(where, where + ": " + std::string(why));
    };
    e.title = text(member(data, "title"));
    if (e.title.empty()) {
        e.title = text(member(data, "summary"));
    }
    if (e.title.empty()) {
        e.title = text(member(data, "message"));
    }
    e.dedup_key = text(member(data, "dedup_key"));
    if (const json* v = member(data, "action"); v != nullptr && !v->is_null()) {
        auto a = core::parse_action(lower(trim(str(v))));
        if (!a) {
            return bad("action", "must be trigger, acknowledge or resolve");
        }
        e.action = *a;
    }
    if (const json* v = member(data, "severity"); v != nullptr && !v->is_null()) {
        auto s = severity_from_name(str(v));
        if (!s) {
            return bad("severity", "must be critical, high, medium, low or info");
        }
        e.severity = *s;
    }
    if (const json* v = member(data, "category"); v != nullptr && !v->is_null()) {
        auto c = category_from_name(str(v));
        if (!c) {
            return bad("category", "unknown category");
        }
        e.category = *c;
        has_category = true;
    }
    if (const json* v = member(data, "classification"); v != nullptr && !v->is_null()) {
        e.classification = classification_from(v);
        if (!e.classification) {
            return bad("classification", "must be one of 3A, 3B, 3C, 2, 1");
        }
    }
    if (const json* v = member(data, "occurred_at"); v != nullptr && !v->is_null()) {
        e.occurred_at = timestamp(v);
        if (!e.occurred_at) {
            return bad("occurred_at", "must be an RFC 3339 timestamp");
        }
    }
    e.exercise = truthy(member(data, "exercise"));
    if (const json* assets = member(data, "assets"); assets != nullptr && assets->is_array()) {
        for (const auto& a : *assets) {
            add_asset(e,
                      core::Asset{first_text(member(a, "host")), first_text(member(a, "ip")),
                                  first_text(member(a, "user")), first_text(member(a, "system"))});
        }
    }
    if (const json* labels = member(data, "labels"); labels != nullptr && labels->is_object()) {
        for (const auto& [k, v] : labels->items()) {
            if (!v.is_structured()) {
                add_label(e, k, &v);
            }
        }
    }
    return core::Ok{};
}

Events adapt_cloudevents(const json& body, const HeaderMap& headers, const AdaptContext& ctx) {
    if (headers.get("ce-specversion")) {
        return binary(body, headers, ctx);
    }
    return structured(body, ctx);
}

}  // namespace sonae::ingest::detail
