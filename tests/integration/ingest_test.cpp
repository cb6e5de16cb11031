// Ingest through the real gateway and broker (issue: every adapter, every auth scheme, limits).
// A tap queue bound to the events routing key receives exactly what the orchestrator receives.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sonae/amqp/topology.hpp>
#include <sonae/core/time.hpp>
#include <sonae/crypto/crypto.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

const char* kSources = R"(sources:
  - {name: generic, format: generic, auth: {type: bearer, token: t}}
  - {name: cloudevents, format: cloudevents, auth: {type: bearer, token: t}}
  - {name: alertmanager, format: alertmanager, auth: {type: bearer, token: t}}
  - {name: pagerduty, format: pagerduty, routing_key: R0123456789abcdef0123456789abcd, auth: {type: bearer, token: t}}
  - {name: wazuh, format: wazuh, auth: {type: bearer, token: t}}
  - {name: elastic, format: elastic, auth: {type: bearer, token: t}}
  - {name: splunk, format: splunk, auth: {type: query-token, token: t}}
  - {name: grafana, format: grafana, auth: {type: bearer, token: t}}
  - {name: s-basic, format: generic, auth: {type: basic, username: siem, password: pw-basic}}
  - {name: s-header, format: generic, auth: {type: header, header: X-Sonae-Token, secret: tok-header}}
  - {name: s-hmac, format: grafana, auth: {type: hmac-sha256, header: X-Grafana-Alerting-Signature, secret: hmac-key, timestamp_header: X-Grafana-Alerting-Signature-Timestamp}}
  - {name: s-hmac64, format: generic, auth: {type: hmac-sha256, header: X-Signature, secret: k2, encoding: base64, prefix: "sha256="}}
  - {name: s-pd, format: pagerduty, auth: {type: routing-key, routing_key: Rrouting0000000000000000000000ab}}
  - {name: s-open, format: generic, auth: {type: none, insecure: true}}
  - {name: flood, format: generic, auth: {type: bearer, token: t}, rate_limit: {per_second: 1, burst: 5}}
  - {name: small, format: generic, auth: {type: bearer, token: t}, max_body: 2048}
)";

using Headers = std::vector<std::pair<std::string, std::string>>;
const Headers kBearer{{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}};

struct Fixture {
    TestEnv env = TestEnv::require();
    std::string config;
    std::unique_ptr<Stack> stack;

    Fixture() {
        config = make_temp_dir("ingest-config");
        write_file(config + "/sources.yaml", kSources);
        stack =
            std::make_unique<Stack>(env, Stack::Options{config, env.source_dir + "/playbooks", {}});
    }
    std::string fixture(const std::string& name) const {
        return read_file(env.source_dir + "/tests/fixtures/" + name);
    }
    double published() {
        return metric(http_get(stack->url("/metrics")).body, "sonae_amqp_published_total");
    }
};

// One stack for every test here: doctest runs a test case again for each of its subcases, and
// starting the services each time would dominate the run.
Fixture& shared() {
    static Fixture f;
    return f;
}

// A queue bound next to the orchestrator's: it gets a copy of every event message.
class Tap {
  public:
    Tap(const std::string& amqp_url, const std::string& prefix)
        : settings_(amqp::Settings::parse(amqp_url).value()),
          queue_(unique_name(prefix + ".tap.")),
          conn_(settings_) {
        const amqp::Topology t{prefix};
        conn_.declare_queue(amqp::QueueSpec{queue_, false, "", "", 0, 0});
        conn_.bind_queue(queue_, t.exchange(), "events");
        conn_.set_prefetch(500);
        conn_.consume(queue_);
    }
    ~Tap() {
        try {
            amqp::Connection c(settings_);
            c.delete_queue(queue_);
        } catch (const std::exception&) {
        }
    }
    // The event with this id, as the orchestrator receives it.
    json event(const std::string& id) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (std::chrono::steady_clock::now() < deadline) {
            if (auto it = seen_.find(id); it != seen_.end())
                return it->second;
            auto f = conn_.next(std::chrono::milliseconds(100));
            if (!f)
                continue;
            if (auto* d = std::get_if<amqp::Delivery>(&*f)) {
                seen_[d->message_id] = json::parse(d->body);
                conn_.ack(d->delivery_tag);
            }
        }
        FAIL("event " << id << " never reached the broker");
        return {};
    }

  private:
    amqp::Settings settings_;
    std::string queue_;
    amqp::Connection conn_;
    std::map<std::string, json> seen_;
};

std::string accepted_id(const HttpResult& r) {
    INFO(r.body);
    REQUIRE(r.status == 202);
    const json b = r.json();
    REQUIRE(b["accepted"] == 1);
    return b["event_ids"][0].get<std::string>();
}

bool parse_timestamp_ok(const json& v) {
    return v.is_string() && sonae::core::parse_timestamp(v.get<std::string>()).has_value();
}

void check_common(const json& e, const std::string& id, const std::string& source) {
    CHECK(e["id"] == id);
    CHECK(e["source"] == source);
    CHECK(e["tenant"] == "default");
    CHECK(e["exercise"] == false);
    CHECK(parse_timestamp_ok(e["received_at"]));
}

}  // namespace

TEST_CASE("every format's fixture reaches the orchestrator as the documented canonical event") {
    Fixture& f = shared();
    static Tap tap(f.env.amqp_url, f.stack->prefix());
    auto post = [&](const std::string& source, const std::string& fixture,
                    const Headers& h = kBearer, const std::string& query = "") {
        const std::string body = f.fixture("siem/" + fixture);
        const std::string id =
            accepted_id(http_post(f.stack->url("/v1/events/" + source + query), body, h));
        const json e = tap.event(id);
        check_common(e, id, source);
        return std::make_pair(e, json::parse(body));
    };

    SUBCASE("generic") {
        auto [e, body] = post("generic", "generic-event.json");
        CHECK(e["title"] == "委託先クラウド事業者からの障害・不正アクセス通知");
        CHECK(e["action"] == "trigger");
        CHECK(e["category"] == "vendor_incident");
        CHECK(e["severity"] == "high");
        CHECK(e["classification"] == "3B");
        CHECK(e["dedup_key"] == "vendor-cloud-2026-04-01");
        CHECK(e["assets"] == json::parse(R"([{"system":"電子申請システム"}])"));
        CHECK(e["labels"] == json::parse(R"({"vendor":"example-cloud"})"));
        CHECK(e["raw"] == body);
    }
    SUBCASE("cloudevents (structured)") {
        auto [e, body] =
            post("cloudevents", "cloudevents-structured.json",
                 {{"Authorization", "Bearer t"}, {"Content-Type", "application/cloudevents+json"}});
        CHECK(e["title"] == "Credential dumping tool executed");
        CHECK(e["category"] == "account_compromise");
        CHECK(e["severity"] == "high");
        CHECK(e["dedup_key"] == "/edr/console/evt-20260401-0001");
        CHECK(e["occurred_at"] == "2026-04-01T01:02:03.000Z");
        CHECK(e["assets"] == json::parse(R"([{"host":"pc-zeimu-007","user":"k.sato"}])"));
        CHECK(e["labels"]["ce.type"] == "jp.lg.example.edr.detection");
        CHECK(e["raw"] == body);
    }
    SUBCASE("cloudevents (binary)") {
        const std::string data = R"({"title":"Binary mode","severity":"low","category":"malware"})";
        const std::string id = accepted_id(http_post(f.stack->url("/v1/events/cloudevents"), data,
                                                     {{"Authorization", "Bearer t"},
                                                      {"Content-Type", "application/json"},
                                                      {"ce-specversion", "1.0"},
                                                      {"ce-id", "b-1"},
                                                      {"ce-source", "/edr"},
                                                      {"ce-type", "jp.lg.example.test"}}));
        const json e = tap.event(id);
        CHECK(e["title"] == "Binary mode");
        CHECK(e["severity"] == "low");
        CHECK(e["category"] == "malware");
        CHECK(e["dedup_key"] == "/edr/b-1");
    }
    SUBCASE("alertmanager") {
        auto [e, body] = post("alertmanager", "alertmanager-v4.json");
        CHECK(e["title"] == "SSHBruteForce: Brute force against the bastion host");
        CHECK(e["category"] == "intrusion");
        CHECK(e["severity"] == "critical");
        CHECK(e["dedup_key"] == R"({}:{alertname="SSHBruteForce"}/a1b2c3d4e5f60718)");
        CHECK(e["occurred_at"] == "2026-04-01T01:02:03.456Z");
        CHECK(e["assets"] == json::parse(R"([{"host":"bastion01"}])"));
        CHECK(e["labels"]["alertname"] == "SSHBruteForce");
        CHECK(e["raw"] == body);
    }
    SUBCASE("pagerduty (v1 path, bearer)") {
        auto [e, body] = post("pagerduty", "pagerduty-v2-trigger.json");
        CHECK(e["title"] == "SSH brute force on web01");
        CHECK(e["severity"] == "critical");
        CHECK(e["category"] == "intrusion");
        CHECK(e["dedup_key"] == "wazuh-5763-web01");
        CHECK(e["occurred_at"] == "2026-04-01T01:02:03.000Z");
        CHECK(e["assets"] == json::parse(R"([{"host":"web01.example.lg.jp"}])"));
        CHECK(e["raw"]["routing_key"] == "[redacted]");
    }
    SUBCASE("wazuh") {
        auto [e, body] = post("wazuh", "wazuh-alert.json");
        CHECK(e["title"] == "Ransomware behaviour: mass file encryption detected");
        CHECK(e["severity"] == "high");
        CHECK(e["category"] == "ransomware");
        CHECK(e["dedup_key"] == "wazuh-87105-juki-ap01");
        CHECK(e["occurred_at"] == "2026-04-01T01:02:03.456Z");
        CHECK(e["assets"] == json::parse(R"([{"host":"juki-ap01","ip":"10.20.1.14"}])"));
        CHECK(e["labels"]["rule.id"] == "87105");
        CHECK(e["raw"] == body);
    }
    SUBCASE("elastic") {
        auto [e, body] = post("elastic", "elastic-security.json");
        CHECK(e["title"] == "Suspicious PowerShell download cradle");
        CHECK(e["severity"] == "high");
        CHECK(e["category"] == "other");
        CHECK(e["dedup_key"] == "Suspicious PowerShell download cradle/pc-kikaku-031");
        CHECK(e["occurred_at"] == "2026-04-01T01:10:00.000Z");
        CHECK(e["assets"] ==
              json::parse(R"([{"host":"pc-kikaku-031","ip":"10.30.5.31","user":"t.yamada"}])"));
        CHECK(e["raw"] == body);
    }
    SUBCASE("splunk (query token)") {
        auto [e, body] = post("splunk", "splunk-webhook.json",
                              {{"Content-Type", "application/json"}}, "?token=t");
        CHECK(e["title"] == "Excessive Failed Logins");
        CHECK(e["severity"] == "medium");
        CHECK(e["category"] == "intrusion");
        CHECK(e["dedup_key"] ==
              "Excessive Failed Logins/dest=portal.example.lg.jp,src_ip=198.51.100.23,user=admin");
        CHECK_FALSE(e.contains("occurred_at"));
        CHECK(e["assets"] == json::parse(R"([{"host":"portal.example.lg.jp","user":"admin"}])"));
        CHECK(e["raw"] == body);
    }
    SUBCASE("grafana") {
        auto [e, body] = post("grafana", "grafana-webhook.json");
        CHECK(e["title"] == "HTTPErrorRate: 5xx rate 43%");
        CHECK(e["severity"] == "critical");
        CHECK(e["category"] == "ddos");
        CHECK(e["dedup_key"] == R"({}:{alertname="HTTPErrorRate"}/0f1e2d3c4b5a6978)");
        CHECK(e["occurred_at"] == "2026-04-01T01:00:00.000Z");
        CHECK(e["assets"] == json::parse(R"([{"host":"web-lb01","system":"public-portal"}])"));
        CHECK(e["raw"] == body);
    }
    SUBCASE("POST /v2/enqueue answers like PagerDuty, trigger then resolve") {
        // A key of its own: the v1-path case posts the same trigger, and two workers may apply
        // that one after this resolve (it would rightly re-trigger the alert).
        const std::string key = test::unique_name("wazuh-5763-web01");
        auto with_key = [&](const std::string& fixture) {
            json j = json::parse(f.fixture(fixture));
            j["dedup_key"] = key;
            return j.dump();
        };
        const auto r =
            http_post(f.stack->url("/v2/enqueue"), with_key("siem/pagerduty-v2-trigger.json"),
                      {{"Content-Type", "application/json"}});
        INFO(r.body);
        REQUIRE(r.status == 202);
        const json b = r.json();
        CHECK(b["status"] == "success");
        CHECK(b["message"] == "Event processed");
        CHECK(b["dedup_key"] == key);
        const auto resolve =
            http_post(f.stack->url("/v2/enqueue"), with_key("siem/pagerduty-v2-resolve.json"),
                      {{"Content-Type", "application/json"}});
        CHECK(resolve.status == 202);
        const auto unknown = http_post(
            f.stack->url("/v2/enqueue"),
            R"({"routing_key":"Rnotours000000000000000000000000","event_action":"trigger"})",
            {{"Content-Type", "application/json"}});
        CHECK(unknown.status == 401);
        // The resolve marked the alert resolved in the incident the trigger opened.
        std::string incident, state;
        const bool resolved = wait_until(
            [&] {
                auto v =
                    f.stack->redis().command({"GET", f.stack->prefix() + ":default:dedup:" + key});
                if (v.is_nil())
                    return false;
                incident = v.str();
                auto s = f.stack->redis().command(
                    {"HGET", f.stack->prefix() + ":default:inc:" + incident, "state"});
                state = s.is_nil() ? "" : s.str();
                return !s.is_nil() && json::parse(s.str())["alerts"][key].value("resolved", false);
            },
            std::chrono::seconds(20));
        // Why, if it never happened: the incident the key names, its state, its timeline.
        INFO("incident " << incident << " state " << state);
        INFO("timeline " << [&] {
            std::string out;
            for (const auto& e :
                 f.stack->redis()
                     .command({"LRANGE", f.stack->prefix() + ":default:tl:" + incident, "0", "-1"})
                     .elements())
                out += e.str() + "\n";
            return out;
        }());
        INFO(f.stack->logs());
        REQUIRE(resolved);
    }
}

TEST_CASE("bad input: 400 naming the field, nothing published, 404, 413, 415") {
    Fixture& f = shared();
    const double before = f.published();
    struct Bad {
        const char* file;
        const char* code;
        std::vector<std::string> fields;
    };
    for (const Bad& b : {Bad{"bad-enum.json", "invalid_field", {"/action", "/severity"}},
                         Bad{"bad-utf8.json", "invalid_json", {""}},
                         Bad{"deep-nesting.json", "invalid_json", {""}},
                         Bad{"not-an-object.json", "invalid_field", {""}},
                         Bad{"truncated.json", "invalid_json", {""}}}) {
        CAPTURE(b.file);
        const auto r = http_post(f.stack->url("/v1/events/generic"),
                                 f.fixture(std::string("bad/") + b.file), kBearer);
        CHECK(r.status == 400);
        const json e = r.json()["error"];
        CHECK(e["code"] == b.code);
        CHECK(std::find(b.fields.begin(), b.fields.end(), e["field"].get<std::string>()) !=
              b.fields.end());
        CHECK_FALSE(e["message"].get<std::string>().empty());
    }
    // The same bad bodies through other formats are refused too.
    const auto am = http_post(f.stack->url("/v1/events/alertmanager"),
                              R"({"version":"4","alerts":[{"status":"exploded"}]})", kBearer);
    CHECK(am.status == 400);
    CHECK(am.json()["error"]["field"] == "/alerts/0/status");
    const auto wz =
        http_post(f.stack->url("/v1/events/wazuh"), R"({"rule":{"level":"twelve"}})", kBearer);
    CHECK(wz.status == 400);
    CHECK(wz.json()["error"]["field"] == "/rule/level");

    CHECK(http_post(f.stack->url("/v1/events/nosuch"), "{}", kBearer).status == 404);
    CHECK(http_post(f.stack->url("/v1/events/generic"), R"({"title":"x"})",
                    {{"Authorization", "Bearer t"}, {"Content-Type", "text/plain"}})
              .status == 415);
    const std::string big = R"({"title":")" + std::string(3000, 'x') + R"("})";
    const auto small = http_post(f.stack->url("/v1/events/small"), big, kBearer);
    CHECK(small.status == 413);
    CHECK(small.json()["error"]["code"] == "payload_too_large");
    const std::string huge = R"({"title":")" + std::string(2 * 1024 * 1024, 'x') + R"("})";
    CHECK(http_post(f.stack->url("/v1/events/generic"), huge, kBearer).status == 413);
    // A good event afterwards is the only thing the broker got (answers wait for its confirm).
    CHECK(
        http_post(f.stack->url("/v1/events/generic"), R"({"title":"after the bad ones"})", kBearer)
            .status == 202);
    CHECK(f.published() == before + 1);
}

TEST_CASE("every auth scheme: missing or wrong credentials get 401, right ones 202") {
    Fixture& f = shared();
    const std::string body = R"({"title":"auth check","severity":"low"})";
    auto status = [&](const std::string& source, const Headers& h, const std::string& b,
                      const std::string& q = "") {
        return http_post(f.stack->url("/v1/events/" + source + q), b, h).status;
    };
    const Headers json_ct{{"Content-Type", "application/json"}};
    auto with = [&](Headers extra) {
        extra.emplace_back("Content-Type", "application/json");
        return extra;
    };
    SUBCASE("bearer") {
        CHECK(status("generic", json_ct, body) == 401);
        CHECK(status("generic", with({{"Authorization", "Bearer wrong"}}), body) == 401);
        CHECK(status("generic", with({{"Authorization", "Basic dDp0"}}), body) == 401);
        CHECK(status("generic", kBearer, body) == 202);
    }
    SUBCASE("basic") {
        CHECK(status("s-basic", json_ct, body) == 401);
        CHECK(status("s-basic",
                     with({{"Authorization", "Basic " + crypto::base64_encode("siem:nope")}}),
                     body) == 401);
        CHECK(status("s-basic",
                     with({{"Authorization", "Basic " + crypto::base64_encode("siem:pw-basic")}}),
                     body) == 202);
    }
    SUBCASE("header") {
        CHECK(status("s-header", json_ct, body) == 401);
        CHECK(status("s-header", with({{"X-Sonae-Token", "nope"}}), body) == 401);
        CHECK(status("s-header", with({{"X-Sonae-Token", "tok-header"}}), body) == 202);
    }
    SUBCASE("query-token") {
        const std::string splunk = f.fixture("siem/splunk-webhook.json");
        CHECK(status("splunk", json_ct, splunk) == 401);
        CHECK(status("splunk", json_ct, splunk, "?token=nope") == 401);
        CHECK(status("splunk", json_ct, splunk, "?token=t") == 202);
    }
    SUBCASE("hmac-sha256 with a timestamp (Grafana 12), replays outside the window refused") {
        const std::string grafana = f.fixture("siem/grafana-webhook.json");
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        auto sign = [&](std::int64_t ts, const std::string& b) {
            return with(
                {{"X-Grafana-Alerting-Signature",
                  crypto::to_hex(crypto::hmac_sha256("hmac-key", std::to_string(ts) + ":" + b))},
                 {"X-Grafana-Alerting-Signature-Timestamp", std::to_string(ts)}});
        };
        CHECK(status("s-hmac", json_ct, grafana) == 401);
        CHECK(status("s-hmac", sign(now, grafana + " "), grafana) == 401);  // signed another body
        CHECK(status("s-hmac", sign(now - 600, grafana), grafana) == 401);  // a replay, 10 min old
        CHECK(status("s-hmac", sign(now, grafana), grafana) == 202);
    }
    SUBCASE("hmac-sha256, base64 with a prefix") {
        const std::string sig = "sha256=" + crypto::base64_encode(crypto::hmac_sha256("k2", body));
        CHECK(status("s-hmac64", with({{"X-Signature", "sha256=AAAA"}}), body) == 401);
        CHECK(status("s-hmac64", with({{"X-Signature", sig}}), body) == 202);
    }
    SUBCASE("routing-key") {
        CHECK(status("s-pd", json_ct, f.fixture("siem/pagerduty-v2-trigger.json")) ==
              401);  // the fixture's key
        CHECK(
            status(
                "s-pd", json_ct,
                R"({"event_action":"trigger","payload":{"summary":"x","source":"y","severity":"info"}})") ==
            401);
        CHECK(
            status(
                "s-pd", json_ct,
                R"({"routing_key":"Rrouting0000000000000000000000ab","event_action":"trigger","payload":{"summary":"x","source":"y","severity":"info"}})") ==
            202);
    }
    SUBCASE("none, allowed only with insecure: true") {
        CHECK(status("s-open", json_ct, body) == 202);
    }
}

TEST_CASE("a flood from one source gets 429 with Retry-After while other sources still get 202") {
    Fixture& f = shared();
    const std::string body = R"({"title":"flood","severity":"info"})";
    int limited = 0, accepted = 0;
    for (int i = 0; i < 20; ++i) {
        const auto r = http_post(f.stack->url("/v1/events/flood"), body, kBearer);
        if (r.status == 429) {
            ++limited;
            CHECK(std::stoi(r.headers.at("retry-after")) >= 1);
            CHECK(r.json()["error"]["code"] == "rate_limited");
        } else {
            CHECK(r.status == 202);
            ++accepted;
        }
        CHECK(http_post(f.stack->url("/v1/events/generic"), body, kBearer).status == 202);
    }
    CHECK(limited >= 10);
    CHECK(accepted >= 5);
}

TEST_CASE("Alertmanager repeating one group five times: one incident with count 5") {
    Fixture& f = shared();
    // The fixture as another group, so that earlier tests' posts of it do not count here.
    json group = json::parse(f.fixture("siem/alertmanager-v4.json"));
    group["groupKey"] = R"({}:{alertname="SSHBruteForceRepeat"})";
    group["alerts"][0]["fingerprint"] = "feedfacefeedface";
    const std::string body = group.dump();
    for (int i = 0; i < 5; ++i)
        CHECK(http_post(f.stack->url("/v1/events/alertmanager"), body, kBearer).status == 202);
    const std::string key = R"({}:{alertname="SSHBruteForceRepeat"}/feedfacefeedface)";
    json state;
    REQUIRE(wait_until(
        [&] {
            auto id =
                f.stack->redis().command({"GET", f.stack->prefix() + ":default:dedup:" + key});
            if (id.is_nil())
                return false;
            auto s = f.stack->redis().command(
                {"HGET", f.stack->prefix() + ":default:inc:" + id.str(), "state"});
            if (s.is_nil())
                return false;
            state = json::parse(s.str());
            return state["events"] == 5;
        },
        std::chrono::seconds(30)));
    CHECK(state["alerts"][key]["n"] == 5);
    // A resolved repeat marks the alert resolved; the incident stays open for a human to close.
    json resolved = json::parse(body);
    resolved["status"] = "resolved";
    resolved["alerts"][0]["status"] = "resolved";
    CHECK(http_post(f.stack->url("/v1/events/alertmanager"), resolved.dump(), kBearer).status ==
          202);
    REQUIRE(wait_until(
        [&] {
            auto s = f.stack->redis().command(
                {"HGET", f.stack->prefix() + ":default:inc:" + state["id"].get<std::string>(),
                 "state"});
            state = json::parse(s.str());
            return state["alerts"][key].value("resolved", false);
        },
        std::chrono::seconds(20)));
    CHECK(state["status"] != "resolved");
}
