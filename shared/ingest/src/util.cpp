#include "util.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <arpa/inet.h>

#include <sonae/core/yaml.hpp>
#include <sonae/crypto/crypto.hpp>

namespace sonae::ingest::detail {

using core::Category;
using core::Severity;

// --- JSON access -------------------------------------------------------------------------------

const json* member(const json& j, std::string_view key) {
    if (!j.is_object()) {
        return nullptr;
    }
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

const json* member_path(const json& j, std::initializer_list<std::string_view> path) {
    const json* cur = &j;
    for (std::string_view key : path) {
        cur = member(*cur, key);
        if (cur == nullptr) {
            return nullptr;
        }
    }
    return cur;
}

const json* element(const json& j, std::size_t index) {
    if (!j.is_array() || index >= j.size()) {
        return nullptr;
    }
    return &j[index];
}

std::string str(const json* v) {
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string{};
}

namespace {
std::string scalar_text(const json& v) {
    switch (v.type()) {
        case json::value_t::string:
            return v.get<std::string>();
        case json::value_t::boolean:
            return v.get<bool>() ? "true" : "false";
        case json::value_t::number_integer:
            return std::to_string(v.get<std::int64_t>());
        case json::value_t::number_unsigned:
            return std::to_string(v.get<std::uint64_t>());
        case json::value_t::number_float:
            return v.dump();
        default:
            return {};
    }
}
}  // namespace

std::string text(const json* v) {
    if (v == nullptr) {
        return {};
    }
    if (!v->is_array()) {
        return scalar_text(*v);
    }
    std::string out;
    for (const auto& item : *v) {
        std::string s = scalar_text(item);
        if (s.empty()) {
            continue;
        }
        if (!out.empty()) {
            out += ',';
        }
        out += s;
        if (out.size() > kMaxLabelValue * 4) {
            break;  // the result is clamped later anyway; do not build megabytes first
        }
    }
    return out;
}

std::string first_text(const json* v) {
    if (v == nullptr) {
        return {};
    }
    if (!v->is_array()) {
        return scalar_text(*v);
    }
    for (const auto& item : *v) {
        if (std::string s = scalar_text(item); !s.empty()) {
            return s;
        }
    }
    return {};
}

std::optional<double> number(const json* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_number()) {
        return v->get<double>();
    }
    if (v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        std::string_view t = trim(s);
        double out = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
        if (ec == std::errc{} && p == t.data() + t.size() && std::isfinite(out)) {
            return out;
        }
    }
    return std::nullopt;
}

namespace {
// 9999-12-31T23:59:59.999Z: the last instant format_timestamp renders with a four-digit year.
constexpr core::TimePoint kMaxTime = 253402300799999;
}  // namespace

std::optional<core::TimePoint> epoch_to_time(double value) {
    if (!std::isfinite(value) || value <= 0) {
        return std::nullopt;
    }
    // Seconds until the year 5138; anything larger is taken as milliseconds.
    const double ms = value < 1e11 ? value * 1000.0 : value;
    if (ms > static_cast<double>(kMaxTime)) {
        return std::nullopt;
    }
    return static_cast<core::TimePoint>(ms);
}

std::optional<core::TimePoint> parse_time(std::string_view text) {
    auto t = core::parse_timestamp(trim(text));
    // Go's zero time (0001-01-01) means "not set" in Alertmanager and Grafana payloads; years
    // before 1970 carry no meaning for an alert either.
    if (!t || *t <= 0 || *t > kMaxTime) {
        return std::nullopt;
    }
    return t;
}

std::optional<core::TimePoint> timestamp(const json* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_string()) {
        if (auto t = parse_time(v->get_ref<const std::string&>())) {
            return t;
        }
    }
    if (auto n = number(v)) {
        return epoch_to_time(*n);
    }
    return std::nullopt;
}

std::string pointer(std::string_view base, std::string_view key) {
    return core::pointer_append(base, key);
}

std::string pointer(std::string_view base, std::size_t index) {
    return std::string(base) + "/" + std::to_string(index);
}

// --- Text --------------------------------------------------------------------------------------

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && lower(a) == lower(b);
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(kSpace);
    return s.substr(first, last - first + 1);
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + len > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

std::string clamp_utf8(std::string_view s, std::size_t max_code_points) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if ((c & 0xC0u) != 0x80u) {  // first byte of a code point
            if (count == max_code_points) {
                return std::string(s.substr(0, i));
            }
            ++count;
        }
    }
    return std::string(s);
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

std::size_t code_points(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
    }));
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
}  // namespace

std::string percent_decode(std::string_view s, bool plus_as_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (plus_as_space && s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// --- Vocabularies ------------------------------------------------------------------------------

std::optional<Severity> severity_from_name(std::string_view name) {
    static constexpr auto kNames = std::to_array<std::pair<std::string_view, Severity>>({
        {"critical", Severity::kCritical},
        {"crit", Severity::kCritical},
        {"fatal", Severity::kCritical},
        {"emergency", Severity::kCritical},
        {"emerg", Severity::kCritical},
        {"alert", Severity::kCritical},
        {"disaster", Severity::kCritical},
        {"p1", Severity::kCritical},
        {"sev1", Severity::kCritical},
        {"high", Severity::kHigh},
        {"error", Severity::kHigh},
        {"err", Severity::kHigh},
        {"major", Severity::kHigh},
        {"severe", Severity::kHigh},
        {"p2", Severity::kHigh},
        {"sev2", Severity::kHigh},
        {"medium", Severity::kMedium},
        {"warning", Severity::kMedium},
        {"warn", Severity::kMedium},
        {"moderate", Severity::kMedium},
        {"average", Severity::kMedium},
        {"p3", Severity::kMedium},
        {"sev3", Severity::kMedium},
        {"low", Severity::kLow},
        {"minor", Severity::kLow},
        {"p4", Severity::kLow},
        {"sev4", Severity::kLow},
        {"info", Severity::kInfo},
        {"informational", Severity::kInfo},
        {"information", Severity::kInfo},
        {"notice", Severity::kInfo},
        {"debug", Severity::kInfo},
        {"none", Severity::kInfo},
        {"ok", Severity::kInfo},
        {"normal", Severity::kInfo},
        {"p5", Severity::kInfo},
        {"sev5", Severity::kInfo},
        {"unimportant", Severity::kInfo},
    });
    const std::string key = lower(trim(name));
    for (const auto& [n, s] : kNames) {
        if (n == key) {
            return s;
        }
    }
    return std::nullopt;
}

std::optional<Category> category_from_name(std::string_view name) {
    std::string key = lower(trim(name));
    std::replace(key.begin(), key.end(), '-', '_');
    std::replace(key.begin(), key.end(), ' ', '_');
    if (key == "dos") {
        return Category::kDdos;
    }
    return core::parse_category(key);
}

std::optional<core::Classification> classification_from(const json* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_number_integer() || v->is_number_unsigned()) {
        const std::int64_t n = v->is_number_unsigned()
                                   ? (v->get<std::uint64_t>() > 2 ? 0 : v->get<std::int64_t>())
                                   : v->get<std::int64_t>();
        if (n == 1) {
            return core::Classification::k1;
        }
        if (n == 2) {
            return core::Classification::k2;
        }
        return std::nullopt;
    }
    if (!v->is_string()) {
        return std::nullopt;
    }
    std::string s(trim(v->get_ref<const std::string&>()));
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return core::parse_classification(s);
}

bool truthy(const json* v) {
    if (v == nullptr) {
        return false;
    }
    if (v->is_boolean()) {
        return v->get<bool>();
    }
    if (v->is_number_integer() || v->is_number_unsigned()) {
        return v->get<std::int64_t>() == 1;
    }
    if (v->is_string()) {
        const std::string s = lower(trim(v->get_ref<const std::string&>()));
        return s == "true" || s == "yes" || s == "1" || s == "on";
    }
    return false;
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// ATT&CK technique ids and the category each stands for, in order of precedence: when an alert
// carries several techniques, the earliest row wins (ransomware before the credential dumping
// that preceded it; lateral movement with a valid account is an intrusion, a valid-account login
// alone is an account compromise). A sub-technique row beats its parent's row for that id.
constexpr auto kTechniques = std::to_array<std::pair<std::string_view, Category>>({
    {"t1486", Category::kRansomware},  // Data Encrypted for Impact
    {"t1498", Category::kDdos},        // Network Denial of Service
    {"t1499", Category::kDdos},        // Endpoint Denial of Service
    {"t1566", Category::kPhishing},    // Phishing
    {"t1598", Category::kPhishing},    // Phishing for Information
    {"t1041", Category::kDataLeak},    // Exfiltration Over C2 Channel
    {"t1048", Category::kDataLeak},    // Exfiltration Over Alternative Protocol
    {"t1567", Category::kDataLeak},    // Exfiltration Over Web Service
    {"t1020", Category::kDataLeak},    // Automated Exfiltration
    {"t1537", Category::kDataLeak},    // Transfer Data to Cloud Account
    // Seen on our own hosts after a compromise (what EDR reports).
    {"t1003", Category::kIntrusion},              // OS Credential Dumping
    {"t1021", Category::kIntrusion},              // Remote Services (lateral movement)
    {"t1570", Category::kIntrusion},              // Lateral Tool Transfer
    {"t1569", Category::kIntrusion},              // System Services (PsExec)
    {"t1047", Category::kIntrusion},              // Windows Management Instrumentation
    {"t1558", Category::kIntrusion},              // Steal or Forge Kerberos Tickets
    {"t1550.001", Category::kAccountCompromise},  // Application Access Token (cloud)
    {"t1550", Category::kIntrusion},      // Use Alternate Authentication Material (pass the hash)
    {"t1068", Category::kIntrusion},      // Exploitation for Privilege Escalation
    {"t1490", Category::kIntrusion},      // Inhibit System Recovery (shadow copies deleted)
    {"t1491", Category::kIntrusion},      // Defacement
    {"t1505.003", Category::kIntrusion},  // Web Shell
    {"t1190", Category::kIntrusion},      // Exploit Public-Facing Application
    {"t1210", Category::kIntrusion},      // Exploitation of Remote Services
    {"t1133", Category::kIntrusion},      // External Remote Services
    // A stolen account used (cloud mail, chat): success, not an attempt.
    {"t1078", Category::kAccountCompromise},      // Valid Accounts
    {"t1114", Category::kAccountCompromise},      // Email Collection (forwarding rules)
    {"t1528", Category::kAccountCompromise},      // Steal Application Access Token
    {"t1539", Category::kAccountCompromise},      // Steal Web Session Cookie
    {"t1621", Category::kAccountCompromise},      // MFA Request Generation
    {"t1098.002", Category::kAccountCompromise},  // Additional Email Delegate Permissions
    {"t1556.006", Category::kAccountCompromise},  // Multi-Factor Authentication (modified)
    // Attempts.
    {"t1110", Category::kIntrusion},  // Brute Force
    {"t1595", Category::kIntrusion},  // Active Scanning
    {"t1046", Category::kIntrusion},  // Network Service Discovery
});

// Keyword rules, most specific first: a ransomware alert often also mentions malware or an
// intrusion, and a brute-force alert mentions credentials.
constexpr auto kKeywords = std::to_array<std::pair<Category, std::string_view>>({
    {Category::kRansomware, "ransom"},
    {Category::kRansomware, "ランサム"},
    {Category::kDdos, "ddos"},
    {Category::kDdos, "denial of service"},
    {Category::kDdos, "denial-of-service"},
    {Category::kDdos, "dos attack"},
    {Category::kDdos, "syn flood"},
    {Category::kDdos, "udp flood"},
    {Category::kDdos, "http flood"},
    {Category::kDdos, "サービス妨害"},
    {Category::kPhishing, "phish"},
    {Category::kPhishing, "フィッシング"},
    {Category::kPhishing, "標的型メール"},
    {Category::kDataLeak, "data leak"},
    {Category::kDataLeak, "data_leak"},
    {Category::kDataLeak, "data loss"},
    {Category::kDataLeak, "data_loss"},
    {Category::kDataLeak, "exfiltrat"},
    {Category::kDataLeak, "情報漏えい"},
    {Category::kDataLeak, "情報漏洩"},
    {Category::kDataLeak, "漏えい"},
    {Category::kDataLeak, "漏洩"},
    {Category::kMalware, "malware"},
    {Category::kMalware, "virus"},
    {Category::kMalware, "trojan"},
    {Category::kMalware, "rootkit"},
    {Category::kMalware, "rootcheck"},
    {Category::kMalware, "spyware"},
    {Category::kMalware, "backdoor"},
    {Category::kMalware, "botnet"},
    {Category::kMalware, "worm"},
    {Category::kMalware, "command and control"},
    {Category::kMalware, "c2 beacon"},
    {Category::kMalware, "マルウェア"},
    {Category::kMalware, "ウイルス"},
    {Category::kMalware, "ウィルス"},
    // Post-compromise activity on our hosts (EDR), before the "credential" of account takeover.
    {Category::kIntrusion, "credential dump"},
    {Category::kIntrusion, "credential_dump"},
    {Category::kIntrusion, "credential access"},
    {Category::kIntrusion, "credential_access"},
    {Category::kIntrusion, "lsass"},
    {Category::kIntrusion, "mimikatz"},
    {Category::kIntrusion, "dcsync"},
    {Category::kIntrusion, "ntds.dit"},
    {Category::kIntrusion, "pass the hash"},
    {Category::kIntrusion, "pass-the-hash"},
    {Category::kIntrusion, "psexec"},
    {Category::kIntrusion, "lateral movement"},
    {Category::kIntrusion, "lateral_movement"},
    {Category::kIntrusion, "lateral tool"},
    {Category::kIntrusion, "remote execution"},
    {Category::kIntrusion, "privilege escalation"},
    {Category::kIntrusion, "privilege_escalation"},
    {Category::kIntrusion, "横展開"},
    {Category::kIntrusion, "認証情報の窃取"},
    // Web content changed by someone else: defacement or a web shell.
    {Category::kIntrusion, "defac"},
    {Category::kIntrusion, "tamper"},
    {Category::kIntrusion, "web shell"},
    {Category::kIntrusion, "webshell"},
    {Category::kIntrusion, "改ざん"},
    {Category::kIntrusion, "改竄"},
    {Category::kIntrusion, "brute"},
    {Category::kIntrusion, "authentication_fail"},
    {Category::kIntrusion, "authentication fail"},
    {Category::kIntrusion, "failed login"},
    {Category::kIntrusion, "failed logon"},
    {Category::kIntrusion, "login failure"},
    {Category::kIntrusion, "logon failure"},
    {Category::kIntrusion, "failed password"},
    {Category::kIntrusion, "invalid_login"},
    {Category::kIntrusion, "invalid user"},
    {Category::kIntrusion, "intrusion"},
    {Category::kIntrusion, "exploit"},
    {Category::kIntrusion, "initial access"},
    {Category::kIntrusion, "initial_access"},
    {Category::kIntrusion, "port scan"},
    {Category::kIntrusion, "portscan"},
    {Category::kIntrusion, "web_scan"},
    {Category::kIntrusion, "sql injection"},
    {Category::kIntrusion, "sql_injection"},
    {Category::kIntrusion, "xss"},
    {Category::kIntrusion, "web attack"},
    {Category::kIntrusion, "web_attack"},
    {Category::kIntrusion, "attack"},
    {Category::kIntrusion, "不正アクセス"},
    {Category::kIntrusion, "侵入"},
    {Category::kAccountCompromise, "account compromise"},
    {Category::kAccountCompromise, "account_compromise"},
    {Category::kAccountCompromise, "compromised account"},
    {Category::kAccountCompromise, "account takeover"},
    {Category::kAccountCompromise, "impossible travel"},
    {Category::kAccountCompromise, "atypical travel"},
    {Category::kAccountCompromise, "risky sign-in"},
    {Category::kAccountCompromise, "suspicious sign-in"},
    {Category::kAccountCompromise, "unfamiliar sign-in"},
    {Category::kAccountCompromise, "forwarding rule"},
    {Category::kAccountCompromise, "inbox rule"},
    {Category::kAccountCompromise, "mfa fatigue"},
    {Category::kAccountCompromise, "oauth consent"},
    {Category::kAccountCompromise, "session hijack"},
    {Category::kAccountCompromise, "credential"},
    {Category::kAccountCompromise, "不正ログイン"},
    {Category::kAccountCompromise, "乗っ取り"},
    {Category::kAccountCompromise, "なりすまし"},
    {Category::kDeviceLoss, "device loss"},
    {Category::kDeviceLoss, "device_loss"},
    {Category::kDeviceLoss, "lost device"},
    {Category::kDeviceLoss, "device lost"},
    {Category::kDeviceLoss, "stolen"},
    {Category::kDeviceLoss, "紛失"},
    {Category::kDeviceLoss, "盗難"},
    // Before the vendor rows: "vendor data centre outage" is an outage (no attacker); a vendor's
    // security incident names no outage keyword.
    {Category::kOutage, "outage"},
    {Category::kOutage, "service down"},
    {Category::kOutage, "instancedown"},
    {Category::kOutage, "instance down"},
    {Category::kOutage, "targetdown"},
    {Category::kOutage, "target down"},
    {Category::kOutage, "hostdown"},
    {Category::kOutage, "host down"},
    {Category::kOutage, "nodedown"},
    {Category::kOutage, "node down"},
    {Category::kOutage, "endpointdown"},
    {Category::kOutage, "endpoint down"},
    {Category::kOutage, "linkdown"},
    {Category::kOutage, "link down"},
    {Category::kOutage, "interfacedown"},
    {Category::kOutage, "interface down"},
    {Category::kOutage, "tunneldown"},
    {Category::kOutage, "tunnel down"},
    {Category::kOutage, "peerdown"},
    {Category::kOutage, "peer down"},
    {Category::kOutage, "probefailed"},
    {Category::kOutage, "probe failed"},
    {Category::kOutage, "probefailure"},
    {Category::kOutage, "probe failure"},
    {Category::kOutage, "probe_success"},
    {Category::kOutage, "unreachable"},
    {Category::kOutage, "unavailable"},
    {Category::kOutage, "downtime"},
    {Category::kOutage, "障害"},
    {Category::kOutage, "停止"},
    {Category::kOutage, "接続断"},
    {Category::kOutage, "回線断"},
    {Category::kOutage, "通信断"},
    {Category::kOutage, "不通"},
    {Category::kVendorIncident, "vendor"},
    {Category::kVendorIncident, "supplier"},
    {Category::kVendorIncident, "third party"},
    {Category::kVendorIncident, "third-party"},
    {Category::kVendorIncident, "委託先"},
});

// `id` is `key` or one of its sub-techniques (t1550.001 for t1550, not t15500).
bool technique_matches(std::string_view id, std::string_view key) {
    return id.size() >= key.size() && id.substr(0, key.size()) == key &&
           (id.size() == key.size() || id[key.size()] == '.');
}

}  // namespace

std::vector<std::string> technique_ids(std::string_view text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i + 5 <= text.size(); ++i) {
        if ((text[i] != 'T' && text[i] != 't') || (i > 0 && is_alnum(text[i - 1])))
            continue;
        std::size_t j = i + 1;
        while (j < text.size() && j - i <= 4 && is_digit(text[j]))
            ++j;
        if (j - i != 5 || (j < text.size() && is_alnum(text[j])))
            continue;
        // An optional three-digit sub-technique.
        if (j + 4 <= text.size() && text[j] == '.' && is_digit(text[j + 1]) &&
            is_digit(text[j + 2]) && is_digit(text[j + 3]) &&
            (j + 4 == text.size() || !is_alnum(text[j + 4]))) {
            j += 4;
        }
        std::string id(text.substr(i, j - i));
        id[0] = 'T';
        if (std::find(out.begin(), out.end(), id) == out.end())
            out.push_back(std::move(id));
        i = j - 1;
    }
    return out;
}

Category infer_category(std::string_view text) {
    const std::string t = lower(text);
    // Technique ids first: they are what the SIEM's detection logic says, titles are prose.
    std::size_t best = kTechniques.size();
    for (const auto& id : technique_ids(t)) {
        const std::string lowered = lower(id);
        std::size_t row = kTechniques.size();
        std::size_t longest = 0;
        for (std::size_t r = 0; r < kTechniques.size(); ++r) {
            const std::string_view key = kTechniques[r].first;
            if (key.size() > longest && technique_matches(lowered, key)) {
                row = r;
                longest = key.size();
            }
        }
        best = std::min(best, row);
    }
    if (best < kTechniques.size())
        return kTechniques[best].second;
    for (const auto& [category, keyword] : kKeywords) {
        if (contains(t, keyword)) {
            return category;
        }
    }
    return Category::kOther;
}

void add_mitre_labels(core::Event& e, std::string_view techniques, std::string_view tactics) {
    std::string ids;
    for (const auto& id : technique_ids(techniques))
        ids += (ids.empty() ? "" : ",") + id;
    add_label(e, "mitre.technique", ids);
    std::vector<std::string> names;
    std::size_t pos = 0;
    while (pos <= tactics.size()) {
        std::size_t end = tactics.find_first_of(",\n", pos);
        if (end == std::string_view::npos)
            end = tactics.size();
        std::string name(trim(tactics.substr(pos, end - pos)));
        if (lower(name).rfind("mitre_", 0) == 0) {
            name = name.substr(6);
            std::replace(name.begin(), name.end(), '_', ' ');
        }
        if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(std::move(name));
        pos = end + 1;
    }
    std::string joined;
    for (const auto& n : names)
        joined += (joined.empty() ? "" : ",") + n;
    add_label(e, "mitre.tactic", joined);
}

// --- Assets ------------------------------------------------------------------------------------

bool looks_like_ip(std::string_view s) {
    if (s.empty() || s.size() > 45) {
        return false;
    }
    const std::string z(s);
    std::array<unsigned char, 16> buf{};
    return inet_pton(AF_INET, z.c_str(), buf.data()) == 1 ||
           inet_pton(AF_INET6, z.c_str(), buf.data()) == 1;
}

bool is_private_ip(std::string_view s) {
    if (s.empty() || s.size() > 45) {
        return false;
    }
    const std::string z(s);
    std::array<unsigned char, 16> b{};
    if (inet_pton(AF_INET, z.c_str(), b.data()) == 1) {
        return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xF0u) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) ||
               (b[0] == 100 && (b[1] & 0xC0u) == 64);
    }
    if (inet_pton(AF_INET6, z.c_str(), b.data()) == 1) {
        const bool loopback =
            std::all_of(b.begin(), b.end() - 1, [](unsigned char c) { return c == 0; }) &&
            b[15] == 1;
        return loopback || (b[0] & 0xFEu) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0u) == 0x80);
    }
    return false;
}

std::string strip_port(std::string_view s) {
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        return close == std::string_view::npos ? std::string(s)
                                               : std::string(s.substr(1, close - 1));
    }
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon || colon + 1 == s.size()) {
        return std::string(s);  // no port, or a bare IPv6 address
    }
    const std::string_view port = s.substr(colon + 1);
    const bool digits =
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    return digits ? std::string(s.substr(0, colon)) : std::string(s);
}

void set_host_or_ip(core::Asset& asset, std::string_view name) {
    const std::string value = strip_port(trim(name));
    if (value.empty()) {
        return;
    }
    if (looks_like_ip(value)) {
        if (asset.ip.empty()) {
            asset.ip = value;
        }
    } else if (asset.host.empty()) {
        asset.host = value;
    }
}

void add_asset(core::Event& e, core::Asset asset) {
    if (asset.host.empty() && asset.ip.empty() && asset.user.empty() && asset.system.empty()) {
        return;
    }
    if (e.assets.size() >= kMaxAssets ||
        std::find(e.assets.begin(), e.assets.end(), asset) != e.assets.end()) {
        return;
    }
    e.assets.push_back(std::move(asset));
}

// --- Raw payloads of batches
// ----------------------------------------------------------------------

SplitRaw::SplitRaw(const json& body, std::string_view key, std::size_t items)
    : rest_(json::object()), key_(key) {
    if (!body.is_object()) {
        return;
    }
    for (const auto& [k, v] : body.items()) {
        if (k != key) {
            rest_[k] = v;
        }
    }
    const std::size_t bytes = rest_.dump(-1, ' ', false, json::error_handler_t::replace).size();
    if (items > 1 && bytes * items > kMaxSharedRawBytes) {
        json small = json::object();
        for (const auto& [k, v] : rest_.items()) {
            if (v.is_primitive() &&
                (!v.is_string() || v.get_ref<const std::string&>().size() <= 1024)) {
                small[k] = v;
            }
        }
        rest_ = std::move(small);
    }
}

json SplitRaw::for_item(const json& item) const {
    json raw = rest_;
    raw[key_] = json::array({item});
    return raw;
}

// --- Labels and finishing ------------------------------------------------------------------------

void add_label(core::Event& e, std::string_view key, std::string_view value) {
    value = trim(value);
    if (key.empty() || value.empty() || e.labels.size() >= kMaxLabels) {
        return;
    }
    e.labels.emplace(clamp_utf8(key, kMaxLabelKey), clamp_utf8(value, kMaxLabelValue));
}

void add_label(core::Event& e, std::string_view key, const json* value) {
    add_label(e, key, text(value));
}

std::string fit_dedup_key(std::string_view key) {
    std::string out(trim(key));
    if (out.size() <= kMaxDedupKey) {  // bytes >= code points, so this is within the schema
        return out;
    }
    return "sha256:" + crypto::to_hex(crypto::sha256(out));
}

namespace {

// A title is one line of display text: control characters (NUL, line breaks, escapes) become
// spaces. UTF-8 sequences never contain bytes below 0x80, so they are left intact.
std::string one_line(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            c = ' ';
    }
    return out;
}

}  // namespace

void finish(core::Event& e, const AdaptContext& ctx, std::string_view fallback_title) {
    e.tenant = ctx.tenant.empty() ? std::string("default") : clamp_utf8(ctx.tenant, kMaxTenant);
    e.source = clamp_utf8(ctx.source, kMaxSource);
    e.received_at = ctx.received_at;
    e.id = clamp_utf8(e.id, kMaxId);
    std::string title(trim(one_line(e.title)));
    if (title.empty()) {
        title = trim(one_line(fallback_title));
    }
    if (title.empty()) {
        title = "untitled event";
    }
    e.title = clamp_utf8(title, kMaxTitle);
    e.dedup_key = fit_dedup_key(e.dedup_key);
    if (e.occurred_at && (*e.occurred_at <= 0 || *e.occurred_at > kMaxTime)) {
        e.occurred_at.reset();
    }
    std::vector<core::Asset> assets;
    for (auto& a : e.assets) {
        a.host = clamp_utf8(trim(a.host), kMaxAssetField);
        a.ip = clamp_utf8(trim(a.ip), kMaxIp);
        a.user = clamp_utf8(trim(a.user), kMaxAssetField);
        a.system = clamp_utf8(trim(a.system), kMaxAssetField);
        if (assets.size() < kMaxAssets &&
            !(a.host.empty() && a.ip.empty() && a.user.empty() && a.system.empty())) {
            assets.push_back(std::move(a));
        }
    }
    e.assets = std::move(assets);
    while (e.labels.size() > kMaxLabels) {
        e.labels.erase(std::prev(e.labels.end()));
    }
    for (auto& [key, value] : e.labels) {
        if (value.size() > kMaxLabelValue) {
            value = clamp_utf8(value, kMaxLabelValue);
        }
    }
}

}  // namespace sonae::ingest::detail
