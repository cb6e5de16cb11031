// The REST API in-process against a real Redis: incidents are opened and commands applied by the
// orchestrator's real processor on the same Redis; a fake publisher hands the API's commands to
// it. Every response is validated against schemas/openapi.yaml, and the conformance case checks
// both ways: every route the gateway serves is documented, every documented response is produced.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <doctest/doctest.h>

#include <sonae/crypto/crypto.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/store/tokens.hpp>

#include "../../orchestrator/src/processor.hpp"
#include "../src/board_feed.hpp"
#include "../src/gateway.hpp"
#include "../src/redis_worker.hpp"
#include "fake_publisher.hpp"
#include "testkit.hpp"

using namespace sonae;
using nlohmann::json;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

using gateway::testing::FakePublisher;

constexpr const char* kCatalog = R"(tenant: TENANT
utc_offset: "+09:00"
roles: [{id: csirt, name: CSIRT}]
services:
  - {id: juki, name: 住民記録, rto: 4h, classification: 3A}
  - {id: web, name: ウェブサイト, rto: 24h}
systems:
  - {id: juki-sys, name: 住民記録システム, hosts: ["juki-*"], services: [juki]}
)";

constexpr const char* kPlaybook = R"(id: malware
title: マルウェア対応
match: {field: category, equals: malware}
roles: [csirt]
escalation:
  - {id: half, at_rto_fraction: 0.5, notify: {roles: [csirt]}}
steps:
  - {id: triage, title: 初動, owner: csirt, due: 30m}
  - {id: restore, title: 復旧, owner: csirt, after: [triage], recovers: [juki]}
)";

std::string hash(const std::string& token) {
    return store::token_hash(token);
}

// Tokens of every role in the default tenant, a commander of tenant kita, and a prefecture.
std::string responders_yaml() {
    std::string y = "api_tokens:\n";
    for (const char* role : {"viewer", "responder", "commander", "admin"})
        y += std::string("  - {name: ") + role + ", role: " + role +
             ", sha256: " + hash(std::string("tok-") + role) + "}\n";
    y += "  - {name: kita-cmd, tenant: kita, role: commander, sha256: " + hash("tok-kita") + "}\n";
    y += "  - {name: pref, tenant: pref, role: prefecture, sha256: " + hash("tok-pref") + "}\n";
    y += R"(chat:
  slack_signing_secret: slack-secret
  mattermost_token: mm-token
  teams_security_token: c29uYWUtdGVhbXMtdGVzdC1rZXktMzJieXRlcyE=
  lineworks: {bot_id: "42", bot_secret: lw-secret}
)";
    return y;
}

constexpr const char* kSources = R"(sources:
  - {name: generic, format: generic, auth: {type: bearer, token: t0k}}
  - {name: small, format: generic, max_body: 1024, auth: {type: bearer, token: t0k}}
  - {name: slow, format: generic, rate_limit: {per_second: 1, burst: 1}, auth: {type: bearer, token: t0k}}
  - {name: pd, format: pagerduty, auth: {type: routing-key, routing_key: rk-0123456789abcdef0123456789abcd}}
)";

std::string url_encode(const std::string& s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars);
}

// schemas/openapi.yaml: finds the documented response of a route and validates bodies against
// its schema; records which documented responses were produced.
class OpenApi {
  public:
    explicit OpenApi(const std::string& path) {
        auto doc = loader::load_yaml_file(path);
        REQUIRE_MESSAGE(doc, (doc ? "" : doc.error().message));
        doc_ = doc->value;
    }

    const json& doc() const { return doc_; }

    // Fails unless `res` is documented for the route and its body matches the schema.
    void check(const gateway::RouteSpec& route, const http::Response& res) {
        std::string method = route.method;
        std::transform(method.begin(), method.end(), method.begin(), ::tolower);
        const std::string status = std::to_string(res.result_int());
        INFO(route.method << " " << route.path << " -> " << status << ": " << res.body());
        const json* op = find({"paths", route.path, method});
        REQUIRE_MESSAGE(op != nullptr, "undocumented route");
        REQUIRE_MESSAGE(op->contains("responses"), "no responses");
        auto r = (*op)["responses"].find(status);
        REQUIRE_MESSAGE(r != (*op)["responses"].end(), "undocumented response");
        seen_.insert({route.path, method, status});
        json response = *r;
        if (response.contains("$ref"))
            response = resolve(response["$ref"].get<std::string>());
        const std::string ct(res[bhttp::field::content_type]);
        const std::string media = ct.substr(0, ct.find(';'));
        if (media != "application/json" && response["content"].contains(media))
            return;  // a documented text form (a report's Markdown or HTML)
        if (response["content"].contains("text/plain")) {
            CHECK(ct.rfind("text/plain", 0) == 0);
            return;
        }
        REQUIRE(response["content"].contains("application/json"));
        CHECK(ct == "application/json");
        const json body = json::parse(res.body(), nullptr, false);
        REQUIRE_MESSAGE(!body.is_discarded(), "the body is not JSON");
        const json& schema = response["content"]["application/json"]["schema"];
        const std::string key = schema.dump();
        auto v = validators_.find(key);
        if (v == validators_.end()) {
            // The whole document as the root, so that "#/components/..." references resolve.
            json root = doc_;
            root["allOf"] = json::array({schema});
            v = validators_.emplace(key, std::make_unique<core::SchemaValidator>(root)).first;
        }
        auto ok = v->second->validate(body);
        CHECK_MESSAGE(ok, (ok ? "" : ok.error().message + " at " + ok.error().field));
    }

    // Documented responses never produced.
    std::vector<std::string> unproduced() const {
        std::vector<std::string> out;
        for (const auto& [path, ops] : doc_["paths"].items()) {
            for (const auto& [method, op] : ops.items()) {
                for (const auto& [status, r] : op["responses"].items()) {
                    if (seen_.count({path, method, status}) == 0)
                        out.push_back(method + " " + path + " " + status);
                }
            }
        }
        return out;
    }

  private:
    const json* find(std::initializer_list<std::string> path) const {
        const json* at = &doc_;
        for (const auto& p : path) {
            if (!at->is_object() || !at->contains(p))
                return nullptr;
            at = &(*at)[p];
        }
        return at;
    }
    json resolve(const std::string& ref) const {
        return doc_.at(json::json_pointer(ref.substr(1)));
    }

    json doc_;
    std::set<std::tuple<std::string, std::string, std::string>> seen_;
    std::map<std::string, std::unique_ptr<core::SchemaValidator>> validators_;
};

struct Fixture {
    test::TestEnv env = test::TestEnv::require();
    loader::Schemas schemas = loader::Schemas::load(env.source_dir + "/schemas").value();
    store::Keys keys{test::unique_name("api")};
    core::Libraries libraries;
    config::Config config;
    FakePublisher publisher;
    gateway::Health health;
    clock::ManualClock clock{*core::parse_timestamp("2026-04-01T09:00:00+09:00")};
    redis::Connection redis{redis::Settings::parse(env.redis_url).value()};
    std::unique_ptr<gateway::RedisWorker> worker;
    std::unique_ptr<gateway::BoardFeed> feed;
    std::unique_ptr<gateway::Gateway> gw;
    metrics::Registry registry;
    orchestrator::Metrics metrics{registry};
    std::unique_ptr<orchestrator::Processor> processor;
    OpenApi openapi{env.source_dir + "/schemas/openapi.yaml"};

    Fixture() {
        const std::string pb = test::make_temp_dir("api-pb");
        auto catalog = [](const std::string& tenant) {
            std::string c = kCatalog;
            c.replace(c.find("TENANT"), 6, tenant);
            return c;
        };
        test::write_file(pb + "/catalog.yaml", catalog("default"));
        test::write_file(pb + "/malware.yaml", kPlaybook);
        std::filesystem::create_directories(pb + "/tenants/kita");
        test::write_file(pb + "/tenants/kita/catalog.yaml", catalog("kita"));
        test::write_file(pb + "/tenants/kita/malware.yaml", kPlaybook);
        auto libs = loader::load_libraries(pb, "", schemas);
        if (!libs)
            FAIL(libs.error().message);
        libraries = std::move(libs.value());

        const std::string cfg = test::make_temp_dir("api-cfg");
        test::write_file(cfg + "/sources.yaml", kSources);
        test::write_file(cfg + "/responders.yaml", responders_yaml());
        auto c = config::load(cfg, schemas);
        if (!c)
            FAIL(c.error().message);
        config = std::move(c.value());

        worker = std::make_unique<gateway::RedisWorker>(
            redis::Settings::parse(env.redis_url).value(), &health);
        worker->start();
        REQUIRE(
            test::wait_until([&] { return health.redis.load(); }, std::chrono::milliseconds(5000)));
        feed = std::make_unique<gateway::BoardFeed>(redis::Settings::parse(env.redis_url).value(),
                                                    keys.board());
        feed->start();
        REQUIRE(test::wait_until([&] { return feed->read("").ready; },
                                 std::chrono::milliseconds(5000)));
        gw = std::make_unique<gateway::Gateway>(
            config, schemas.event(), publisher, health, clock,
            gateway::Options{.topology = amqp::Topology{keys.prefix},
                             .scenario_schema = &schemas.scenario(),
                             .board_feed = feed.get()},
            worker.get(), &libraries);
        processor = std::make_unique<orchestrator::Processor>(libraries, redis, keys, metrics);
    }
    ~Fixture() {
        feed->stop();
        worker->stop();
    }

    // Opens (or adds to) an incident through the orchestrator; returns its id.
    std::string open(const std::string& tenant, const std::string& key, bool exercise = false,
                     core::Severity severity = core::Severity::kHigh) {
        core::Event e;
        e.id = crypto::uuid_v4();
        e.tenant = tenant;
        e.source = "siem";
        e.title = "malware on juki-ap01";
        e.category = core::Category::kMalware;
        e.severity = severity;
        e.dedup_key = key;
        e.exercise = exercise;
        e.received_at = clock.now();
        e.assets.push_back(core::Asset{"juki-ap01", "", "", ""});
        processor->on_event(e, clock.now());
        auto id = redis.command({"GET", keys.dedup(tenant, key)});
        REQUIRE(!id.is_nil());
        return id.str();
    }

    // Hands the commands the API published to the orchestrator, as the broker would.
    int deliver_commands() {
        int n = 0;
        for (const auto& m : publisher.take()) {
            if (m.routing_key != core::wire::kCommands)
                continue;
            auto c = core::command_message_from_json(json::parse(m.body));
            REQUIRE(c);
            processor->on_command(*c, clock.now(), nullptr);
            ++n;
        }
        return n;
    }

    http::Response call(gateway::Gateway& g, http::Request req) {
        asio::io_context ioc;
        req.prepare_payload();
        auto result = asio::co_spawn(
            ioc, [&]() -> asio::awaitable<http::Response> { co_return co_await g.handle(req); },
            asio::use_future);
        ioc.run();
        return result.get();
    }

    // A request to the route (checked against the OpenAPI document); `target` fills its path.
    http::Response request(const gateway::RouteSpec& route, const std::string& target,
                           const std::string& token, const std::string& body = "",
                           std::vector<std::pair<std::string, std::string>> headers = {},
                           gateway::Gateway* g = nullptr) {
        http::Request req{bhttp::string_to_verb(route.method), target, 11};
        if (!token.empty())
            req.set(bhttp::field::authorization, "Bearer " + token);
        if (!body.empty() && headers.empty())
            req.set(bhttp::field::content_type, "application/json");
        for (const auto& [k, v] : headers)
            req.set(k, v);
        req.body() = body;
        http::Response res = call(g != nullptr ? *g : *gw, std::move(req));
        openapi.check(route, res);
        return res;
    }
    http::Response get(const std::string& path_template, const std::string& target,
                       const std::string& token) {
        return request({"GET", path_template}, target, token);
    }
    http::Response command(const std::string& incident, const std::string& token,
                           const std::string& text) {
        return request({"POST", "/v1/incidents/{id}/commands"},
                       "/v1/incidents/" + incident + "/commands", token,
                       json{{"command", text}}.dump());
    }
};

json body(const http::Response& r) {
    return json::parse(r.body());
}

// The events of a text/event-stream body: {"event", "id", "data"} each.
std::vector<std::map<std::string, std::string>> events(const http::Response& r) {
    std::vector<std::map<std::string, std::string>> out;
    std::map<std::string, std::string> e;
    std::istringstream in(r.body());
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) {
            if (!e.empty())
                out.push_back(std::move(e));
            e.clear();
            continue;
        }
        const auto colon = line.find(": ");
        if (colon != std::string::npos && line.rfind("retry", 0) != 0)
            e[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return out;
}

std::vector<std::string> ids(const http::Response& r) {
    std::vector<std::string> out;
    const json b = body(r);
    for (const auto& i : b["incidents"])
        out.push_back(i["id"].get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("routes: the gateway's route table and the OpenAPI paths are the same set") {
    auto doc = loader::load_yaml_file(SONAE_SOURCE_DIR "/schemas/openapi.yaml");
    REQUIRE(doc);
    std::set<std::pair<std::string, std::string>> served, documented;
    for (const auto& r : gateway::Gateway::routes()) {
        std::string m = r.method;
        std::transform(m.begin(), m.end(), m.begin(), ::tolower);
        served.insert({r.path, m});
    }
    for (const auto& [path, ops] : doc->value["paths"].items()) {
        for (const auto& [method, op] : ops.items())
            documented.insert({path, method});
    }
    for (const auto& s : served)
        CHECK_MESSAGE(documented.count(s) == 1,
                      "served, not documented: " << s.second << " " << s.first);
    for (const auto& d : documented)
        CHECK_MESSAGE(served.count(d) == 1,
                      "documented, not served: " << d.second << " " << d.first);
}

TEST_CASE("match_route: templates match one segment per parameter") {
    std::map<std::string, std::string> p;
    CHECK(gateway::match_route("/v1/incidents/{id}", "/v1/incidents/kita.INC-20260401-0001", &p));
    CHECK(p["id"] == "kita.INC-20260401-0001");
    CHECK_FALSE(gateway::match_route("/v1/incidents/{id}", "/v1/incidents/", nullptr));
    CHECK_FALSE(gateway::match_route("/v1/incidents/{id}", "/v1/incidents/a/b", nullptr));
    CHECK_FALSE(gateway::match_route("/v1/incidents", "/v1/incidents/a", nullptr));
    CHECK(gateway::match_route("/v1/incidents", "/v1/incidents", nullptr));
}

TEST_CASE("conformance: every documented response is produced and matches its schema") {
    Fixture f;
    const std::string inc = f.open("default", "k1");
    f.clock.advance(core::kMinute);
    const std::string tl = "/v1/incidents/" + inc + "/timeline";

    // Health and readiness.
    f.get("/healthz", "/healthz", "");
    f.get("/readyz", "/readyz", "");
    f.get("/metrics", "/metrics", "");
    gateway::Health down;
    gateway::Gateway no_redis(f.config, f.schemas.event(), f.publisher, down, f.clock,
                              gateway::Options{amqp::Topology{f.keys.prefix}}, nullptr,
                              &f.libraries);
    CHECK(f.request({"GET", "/readyz"}, "/readyz", "", "", {}, &no_redis).result_int() == 503);

    // The board: its files, who the token is, its feed.
    for (const char* asset : {"/", "/board.js", "/board.css"})
        CHECK(f.get(asset, asset, "").result_int() == 200);
    CHECK(f.get("/v1/me", "/v1/me", "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/me", "/v1/me", "").result_int() == 401);
    CHECK(f.get("/v1/stream", "/v1/stream", "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/stream", "/v1/stream?since=yesterday", "tok-viewer").result_int() == 400);
    CHECK(f.get("/v1/stream", "/v1/stream", "").result_int() == 401);

    // Ingest.
    const gateway::RouteSpec ev{"POST", "/v1/events/{source}"};
    const std::string event = R"({"title":"t","severity":"high","category":"malware"})";
    CHECK(f.request(ev, "/v1/events/generic", "t0k", event).result_int() == 202);
    CHECK(f.request(ev, "/v1/events/generic", "t0k", "{").result_int() == 400);
    CHECK(f.request(ev, "/v1/events/generic", "wrong", event).result_int() == 401);
    CHECK(f.request(ev, "/v1/events/nosuch", "t0k", event).result_int() == 404);
    CHECK(f.request(ev, "/v1/events/small", "t0k", std::string(2000, ' ')).result_int() == 413);
    CHECK(f.request(ev, "/v1/events/generic", "t0k", event, {{"Content-Type", "text/plain"}})
              .result_int() == 415);
    CHECK(f.request(ev, "/v1/events/slow", "t0k", event).result_int() == 202);
    CHECK(f.request(ev, "/v1/events/slow", "t0k", event).result_int() == 429);
    f.publisher.refuse_ = true;
    CHECK(f.request(ev, "/v1/events/generic", "t0k", event).result_int() == 503);
    f.publisher.refuse_ = false;
    const gateway::RouteSpec pd{"POST", "/v2/enqueue"};
    const std::string pd_event =
        R"({"routing_key":"rk-0123456789abcdef0123456789abcd","event_action":"trigger",
            "payload":{"summary":"s","source":"h","severity":"critical"}})";
    CHECK(f.request(pd, "/v2/enqueue", "", pd_event).result_int() == 202);
    CHECK(f.request(pd, "/v2/enqueue", "", R"({"routing_key":"nope"})").result_int() == 401);
    CHECK(f.request(pd, "/v2/enqueue", "", "[1]").result_int() == 400);
    f.publisher.take();

    // Chat-ops: each platform, signed (an unregistered user is answered 200) and unsigned.
    const auto now_s = std::to_string(f.clock.now() / 1000);
    const std::string now_text = core::format_timestamp(f.clock.now());
    auto slack_sig = [&](const std::string& b) {
        return "v0=" + crypto::to_hex(crypto::hmac_sha256("slack-secret", "v0:" + now_s + ":" + b));
    };
    const std::string form = "application/x-www-form-urlencoded";
    const std::string slack = "user_id=U1&text=help&channel_id=C1&response_url=";
    CHECK(f.request({"POST", "/v1/chatops/slack"}, "/v1/chatops/slack", "", slack,
                    {{"Content-Type", form},
                     {"X-Slack-Request-Timestamp", now_s},
                     {"X-Slack-Signature", slack_sig(slack)}})
              .result_int() == 200);
    CHECK(f.request({"POST", "/v1/chatops/slack"}, "/v1/chatops/slack", "", slack,
                    {{"Content-Type", form}})
              .result_int() == 401);
    const std::string press =
        "payload=" + url_encode(R"({"user":{"id":"U1"},"actions":[{"value":"help"}]})");
    CHECK(f.request({"POST", "/v1/chatops/slack/interactive"}, "/v1/chatops/slack/interactive", "",
                    press,
                    {{"Content-Type", form},
                     {"X-Slack-Request-Timestamp", now_s},
                     {"X-Slack-Signature", slack_sig(press)}})
              .result_int() == 200);
    CHECK(f.request({"POST", "/v1/chatops/slack/interactive"}, "/v1/chatops/slack/interactive", "",
                    press, {{"Content-Type", form}})
              .result_int() == 401);
    const std::string mm = "token=mm-token&user_id=u1&text=help&trigger_id=" + crypto::uuid_v4();
    CHECK(f.request({"POST", "/v1/chatops/mattermost"}, "/v1/chatops/mattermost", "", mm,
                    {{"Content-Type", form}})
              .result_int() == 200);
    CHECK(f.request({"POST", "/v1/chatops/mattermost"}, "/v1/chatops/mattermost", "",
                    "token=bad&user_id=u1&text=help&trigger_id=x", {{"Content-Type", form}})
              .result_int() == 401);
    const json action = {{"user_id", "u1"},
                         {"context",
                          {{"command", "help"},
                           {"sig", crypto::base64url_encode(
                                       crypto::hmac_sha256("mm-token", "sonae-button:help"))}}}};
    CHECK(f.request({"POST", "/v1/chatops/mattermost/action"}, "/v1/chatops/mattermost/action", "",
                    action.dump())
              .result_int() == 200);
    CHECK(f.request({"POST", "/v1/chatops/mattermost/action"}, "/v1/chatops/mattermost/action", "",
                    R"({"user_id":"u1","context":{"command":"help","sig":"x"}})")
              .result_int() == 401);
    const std::string teams = json{
        {"type", "message"},
        {"timestamp", now_text},
        {"from", {{"aadObjectId", "a1"}}},
        {"text",
         "<at>sonae</at> help"}}.dump();
    const auto teams_key = crypto::base64_decode("c29uYWUtdGVhbXMtdGVzdC1rZXktMzJieXRlcyE=");
    REQUIRE(teams_key);
    CHECK(f.request({"POST", "/v1/chatops/teams"}, "/v1/chatops/teams", "", teams,
                    {{"Content-Type", "application/json"},
                     {"Authorization",
                      "HMAC " + crypto::base64_encode(crypto::hmac_sha256(*teams_key, teams))}})
              .result_int() == 200);
    CHECK(f.request({"POST", "/v1/chatops/teams"}, "/v1/chatops/teams", "", teams,
                    {{"Content-Type", "application/json"}, {"Authorization", "HMAC bad"}})
              .result_int() == 401);
    const std::string lw = json{{"type", "message"},
                                {"issuedTime", now_text},
                                {"source", {{"userId", "u1"}, {"channelId", "c1"}}},
                                {"content", {{"type", "text"}, {"text", "help"}}}}
                               .dump();
    CHECK(f.request(
               {"POST", "/v1/chatops/lineworks"}, "/v1/chatops/lineworks", "", lw,
               {{"Content-Type", "application/json"},
                {"X-WORKS-BotId", "42"},
                {"X-WORKS-Signature", crypto::base64_encode(crypto::hmac_sha256("lw-secret", lw))}})
              .result_int() == 200);
    CHECK(f.request({"POST", "/v1/chatops/lineworks"}, "/v1/chatops/lineworks", "", lw,
                    {{"Content-Type", "application/json"}, {"X-WORKS-Signature", "bad"}})
              .result_int() == 401);

    // The API.
    CHECK(f.get("/v1/incidents", "/v1/incidents", "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/incidents", "/v1/incidents?status=bogus", "tok-viewer").result_int() == 400);
    CHECK(f.get("/v1/incidents", "/v1/incidents", "").result_int() == 401);
    CHECK(f.get("/v1/incidents/{id}", "/v1/incidents/" + inc, "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/incidents/{id}", "/v1/incidents/" + inc, "nope").result_int() == 401);
    CHECK(
        f.get("/v1/incidents/{id}", "/v1/incidents/INC-20990101-0001", "tok-viewer").result_int() ==
        404);
    CHECK(f.get("/v1/incidents/{id}/timeline", tl, "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/incidents/{id}/timeline", tl + "?limit=0", "tok-viewer").result_int() == 400);
    CHECK(f.get("/v1/incidents/{id}/timeline", tl, "").result_int() == 401);
    CHECK(f.get("/v1/incidents/{id}/timeline", "/v1/incidents/INC-20990101-0001/timeline",
                "tok-viewer")
              .result_int() == 404);
    const std::string chain = "/v1/incidents/" + inc + "/chain";
    CHECK(f.get("/v1/incidents/{id}/chain", chain, "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/incidents/{id}/chain", chain, "").result_int() == 401);
    CHECK(f.get("/v1/incidents/{id}/chain", "/v1/incidents/kita.INC-20260401-0001/chain",
                "tok-viewer")
              .result_int() == 404);
    const gateway::RouteSpec rep_route{"GET", "/v1/incidents/{id}/reports/{kind}"};
    const std::string first = "/v1/incidents/" + inc + "/reports/first";
    CHECK(f.request(rep_route, first, "tok-viewer").result_int() == 200);
    const auto md = f.request(rep_route, first + "?format=markdown", "tok-viewer");
    CHECK(md.result_int() == 200);
    CHECK(std::string(md[bhttp::field::content_type]) == "text/markdown; charset=utf-8");
    CHECK(f.request(rep_route, first + "?format=pdf", "tok-viewer").result_int() == 400);
    CHECK(f.request(rep_route, "/v1/incidents/" + inc + "/reports/weekly", "tok-viewer")
              .result_int() == 400);
    CHECK(f.request(rep_route, first, "").result_int() == 401);
    CHECK(f.request(rep_route, "/v1/incidents/kita.INC-20260401-0001/reports/first", "tok-viewer")
              .result_int() == 404);
    const auto accepted = f.command(inc, "tok-responder", "ack");
    CHECK(accepted.result_int() == 202);
    CHECK(f.command(inc, "tok-responder", "fly away").result_int() == 400);
    CHECK(f.command(inc, "", "ack").result_int() == 401);
    CHECK(f.command(inc, "tok-viewer", "ack").result_int() == 403);
    CHECK(f.command("INC-20990101-0001", "tok-admin", "ack").result_int() == 404);
    const std::string cid = body(accepted)["command_id"];
    const gateway::RouteSpec cmd{"GET", "/v1/commands/{id}"};
    CHECK(f.request(cmd, "/v1/commands/" + cid, "tok-viewer").result_int() == 200);
    CHECK(f.request(cmd, "/v1/commands/" + cid, "").result_int() == 401);
    CHECK(f.request(cmd, "/v1/commands/" + crypto::uuid_v4(), "tok-viewer").result_int() == 404);
    CHECK(f.get("/v1/playbooks", "/v1/playbooks", "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/playbooks", "/v1/playbooks?tenant=NOT%20ONE", "tok-viewer").result_int() ==
          400);
    CHECK(f.get("/v1/playbooks", "/v1/playbooks", "").result_int() == 401);
    CHECK(f.get("/v1/services", "/v1/services", "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/services", "/v1/services?exercise=maybe", "tok-viewer").result_int() == 400);
    CHECK(f.get("/v1/services", "/v1/services", "").result_int() == 401);
    // Live drills (their run through the real services is in tests/integration/exercise_test).
    const std::string scenario = R"(id: api-drill
title: API drill
start: "2026-04-01T09:00:00+09:00"
duration: 2h
injects:
  - {at: 1m, event: {"title": "malware on juki-ap01", "category": "malware", "severity": "high"}}
players:
  - {at: 5m, as: lead, command: ack}
expect:
  - {id: acked, step_done: triage, by: 1h, score: 1}
)";
    const gateway::RouteSpec start{"POST", "/v1/exercises"};
    const auto started =
        f.request(start, "/v1/exercises", "tok-commander",
                  json{{"scenario", scenario}, {"speed", 60}, {"fill_in", {"lead"}}}.dump());
    REQUIRE(started.result_int() == 201);
    const std::string xid = body(started)["id"];
    CHECK(f.request(start, "/v1/exercises", "tok-commander",
                    json{{"scenario", "id: [unclosed"}}.dump())
              .result_int() == 400);
    CHECK(f.request(start, "/v1/exercises", "tok-commander",
                    json{{"scenario", scenario}, {"fill_in", {"nobody"}}}.dump())
              .result_int() == 400);
    CHECK(f.request(start, "/v1/exercises", "tok-responder", json{{"scenario", scenario}}.dump())
              .result_int() == 403);
    CHECK(f.request(start, "/v1/exercises", "", json{{"scenario", scenario}}.dump()).result_int() ==
          401);
    CHECK(f.get("/v1/exercises", "/v1/exercises", "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/exercises", "/v1/exercises", "").result_int() == 401);
    CHECK(f.get("/v1/exercises/{id}", "/v1/exercises/" + xid, "tok-viewer").result_int() == 200);
    CHECK(f.get("/v1/exercises/{id}", "/v1/exercises/" + xid, "").result_int() == 401);
    // Another tenant's drill does not exist for this token.
    CHECK(f.get("/v1/exercises/{id}", "/v1/exercises/" + xid, "tok-kita").result_int() == 404);
    for (const char* change : {"pause", "resume", "stop"}) {
        const gateway::RouteSpec r{"POST", std::string("/v1/exercises/{id}/") + change};
        const std::string target = "/v1/exercises/" + xid + "/" + change;
        CHECK(f.request(r, target, "tok-viewer", "{}").result_int() == 403);
        CHECK(f.request(r, target, "", "{}").result_int() == 401);
        CHECK(
            f.request(r, "/v1/exercises/ex-20990101-0001/" + std::string(change), "tok-admin", "{}")
                .result_int() == 404);
        CHECK(f.request(r, target, "tok-commander", "{}").result_int() == 200);
    }
    // A stopped drill is not resumed.
    CHECK(f.request({"POST", "/v1/exercises/{id}/resume"}, "/v1/exercises/" + xid + "/resume",
                    "tok-commander", "{}")
              .result_int() == 409);
    CHECK(f.request({"POST", "/v1/exercises/{id}/pause"}, "/v1/exercises/" + xid + "/pause",
                    "tok-commander", "{}")
              .result_int() == 409);
    // Stopping twice is harmless.
    CHECK(f.request({"POST", "/v1/exercises/{id}/stop"}, "/v1/exercises/" + xid + "/stop",
                    "tok-commander", "{}")
              .result_int() == 200);
    const std::string report = "/v1/exercises/" + xid + "/report";
    const auto rep = f.get("/v1/exercises/{id}/report", report, "tok-viewer");
    CHECK(rep.result_int() == 200);
    CHECK(body(rep)["scenario"] == "api-drill");
    CHECK(f.get("/v1/exercises/{id}/report", report + "?lang=fr", "tok-viewer").result_int() ==
          400);
    CHECK(f.get("/v1/exercises/{id}/report", report, "").result_int() == 401);
    CHECK(f.get("/v1/exercises/{id}/report", "/v1/exercises/ex-20990101-0001/report", "tok-viewer")
              .result_int() == 404);

    // Without Redis, every route that needs it answers 503.
    for (const auto& [route, target] : std::vector<std::pair<gateway::RouteSpec, std::string>>{
             {{"GET", "/v1/incidents"}, "/v1/incidents"},
             {{"GET", "/v1/incidents/{id}"}, "/v1/incidents/" + inc},
             {{"GET", "/v1/incidents/{id}/timeline"}, tl},
             {{"GET", "/v1/incidents/{id}/chain"}, chain},
             {{"GET", "/v1/incidents/{id}/reports/{kind}"}, first},
             {{"GET", "/v1/commands/{id}"}, "/v1/commands/" + cid},
             {{"GET", "/v1/services"}, "/v1/services"},
             {{"GET", "/v1/stream"}, "/v1/stream"}}) {
        CHECK(f.request(route, target, "tok-admin", "", {}, &no_redis).result_int() == 503);
    }
    CHECK(f.request({"POST", "/v1/incidents/{id}/commands"}, "/v1/incidents/" + inc + "/commands",
                    "tok-admin", R"({"command":"ack"})", {}, &no_redis)
              .result_int() == 503);

    const auto missing = f.openapi.unproduced();
    for (const auto& m : missing)
        FAIL_CHECK("documented but never produced: " << m);
    CHECK(missing.empty());
}

TEST_CASE("roles: reads for every role, commands by role, refusals audited") {
    Fixture f;
    const std::string inc = f.open("default", "k1");
    for (const char* t :
         {"tok-viewer", "tok-responder", "tok-commander", "tok-admin", "tok-pref"}) {
        CAPTURE(t);
        CHECK(f.get("/v1/incidents/{id}", "/v1/incidents/" + inc, t).result_int() == 200);
        CHECK(f.get("/v1/incidents", "/v1/incidents", t).result_int() == 200);
        CHECK(f.get("/v1/incidents/{id}/timeline", "/v1/incidents/" + inc + "/timeline", t)
                  .result_int() == 200);
        CHECK(f.get("/v1/playbooks", "/v1/playbooks", t).result_int() == 200);
        CHECK(f.get("/v1/services", "/v1/services", t).result_int() == 200);
        CHECK(
            f.get("/v1/incidents/{id}/chain", "/v1/incidents/" + inc + "/chain", t).result_int() ==
            200);
        const auto res = f.command(inc, t, "status");
        CHECK(res.result_int() == 202);
        CHECK(f.deliver_commands() == 1);
        const std::string id = body(res)["command_id"];
        const json result = body(f.get("/v1/commands/{id}", "/v1/commands/" + id, t));
        CHECK(result["status"] == "applied");
        CHECK(result["message"].get<std::string>().find(inc) != std::string::npos);
    }
    // Without a token, or with an unknown one, nothing.
    for (const char* t : {"", "tok-unknown"}) {
        CHECK(f.get("/v1/incidents", "/v1/incidents", t).result_int() == 401);
        CHECK(f.command(inc, t, "status").result_int() == 401);
    }

    // ack needs a responder, severity a commander: below that, 403 and an audited refusal.
    const std::vector<std::tuple<std::string, std::string, int>> cases{
        {"ack", "tok-viewer", 403},
        {"ack", "tok-responder", 202},
        {"severity critical", "tok-responder", 403},
        {"severity critical", "tok-commander", 202},
        {"severity high", "tok-admin", 202},
        {"severity critical", "tok-pref", 202},
    };
    for (const auto& [text, token, status] : cases) {
        CAPTURE(text);
        CAPTURE(token);
        auto res = f.command(inc, token, text);
        CHECK(res.result_int() == status);
        CHECK(f.deliver_commands() == 1);  // refused ones are still sent, to be audited
        const std::string id = body(res)["command_id"];
        auto result = f.get("/v1/commands/{id}", "/v1/commands/" + id, token);
        CHECK(body(result)["status"] == (status == 202 ? "applied" : "refused"));
    }
    const json detail = body(f.get("/v1/incidents/{id}", "/v1/incidents/" + inc, "tok-viewer"));
    CHECK(detail["status"] == "acknowledged");
    CHECK(detail["severity"] == "critical");
    CHECK(detail["acked_by"] == "api:responder");
    const json timeline = body(f.get("/v1/incidents/{id}/timeline",
                                     "/v1/incidents/" + inc + "/timeline?limit=500", "tok-admin"));
    int refusals = 0;
    for (const auto& e : timeline["entries"]) {
        if (e["kind"] == "command" && e["data"].value("refused", false)) {
            ++refusals;
            CHECK((e["actor"] == "api:viewer" || e["actor"] == "api:responder"));
        }
    }
    CHECK(refusals == 2);
}

TEST_CASE("tenants: another tenant's incident is 404, prefecture sees every tenant") {
    Fixture f;
    const std::string a = f.open("default", "k1");
    const std::string k = f.open("kita", "k1");
    CHECK(a.find('.') == std::string::npos);
    CHECK(k.rfind("kita.INC-", 0) == 0);  // the tenant is in the id

    CHECK(ids(f.get("/v1/incidents", "/v1/incidents", "tok-admin")) == std::vector<std::string>{a});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents", "tok-kita")) == std::vector<std::string>{k});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents", "tok-pref")).size() == 2);
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?tenant=kita", "tok-pref")) ==
          std::vector<std::string>{k});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?tenant=kita", "tok-admin")).empty());

    for (const auto& [token, other] :
         std::vector<std::pair<std::string, std::string>>{{"tok-admin", k}, {"tok-kita", a}}) {
        CAPTURE(token);
        CHECK(f.get("/v1/incidents/{id}", "/v1/incidents/" + other, token).result_int() == 404);
        CHECK(f.get("/v1/incidents/{id}/timeline", "/v1/incidents/" + other + "/timeline", token)
                  .result_int() == 404);
        CHECK(f.get("/v1/incidents/{id}/chain", "/v1/incidents/" + other + "/chain", token)
                  .result_int() == 404);
        CHECK(f.command(other, token, "ack").result_int() == 404);
        CHECK(f.get("/v1/incidents/{id}/reports/{kind}",
                    "/v1/incidents/" + other + "/reports/ppc-final", token)
                  .result_int() == 404);
    }
    CHECK(f.publisher.take().empty());
    // A command of tenant kita: its id names the tenant; the default tenant cannot read it.
    auto res = f.command(k, "tok-pref", "ack");
    REQUIRE(res.result_int() == 202);
    const std::string cid = body(res)["command_id"];
    CHECK(cid.rfind("kita.", 0) == 0);
    CHECK(f.get("/v1/commands/{id}", "/v1/commands/" + cid, "tok-admin").result_int() == 404);
    CHECK(f.get("/v1/commands/{id}", "/v1/commands/" + cid, "tok-kita").result_int() == 200);
    CHECK(f.deliver_commands() == 1);
    CHECK(body(f.get("/v1/incidents/{id}", "/v1/incidents/" + k, "tok-kita"))["acked_by"] ==
          "api:pref");

    const json pbs = body(f.get("/v1/playbooks", "/v1/playbooks", "tok-pref"));
    std::set<std::string> tenants;
    for (const auto& p : pbs["playbooks"])
        tenants.insert(p["tenant"].get<std::string>());
    CHECK(tenants == std::set<std::string>{"default", "kita"});
    const json svc = body(f.get("/v1/services", "/v1/services", "tok-kita"));
    REQUIRE(!svc["services"].empty());
    for (const auto& s : svc["services"])
        CHECK(s["tenant"] == "kita");
}

TEST_CASE("tokens: created in Redis by hash, scoped to their tenant and role") {
    Fixture f;
    const std::string inc = f.open("default", "k1");
    const std::string token = store::new_token();
    store::TokenStore tokens(f.redis, f.keys);
    REQUIRE(tokens.add(token, {"ops-bot", "default", "responder", f.clock.now()}));
    CHECK_FALSE(tokens.add(store::new_token(), {"ops-bot", "default", "viewer", 0}));
    // Only the hash is stored.
    const auto stored = f.redis.command({"HKEYS", f.keys.tokens()});
    REQUIRE(stored.elements().size() == 1);
    CHECK(stored.elements()[0].str() == store::token_hash(token));
    CHECK(
        f.redis.command({"HGET", f.keys.tokens(), stored.elements()[0].str()}).str().find(token) ==
        std::string::npos);

    CHECK(f.command(inc, token, "ack").result_int() == 202);
    CHECK(f.command(inc, token, "resolve done").result_int() == 403);
    CHECK(tokens.revoke("ops-bot"));
    CHECK(f.get("/v1/incidents", "/v1/incidents", token).result_int() == 401);
}

TEST_CASE("list: filters, exercise incidents only when asked, newest first with a cursor") {
    Fixture f;
    const std::string a = f.open("default", "k1");
    f.clock.advance(core::kMinute);
    const std::string b = f.open("default", "k2", false, core::Severity::kLow);
    f.clock.advance(core::kMinute);
    const std::string c = f.open("default", "k3");
    f.clock.advance(core::kMinute);
    const std::string drill = f.open("default", "k4", true);

    CHECK(ids(f.get("/v1/incidents", "/v1/incidents", "tok-viewer")) ==
          std::vector<std::string>{c, b, a});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?exercise=true", "tok-viewer")) ==
          std::vector<std::string>{drill, c, b, a});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?severity=low", "tok-viewer")) ==
          std::vector<std::string>{b});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?severity=high,low&service=juki",
                    "tok-viewer")) == std::vector<std::string>{c, b, a});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?service=web", "tok-viewer")).empty());
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?since=2026-04-01T09:01:00%2B09:00",
                    "tok-viewer")) == std::vector<std::string>{c, b});
    auto bad = f.get("/v1/incidents", "/v1/incidents?since=yesterday", "tok-viewer");
    CHECK(body(bad)["error"]["field"] == "since");

    f.command(b, "tok-responder", "ack");
    f.deliver_commands();
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?status=acknowledged", "tok-viewer")) ==
          std::vector<std::string>{b});
    CHECK(ids(f.get("/v1/incidents", "/v1/incidents?status=triggered", "tok-viewer")) ==
          std::vector<std::string>{c, a});

    auto page1 = body(f.get("/v1/incidents", "/v1/incidents?limit=2", "tok-viewer"));
    REQUIRE(page1["incidents"].size() == 2);
    REQUIRE(page1["next_cursor"].is_string());
    auto page2 = body(f.get(
        "/v1/incidents", "/v1/incidents?limit=2&cursor=" + page1["next_cursor"].get<std::string>(),
        "tok-viewer"));
    REQUIRE(page2["incidents"].size() == 1);
    CHECK(page2["incidents"][0]["id"] == a);
    CHECK(page2["next_cursor"].is_null());
}

TEST_CASE("detail and services: steps with owners and due times, RTO time left") {
    Fixture f;
    const std::string inc = f.open("default", "k1");
    f.clock.advance(core::kHour);
    const json d = body(f.get("/v1/incidents/{id}", "/v1/incidents/" + inc, "tok-viewer"));
    REQUIRE(d["steps"].size() == 2);
    CHECK(d["steps"][0]["id"] == "triage");
    CHECK(d["steps"][0]["owner"] == "csirt");
    CHECK(d["steps"][0]["status"] == "active");
    CHECK(d["steps"][0]["due_at"] == "2026-04-01T00:30:00.000Z");
    CHECK(d["steps"][0]["overdue"] == true);
    REQUIRE(d["services"].size() == 1);
    CHECK(d["services"][0]["id"] == "juki");
    CHECK(d["services"][0]["state"] == "running");
    CHECK(d["services"][0]["time_left_seconds"] == 3 * 3600);
    CHECK(d["playbook_title"] == "マルウェア対応");

    const json s = body(f.get("/v1/services", "/v1/services", "tok-viewer"));
    REQUIRE(s["services"].size() == 2);
    const json& juki = s["services"][0];
    CHECK(juki["id"] == "juki");
    CHECK(juki["rto_seconds"] == 4 * 3600);
    CHECK(juki["time_left_seconds"] == 3 * 3600);
    REQUIRE(juki["open_incidents"].size() == 1);
    CHECK(juki["open_incidents"][0]["id"] == inc);
    CHECK(s["services"][1]["id"] == "web");
    CHECK(s["services"][1]["open_incidents"].empty());
    CHECK(s["services"][1]["time_left_seconds"].is_null());
}

TEST_CASE("commands: one the broker did not take leaves no pending answer behind") {
    Fixture f;
    const std::string inc = f.open("default", "k-refused");
    auto pending = [&] {
        return f.redis.command({"KEYS", f.keys.prefix + ":default:cmd:*"}).elements().size();
    };
    const auto before = pending();
    f.publisher.refuse_ = true;
    CHECK(f.command(inc, "tok-responder", "ack").result_int() == 503);
    CHECK(pending() == before);
    f.publisher.refuse_ = false;
    CHECK(f.command(inc, "tok-responder", "ack").result_int() == 202);
    CHECK(pending() == before + 1);
}

TEST_CASE("reports: facts entered over the API fill the report, in JSON, Markdown and HTML") {
    Fixture f;
    const std::string inc = f.open("default", "k1");
    f.clock.advance(5 * core::kMinute);
    for (const char* line : {"ack", "fact affected 42", "fact data-items 氏名と住所",
                             "went well 5分で受領", "improve lead 2026-06-30 連絡網の更新"})
        CHECK(f.command(inc, "tok-responder", line).result_int() == 202);
    // A viewer may not enter facts (refused, and the refusal audited); a bad value is a 400.
    CHECK(f.command(inc, "tok-viewer", "fact affected 1").result_int() == 403);
    CHECK(f.command(inc, "tok-responder", "fact affected lots").result_int() == 400);
    CHECK(f.deliver_commands() == 6);
    const std::string base = "/v1/incidents/" + inc + "/reports/";
    const std::string route = "/v1/incidents/{id}/reports/{kind}";
    const json first = body(f.get(route, base + "first", "tok-viewer"));
    CHECK(first["personal_data"]["affected"] == 42);
    CHECK(first["personal_data"]["data_items"] == "氏名と住所");
    CHECK(first["times"]["declared_at"] == "2026-04-01T09:05:00+09:00");
    CHECK(first["incident"]["acknowledged_by"] == "api:responder");
    const json review = body(f.get(route, base + "review?lang=en", "tok-viewer"));
    CHECK(review["review"]["went_well"][0]["text"] == "5分で受領");
    CHECK(review["review"]["went_well"][0]["by"] == "api:responder");
    CHECK(review["review"]["time_to_acknowledge_seconds"] == 300);
    const auto md = f.get(route, base + "ppc-preliminary?format=md", "tok-viewer");
    CHECK(md.body().find("42") != std::string::npos);
    CHECK(md.body().find("氏名と住所") != std::string::npos);
    const auto html = f.get(route, base + "review?format=html&lang=en", "tok-pref");
    CHECK(std::string(html[bhttp::field::content_type]) == "text/html; charset=utf-8");
    CHECK(html.body().find("連絡網の更新") != std::string::npos);
    // Another municipality's token does not see the incident, so neither its reports.
    const auto other = f.get(route, base + "first", "tok-kita");
    CHECK(other.result_int() == 404);
    CHECK(body(other).dump().find("42") == std::string::npos);
    CHECK(f.get(route, base + "first?lang=fr", "tok-viewer").result_int() == 400);
}

TEST_CASE("board: its page, who the token is, and a feed of changes by tenant") {
    Fixture f;
    // The page and its files, with a policy that runs nothing else.
    const auto page = f.get("/", "/", "");
    CHECK(std::string(page[bhttp::field::content_type]) == "text/html; charset=utf-8");
    CHECK(page.body().find(R"(<script src="/board.js")") != std::string::npos);
    CHECK(std::string(page["Content-Security-Policy"]).find("script-src 'self'") !=
          std::string::npos);
    CHECK(f.get("/board.js", "/board.js", "").body().find("/v1/stream") != std::string::npos);
    CHECK(f.call(*f.gw, http::Request{bhttp::verb::post, "/", 11}).result_int() == 405);

    // Who: a viewer may read and ask, not act; a prefecture sees every tenant.
    const json viewer = body(f.get("/v1/me", "/v1/me", "tok-viewer"));
    CHECK(viewer["role"] == "viewer");
    std::map<std::string, bool> may;
    for (const auto& c : viewer["commands"])
        may[c["verb"].get<std::string>()] = c["allowed"].get<bool>();
    CHECK(may.at("status"));
    CHECK_FALSE(may.at("ack"));
    CHECK_FALSE(may.at("resolve"));
    CHECK(viewer["tenants"].size() == 1);
    const json pref = body(f.get("/v1/me", "/v1/me", "tok-pref"));
    CHECK(pref["all_tenants"] == true);
    std::set<std::string> seen;
    for (const auto& t : pref["tenants"])
        seen.insert(t["id"].get<std::string>());
    CHECK(seen.count("default") == 1);
    CHECK(seen.count("kita") == 1);
    const json commander = body(f.get("/v1/me", "/v1/me", "tok-commander"));
    for (const auto& c : commander["commands"])
        CHECK(c["allowed"] == true);

    // Without a cursor: a reset naming where to continue from.
    const auto hello = events(f.get("/v1/stream", "/v1/stream", "tok-viewer"));
    REQUIRE(hello.size() == 1);
    CHECK(hello[0].at("event") == "reset");
    const std::string start = hello[0].at("id");
    // Nothing happened: idle after the wait, at the same cursor.
    const auto idle = events(f.get("/v1/stream", "/v1/stream?wait=0&since=" + start, "tok-viewer"));
    REQUIRE(idle.size() == 1);
    CHECK(idle[0].at("event") == "idle");
    CHECK(idle[0].at("id") == start);

    // A waiting board is answered when the orchestrator commits, not when its wait ends.
    auto waiting = std::async(std::launch::async, [&] {
        http::Request req{bhttp::verb::get, "/v1/stream?wait=60&since=" + start, 11};
        req.set(bhttp::field::authorization, "Bearer tok-viewer");
        return f.call(*f.gw, std::move(req));
    });
    const std::string inc = f.open("default", "board-1");
    REQUIRE(waiting.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    const auto woke = events(waiting.get());
    REQUIRE(!woke.empty());
    CHECK(woke.back().at("event") == "change");
    CHECK(json::parse(woke.back().at("data")) == json{{"tenant", "default"}, {"incident", inc}});
    const std::string after_open = woke.back().at("id");

    // Another tenant's change is not shown to this tenant, but its cursor moves past it.
    const std::string kita = f.open("kita", "board-2");
    const auto other =
        events(f.get("/v1/stream", "/v1/stream?wait=0&since=" + after_open, "tok-viewer"));
    REQUIRE(other.size() == 1);
    CHECK(other[0].at("event") == "idle");
    CHECK(other[0].at("id") != after_open);
    const auto theirs =
        events(f.get("/v1/stream", "/v1/stream?wait=0&since=" + after_open, "tok-kita"));
    REQUIRE(theirs.size() == 1);
    CHECK(json::parse(theirs[0].at("data"))["incident"] == kita);
    // A prefecture sees both; one event per incident however often it changed.
    f.command(inc, "tok-responder", "ack");
    f.command(inc, "tok-responder", "note seen on the board");
    CHECK(f.deliver_commands() == 2);
    const auto both = events(f.get("/v1/stream", "/v1/stream?wait=0&since=" + start, "tok-pref"));
    std::vector<std::string> changed;
    for (const auto& e : both)
        changed.push_back(json::parse(e.at("data"))["incident"].get<std::string>());
    CHECK(changed == std::vector<std::string>{kita, inc});  // the ack is the latest change
    // A cursor the feed cannot continue is a reset (one it no longer keeps: the next case).
    const auto ahead =
        events(f.get("/v1/stream", "/v1/stream?wait=0&since=99999999999999-0", "tok-viewer"));
    REQUIRE(ahead.size() == 1);
    CHECK(ahead[0].at("event") == "reset");
}

TEST_CASE("board feed: keeps the latest entries, a cursor before them is a reset") {
    const test::TestEnv env = test::TestEnv::require();
    const store::Keys keys{test::unique_name("feed")};
    redis::Connection redis{redis::Settings::parse(env.redis_url).value()};
    gateway::BoardFeed feed(redis::Settings::parse(env.redis_url).value(), keys.board(), 2);
    feed.start();
    REQUIRE(test::wait_until([&] { return feed.read("").ready; }, std::chrono::seconds(5)));
    std::vector<std::string> ids;
    for (const char* incident : {"INC-1", "INC-2", "INC-3"})
        ids.push_back(
            redis.command({"XADD", keys.board(), "*", "t", "default", "i", incident}).str());
    REQUIRE(
        test::wait_until([&] { return feed.read("").last == ids[2]; }, std::chrono::seconds(5)));
    const auto kept = feed.read(ids[0]);
    CHECK_FALSE(kept.reset);
    REQUIRE(kept.changes.size() == 2);
    CHECK(kept.changes[0].incident == "INC-2");
    CHECK(kept.changes[1].id == ids[2]);
    CHECK(feed.read("0-1").reset);
    CHECK(feed.read(ids[2]).changes.empty());
    CHECK_FALSE(feed.read(ids[2]).reset);
    feed.stop();
    CHECK(feed.stopping());
}

TEST_CASE("board: summaries carry classification and the first threshold of each RTO clock") {
    Fixture f;
    const std::string inc = f.open("default", "thr-1");
    // 4 h RTO, the playbook escalates at half: 2 h to the threshold, less the hour passed.
    f.clock.advance(core::kHour);
    const json list = body(f.get("/v1/incidents", "/v1/incidents", "tok-viewer"));
    REQUIRE(list["incidents"].size() == 1);
    const json& s = list["incidents"][0];
    CHECK(s["classification"] == "3A");
    const json& juki = s["services"][0];
    CHECK(juki["id"] == "juki");
    CHECK(juki["rto_seconds"] == 4 * 3600);
    CHECK(juki["time_left_seconds"] == 3 * 3600);
    CHECK(juki["threshold_left_seconds"] == 3600);
    const json detail = body(f.get("/v1/incidents/{id}", "/v1/incidents/" + inc, "tok-viewer"));
    CHECK(detail["services"][0]["threshold"] == 0.5);
    CHECK(detail["services"][0]["threshold_left_seconds"] == 3600);
    CHECK(detail["steps"][1]["after"] == json::array({"triage"}));
}
