// Every SONAE_* environment variable is read here and nowhere else.
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

#include <sonae/config/config.hpp>

namespace sonae::config {
namespace {

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        return std::nullopt;
    }
    return std::string(v);
}

// A positive integer variable; an error names it.
core::Result<core::Ok> read_int(const char* name, int min, int max, int& out) {
    auto v = env(name);
    if (!v)
        return core::Ok{};
    int n = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size() || n < min || n > max) {
        return core::Error::invalid_field(name, std::string(name) + " must be an integer from " +
                                                    std::to_string(min) + " to " +
                                                    std::to_string(max) + ", got '" + *v + "'");
    }
    out = n;
    return core::Ok{};
}

// A file path variable: the file must be readable now, so that a wrong path stops the service at
// start-up instead of at its first connection.
core::Result<core::Ok> read_file_path(const char* name, std::string& out) {
    auto v = env(name);
    if (!v)
        return core::Ok{};
    if (!std::ifstream(*v)) {
        return core::Error::invalid_field(name,
                                          std::string(name) + ": cannot read file '" + *v + "'");
    }
    out = *v;
    return core::Ok{};
}

// A host:port variable; an error names it.
core::Result<std::pair<std::string, std::uint16_t>> host_port(const char* name,
                                                              const std::string& v) {
    const auto colon = v.rfind(':');
    if (colon == std::string::npos)
        return core::Error::invalid_field(name, std::string(name) + " must be host:port");
    int port = 0;
    const std::string p = v.substr(colon + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port < 0 || port > 65535)
        return core::Error::invalid_field(name, std::string(name) + " has an invalid port");
    return std::pair{v.substr(0, colon), static_cast<std::uint16_t>(port)};
}

// SONAE_REDIS_SENTINELS: host:port[,host:port…] (an IPv6 address in brackets, [::1]:26379).
core::Result<std::vector<std::pair<std::string, std::uint16_t>>> sentinels(const std::string& v) {
    static constexpr const char* kName = "SONAE_REDIS_SENTINELS";
    std::vector<std::pair<std::string, std::uint16_t>> out;
    std::size_t start = 0;
    while (start <= v.size()) {
        std::size_t comma = v.find(',', start);
        if (comma == std::string::npos)
            comma = v.size();
        std::string item = v.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ')
            item.erase(item.begin());
        while (!item.empty() && item.back() == ' ')
            item.pop_back();
        auto hp = host_port(kName, item);
        if (!hp || hp->first.empty() || hp->second == 0) {
            return core::Error::invalid_field(
                kName, std::string(kName) + " must be host:port[,host:port…], got '" + item + "'");
        }
        if (hp->first.size() > 2 && hp->first.front() == '[' && hp->first.back() == ']')
            hp->first = hp->first.substr(1, hp->first.size() - 2);
        out.push_back(std::move(*hp));
        start = comma + 1;
    }
    return out;
}

}  // namespace

core::Result<Environment> read_environment() {
    Environment e;
    if (auto v = env("SONAE_HTTP_ADDR")) {
        auto hp = host_port("SONAE_HTTP_ADDR", *v);
        if (!hp)
            return hp.error();
        std::tie(e.http_address, e.http_port) = *hp;
    }
    if (auto v = env("SONAE_ADMIN_ADDR")) {
        auto hp = host_port("SONAE_ADMIN_ADDR", *v);
        if (!hp)
            return hp.error();
        e.admin_address = *hp;
    }
    if (auto v = env("SONAE_REDIS_URL"))
        e.redis_url = *v;
    if (auto v = env("SONAE_REDIS_SENTINELS")) {
        auto list = sentinels(*v);
        if (!list)
            return list.error();
        e.redis_sentinels = std::move(list.value());
    }
    if (auto v = env("SONAE_REDIS_SENTINEL_MASTER")) {
        if (v->find_first_of(" \t\r\n") != std::string::npos)
            return core::Error::invalid_field("SONAE_REDIS_SENTINEL_MASTER",
                                              "SONAE_REDIS_SENTINEL_MASTER must be one word");
        e.redis_sentinel_master = *v;
    }
    if (auto v = env("SONAE_AMQP_URL"))
        e.amqp_url = *v;
    if (auto v = env("SONAE_CONFIG_DIR"))
        e.config_dir = *v;
    if (auto v = env("SONAE_PLAYBOOK_DIR"))
        e.playbook_dir = *v;
    e.schema_dir = env("SONAE_SCHEMA_DIR").value_or(SONAE_DEFAULT_SCHEMA_DIR);
    if (auto v = env("SONAE_PREFIX"))
        e.prefix = *v;
    if (auto r = read_int("SONAE_REDIS_WAIT_REPLICAS", 0, 16, e.redis_wait_replicas); !r)
        return r.error();
    if (auto r = read_int("SONAE_WORKERS", 1, 256, e.workers); !r)
        return r.error();
    if (auto r = read_int("SONAE_HTTP_THREADS", 1, 256, e.http_threads); !r)
        return r.error();
    if (auto r = read_int("SONAE_MAX_CONNECTIONS", 1, 1000000, e.max_connections); !r)
        return r.error();
    if (auto r = read_int("SONAE_DRAIN_SECONDS", 0, 4, e.drain_seconds); !r)
        return r.error();
    if (auto v = env("SONAE_LOG_LEVEL")) {
        static constexpr const char* kLevels[] = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
        bool known = false;
        for (const char* l : kLevels)
            known = known || *v == l;
        if (!known) {
            return core::Error::invalid_field(
                "SONAE_LOG_LEVEL",
                "SONAE_LOG_LEVEL must be trace, debug, info, warn, error, critical or off");
        }
        e.log_level = *v;
    }
    for (const auto& [name, out] :
         {std::pair{"SONAE_TLS_CERT", &e.tls_cert}, std::pair{"SONAE_TLS_KEY", &e.tls_key},
          std::pair{"SONAE_REDIS_CA", &e.redis_ca}, std::pair{"SONAE_AMQP_CA", &e.amqp_ca}}) {
        if (auto r = read_file_path(name, *out); !r)
            return r.error();
    }
    if (e.tls_cert.empty() != e.tls_key.empty()) {
        const char* missing = e.tls_cert.empty() ? "SONAE_TLS_CERT" : "SONAE_TLS_KEY";
        return core::Error::invalid_field(missing,
                                          std::string(missing) +
                                              " is not set: HTTPS needs both SONAE_TLS_CERT and "
                                              "SONAE_TLS_KEY");
    }
    if (auto v = env("SONAE_LOG_FORMAT")) {
        if (*v != "json" && *v != "text")
            return core::Error::invalid_field("SONAE_LOG_FORMAT",
                                              "SONAE_LOG_FORMAT must be json or text");
        e.log_json = *v == "json";
    }
    return e;
}

core::Result<std::string> expand_references(const std::string& value) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
        const std::size_t start = value.find("${", pos);
        if (start == std::string::npos) {
            out += value.substr(pos);
            return out;
        }
        out += value.substr(pos, start - pos);
        const std::size_t end = value.find('}', start);
        if (end == std::string::npos) {
            return core::Error::invalid_field("", "unterminated ${ reference");
        }
        const std::string ref = value.substr(start + 2, end - start - 2);
        if (ref.rfind("env:", 0) == 0) {
            std::string name = ref.substr(4);
            std::optional<std::string> fallback;
            if (auto d = name.find(":-"); d != std::string::npos) {
                fallback = name.substr(d + 2);
                name = name.substr(0, d);
            }
            auto v = env(name.c_str());
            if (!v && !fallback) {
                return core::Error::invalid_field("",
                                                  "environment variable " + name + " is not set");
            }
            out += v ? *v : *fallback;
        } else if (ref.rfind("file:", 0) == 0) {
            const std::string path = ref.substr(5);
            std::ifstream in(path);
            if (!in) {
                return core::Error::invalid_field("", "cannot read secret file " + path);
            }
            std::stringstream ss;
            ss << in.rdbuf();
            std::string content = ss.str();
            while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
                content.pop_back();
            }
            out += content;
        } else {
            return core::Error::invalid_field(
                "", "unknown reference ${" + ref + "} (use env: or file:)");
        }
        pos = end + 1;
    }
}

}  // namespace sonae::config
