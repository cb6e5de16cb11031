// The whole path on real servers: a SIEM webhook → RabbitMQ → playbook → Redis → a signed
// webhook. Starts the three services against the Redis and RabbitMQ of scripts/test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <set>

#include <doctest/doctest.h>

#include <sonae/crypto/crypto.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

const std::string kSecret = "whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=";
// Another alert: its notification is the positive signal that earlier ones were all delivered.
const std::string kLaterEvent =
    R"({"title":"later alert","severity":"low","category":"other","dedup_key":"later"})";

std::string write_config(const std::string& receiver_url) {
    const std::string dir = make_temp_dir("config");
    write_file(dir + "/sources.yaml", R"(sources:
  - name: generic
    format: generic
    auth: {type: bearer, token: dev-token}
)");
    write_file(dir + "/channels.yaml",
               "channels:\n  - name: test-hook\n    type: webhook\n    url: " + receiver_url +
                   "\n    secret: " + kSecret + "\n    all: true\n    max_classification: 3A\n");
    return dir;
}

std::vector<std::pair<std::string, std::string>> bearer() {
    return {{"Authorization", "Bearer dev-token"}, {"Content-Type", "application/json"}};
}

json load_incident(redis::Connection& r, const std::string& prefix, const std::string& id) {
    auto reply = r.command({"HGET", prefix + ":default:inc:" + id, "state"});
    return reply.is_nil() ? json() : json::parse(reply.str());
}

}  // namespace

TEST_CASE("a generic event opens an incident and exactly one signed notification is delivered") {
    const TestEnv env = TestEnv::require();
    Receiver receiver;
    Stack stack(
        env, {write_config(receiver.url()), env.source_dir + "/tests/integration/playbooks", {}});

    const std::string fixture =
        read_file(env.source_dir + "/tests/fixtures/siem/generic-event.json");
    const HttpResult res = http_post(stack.url("/v1/events/generic"), fixture, bearer());
    INFO(stack.logs());
    REQUIRE(res.status == 202);
    const json body = res.json();
    REQUIRE(body["accepted"] == 1);
    const std::string event_id = body["event_ids"][0];
    CHECK(event_id.size() == 36);

    // The incident is in Redis with its steps, due times and timeline.
    std::string incident_id;
    REQUIRE(wait_until(
        [&] {
            auto members =
                stack.redis().command({"SMEMBERS", stack.prefix() + ":default:open"}).elements();
            if (members.size() != 1)
                return false;
            incident_id = members[0].str();
            return true;
        },
        std::chrono::seconds(20)));
    CHECK(incident_id.rfind("INC-", 0) == 0);
    CHECK(incident_id.size() == std::string("INC-20260401-0001").size());
    const json inc = load_incident(stack.redis(), stack.prefix(), incident_id);
    CHECK(inc["playbook"] == "e2e-vendor");
    CHECK(inc["title"] == "委託先クラウド事業者からの障害・不正アクセス通知");
    CHECK(inc["status"] == "triggered");
    CHECK(inc["severity"] == "high");
    CHECK(inc["classification"] == "3B");
    CHECK(inc["steps"]["contact-vendor"]["s"] == "active");
    CHECK(inc["steps"]["contact-vendor"]["due"].get<std::int64_t>() ==
          inc["steps"]["contact-vendor"]["act"].get<std::int64_t>() + 3600 * 1000);
    CHECK(inc["steps"]["inventory"]["s"] == "pending");
    REQUIRE(inc["services"].size() == 1);
    CHECK(inc["services"][0]["id"] == "e-application");
    CHECK(inc["alerts"]["vendor-cloud-2026-04-01"]["n"] == 1);
    const auto timeline =
        stack.redis().command({"LLEN", stack.prefix() + ":default:tl:" + incident_id}).integer();
    CHECK(timeline >= 3);
    // The active step's reminder (which then schedules its due timer) is pending in the timers.
    const auto due = stack.redis().command(
        {"ZSCORE", stack.prefix() + ":timers", "default|" + incident_id + "|soon:contact-vendor"});
    CHECK_FALSE(due.is_nil());
    // The event is marked applied, so a redelivery changes nothing.
    CHECK(stack.redis()
              .command({"EXISTS", stack.prefix() + ":default:done:evt:" + event_id})
              .integer() == 1);

    // Exactly one notification, signed per Standard Webhooks, arrives at the receiver: a later
    // alert's notification arrives after it, and nothing else does.
    REQUIRE(wait_until([&] { return !receiver.requests().empty(); }, std::chrono::seconds(20)));
    REQUIRE(http_post(stack.url("/v1/events/generic"), kLaterEvent, bearer()).status == 202);
    REQUIRE(wait_until([&] { return receiver.requests().size() >= 2; }, std::chrono::seconds(20)));
    const auto got = receiver.requests();
    REQUIRE(got.size() == 2);
    CHECK(json::parse(got[1].body)["title"].get<std::string>().find("later alert") !=
          std::string::npos);
    const Received& r = got[0];
    CHECK(r.headers.at("webhook-id") == "default:" + incident_id + ":n1");
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    CHECK(crypto::webhooks::verify(kSecret, r.headers.at("webhook-id"),
                                   r.headers.at("webhook-timestamp"),
                                   r.headers.at("webhook-signature"), r.body, now_s));
    CHECK_FALSE(crypto::webhooks::verify(kSecret, r.headers.at("webhook-id"),
                                         r.headers.at("webhook-timestamp"),
                                         r.headers.at("webhook-signature"), r.body + " ", now_s));
    const json n = json::parse(r.body);
    CHECK(n["incident"] == incident_id);
    CHECK(n["kind"] == "opened");
    CHECK(n["title"].get<std::string>().find("委託先クラウド事業者") != std::string::npos);
    CHECK(n["redacted"] == false);

    // The delivery is recorded in the incident's timeline.
    REQUIRE(wait_until(
        [&] {
            auto entries = stack.redis().command(
                {"LRANGE", stack.prefix() + ":default:tl:" + incident_id, "0", "-1"});
            for (const auto& e : entries.elements()) {
                if (json::parse(e.str())["kind"] == "delivery")
                    return true;
            }
            return false;
        },
        std::chrono::seconds(10)));
}

TEST_CASE("a malformed body gets 400 naming the field and nothing is published") {
    const TestEnv env = TestEnv::require();
    Receiver receiver;
    Stack stack(
        env, {write_config(receiver.url()), env.source_dir + "/tests/integration/playbooks", {}});
    const double published_before =
        metric(http_get(stack.url("/metrics")).body, "sonae_amqp_published_total");

    {  // unknown enum value
        const HttpResult res =
            http_post(stack.url("/v1/events/generic"),
                      read_file(env.source_dir + "/tests/fixtures/bad/bad-enum.json"), bearer());
        CHECK(res.status == 400);
        const json e = res.json()["error"];
        CHECK(e["code"] == "invalid_field");
        const std::string field = e["field"];
        CHECK((field == "/action" || field == "/severity"));
    }
    {  // truncated JSON
        const HttpResult res =
            http_post(stack.url("/v1/events/generic"),
                      read_file(env.source_dir + "/tests/fixtures/bad/truncated.json"), bearer());
        CHECK(res.status == 400);
        CHECK(res.json()["error"]["code"] == "invalid_json");
    }
    {  // wrong token
        const HttpResult res =
            http_post(stack.url("/v1/events/generic"), "{\"title\":\"x\"}",
                      {{"Authorization", "Bearer nope"}, {"Content-Type", "application/json"}});
        CHECK(res.status == 401);
        CHECK(res.json()["error"]["code"] == "unauthorized");
    }
    {  // unknown source
        const HttpResult res =
            http_post(stack.url("/v1/events/nosuch"), "{\"title\":\"x\"}", bearer());
        CHECK(res.status == 404);
        CHECK(res.json()["error"]["code"] == "unknown_source");
    }
    // Nothing of the above reached the broker (answers wait for confirms, so this is exact) ...
    CHECK(metric(http_get(stack.url("/metrics")).body, "sonae_amqp_published_total") ==
          published_before);
    // ... and a good alert afterwards is the only incident and the only notification.
    REQUIRE(http_post(stack.url("/v1/events/generic"), kLaterEvent, bearer()).status == 202);
    REQUIRE(wait_until([&] { return receiver.requests().size() == 1; }, std::chrono::seconds(20)));
    CHECK(json::parse(receiver.requests()[0].body)["title"].get<std::string>().find(
              "later alert") != std::string::npos);
    CHECK(stack.redis().command({"ZCARD", stack.prefix() + ":default:incidents"}).integer() == 1);
}
