#include <filesystem>
#include <sstream>

#include <sonae/config/config.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/core/yaml.hpp>
#include <sonae/crypto/crypto.hpp>
#include <sonae/loader/loader.hpp>

namespace sonae::config {
namespace {

using nlohmann::json;

struct FileDoc {
    std::string path;
    core::LocatedJson doc;

    core::Error error(const std::string& pointer, const std::string& message) const {
        return core::Error{core::ErrorCode::kInvalidField,
                           path + ":" + std::to_string(doc.line_of(pointer)) + ": " + message,
                           pointer};
    }
};

// Loads and schema-checks one optional file; returns nullopt when it does not exist.
core::Result<std::optional<FileDoc>> load_checked(const std::string& dir, const std::string& name,
                                                  const loader::Schemas& schemas) {
    const std::string path = dir + "/" + name + ".yaml";
    if (!std::filesystem::exists(path)) {
        return std::optional<FileDoc>{};
    }
    auto loaded = loader::load_yaml_file(path);
    if (!loaded) {
        return loaded.error();
    }
    FileDoc f{path, std::move(loaded.value())};
    if (f.doc.value.is_null()) {
        f.doc.value = json::object();
    }
    if (auto ok = schemas.config(name).validate(f.doc.value); !ok) {
        return f.error(ok.error().field, ok.error().message);
    }
    return std::optional<FileDoc>{std::move(f)};
}

std::string str(const json& o, const char* key, const std::string& fallback = {}) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Expands a string field in place; a failure names the file and line.
core::Result<std::string> expanded(const FileDoc& f, const json& o, const std::string& pointer,
                                   const char* key) {
    const std::string raw = str(o, key);
    auto r = expand_references(raw);
    if (!r) {
        return f.error(pointer + "/" + key, r.error().message);
    }
    return r;
}

core::Classification classification_of(const json& v) {
    const std::string s =
        v.is_number_integer() ? std::to_string(v.get<int>()) : v.get<std::string>();
    return core::parse_classification(s).value_or(core::Classification::k3C);
}

core::Result<core::Ok> load_sources(const FileDoc& f, Config& out) {
    const json& list = f.doc.value.at("sources");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json& s = list[i];
        const std::string ptr = "/sources/" + std::to_string(i);
        Source src;
        src.name = str(s, "name");
        src.tenant = str(s, "tenant", "default");
        src.format = *ingest::parse_format(str(s, "format"));
        src.exercise = s.value("exercise", false);
        if (auto rk = expanded(f, s, ptr, "routing_key"); !rk) {
            return rk.error();
        } else {
            src.routing_key = *rk;
        }
        src.max_body = s.value("max_body", src.max_body);
        if (auto rl = s.find("rate_limit"); rl != s.end()) {
            src.rate_per_s = rl->value("per_second", src.rate_per_s);
            src.burst = rl->value("burst", std::max(src.rate_per_s, src.burst));
        }
        if (out.find_source(src.name) != nullptr) {
            return f.error(ptr + "/name", "duplicate source name '" + src.name + "'");
        }
        const json& a = s.at("auth");
        const std::string aptr = ptr + "/auth";
        ingest::AuthConfig auth;
        auth.scheme = *ingest::parse_auth_scheme(str(a, "type"));
        auto need = [&](const char* key) -> core::Result<std::string> {
            auto v = expanded(f, a, aptr, key);
            if (!v)
                return v;
            if (v->empty()) {
                return f.error(
                    aptr, std::string("auth type '") + str(a, "type") + "' needs '" + key + "'");
            }
            return v;
        };
        switch (auth.scheme) {
            case ingest::AuthScheme::kBearer: {
                auto v = need("token");
                if (!v)
                    return v.error();
                auth.secret = *v;
                break;
            }
            case ingest::AuthScheme::kBasic: {
                auto u = need("username");
                if (!u)
                    return u.error();
                auto p = need("password");
                if (!p)
                    return p.error();
                auth.username = *u;
                auth.secret = *p;
                break;
            }
            case ingest::AuthScheme::kHeader: {
                auto h = need("header");
                if (!h)
                    return h.error();
                auto v = need("secret");
                if (!v)
                    return v.error();
                auth.header = *h;
                auth.secret = *v;
                break;
            }
            case ingest::AuthScheme::kQueryToken: {
                auto v = need("token");
                if (!v)
                    return v.error();
                auth.secret = *v;
                auth.query_param = str(a, "param", "token");
                break;
            }
            case ingest::AuthScheme::kHmacSha256: {
                auto h = need("header");
                if (!h)
                    return h.error();
                auto v = need("secret");
                if (!v)
                    return v.error();
                auth.header = *h;
                auth.secret = *v;
                auth.encoding = str(a, "encoding", "hex");
                auth.signature_prefix = str(a, "prefix");
                auth.timestamp_header = str(a, "timestamp_header");
                if (auto w = str(a, "window"); !w.empty()) {
                    auto d = core::parse_duration(w);
                    if (!d)
                        return f.error(aptr + "/window", "invalid duration '" + w + "'");
                    auth.window = *d;
                }
                break;
            }
            case ingest::AuthScheme::kRoutingKey: {
                auto v = need("routing_key");
                if (!v)
                    return v.error();
                auth.secret = *v;
                break;
            }
            case ingest::AuthScheme::kNone:
                auth.insecure = a.value("insecure", false);
                if (!auth.insecure) {
                    return f.error(aptr, "auth type 'none' is refused unless 'insecure: true'");
                }
                break;
        }
        src.auth = std::move(auth);
        out.sources.push_back(std::move(src));
    }
    return core::Ok{};
}

core::Result<core::Ok> load_channels(const FileDoc& f, Config& out) {
    const json& list = f.doc.value.at("channels");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json& c = list[i];
        const std::string ptr = "/channels/" + std::to_string(i);
        Channel ch;
        ch.name = str(c, "name");
        ch.tenant = str(c, "tenant", "default");
        ch.type = str(c, "type");
        auto url = expanded(f, c, ptr, "url");
        if (!url)
            return url.error();
        ch.url = *url;
        auto secret = expanded(f, c, ptr, "secret");
        if (!secret)
            return secret.error();
        ch.secret = *secret;
        if (auto it = c.find("max_classification"); it != c.end()) {
            ch.max_classification = classification_of(*it);
        }
        ch.exercise = c.value("exercise", false);
        ch.rate_per_s = c.value("rate_per_s", ch.type == "slack" ? 1.0 : 0.0);
        ch.from = str(c, "from");
        ch.starttls = c.value("starttls", false);
        ch.username = str(c, "username");
        auto password = expanded(f, c, ptr, "password");
        if (!password)
            return password.error();
        ch.password = *password;
        ch.all = c.value("all", false);
        if (auto it = c.find("roles"); it != c.end())
            ch.roles = it->get<std::vector<std::string>>();
        if (auto it = c.find("to"); it != c.end())
            ch.to = it->get<std::vector<std::string>>();
        if (auto t = str(c, "timeout"); !t.empty()) {
            auto d = core::parse_duration(t);
            if (!d || *d < core::kMinRequestTimeout || *d > core::kMaxRequestTimeout)
                return f.error(ptr + "/timeout",
                               "timeout must be from 100ms to 60s, got '" + t + "'");
            ch.timeout = *d;
        }
        if (ch.type == "webhook" && !ch.secret.empty() &&
            !crypto::base64_decode(ch.secret.rfind("whsec_", 0) == 0 ? ch.secret.substr(6)
                                                                     : ch.secret)) {
            return f.error(ptr + "/secret", "webhook secret must be whsec_<base64>");
        }
        if (ch.type == "email" && (ch.from.empty() || ch.to.empty()) && !ch.url.empty())
            return f.error(ptr, "an email channel needs 'from' and 'to'");
        if (ch.type == "lineworks" && ch.to.size() != 1)
            return f.error(ptr, "a lineworks channel needs one 'to': a channel id or user:<id>");
        // A lineworks channel is sent through the bot of responders.yaml: it has no URL.
        if (ch.url.empty() && ch.type != "lineworks") {
            out.disabled_channels.push_back(ch.name);  // e.g. ${env:SONAE_DEV_WEBHOOK_URL:-} unset
            continue;
        }
        out.channels.push_back(std::move(ch));
    }
    return core::Ok{};
}

core::Result<core::Ok> load_responders(const FileDoc& f, Config& out) {
    const json& doc = f.doc.value;
    if (auto it = doc.find("responders"); it != doc.end()) {
        for (const json& r : *it) {
            Responder p;
            p.id = str(r, "id");
            p.name = str(r, "name", p.id);
            p.tenant = str(r, "tenant", "default");
            p.role = str(r, "role");
            if (auto pr = r.find("playbook_roles"); pr != r.end()) {
                p.playbook_roles = pr->get<std::vector<std::string>>();
            }
            p.slack = str(r, "slack");
            p.mattermost = str(r, "mattermost");
            p.teams = str(r, "teams");
            p.lineworks = str(r, "lineworks");
            p.email = str(r, "email");
            out.responders.push_back(std::move(p));
        }
    }
    if (auto it = doc.find("api_tokens"); it != doc.end()) {
        for (const json& t : *it) {
            out.api_tokens.push_back(ApiToken{str(t, "name"), str(t, "tenant", "default"),
                                              str(t, "sha256"), str(t, "role")});
        }
    }
    if (auto it = doc.find("chat"); it != doc.end()) {
        const json& chat = *it;
        auto put = [&](const json& o, const std::string& pointer, const char* key,
                       std::string& to) -> core::Result<core::Ok> {
            if (!o.contains(key))
                return core::Ok{};
            auto v = expanded(f, o, pointer, key);
            if (!v)
                return v.error();
            to = *v;
            return core::Ok{};
        };
        ChatSecrets& c = out.chat;
        LineWorksBot& lw = c.lineworks;
        for (auto r : {put(chat, "/chat", "slack_signing_secret", c.slack_signing_secret),
                       put(chat, "/chat", "mattermost_token", c.mattermost_token),
                       put(chat, "/chat", "teams_security_token", c.teams_security_token),
                       put(chat, "/chat", "lineworks_bot_secret", lw.bot_secret),
                       put(chat, "/chat", "public_url", c.public_url)}) {
            if (!r)
                return r.error();
        }
        if (auto l = chat.find("lineworks"); l != chat.end()) {
            const std::string lp = "/chat/lineworks";
            for (auto r :
                 {put(*l, lp, "bot_id", lw.bot_id), put(*l, lp, "bot_secret", lw.bot_secret),
                  put(*l, lp, "client_id", lw.client_id),
                  put(*l, lp, "client_secret", lw.client_secret),
                  put(*l, lp, "service_account", lw.service_account),
                  put(*l, lp, "private_key", lw.private_key), put(*l, lp, "api_url", lw.api_url),
                  put(*l, lp, "auth_url", lw.auth_url)}) {
                if (!r)
                    return r.error();
            }
        }
    }
    return core::Ok{};
}

}  // namespace

const Source* Config::find_source(const std::string& name) const {
    for (const auto& s : sources) {
        if (s.name == name)
            return &s;
    }
    return nullptr;
}

const Source* Config::find_source_by_routing_key(const std::string& key) const {
    const std::string wanted = crypto::sha256(key);
    for (const auto& s : sources) {
        const std::string& own =
            s.auth.scheme == ingest::AuthScheme::kRoutingKey ? s.auth.secret : s.routing_key;
        if (!own.empty() && crypto::constant_time_equal(crypto::sha256(own), wanted)) {
            return &s;
        }
    }
    return nullptr;
}

std::string_view to_string(ChatPlatform p) {
    switch (p) {
        case ChatPlatform::kSlack:
            return "slack";
        case ChatPlatform::kMattermost:
            return "mattermost";
        case ChatPlatform::kTeams:
            return "teams";
        case ChatPlatform::kLineWorks:
            return "lineworks";
    }
    return "?";
}

const Responder* Config::find_responder(ChatPlatform platform, const std::string& identity) const {
    if (identity.empty())
        return nullptr;
    for (const auto& r : responders) {
        const std::string& own = platform == ChatPlatform::kSlack        ? r.slack
                                 : platform == ChatPlatform::kMattermost ? r.mattermost
                                 : platform == ChatPlatform::kTeams      ? r.teams
                                                                         : r.lineworks;
        if (own == identity)
            return &r;
    }
    return nullptr;
}

const Channel* Config::find_channel(const std::string& name) const {
    for (const auto& c : channels) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

core::Result<Config> load(const std::string& dir, const loader::Schemas& schemas) {
    Config out;
    out.dir = dir;
    if (!std::filesystem::is_directory(dir)) {
        return core::Error::invalid_field("SONAE_CONFIG_DIR", dir + ": not a directory");
    }
    try {
        auto sources = load_checked(dir, "sources", schemas);
        if (!sources)
            return sources.error();
        if (*sources) {
            if (auto r = load_sources(**sources, out); !r)
                return r.error();
        }
        auto channels = load_checked(dir, "channels", schemas);
        if (!channels)
            return channels.error();
        if (*channels) {
            if (auto r = load_channels(**channels, out); !r)
                return r.error();
        }
        auto responders = load_checked(dir, "responders", schemas);
        if (!responders)
            return responders.error();
        if (*responders) {
            if (auto r = load_responders(**responders, out); !r)
                return r.error();
        }
    } catch (const std::exception& e) {
        return core::Error{core::ErrorCode::kInternal, dir + ": " + e.what(), ""};
    }
    return out;
}

std::string describe(const Config& config) {
    std::ostringstream os;
    os << "config " << config.dir << ": " << config.sources.size() << " sources (";
    for (std::size_t i = 0; i < config.sources.size(); ++i) {
        const auto& s = config.sources[i];
        os << (i ? ", " : "") << s.name << "/" << ingest::to_string(s.format);
    }
    os << "), " << config.channels.size() << " channels (";
    for (std::size_t i = 0; i < config.channels.size(); ++i) {
        const auto& c = config.channels[i];
        os << (i ? ", " : "") << c.name << "/" << c.type;
    }
    os << ")";
    if (!config.disabled_channels.empty()) {
        os << ", disabled (no url): ";
        for (std::size_t i = 0; i < config.disabled_channels.size(); ++i) {
            os << (i ? ", " : "") << config.disabled_channels[i];
        }
    }
    os << ", " << config.responders.size() << " responders, " << config.api_tokens.size()
       << " API tokens";
    return os.str();
}

}  // namespace sonae::config
