#include <algorithm>
#include <array>
#include <set>

#include <arpa/inet.h>

#include <sonae/core/catalog.hpp>
#include <sonae/core/condition.hpp>
#include <sonae/core/schema.hpp>

namespace sonae::core {
namespace {

std::string str(const nlohmann::json& o, const char* key, const std::string& fallback = {}) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::vector<std::string> strings(const nlohmann::json& o, const char* key) {
    std::vector<std::string> out;
    if (auto it = o.find(key); it != o.end() && it->is_array()) {
        for (const auto& v : *it) {
            if (v.is_string())
                out.push_back(v.get<std::string>());
        }
    }
    return out;
}

std::optional<int> parse_offset(const std::string& s) {
    // "+09:00" / "-05:30"
    if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return std::nullopt;
    try {
        const int h = std::stoi(s.substr(1, 2));
        const int m = std::stoi(s.substr(4, 2));
        return (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

bool ip_in_cidr(const std::string& ip, const std::string& cidr) {
    const auto slash = cidr.find('/');
    const std::string net = cidr.substr(0, slash);
    std::array<unsigned char, 16> a{}, b{};
    int family = AF_INET;
    std::size_t bytes = 4;
    if (inet_pton(AF_INET, ip.c_str(), a.data()) != 1 ||
        inet_pton(AF_INET, net.c_str(), b.data()) != 1) {
        family = AF_INET6;
        bytes = 16;
        if (inet_pton(AF_INET6, ip.c_str(), a.data()) != 1 ||
            inet_pton(AF_INET6, net.c_str(), b.data()) != 1) {
            return false;
        }
    }
    int prefix = static_cast<int>(bytes * 8);
    if (slash != std::string::npos) {
        try {
            prefix = std::stoi(cidr.substr(slash + 1));
        } catch (const std::exception&) {
            return false;
        }
    }
    if (prefix < 0 || prefix > static_cast<int>(bytes * 8))
        return false;
    (void)family;
    for (std::size_t i = 0; i < bytes && prefix > 0; ++i, prefix -= 8) {
        const unsigned mask = prefix >= 8 ? 0xFFu : (0xFFu << (8 - prefix)) & 0xFFu;
        if ((a[i] & mask) != (b[i] & mask))
            return false;
    }
    return true;
}

const Service* Catalog::service(const std::string& id) const {
    for (const auto& s : services) {
        if (s.id == id)
            return &s;
    }
    return nullptr;
}

const Role* Catalog::role(const std::string& id) const {
    for (const auto& r : roles) {
        if (r.id == id)
            return &r;
    }
    return nullptr;
}

namespace {

bool hits(const System& sys, const std::vector<Asset>& assets) {
    for (const auto& a : assets) {
        if (!a.system.empty() && (a.system == sys.id || a.system == sys.name))
            return true;
        if (!a.host.empty()) {
            for (const auto& g : sys.hosts) {
                if (glob_match(g, a.host))
                    return true;
            }
        }
        if (!a.ip.empty()) {
            for (const auto& c : sys.cidrs) {
                if (ip_in_cidr(a.ip, c))
                    return true;
            }
        }
    }
    return false;
}

}  // namespace

std::vector<std::string> Catalog::impacted_services(const std::vector<Asset>& assets) const {
    std::set<std::string> out;
    for (const auto& sys : systems) {
        if (hits(sys, assets))
            out.insert(sys.services.begin(), sys.services.end());
    }
    return {out.begin(), out.end()};
}

std::vector<std::string> Catalog::impacted_systems(const std::vector<Asset>& assets) const {
    std::vector<std::string> out;
    for (const auto& sys : systems) {
        if (hits(sys, assets))
            out.push_back(sys.id);
    }
    return out;
}

std::optional<Correlation> correlation_from_json(const nlohmann::json& j, int line) {
    Correlation c;
    c.by = strings(j, "by");
    c.line = line;
    const auto window = parse_duration(str(j, "window"));
    if (!window || *window <= 0 || c.by.empty())
        return std::nullopt;
    c.window = *window;
    return c;
}

Result<Catalog> parse_catalog(const LocatedJson& doc, const std::string& file,
                              const SchemaValidator& schema) {
    auto fail = [&](const std::string& pointer, const std::string& message) {
        return Error{ErrorCode::kInvalidField,
                     file + ":" + std::to_string(doc.line_of(pointer)) + ": " + message, pointer};
    };
    if (auto ok = schema.validate(doc.value); !ok) {
        return fail(ok.error().field, ok.error().message);
    }
    const auto& j = doc.value;
    Catalog c;
    c.file = file;
    c.tenant = str(j, "tenant", "default");
    c.municipality = str(j, "municipality");
    c.default_playbook = str(j, "default_playbook");
    if (auto tz = str(j, "utc_offset"); !tz.empty()) {
        auto off = parse_offset(tz);
        if (!off)
            return fail("/utc_offset", "utc_offset must look like +09:00");
        c.utc_offset_minutes = *off;
    }
    if (auto it = j.find("correlate"); it != j.end()) {
        c.correlate = correlation_from_json(*it, doc.line_of("/correlate"));
        if (!c.correlate)
            return fail("/correlate/window", "correlate needs a positive window");
    }
    const auto& roles = j.value("roles", nlohmann::json::array());
    for (std::size_t i = 0; i < roles.size(); ++i) {
        const auto& r = roles[i];
        Role role{str(r, "id"), str(r, "name"), str(r, "escalates_to"), r.value("external", false)};
        if (c.role(role.id) != nullptr)
            return fail("/roles/" + std::to_string(i), "duplicate role " + role.id);
        c.lines["role:" + role.id] = doc.line_of("/roles/" + std::to_string(i));
        c.roles.push_back(std::move(role));
    }
    const auto& services = j.value("services", nlohmann::json::array());
    for (std::size_t i = 0; i < services.size(); ++i) {
        const auto& s = services[i];
        const std::string ptr = "/services/" + std::to_string(i);
        Service svc;
        svc.id = str(s, "id");
        svc.name = str(s, "name", svc.id);
        auto rto = parse_duration(str(s, "rto"));
        if (!rto || *rto <= 0)
            return fail(ptr + "/rto", "invalid rto duration");
        svc.rto = *rto;
        if (auto rpo = str(s, "rpo"); !rpo.empty()) {
            auto d = parse_duration(rpo);
            if (!d)
                return fail(ptr + "/rpo", "invalid rpo duration");
            svc.rpo = *d;
        }
        svc.priority = s.value("priority", 3);
        if (auto it = s.find("classification"); it != s.end()) {
            const std::string cls =
                it->is_number_integer() ? std::to_string(it->get<int>()) : it->get<std::string>();
            svc.classification = parse_classification(cls).value_or(Classification::k3C);
        }
        svc.zone = str(s, "zone");
        svc.playbook = str(s, "playbook");
        if (c.service(svc.id) != nullptr)
            return fail(ptr, "duplicate service " + svc.id);
        c.lines["service:" + svc.id] = doc.line_of(ptr);
        c.services.push_back(std::move(svc));
    }
    const auto& systems = j.value("systems", nlohmann::json::array());
    for (std::size_t i = 0; i < systems.size(); ++i) {
        const auto& s = systems[i];
        const std::string ptr = "/systems/" + std::to_string(i);
        System sys{str(s, "id"),        str(s, "name"),      str(s, "zone"),
                   strings(s, "hosts"), strings(s, "cidrs"), strings(s, "services")};
        for (std::size_t k = 0; k < sys.services.size(); ++k) {
            if (c.service(sys.services[k]) == nullptr) {
                return fail(ptr + "/services/" + std::to_string(k),
                            "unknown service " + sys.services[k]);
            }
        }
        c.lines["system:" + sys.id] = doc.line_of(ptr);
        c.systems.push_back(std::move(sys));
    }
    for (std::size_t i = 0; i < c.roles.size(); ++i) {
        const auto& r = c.roles[i];
        if (!r.escalates_to.empty() && c.role(r.escalates_to) == nullptr) {
            return fail("/roles/" + std::to_string(i) + "/escalates_to",
                        "unknown role " + r.escalates_to);
        }
    }
    return c;
}

}  // namespace sonae::core
