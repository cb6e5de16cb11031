// Bounded JSON parsing, request headers and query strings: everything that reads raw bytes.
#include <array>
#include <utility>

#include <sonae/ingest/ingest.hpp>

#include "util.hpp"

namespace sonae::ingest {
namespace {

using nlohmann::json;

// nlohmann's parser keeps its own stack, so deep input cannot overflow ours; this only adds the
// depth cap on top of the stock DOM builder.
class DepthLimitedSax {
  public:
    DepthLimitedSax(json& root, std::size_t max_depth) : dom_(root, false), max_depth_(max_depth) {}

    bool null() { return dom_.null(); }
    bool boolean(bool v) { return dom_.boolean(v); }
    bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
    bool number_float(json::number_float_t v, const json::string_t& s) {
        return dom_.number_float(v, s);
    }
    bool string(json::string_t& v) { return dom_.string(v); }
    bool binary(json::binary_t& v) { return dom_.binary(v); }
    bool key(json::string_t& v) { return dom_.key(v); }
    bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
    bool end_object() {
        --depth_;
        return dom_.end_object();
    }
    bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
    bool end_array() {
        --depth_;
        return dom_.end_array();
    }
    bool parse_error(std::size_t position, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& ex) {
        // nlohmann counts characters read, including the offending one: make it an offset.
        error_position_ = position > 0 ? position - 1 : 0;
        error_message_ = ex.what();
        return false;
    }

    bool too_deep() const { return too_deep_; }
    std::size_t error_position() const { return error_position_; }
    const std::string& error_message() const { return error_message_; }

  private:
    bool enter() {
        if (++depth_ > max_depth_) {
            too_deep_ = true;
            return false;
        }
        return true;
    }

    nlohmann::detail::json_sax_dom_parser<json> dom_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    bool too_deep_ = false;
    std::size_t error_position_ = 0;
    std::string error_message_;
};

// Where nesting first exceeds `max_depth`. Only called after the parser stopped there, so the
// bytes before are valid JSON and a string-aware scan is exact.
std::size_t offset_of_depth(std::string_view body, std::size_t max_depth) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                return i;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return body.size();
}

// nlohmann's message minus its prefix and the echoed input (which may hold secrets or invalid
// UTF-8 that could not be written back into a JSON error body).
std::string describe_parse_error(const std::string& what, std::size_t position) {
    std::string where = "invalid JSON at byte " + std::to_string(position);
    std::string reason = what;
    if (auto at = reason.find("parse error at "); at != std::string::npos) {
        reason = reason.substr(at + 15);
        if (auto colon = reason.find(": "); colon != std::string::npos) {
            where += " (" + reason.substr(0, colon) + ")";
            reason = reason.substr(colon + 2);
        }
    }
    if (auto last = reason.find("; last read"); last != std::string::npos) {
        reason.resize(last);
    }
    for (char& c : reason) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) {
            c = '?';
        }
    }
    return where + ": " + reason;
}

// Streams a body and keeps the last top-level "routing_key" string.
class RoutingKeySax {
  public:
    explicit RoutingKeySax(std::size_t max_depth) : max_depth_(max_depth) {}

    bool null() { return other_value(); }
    bool boolean(bool /*v*/) { return other_value(); }
    bool number_integer(json::number_integer_t /*v*/) { return other_value(); }
    bool number_unsigned(json::number_unsigned_t /*v*/) { return other_value(); }
    bool number_float(json::number_float_t /*v*/, const json::string_t& /*s*/) {
        return other_value();
    }
    bool string(json::string_t& v) {
        if (depth_ == 1 && at_routing_key_) {
            routing_key_ = std::move(v);
            at_routing_key_ = false;
        }
        return true;
    }
    bool binary(json::binary_t& /*v*/) { return other_value(); }
    bool key(json::string_t& k) {
        at_routing_key_ = depth_ == 1 && k == "routing_key";
        return true;
    }
    bool start_object(std::size_t /*n*/) { return enter(); }
    bool end_object() {
        --depth_;
        return true;
    }
    bool start_array(std::size_t /*n*/) { return enter(); }
    bool end_array() {
        --depth_;
        return true;
    }
    bool parse_error(std::size_t /*p*/, const std::string& /*t*/,
                     const nlohmann::detail::exception& /*e*/) {
        return false;
    }

    std::optional<std::string>& routing_key() { return routing_key_; }

  private:
    bool enter() {
        other_value();
        return ++depth_ <= max_depth_;
    }
    // A later non-string "routing_key" replaces an earlier string, as it does in the DOM.
    bool other_value() {
        if (depth_ == 1 && at_routing_key_) {
            routing_key_.reset();
            at_routing_key_ = false;
        }
        return true;
    }

    std::size_t max_depth_;
    std::size_t depth_ = 0;
    bool at_routing_key_ = false;
    std::optional<std::string> routing_key_;
};

}  // namespace

core::Result<nlohmann::json> parse_json(std::string_view body, const ParseLimits& limits) {
    json root;
    DepthLimitedSax sax(root, limits.max_depth);
    const bool ok = json::sax_parse(body.begin(), body.end(), &sax, json::input_format_t::json,
                                    /*strict=*/true);
    if (ok) {
        return root;
    }
    if (sax.too_deep()) {
        const std::size_t at = offset_of_depth(body, limits.max_depth);
        return core::Error{core::ErrorCode::kInvalidJson,
                           "invalid JSON at byte " + std::to_string(at) + ": nesting deeper than " +
                               std::to_string(limits.max_depth) + " levels",
                           ""};
    }
    return core::Error{core::ErrorCode::kInvalidJson,
                       describe_parse_error(sax.error_message(), sax.error_position()), ""};
}

std::optional<std::string> routing_key_of(std::string_view body, const ParseLimits& limits) {
    RoutingKeySax sax(limits.max_depth);
    const bool ok = json::sax_parse(body.begin(), body.end(), &sax, json::input_format_t::json,
                                    /*strict=*/true);
    if (!ok || !sax.routing_key()) {
        return std::nullopt;
    }
    return std::move(sax.routing_key());
}

void HeaderMap::set(std::string_view name, std::string value) {
    headers_[detail::lower(name)] = std::move(value);
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
    auto it = headers_.find(detail::lower(name));
    if (it == headers_.end()) {
        return std::nullopt;
    }
    return std::string_view(it->second);
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        std::size_t end = query.find('&', pos);
        if (end == std::string_view::npos) {
            end = query.size();
        }
        const std::string_view pair = query.substr(pos, end - pos);
        const std::size_t eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        if (!pair.empty() && detail::percent_decode(key, true) == name) {
            return eq == std::string_view::npos ? std::string{}
                                                : detail::percent_decode(pair.substr(eq + 1), true);
        }
        pos = end + 1;
    }
    return std::nullopt;
}

namespace {
constexpr std::array<std::pair<Format, std::string_view>, 8> kFormats{{
    {Format::kGeneric, "generic"},
    {Format::kCloudEvents, "cloudevents"},
    {Format::kAlertmanager, "alertmanager"},
    {Format::kPagerDuty, "pagerduty"},
    {Format::kWazuh, "wazuh"},
    {Format::kElastic, "elastic"},
    {Format::kSplunk, "splunk"},
    {Format::kGrafana, "grafana"},
}};
}  // namespace

std::optional<Format> parse_format(std::string_view name) {
    for (const auto& [f, n] : kFormats) {
        if (n == name) {
            return f;
        }
    }
    return std::nullopt;
}

std::string_view to_string(Format f) {
    for (const auto& [value, n] : kFormats) {
        if (value == f) {
            return n;
        }
    }
    return "?";
}

}  // namespace sonae::ingest
