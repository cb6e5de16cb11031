#include <array>
#include <utility>

#include <sonae/core/event.hpp>

namespace sonae::core {
namespace {

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view s) {
    for (const auto& [value, name] : table) {
        if (name == s) {
            return value;
        }
    }
    return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
    for (const auto& [value, name] : table) {
        if (value == v) {
            return name;
        }
    }
    return "?";
}

constexpr std::array<std::pair<Action, std::string_view>, 3> kActions{{
    {Action::kTrigger, "trigger"},
    {Action::kAcknowledge, "acknowledge"},
    {Action::kResolve, "resolve"},
}};
constexpr std::array<std::pair<Severity, std::string_view>, 5> kSeverities{{
    {Severity::kInfo, "info"},
    {Severity::kLow, "low"},
    {Severity::kMedium, "medium"},
    {Severity::kHigh, "high"},
    {Severity::kCritical, "critical"},
}};
constexpr std::array<std::pair<Category, std::string_view>, 11> kCategories{{
    {Category::kRansomware, "ransomware"},
    {Category::kMalware, "malware"},
    {Category::kPhishing, "phishing"},
    {Category::kIntrusion, "intrusion"},
    {Category::kDataLeak, "data_leak"},
    {Category::kAccountCompromise, "account_compromise"},
    {Category::kDdos, "ddos"},
    {Category::kVendorIncident, "vendor_incident"},
    {Category::kDeviceLoss, "device_loss"},
    {Category::kOutage, "outage"},
    {Category::kOther, "other"},
}};
constexpr std::array<std::pair<Classification, std::string_view>, 5> kClassifications{{
    {Classification::k1, "1"},
    {Classification::k2, "2"},
    {Classification::k3C, "3C"},
    {Classification::k3B, "3B"},
    {Classification::k3A, "3A"},
}};

std::string get_string(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) {
        return it->get<std::string>();
    }
    return {};
}

}  // namespace

std::string_view to_string(Action a) {
    return name_of(kActions, a);
}
std::string_view to_string(Severity s) {
    return name_of(kSeverities, s);
}
std::string_view to_string(Category c) {
    return name_of(kCategories, c);
}
std::string_view to_string(Classification c) {
    return name_of(kClassifications, c);
}
std::optional<Action> parse_action(std::string_view s) {
    return lookup(kActions, s);
}
std::optional<Severity> parse_severity(std::string_view s) {
    return lookup(kSeverities, s);
}
std::optional<Category> parse_category(std::string_view s) {
    return lookup(kCategories, s);
}
std::optional<Classification> parse_classification(std::string_view s) {
    return lookup(kClassifications, s);
}

nlohmann::json to_json(const Event& e) {
    nlohmann::json j = {
        {"id", e.id},
        {"tenant", e.tenant},
        {"source", e.source},
        {"received_at", format_timestamp(e.received_at)},
        {"action", to_string(e.action)},
        {"dedup_key", e.dedup_key},
        {"title", e.title},
        {"category", to_string(e.category)},
        {"severity", to_string(e.severity)},
        {"exercise", e.exercise},
    };
    if (e.occurred_at) {
        j["occurred_at"] = format_timestamp(*e.occurred_at);
    }
    if (e.classification) {
        j["classification"] = to_string(*e.classification);
    }
    nlohmann::json assets = nlohmann::json::array();
    for (const auto& a : e.assets) {
        nlohmann::json o = nlohmann::json::object();
        if (!a.host.empty())
            o["host"] = a.host;
        if (!a.ip.empty())
            o["ip"] = a.ip;
        if (!a.user.empty())
            o["user"] = a.user;
        if (!a.system.empty())
            o["system"] = a.system;
        assets.push_back(std::move(o));
    }
    j["assets"] = std::move(assets);
    j["labels"] = e.labels;
    if (!e.raw.is_null()) {
        j["raw"] = e.raw;
    }
    return j;
}

Result<Event> event_from_json(const nlohmann::json& j) {
    if (!j.is_object()) {
        return Error::invalid_field("", "event must be a JSON object");
    }
    Event e;
    e.id = get_string(j, "id");
    if (auto t = get_string(j, "tenant"); !t.empty()) {
        e.tenant = t;
    }
    e.source = get_string(j, "source");
    e.dedup_key = get_string(j, "dedup_key");
    e.title = get_string(j, "title");
    if (auto s = get_string(j, "received_at"); !s.empty()) {
        auto t = parse_timestamp(s);
        if (!t)
            return Error::invalid_field("/received_at", "not an RFC 3339 timestamp");
        e.received_at = *t;
    }
    if (auto s = get_string(j, "occurred_at"); !s.empty()) {
        auto t = parse_timestamp(s);
        if (!t)
            return Error::invalid_field("/occurred_at", "not an RFC 3339 timestamp");
        e.occurred_at = *t;
    }
    if (auto s = get_string(j, "action"); !s.empty()) {
        auto a = parse_action(s);
        if (!a)
            return Error::invalid_field("/action", "unknown action '" + s + "'");
        e.action = *a;
    }
    if (auto s = get_string(j, "category"); !s.empty()) {
        auto c = parse_category(s);
        if (!c)
            return Error::invalid_field("/category", "unknown category '" + s + "'");
        e.category = *c;
    }
    if (auto s = get_string(j, "severity"); !s.empty()) {
        auto v = parse_severity(s);
        if (!v)
            return Error::invalid_field("/severity", "unknown severity '" + s + "'");
        e.severity = *v;
    }
    if (auto it = j.find("classification"); it != j.end() && !it->is_null()) {
        const std::string s = it->is_number_integer()
                                  ? std::to_string(it->get<int>())
                                  : (it->is_string() ? it->get<std::string>() : "");
        auto c = parse_classification(s);
        if (!c)
            return Error::invalid_field("/classification", "unknown classification");
        e.classification = *c;
    }
    if (auto it = j.find("assets"); it != j.end() && it->is_array()) {
        for (const auto& a : *it) {
            if (!a.is_object())
                continue;
            e.assets.push_back(Asset{get_string(a, "host"), get_string(a, "ip"),
                                     get_string(a, "user"), get_string(a, "system")});
        }
    }
    if (auto it = j.find("labels"); it != j.end() && it->is_object()) {
        for (const auto& [k, v] : it->items()) {
            e.labels[k] = v.is_string() ? v.get<std::string>() : v.dump();
        }
    }
    if (auto it = j.find("raw"); it != j.end()) {
        e.raw = *it;
    }
    if (auto it = j.find("exercise"); it != j.end() && it->is_boolean()) {
        e.exercise = it->get<bool>();
    }
    return e;
}

}  // namespace sonae::core
