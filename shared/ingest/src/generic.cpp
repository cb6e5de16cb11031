// The generic format: the body is a canonical event (PRODUCT §4). The checks mirror
// schemas/event.schema.json so that the adapter is safe on its own, with or without the
// gateway's schema validation in front of it.
#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "adapters.hpp"
#include "util.hpp"

namespace sonae::ingest::detail {
namespace {

using core::Error;

constexpr std::array<std::string_view, 15> kProperties{
    "id",        "tenant", "source",   "received_at", "occurred_at",    "action",
    "dedup_key", "title",  "category", "severity",    "classification", "assets",
    "labels",    "raw",    "exercise"};

std::optional<Error> check_string(const json& body, std::string_view key, std::size_t min,
                                  std::size_t max) {
    const json* v = member(body, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    const std::string where = pointer("", key);
    if (!v->is_string()) {
        return Error::invalid_field(where, where + ": must be a string");
    }
    const std::size_t n = code_points(v->get_ref<const std::string&>());
    if (n < min || n > max) {
        return Error::invalid_field(where, where + ": must be " + std::to_string(min) + " to " +
                                               std::to_string(max) + " characters");
    }
    return std::nullopt;
}

std::optional<Error> check_timestamp(const json& body, std::string_view key) {
    const json* v = member(body, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    const std::string where = pointer("", key);
    if (!v->is_string() || !parse_time(v->get_ref<const std::string&>())) {
        return Error::invalid_field(where, where + ": must be an RFC 3339 timestamp from 1970 on");
    }
    return std::nullopt;
}

template <typename Parse>
std::optional<Error> check_enum(const json& body, std::string_view key, Parse parse) {
    const json* v = member(body, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    const std::string where = pointer("", key);
    if (!v->is_string()) {
        return Error::invalid_field(where, where + ": must be a string");
    }
    if (!parse(v->get_ref<const std::string&>())) {
        // The value is echoed clamped: it came from the client and is valid UTF-8.
        return Error::invalid_field(
            where,
            where + ": unknown value '" + clamp_utf8(v->get_ref<const std::string&>(), 64) + "'");
    }
    return std::nullopt;
}

std::optional<Error> check_assets(const json& body) {
    const json* v = member(body, "assets");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_array()) {
        return Error::invalid_field("/assets", "/assets: must be an array");
    }
    if (v->size() > kMaxAssets) {
        return Error::invalid_field("/assets", "/assets: at most 256 assets");
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& a = (*v)[i];
        const std::string base = pointer("/assets", i);
        if (!a.is_object()) {
            return Error::invalid_field(base, base + ": must be an object");
        }
        for (const auto& [key, value] : a.items()) {
            const std::string where = pointer(base, key);
            const std::size_t max = key == "ip" ? kMaxIp : kMaxAssetField;
            if (key != "host" && key != "ip" && key != "user" && key != "system") {
                return Error::invalid_field(where, where + ": unknown property");
            }
            if (!value.is_string()) {
                return Error::invalid_field(where, where + ": must be a string");
            }
            if (code_points(value.get_ref<const std::string&>()) > max) {
                return Error::invalid_field(
                    where, where + ": at most " + std::to_string(max) + " characters");
            }
        }
    }
    return std::nullopt;
}

std::optional<Error> check_labels(const json& body) {
    const json* v = member(body, "labels");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_object()) {
        return Error::invalid_field("/labels", "/labels: must be an object");
    }
    if (v->size() > kMaxLabels) {
        return Error::invalid_field("/labels", "/labels: at most 128 labels");
    }
    for (const auto& [key, value] : v->items()) {
        if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
            const std::string where = pointer("/labels", key);
            return Error::invalid_field(where, where + ": must be a string, number or boolean");
        }
    }
    return std::nullopt;
}

std::optional<Error> check_event(const json& body) {
    if (member(body, "title") == nullptr) {
        return Error::invalid_field("/title", "/title: required");
    }
    std::optional<Error> err;
    if ((err = check_string(body, "title", 1, kMaxTitle)) ||
        (err = check_string(body, "id", 1, kMaxId)) ||
        (err = check_string(body, "tenant", 1, kMaxTenant)) ||
        (err = check_string(body, "source", 0, kMaxSource)) ||
        (err = check_timestamp(body, "received_at")) ||
        (err = check_timestamp(body, "occurred_at")) ||
        (err = check_enum(body, "action", core::parse_action)) ||
        (err = check_string(body, "dedup_key", 0, kMaxDedupKey)) ||
        (err = check_enum(body, "category", core::parse_category)) ||
        (err = check_enum(body, "severity", core::parse_severity))) {
        return err;
    }
    if (const json* c = member(body, "classification")) {
        const bool ok = (c->is_string() && core::parse_classification(c->get<std::string>())) ||
                        ((c->is_number_integer() || c->is_number_unsigned()) &&
                         classification_from(c).has_value());
        if (!ok) {
            return Error::invalid_field("/classification",
                                        "/classification: must be one of 3A, 3B, 3C, 2, 1");
        }
    }
    if ((err = check_assets(body)) || (err = check_labels(body))) {
        return err;
    }
    if (const json* x = member(body, "exercise"); x != nullptr && !x->is_boolean()) {
        return Error::invalid_field("/exercise", "/exercise: must be a boolean");
    }
    for (const auto& [key, value] : body.items()) {
        if (std::find(kProperties.begin(), kProperties.end(), key) == kProperties.end()) {
            const std::string where = pointer("", key);
            return Error::invalid_field(where, where + ": unknown property");
        }
    }
    return std::nullopt;
}

}  // namespace

Events adapt_generic(const json& body, const AdaptContext& ctx) {
    if (!body.is_object()) {
        return Error::invalid_field("", "the event must be a JSON object");
    }
    if (auto err = check_event(body)) {
        return *err;
    }
    auto parsed = core::event_from_json(body);
    if (!parsed) {
        return parsed.error();
    }
    core::Event e = std::move(parsed.value());
    e.raw = body;
    finish(e, ctx, "");
    std::vector<core::Event> out;
    out.push_back(std::move(e));
    return out;
}

}  // namespace sonae::ingest::detail
