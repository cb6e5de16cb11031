// A live drill end to end (PRODUCT §11, issue 12): `sonae exercise start` through the real
// gateway, orchestrator and notifier against the Redis and RabbitMQ of scripts/test. The drill
// runs at 600x; its inject opens an incident in the drill's namespace, a narrative inject and
// the self-test reach the allow-listed channel only, a scripted player does one step, a person
// answers over the signed Slack endpoint, and a real alert during the drill opens a real
// incident. The after-action report's times match the incident's timeline.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <doctest/doctest.h>

#include <sonae/core/time.hpp>
#include <sonae/crypto/crypto.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kSlackSecret = "5c3f0a9e7d2b4e6f8a1c3e5f7a9b1d2e";

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string enc(const std::string& v) {
    return boost::urls::encode(v, boost::urls::unreserved_chars);
}

// The e2e vendor playbook (tests/integration/playbooks): contact-vendor (due 1h), then
// inventory (due 4h), which recovers e-application (RTO 24h).
const char* kScenario = R"(id: live-vendor
title: 【訓練】委託先障害（ライブ）
start: "2026-04-01T10:00:00+09:00"
duration: 8h
injects:
  - at: 1m
    event: {"title": "委託先の障害", "category": "vendor_incident", "severity": "high",
            "assets": [{"system": "e-application-system"}], "dedup_key": "drill-vendor"}
  - at: 10m
    message: 委託先より「復旧見込みは未定」との電話。
    to: [csirt]
players:
  - {at: 30m, as: scripted-lead, command: "done contact-vendor 連絡済み"}
expect:
  - {id: vendor-contacted, step_done: contact-vendor, by: 1h, score: 10}
  - {id: inventory-in-2h, step_done: inventory, by: 2h, score: 10}
  - {id: e-application-rto, rto_met: e-application, score: 10}
)";

struct Drill {
    TestEnv env = TestEnv::require();
    Receiver drill_hook;  // on the exercise allow-list
    Receiver real_hook;   // a real channel: never receives drill traffic
    Receiver back;        // Slack's response_url
    std::string config_dir;
    std::unique_ptr<Stack> stack;

    Drill() {
        config_dir = make_temp_dir("drill-config");
        write_file(config_dir + "/sources.yaml",
                   "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: "
                   "dev-token}}\n");
        write_file(config_dir + "/channels.yaml",
                   "channels:\n"
                   "  - {name: drill-hook, type: webhook, url: '" +
                       drill_hook.url() +
                       "', secret: whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=, all: "
                       "true, exercise: true}\n"
                       "  - {name: real-hook, type: webhook, url: '" +
                       real_hook.url() +
                       "', secret: whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=, all: "
                       "true}\n");
        write_file(config_dir + "/responders.yaml", R"(responders:
  - {id: yamada, name: 山田, role: responder, slack: U0PLAYER1}
api_tokens:
  - {name: facilitator, role: commander, sha256: )" + crypto::to_hex(crypto::sha256("fac-token")) +
                                                        R"(}
chat:
  slack_signing_secret: )" + kSlackSecret + "\n");
        stack = std::make_unique<Stack>(
            env, Stack::Options{config_dir, env.source_dir + "/tests/integration/playbooks", {}});
    }

    std::vector<std::pair<std::string, std::string>> auth() const {
        return {{"Authorization", "Bearer fac-token"}, {"Content-Type", "application/json"}};
    }
    json get(const std::string& path) {
        auto r = http_get(stack->url(path), auth());
        REQUIRE_MESSAGE(r.status == 200, path << ": " << r.status << " " << r.body);
        return r.json();
    }
    // The `sonae` CLI against this stack.
    ShellResult cli(const std::string& args) {
        return run_shell("SONAE_URL=" + stack->url("") + " SONAE_TOKEN=fac-token " + env.bin_dir +
                         "/services/cli/sonae " + args + " 2>&1");
    }
    HttpResult slack(const std::string& text) {
        const std::string body =
            "team_id=T0001&channel_id=C0DRILL01&user_id=U0PLAYER1&user_name=yamada&command=%2Fsonae"
            "&text=" +
            enc(text) + "&response_url=" + enc(back.url("/slack/response")) +
            "&trigger_id=" + enc(crypto::uuid_v4());
        const std::string t = std::to_string(now_s());
        return http_post(
            stack->url("/v1/chatops/slack"), body,
            {{"Content-Type", "application/x-www-form-urlencoded"},
             {"X-Slack-Request-Timestamp", t},
             {"X-Slack-Signature",
              "v0=" + crypto::to_hex(crypto::hmac_sha256(kSlackSecret, "v0:" + t + ":" + body))}});
    }
    std::vector<json> bodies(Receiver& r) {
        std::vector<json> out;
        for (const auto& q : r.requests())
            out.push_back(json::parse(q.body, nullptr, false));
        return out;
    }
    bool received(Receiver& r, const std::string& kind) {
        for (const auto& b : bodies(r)) {
            if (b.value("kind", "") == kind)
                return true;
        }
        return false;
    }
};

}  // namespace

TEST_CASE("a live drill at 600x: injects, players by script and by Slack, isolation, report") {
    Drill d;
    const std::string file = make_temp_dir("drill") + "/live-vendor.yaml";
    write_file(file, kScenario);
    const auto started =
        d.cli("exercise start " + file + " --speed 600 --fill-in scripted-lead --json");
    REQUIRE_MESSAGE(started.status == 0, started.out);
    const json x = json::parse(started.out.substr(started.out.find('{')));
    const std::string id = x["id"];
    CHECK(x["state"] == "running");
    CHECK(x["self_test"]["channels"] == json::array({"drill-hook"}));

    // The self-test reaches the allow-listed channel before anything else happens.
    REQUIRE(wait_until([&] { return d.received(d.drill_hook, "self_test"); }, 20s));

    // The event inject at drill minute 1 opens an incident in the drill's namespace.
    std::string incident;
    REQUIRE(wait_until(
        [&] {
            const json s = d.get("/v1/exercises/" + id);
            if (s["incidents"].empty())
                return false;
            incident = s["incidents"][0]["id"];
            return true;
        },
        20s));
    CHECK(incident.find("default~" + id + ".INC-") == 0);

    // A real alert during the drill opens a real incident as usual, in the real list only.
    const auto real =
        http_post(d.stack->url("/v1/events/generic"),
                  R"({"title":"本物の障害","category":"vendor_incident","severity":"high",
            "assets":[{"system":"e-application-system"}],"dedup_key":"real-vendor"})",
                  {{"Authorization", "Bearer dev-token"}, {"Content-Type", "application/json"}});
    REQUIRE(real.status == 202);
    REQUIRE(wait_until([&] { return d.received(d.real_hook, "opened"); }, 20s));
    const json listed = d.get("/v1/incidents");
    REQUIRE(listed["incidents"].size() == 1);
    CHECK(listed["incidents"][0]["id"].get<std::string>().find('~') == std::string::npos);
    CHECK(d.get("/v1/incidents?exercise=true")["incidents"].size() == 1);

    // The scripted lead does contact-vendor at drill minute 30 (3 s); then a person, over
    // Slack, does the inventory.
    REQUIRE(wait_until(
        [&] {
            return d.get("/v1/incidents/" + incident)["steps"][0].value("status", "") == "done";
        },
        30s));
    const auto answer = d.slack("done inventory 棚卸し済み " + incident);
    REQUIRE(answer.status == 200);
    REQUIRE(wait_until(
        [&] {
            for (const auto& q : d.back.requests()) {
                if (q.body.find("✓ done inventory") != std::string::npos)
                    return true;
            }
            return false;
        },
        20s));
    // The narrative inject (drill minute 10) went to the players' allow-listed channel.
    REQUIRE(wait_until([&] { return d.received(d.drill_hook, "inject"); }, 20s));

    const auto stopped = d.cli("exercise stop " + id);
    REQUIRE_MESSAGE(stopped.status == 0, stopped.out);
    CHECK(stopped.out.find("stopped") != std::string::npos);

    // Isolation: every drill message is marked, and none reached the real channel.
    for (const auto& b : d.bodies(d.drill_hook)) {
        if (b.value("exercise", false))
            CHECK(b.value("title", "").find("【訓練】") == 0);
    }
    for (const auto& b : d.bodies(d.real_hook)) {
        CHECK_FALSE(b.value("exercise", true));
        CHECK(b.value("tenant", "") == "default");
    }

    // The report, from the API through the CLI, against the incident's own timeline.
    const std::string out = make_temp_dir("drill-report");
    const auto rep = d.cli("exercise report " + id + " --out " + out);
    REQUIRE_MESSAGE(rep.status == 0, rep.out);
    const json report = json::parse(read_file(out + "/report.json"));
    CHECK(report["mode"] == "live");
    CHECK(report["scenario"] == "live-vendor");
    const json inc = d.get("/v1/incidents/" + incident);
    const core::TimePoint start = *core::parse_timestamp(x["started_at"].get<std::string>());
    const json tl = d.get("/v1/incidents/" + incident + "/timeline?limit=500");
    std::map<std::string, std::int64_t> done_at;  // step -> seconds from the drill's start
    for (const auto& e : tl["entries"]) {
        const std::string text = e.value("text", "");
        for (const char* step : {"contact-vendor", "inventory"}) {
            if (e.value("kind", "") == "step" && text.rfind(std::string("done ") + step, 0) == 0)
                done_at[step] =
                    (*core::parse_timestamp(e["at"].get<std::string>()) - start) / core::kSecond;
        }
    }
    REQUIRE(done_at.size() == 2);
    CHECK(done_at["contact-vendor"] >= 30 * 60);
    int steps_seen = 0;
    for (const auto& s : report["steps"]) {
        if (s["incident"] != incident)
            continue;
        ++steps_seen;
        REQUIRE(s["done_at_seconds"].is_number());
        CHECK(std::llabs(s["done_at_seconds"].get<std::int64_t>() - done_at[s["id"]]) <= 1);
    }
    CHECK(steps_seen == 2);
    for (const auto& e : report["expectations"]) {
        if (e["id"] == "vendor-contacted" || e["id"] == "e-application-rto")
            CHECK(e["met"] == true);
    }
    bool service_met = false;
    for (const auto& s : report["services"])
        service_met = service_met || (s["met"] == true);
    CHECK(service_met);
    CHECK(inc["status"] != "triggered");
}
