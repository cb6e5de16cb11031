#include <cstdlib>
#include <fstream>
#include <sstream>

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
}  // namespace

std::string default_schema_dir() {
    if (auto v = env("SONAE_SCHEMA_DIR")) {
        return *v;
    }
    return SONAE_DEFAULT_SCHEMA_DIR;
}

core::Result<Environment> read_environment() {
    Environment e;
    if (auto v = env("SONAE_HTTP_ADDR")) {
        const auto colon = v->rfind(':');
        if (colon == std::string::npos) {
            return core::Error::invalid_field("SONAE_HTTP_ADDR",
                                              "SONAE_HTTP_ADDR must be host:port");
        }
        e.http_address = v->substr(0, colon);
        try {
            const int port = std::stoi(v->substr(colon + 1));
            if (port < 0 || port > 65535)
                throw std::out_of_range("port");
            e.http_port = static_cast<std::uint16_t>(port);
        } catch (const std::exception&) {
            return core::Error::invalid_field("SONAE_HTTP_ADDR",
                                              "SONAE_HTTP_ADDR has an invalid port");
        }
    }
    if (auto v = env("SONAE_REDIS_URL"))
        e.redis_url = *v;
    if (auto v = env("SONAE_AMQP_URL"))
        e.amqp_url = *v;
    if (auto v = env("SONAE_CONFIG_DIR"))
        e.config_dir = *v;
    if (auto v = env("SONAE_PLAYBOOK_DIR"))
        e.playbook_dir = *v;
    if (auto v = env("SONAE_PREFIX"))
        e.prefix = *v;
    e.schema_dir = default_schema_dir();
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
