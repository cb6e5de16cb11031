#include "api.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <variant>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <sonae/core/exercise.hpp>
#include <sonae/core/wire.hpp>
#include <sonae/crypto/crypto.hpp>
#include <sonae/store/exercises.hpp>
#include <sonae/store/store.hpp>
#include <sonae/store/tokens.hpp>

#include "api_reply.hpp"
#include "async.hpp"
#include "board_feed.hpp"
#include "chatops.hpp"
#include "gateway.hpp"
#include "redis_worker.hpp"

namespace sonae::gateway {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

// A non-negative integer query parameter within [lo, hi], `fallback` when absent.
core::Result<std::int64_t> int_param(const std::map<std::string, std::string>& q,
                                     const std::string& name, std::int64_t fallback,
                                     std::int64_t lo, std::int64_t hi) {
    auto it = q.find(name);
    if (it == q.end())
        return fallback;
    std::int64_t n = 0;
    const std::string& v = it->second;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < lo || n > hi) {
        return core::Error::invalid_field(name, "query parameter '" + name + "': a number from " +
                                                    std::to_string(lo) + " to " +
                                                    std::to_string(hi));
    }
    return n;
}

// The tenant a command id names: "<tenant>.<uuid>" outside the default tenant, like incidents.
std::optional<std::string> tenant_of_command(const std::string& id) {
    const auto dot = id.find('.');
    if (dot == std::string::npos)
        return id.size() == 36 ? std::optional<std::string>("default") : std::nullopt;
    std::string tenant = id.substr(0, dot);
    // A drill's commands carry its namespace "<tenant>~<exercise>".
    const auto exercise = core::exercise_of(tenant);
    if (!api::valid_tenant(core::base_tenant(tenant)) ||
        (exercise && !core::valid_exercise_id(*exercise)) || id.size() - dot - 1 != 36)
        return std::nullopt;
    return tenant;
}

constexpr std::int64_t kPendingTtlS = 3600;

}  // namespace

bool match_route(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>* params) {
    while (!pattern.empty() || !path.empty()) {
        if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/')
            return false;
        pattern.remove_prefix(1);
        path.remove_prefix(1);
        const auto pe = std::min(pattern.find('/'), pattern.size());
        const auto se = std::min(path.find('/'), path.size());
        const std::string_view want = pattern.substr(0, pe);
        const std::string_view got = path.substr(0, se);
        if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
            if (got.empty())
                return false;
            if (params != nullptr)
                (*params)[std::string(want.substr(1, want.size() - 2))] = std::string(got);
        } else if (want != got) {
            return false;
        }
        pattern.remove_prefix(pe);
        path.remove_prefix(se);
    }
    return true;
}

Api::Api(const config::Config& config, const core::Libraries* libraries, amqp::Publisher& publisher,
         RedisWorker* redis, const clock::Clock& clock, amqp::Topology topology,
         const core::SchemaValidator* scenario_schema, BoardFeed* board_feed)
    : config_(config),
      libraries_(libraries),
      publisher_(publisher),
      redis_(redis),
      clock_(clock),
      topology_(std::move(topology)),
      scenario_schema_(scenario_schema),
      board_feed_(board_feed),
      keys_{topology_.prefix} {
    tenants_.insert("default");
    if (libraries_ != nullptr) {
        for (const auto& [tenant, lib] : *libraries_)
            tenants_.insert(tenant);
    }
    for (const auto& s : config_.sources)
        tenants_.insert(s.tenant);
    for (const auto& r : config_.responders)
        tenants_.insert(r.tenant);
    for (const auto& t : config_.api_tokens)
        tenants_.insert(t.tenant);
}

const std::vector<RouteSpec>& Api::routes() {
    static const std::vector<RouteSpec> kRoutes{
        {"GET", "/v1/incidents"},
        {"GET", "/v1/incidents/{id}"},
        {"GET", "/v1/incidents/{id}/timeline"},
        {"GET", "/v1/incidents/{id}/chain"},
        {"GET", "/v1/incidents/{id}/reports/{kind}"},
        {"POST", "/v1/incidents/{id}/commands"},
        {"GET", "/v1/commands/{id}"},
        {"GET", "/v1/playbooks"},
        {"GET", "/v1/services"},
        {"POST", "/v1/exercises"},
        {"GET", "/v1/exercises"},
        {"GET", "/v1/exercises/{id}"},
        {"POST", "/v1/exercises/{id}/pause"},
        {"POST", "/v1/exercises/{id}/resume"},
        {"POST", "/v1/exercises/{id}/stop"},
        {"GET", "/v1/exercises/{id}/report"},
        {"GET", "/v1/me"},
        {"GET", "/v1/stream"},
    };
    return kRoutes;
}

const core::Library* Api::library(const std::string& tenant) const {
    if (libraries_ == nullptr)
        return nullptr;
    auto it = libraries_->find(core::base_tenant(tenant));
    return it == libraries_->end() ? nullptr : it->second.get();
}

const core::Playbook* Api::playbook_of(const core::Incident& i) const {
    const core::Library* lib = library(i.tenant);
    return lib != nullptr ? lib->playbooks.find(i.playbook_id) : nullptr;
}

asio::awaitable<core::Result<api::Principal>> Api::authenticate(const http::Request& req) {
    const auto header = req.find(bhttp::field::authorization);
    const auto token =
        header == req.end() ? std::nullopt : api::bearer_token(std::string_view(header->value()));
    if (!token) {
        co_return core::Error{core::ErrorCode::kUnauthorized,
                              "missing bearer token (Authorization: Bearer <token>)", ""};
    }
    // Only hashes are kept, so looking one up by its hash leaks nothing through timing.
    const std::string hash = store::token_hash(*token);
    for (const auto& t : config_.api_tokens) {
        if (t.sha256_hex == hash)
            co_return api::Principal{t.name, t.tenant, t.role};
    }
    if (redis_ == nullptr)
        co_return core::Error{core::ErrorCode::kUnauthorized, "unknown token", ""};
    const store::Keys keys = keys_;
    std::function<std::optional<store::TokenInfo>(redis::Connection&)> find =
        [keys, hash](redis::Connection& c) {
            return store::TokenStore(c, keys).find_by_hash(hash);
        };
    const auto found = co_await redis_->async_run<std::optional<store::TokenInfo>>(
        std::move(find), asio::use_awaitable);
    if (!found)
        co_return core::Error{core::ErrorCode::kUnavailable, "Redis is unavailable; retry later",
                              ""};
    if (!*found || !api::valid_role((*found)->role))
        co_return core::Error{core::ErrorCode::kUnauthorized, "unknown token", ""};
    co_return api::Principal{(*found)->name, (*found)->tenant, (*found)->role};
}

asio::awaitable<std::optional<http::Response>> Api::handle(http::Request& req,
                                                           const std::string& path,
                                                           const std::string& query) {
    const unsigned version = req.version();
    const RouteSpec* route = nullptr;
    Params params;
    std::string allow;
    for (const auto& r : routes()) {
        Params p;
        if (!match_route(r.path, path, &p))
            continue;
        allow += (allow.empty() ? "" : ", ") + r.method;
        if (r.method == std::string_view(req.method_string())) {
            route = &r;
            params = std::move(p);
        }
    }
    if (allow.empty())
        co_return std::nullopt;
    if (route == nullptr) {
        auto res = error(core::ErrorCode::kMethodNotAllowed, "use " + allow, version);
        res.set(bhttp::field::allow, allow);
        co_return res;
    }
    const core::Result<api::Principal> who = co_await authenticate(req);
    if (!who) {
        co_return Gateway::error_response(who.error(), version);
    }
    const Params q = chatops::form_fields(query);
    const std::string& p = route->path;
    http::Response res;
    if (p == "/v1/incidents") {
        res = co_await list_incidents(*who, q, version);
    } else if (p == "/v1/incidents/{id}") {
        res = co_await incident(*who, params["id"], version);
    } else if (p == "/v1/incidents/{id}/timeline") {
        res = co_await timeline(*who, params["id"], q, version);
    } else if (p == "/v1/incidents/{id}/chain") {
        res = co_await chain(*who, params["id"], version);
    } else if (p == "/v1/incidents/{id}/reports/{kind}") {
        res = co_await incident_report(*who, params["id"], params["kind"], q, version);
    } else if (p == "/v1/incidents/{id}/commands") {
        res = co_await post_command(*who, params["id"], req.body(), version);
    } else if (p == "/v1/commands/{id}") {
        res = co_await command(*who, params["id"], version);
    } else if (p == "/v1/playbooks") {
        res = playbooks(*who, q, version);
    } else if (p == "/v1/me") {
        res = me(*who, version);
    } else if (p == "/v1/stream") {
        res = co_await stream(*who, q, version);
    } else if (p == "/v1/exercises" && route->method == "POST") {
        // Not a conditional expression: GCC 12 destroys a co_await's result in one twice.
        res = co_await start_exercise(*who, req.body(), version);
    } else if (p == "/v1/exercises") {
        res = co_await list_exercises(*who, q, version);
    } else if (p == "/v1/exercises/{id}") {
        res = co_await exercise(*who, params["id"], version);
    } else if (p == "/v1/exercises/{id}/report") {
        res = co_await exercise_report(*who, params["id"], q, version);
    } else if (p.starts_with("/v1/exercises/{id}/")) {
        res = co_await change_exercise(*who, params["id"], p.substr(p.rfind('/') + 1), version);
    } else {
        res = co_await services(*who, q, version);
    }
    co_return res;
}

std::variant<std::string, http::Response> Api::incident_tenant(const api::Principal& who,
                                                               const std::string& id,
                                                               unsigned version) const {
    const auto tenant = core::tenant_of_incident(id);
    if (!tenant || !who.sees(*tenant))
        return no_incident(id, version);
    if (redis_ == nullptr)
        return redis_down(version);
    return *tenant;
}

core::Result<std::vector<std::string>> Api::tenants_for(const api::Principal& who,
                                                        const Params& query) const {
    auto it = query.find("tenant");
    if (it != query.end() && !api::valid_tenant(it->second))
        return core::Error::invalid_field("tenant", "query parameter 'tenant': a tenant name");
    std::vector<std::string> out;
    if (who.all_tenants()) {
        for (const auto& t : tenants_) {
            if (it == query.end() || it->second == t)
                out.push_back(t);
        }
        if (it != query.end() && out.empty())
            out.push_back(it->second);
    } else if (it == query.end() || it->second == who.tenant) {
        out.push_back(who.tenant);
    }
    return out;
}

asio::awaitable<http::Response> Api::list_incidents(const api::Principal& who, const Params& query,
                                                    unsigned version) {
    auto filter = api::parse_incident_filter(query);
    if (!filter)
        co_return Gateway::error_response(filter.error(), version);
    auto tenants = tenants_for(who, query);
    if (!tenants)
        co_return Gateway::error_response(tenants.error(), version);
    if (redis_ == nullptr)
        co_return redis_down(version);
    using Found = std::vector<std::pair<std::pair<core::TimePoint, std::string>, core::Incident>>;
    const store::Keys keys = keys_;
    const api::IncidentFilter f = *filter;
    const std::vector<std::string> ts = *tenants;
    // Newest first per tenant, in chunks, until a page and one more matched (there is a next
    // page) or the tenant has no older incident (or none since `since`).
    std::function<Found(redis::Connection&)> scan = [keys, f, ts](redis::Connection& c) {
        store::IncidentStore s(c, keys);
        Found found;
        const std::size_t chunk = std::max<std::size_t>(f.limit + 1, 100);
        for (const auto& tenant : ts) {
            std::size_t matched = 0;
            const core::TimePoint max =
                f.after ? f.after->first : std::numeric_limits<core::TimePoint>::max();
            for (std::size_t offset = 0; matched <= f.limit; offset += chunk) {
                const auto batch = s.incidents_before(tenant, max, offset, chunk);
                std::vector<std::string> ids;
                bool older_than_since = false;
                for (const auto& item : batch) {
                    if (item.second < f.since) {
                        older_than_since = true;
                        break;
                    }
                    if (!f.after || api::newer(*f.after, {item.second, item.first}))
                        ids.push_back(item.first);
                }
                for (auto& i : s.load_many(tenant, ids)) {
                    if (f.matches(i)) {
                        ++matched;
                        std::pair<core::TimePoint, std::string> key{i.opened_at, i.id};
                        found.emplace_back(std::move(key), std::move(i));
                    }
                }
                if (older_than_since || batch.size() < chunk)
                    break;
            }
        }
        return found;
    };
    auto result = co_await redis_->async_run<Found>(std::move(scan), asio::use_awaitable);
    if (!result)
        co_return redis_down(version);
    Found& found = *result;
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return api::newer(a.first, b.first); });
    const core::TimePoint now = clock_.now();
    json items = json::array();
    for (std::size_t i = 0; i < found.size() && i < f.limit; ++i)
        items.push_back(api::incident_summary(found[i].second, now, playbook_of(found[i].second)));
    json next = nullptr;
    if (found.size() > f.limit) {
        const auto& last = found[f.limit - 1].first;
        next = api::encode_cursor(last.first, last.second);
    }
    co_return ok({{"incidents", items}, {"next_cursor", next}}, version);
}

asio::awaitable<http::Response> Api::incident(const api::Principal& who, const std::string& id,
                                              unsigned version) {
    auto readable = incident_tenant(who, id, version);
    if (auto* answer = std::get_if<http::Response>(&readable))
        co_return std::move(*answer);
    const store::Keys keys = keys_;
    const std::string t = std::get<std::string>(readable);
    const core::TimePoint now = clock_.now();
    // A drill's incident is shown on its drill clock (core/exercise.hpp).
    using Found = std::optional<std::pair<core::Incident, core::TimePoint>>;
    std::function<Found(redis::Connection&)> load = [keys, t, id,
                                                     now](redis::Connection& c) -> Found {
        auto loaded = store::IncidentStore(c, keys).load(t, id);
        if (!loaded)
            return std::nullopt;
        core::TimePoint at = now;
        if (core::exercise_of(t)) {
            if (auto clock = store::ExerciseStore(c, keys).clock(t))
                at = clock->drill_time(now);
        }
        return std::pair{std::move(loaded->incident), at};
    };
    const auto found = co_await redis_->async_run<Found>(std::move(load), asio::use_awaitable);
    if (!found)
        co_return redis_down(version);
    if (!*found)
        co_return no_incident(id, version);
    const core::Incident& i = (*found)->first;
    co_return ok(api::incident_detail(i, playbook_of(i), (*found)->second), version);
}

asio::awaitable<http::Response> Api::timeline(const api::Principal& who, const std::string& id,
                                              const Params& query, unsigned version) {
    if (auto only = only_params(query, {"cursor", "limit"}); !only)
        co_return Gateway::error_response(only.error(), version);
    const auto start = int_param(query, "cursor", 0, 0, std::numeric_limits<std::int32_t>::max());
    if (!start)
        co_return Gateway::error_response(start.error(), version);
    const auto limit = int_param(query, "limit", 100, 1, 500);
    if (!limit)
        co_return Gateway::error_response(limit.error(), version);
    auto readable = incident_tenant(who, id, version);
    if (auto* answer = std::get_if<http::Response>(&readable))
        co_return std::move(*answer);
    using Page = std::optional<std::pair<std::vector<std::string>, std::int64_t>>;
    const store::Keys keys = keys_;
    const std::string t = std::get<std::string>(readable);
    const std::int64_t from = *start;
    const std::int64_t count = *limit;
    std::function<Page(redis::Connection&)> read = [keys, t, id, from,
                                                    count](redis::Connection& c) -> Page {
        if (c.command({"EXISTS", keys.incident(t, id)}).integer() == 0)
            return std::nullopt;
        return store::IncidentStore(c, keys).timeline_page(t, id, from, count);
    };
    const auto page = co_await redis_->async_run<Page>(std::move(read), asio::use_awaitable);
    if (!page)
        co_return redis_down(version);
    if (!*page)
        co_return no_incident(id, version);
    json entries = json::array();
    std::int64_t seq = from;
    for (const auto& stored : (*page)->first) {
        json e = json::parse(stored, nullptr, false);
        if (!e.is_object())
            e = {{"text", stored}};
        e["seq"] = seq++;
        entries.push_back(std::move(e));
    }
    const std::int64_t total = (*page)->second;
    co_return ok({{"incident", id},
                  {"total", total},
                  {"entries", entries},
                  {"next_cursor", seq < total ? json(std::to_string(seq)) : json()}},
                 version);
}

asio::awaitable<http::Response> Api::chain(const api::Principal& who, const std::string& id,
                                           unsigned version) {
    auto readable = incident_tenant(who, id, version);
    if (auto* answer = std::get_if<http::Response>(&readable))
        co_return std::move(*answer);
    using Chain = std::optional<std::pair<std::string, std::vector<std::string>>>;
    const store::Keys keys = keys_;
    const std::string t = std::get<std::string>(readable);
    std::function<Chain(redis::Connection&)> read = [keys, t, id](redis::Connection& c) -> Chain {
        auto r = c.pipeline({{"HMGET", keys.incident(t, id), "ver", "tlh"},
                             {"LRANGE", keys.timeline(t, id), "0", "-1"}});
        if (r.at(0).elements().at(0).is_nil())
            return std::nullopt;
        const auto& head = r.at(0).elements().at(1);
        std::vector<std::string> entries;
        for (const auto& e : r.at(1).elements())
            entries.push_back(e.str());
        return std::make_pair(head.is_nil() ? std::string{} : head.str(), std::move(entries));
    };
    const auto found = co_await redis_->async_run<Chain>(std::move(read), asio::use_awaitable);
    if (!found)
        co_return redis_down(version);
    if (!*found)
        co_return no_incident(id, version);
    co_return ok({{"incident", id}, {"head", (*found)->first}, {"entries", (*found)->second}},
                 version);
}

asio::awaitable<http::Response> Api::post_command(const api::Principal& who, const std::string& id,
                                                  const std::string& body, unsigned version) {
    const auto tenant = core::tenant_of_incident(id);
    if (!tenant || !who.sees(*tenant))
        co_return no_incident(id, version);  // (Redis is checked once the command is valid)
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded())
        co_return error(core::ErrorCode::kInvalidJson, "the body is not JSON", version);
    if (!j.is_object() || !j.contains("command") || !j["command"].is_string()) {
        co_return error(core::ErrorCode::kInvalidField,
                        "a command line is required, e.g. {\"command\": \"ack\"}", version,
                        "/command");
    }
    const std::string text = j["command"].get<std::string>();
    const auto cmd = core::parse_command(text);
    if (!cmd) {
        co_return error(core::ErrorCode::kInvalidCommand, cmd.error().message, version, "/command");
    }
    if (redis_ == nullptr)
        co_return redis_down(version);

    core::CommandMessage m;
    m.id = core::incident_id_prefix(*tenant) + crypto::uuid_v4();
    m.tenant = *tenant;
    m.incident = id;
    m.actor = "api:" + who.name;
    m.permission = who.permission();
    m.text = core::format_command(*cmd);
    // The incident must exist; the pending marker makes GET /v1/commands/{id} answer before
    // the orchestrator has (it overwrites the marker with the result).
    const store::Keys keys = keys_;
    const std::string pending =
        json{{"id", m.id}, {"pending", true}, {"incident", id}, {"command", m.text}}.dump();
    const std::string t = *tenant;
    const std::string cid = m.id;
    std::function<bool(redis::Connection&)> prepare = [keys, t, id, cid,
                                                       pending](redis::Connection& c) {
        if (c.command({"EXISTS", keys.incident(t, id)}).integer() == 0)
            return false;
        c.command({"SET", keys.command_result(t, cid), pending, "NX", "EX",
                   std::to_string(kPendingTtlS)});
        return true;
    };
    const auto exists = co_await redis_->async_run<bool>(std::move(prepare), asio::use_awaitable);
    if (!exists)
        co_return redis_down(version);
    if (!*exists)
        co_return no_incident(id, version);

    // A command outside the role is still sent: the orchestrator refuses it and audits who
    // tried what (PRODUCT §9); the caller learns at once.
    const bool allowed = core::required_permission(cmd->verb) <= m.permission;
    const core::OutboxEntry o = core::OutboxEntry::of(m);
    std::vector<amqp::Message> messages;
    messages.push_back(topology_.message(o.routing_key, o.message_id, o.type, o.body, t));
    amqp::PublishOutcome outcome =
        co_await async_publish(publisher_, std::move(messages), asio::use_awaitable);
    if (!outcome.ok) {
        spdlog::warn("api: command {} not accepted: {}", m.id, outcome.error);
        // Not sent: its pending marker would answer "pending" for an hour. (Best effort: if
        // Redis fails too, the marker expires.)
        const std::string marker = keys.command_result(t, cid);
        std::function<bool(redis::Connection&)> forget = [marker](redis::Connection& c) {
            c.command({"DEL", marker});
            return true;
        };
        co_await redis_->async_run<bool>(std::move(forget), asio::use_awaitable);
        auto res = error(core::ErrorCode::kUnavailable,
                         "the message broker is unavailable; retry later", version);
        res.set(bhttp::field::retry_after, "5");
        co_return res;
    }
    spdlog::info("api: {} by {} on {} (command {})", m.text, m.actor, id, m.id);
    if (!allowed) {
        const std::string need(core::to_string(core::required_permission(cmd->verb)));
        json b = {{"error", http::error_object("forbidden",
                                               "`" + m.text + "` needs the " + need +
                                                   " role; the token's role is " + who.role +
                                                   " (refused and audited)",
                                               "/command")},
                  {"command_id", m.id}};
        co_return ok(b, version, http::Status::forbidden);
    }
    auto res =
        ok({{"command_id", m.id}, {"incident", id}, {"command", m.text}, {"status", "pending"}},
           version, http::Status::accepted);
    res.set(bhttp::field::location, "/v1/commands/" + m.id);
    co_return res;
}

asio::awaitable<http::Response> Api::command(const api::Principal& who, const std::string& id,
                                             unsigned version) {
    const auto tenant = tenant_of_command(id);
    auto unknown = [&] {
        return error(core::ErrorCode::kNotFound, "no command " + id.substr(0, 80), version);
    };
    if (!tenant || !who.sees(*tenant))
        co_return unknown();
    if (redis_ == nullptr)
        co_return redis_down(version);
    const std::string key = keys_.command_result(*tenant, id);
    std::function<std::string(redis::Connection&)> get = [key](redis::Connection& c) {
        auto r = c.command({"GET", key});
        return r.is_nil() ? std::string{} : r.str();
    };
    const auto text = co_await redis_->async_run<std::string>(std::move(get), asio::use_awaitable);
    if (!text)
        co_return redis_down(version);
    const json j = json::parse(*text, nullptr, false);
    if (text->empty() || !j.is_object())
        co_return unknown();
    if (j.value("pending", false)) {
        co_return ok({{"command_id", id},
                      {"status", "pending"},
                      {"incident", j.value("incident", "")},
                      {"message", nullptr}},
                     version);
    }
    const bool applied = j.value("ok", false);
    co_return ok({{"command_id", id},
                  {"status", applied ? "applied" : "refused"},
                  {"message", j.value("message", "")}},
                 version);
}

http::Response Api::me(const api::Principal& who, unsigned version) const {
    json tenants = json::array();
    const auto visible = tenants_for(who, {});  // without ?tenant= it cannot fail
    for (const auto& t : *visible) {
        const core::Library* lib = library(t);
        const std::string name = lib != nullptr ? lib->catalog.municipality : "";
        tenants.push_back({{"id", t}, {"municipality", name.empty() ? json() : json(name)}});
    }
    json commands = json::array();
    for (const core::Verb v : core::all_verbs()) {
        const core::Permission need = core::required_permission(v);
        commands.push_back({{"verb", core::to_string(v)},
                            {"usage", core::usage(v)},
                            {"role", core::to_string(need)},
                            {"allowed", need <= who.permission()}});
    }
    return ok({{"name", who.name},
               {"tenant", who.tenant},
               {"role", who.role},
               {"all_tenants", who.all_tenants()},
               {"tenants", tenants},
               {"commands", commands}},
              version);
}

asio::awaitable<http::Response> Api::stream(const api::Principal& who, const Params& query,
                                            unsigned version) {
    if (auto only = only_params(query, {"since", "wait"}); !only)
        co_return Gateway::error_response(only.error(), version);
    const auto wait_s = int_param(query, "wait", 25, 0, 60);
    if (!wait_s)
        co_return Gateway::error_response(wait_s.error(), version);
    auto since_it = query.find("since");
    std::string since = since_it == query.end() ? std::string{} : since_it->second;
    if (!since.empty() && !BoardFeed::valid_id(since)) {
        co_return error(core::ErrorCode::kInvalidField,
                        "query parameter 'since': the id of a previous event (<ms>-<seq>)", version,
                        "since");
    }
    if (board_feed_ == nullptr)
        co_return redis_down(version);
    auto event = [](const std::string& id, const std::string& name, const json& data) {
        return "id: " + id + "\nevent: " + name + "\ndata: " + http::dump_json(data) + "\n\n";
    };
    // One timer for the whole wait: its expiry is the deadline (BoardFeed::wait).
    const auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                            std::chrono::seconds(*wait_s));
    bool expired = false;
    std::string body = "retry: 1000\n";
    for (;;) {
        BoardFeed::Read r = board_feed_->read(since);
        if (!r.ready)
            co_return redis_down(version);
        if (r.reset) {
            body += event(r.last, "reset", json::object());
            break;
        }
        // The newest change of each incident the caller sees, oldest first.
        std::vector<const BoardFeed::Change*> seen;
        std::set<std::string_view> incidents;
        for (auto c = r.changes.rbegin(); c != r.changes.rend(); ++c) {
            if (who.sees(c->tenant) && incidents.insert(c->incident).second)
                seen.push_back(&*c);
        }
        std::reverse(seen.begin(), seen.end());
        if (!r.changes.empty())
            since = r.last;  // past the changes of other tenants too
        for (const BoardFeed::Change* c : seen)
            body += event(c->id, "change", {{"tenant", c->tenant}, {"incident", c->incident}});
        if (!seen.empty() || expired || board_feed_->stopping()) {
            if (seen.empty())
                body += event(since, "idle", json::object());
            break;
        }
        expired = co_await board_feed_->wait(r.generation, timer);
    }
    http::Response res{http::Status::ok, version};
    res.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = std::move(body);
    res.prepare_payload();
    co_return res;
}

http::Response Api::playbooks(const api::Principal& who, const Params& query,
                              unsigned version) const {
    if (auto only = only_params(query, {"tenant"}); !only)
        return Gateway::error_response(only.error(), version);
    auto tenants = tenants_for(who, query);
    if (!tenants)
        return Gateway::error_response(tenants.error(), version);
    json out = json::array();
    for (const auto& t : *tenants) {
        if (const core::Library* lib = library(t)) {
            for (const auto& p : lib->playbooks.all())
                out.push_back(api::playbook_view(p, t));
        }
    }
    return ok({{"playbooks", out}}, version);
}

asio::awaitable<http::Response> Api::services(const api::Principal& who, const Params& query,
                                              unsigned version) {
    if (auto only = only_params(query, {"tenant", "exercise"}); !only)
        co_return Gateway::error_response(only.error(), version);
    auto tenants = tenants_for(who, query);
    if (!tenants)
        co_return Gateway::error_response(tenants.error(), version);
    auto ex = query.find("exercise");
    if (ex != query.end() && ex->second != "true" && ex->second != "false") {
        co_return error(core::ErrorCode::kInvalidField, "query parameter 'exercise': true or false",
                        version, "exercise");
    }
    const bool exercise = ex != query.end() && ex->second == "true";
    if (redis_ == nullptr)
        co_return redis_down(version);
    using Open = std::map<std::string, std::vector<core::Incident>>;
    const store::Keys keys = keys_;
    const std::vector<std::string> ts = *tenants;
    std::function<Open(redis::Connection&)> read = [keys, ts](redis::Connection& c) {
        store::IncidentStore s(c, keys);
        Open open;
        for (const auto& t : ts)
            open[t] = s.load_many(t, s.open_ids(t));
        return open;
    };
    const auto open = co_await redis_->async_run<Open>(std::move(read), asio::use_awaitable);
    if (!open)
        co_return redis_down(version);
    const core::TimePoint now = clock_.now();
    json out = json::array();
    for (const auto& t : ts) {
        std::vector<const core::Incident*> incidents;
        for (const auto& i : open->at(t)) {
            if (i.open() && (exercise || !i.exercise))
                incidents.push_back(&i);
        }
        std::vector<std::string> ids;
        const core::Library* lib = library(t);
        if (lib != nullptr) {
            for (const auto& s : lib->catalog.services)
                ids.push_back(s.id);
        }
        // Services the incidents name that the catalog does not (a playbook's extra clocks).
        for (const core::Incident* i : incidents) {
            for (const auto& s : i->services) {
                if (std::find(ids.begin(), ids.end(), s.id) == ids.end())
                    ids.push_back(s.id);
            }
        }
        for (const auto& sid : ids) {
            const core::Service* def = lib != nullptr ? lib->catalog.service(sid) : nullptr;
            out.push_back(api::service_status(t, sid, def, incidents, now));
        }
    }
    co_return ok({{"services", out}}, version);
}

}  // namespace sonae::gateway
