// The gateway's request handling in-process: no sockets, no broker. A fake publisher confirms
// (or refuses) what the handler submits and a manual clock drives replay windows and rate limits.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "../src/gateway.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>

#include <sonae/crypto/crypto.hpp>
#include <sonae/loader/loader.hpp>

#include "fake_publisher.hpp"

using namespace sonae;
using nlohmann::json;
namespace asio = boost::asio;

namespace {

using gateway::testing::FakePublisher;

constexpr const char* kSources = R"(sources:
  - {name: generic, format: generic, auth: {type: bearer, token: t0k}}
  - {name: small, format: generic, max_body: 1024, auth: {type: bearer, token: t0k}}
  - {name: slow, format: generic, rate_limit: {per_second: 1, burst: 2}, auth: {type: bearer, token: t0k}}
  - {name: grafana, format: grafana, auth: {type: hmac-sha256, header: X-Grafana-Alerting-Signature, secret: s3cret, timestamp_header: X-Grafana-Alerting-Signature-Timestamp}}
  - {name: pd, format: pagerduty, tenant: town-b, auth: {type: routing-key, routing_key: rk-0123456789abcdef0123456789abcd}}
)";

struct Fixture {
    loader::Schemas schemas = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas").value();
    config::Config config;
    FakePublisher publisher;
    gateway::Health health;
    clock::ManualClock clock{*core::parse_timestamp("2026-04-01T09:00:00+09:00")};
    std::unique_ptr<gateway::Gateway> gw;

    Fixture() {
        const auto dir =
            std::filesystem::temp_directory_path() / ("sonae-gw-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "sources.yaml") << kSources;
        auto c = config::load(dir.string(), schemas);
        if (!c)
            FAIL(c.error().message);
        config = std::move(c.value());
        health.redis = true;
        gw = std::make_unique<gateway::Gateway>(config, schemas.event(), publisher, health, clock,
                                                gateway::Options{amqp::Topology{"gwtest"}});
    }

    http::Response call(http::Request req) {
        asio::io_context ioc;
        req.prepare_payload();
        auto result = asio::co_spawn(
            ioc, [&]() -> asio::awaitable<http::Response> { co_return co_await gw->handle(req); },
            asio::use_future);
        ioc.run();
        return result.get();
    }

    http::Response post(const std::string& target, const std::string& body,
                        std::vector<std::pair<std::string, std::string>> headers = {
                            {"Authorization", "Bearer t0k"},
                            {"Content-Type", "application/json"}}) {
        http::Request req{boost::beast::http::verb::post, target, 11};
        for (const auto& [k, v] : headers)
            req.set(k, v);
        req.body() = body;
        return call(std::move(req));
    }

    http::Response get(const std::string& target) {
        return call(http::Request{boost::beast::http::verb::get, target, 11});
    }
};

json error_of(const http::Response& r) {
    const json body = json::parse(r.body(), nullptr, false);
    REQUIRE(body.is_object());
    REQUIRE(body.contains("error"));
    const json& e = body["error"];
    CHECK(e["code"].is_string());
    CHECK(e["message"].is_string());
    CHECK(e["field"].is_string());
    CHECK(r[boost::beast::http::field::content_type] == "application/json");
    return e;
}

constexpr const char* kEvent = R"({"title":"ransomware on juki-ap01","severity":"high",
  "category":"ransomware","dedup_key":"k1","assets":[{"host":"juki-ap01"}]})";

}  // namespace

TEST_CASE("routing: health, readiness, unknown paths and methods get JSON answers") {
    Fixture f;
    CHECK(f.get("/healthz").result() == http::Status::ok);
    CHECK(f.get("/readyz").result() == http::Status::ok);
    f.publisher.connected_ = false;
    auto not_ready = f.get("/readyz");
    CHECK(not_ready.result() == http::Status::service_unavailable);
    CHECK(json::parse(not_ready.body())["broker"] == false);
    f.publisher.connected_ = true;
    f.health.redis = false;
    CHECK(f.get("/readyz").result() == http::Status::service_unavailable);
    // A stopping gateway is not ready even with both dependencies up, and says why.
    f.health.redis = true;
    f.health.draining = true;
    auto draining = f.get("/readyz");
    CHECK(draining.result() == http::Status::service_unavailable);
    CHECK(json::parse(draining.body())["status"] == "draining");
    f.health.draining = false;

    auto missing = f.get("/nowhere");
    CHECK(missing.result() == http::Status::not_found);
    CHECK(error_of(missing)["code"] == "not_found");
    auto wrong_method = f.get("/v1/events/generic");
    CHECK(wrong_method.result() == http::Status::method_not_allowed);
    CHECK(wrong_method[boost::beast::http::field::allow] == "POST");
    CHECK(error_of(wrong_method)["code"] == "method_not_allowed");
    auto unknown = f.post("/v1/events/nosuch", kEvent);
    CHECK(unknown.result() == http::Status::not_found);
    CHECK(error_of(unknown)["code"] == "unknown_source");
    CHECK(f.get("/v2/enqueue").result() == http::Status::method_not_allowed);
    CHECK(f.publisher.published_.empty());
}

TEST_CASE("an accepted event is published once, stamped by the clock, then answered 202") {
    Fixture f;
    auto r = f.post("/v1/events/generic", kEvent);
    REQUIRE(r.result() == http::Status::accepted);
    const json body = json::parse(r.body());
    CHECK(body["accepted"] == 1);
    REQUIRE(f.publisher.published_.size() == 1);
    const amqp::Message& m = f.publisher.published_[0];
    CHECK(m.routing_key == core::wire::kEvents);
    CHECK(m.exchange == "gwtest");
    CHECK(m.message_id == body["event_ids"][0]);
    CHECK(m.headers.at("tenant") == "default");
    CHECK(m.batch_type == core::wire::kTypeEvents);  // the publisher may combine it with others
    const json e = json::parse(m.body);
    CHECK(e["received_at"] == core::format_timestamp(f.clock.now()));
    CHECK(e["source"] == "generic");
    // The broker refuses: 503 with Retry-After, never a 202.
    f.publisher.refuse_ = true;
    auto refused = f.post("/v1/events/generic", kEvent);
    CHECK(refused.result() == http::Status::service_unavailable);
    CHECK(refused[boost::beast::http::field::retry_after] == "5");
    CHECK(error_of(refused)["code"] == "unavailable");
}

TEST_CASE("bad requests name what is wrong and publish nothing") {
    Fixture f;
    auto unauth = f.post("/v1/events/generic", kEvent,
                         {{"Authorization", "Bearer nope"}, {"Content-Type", "application/json"}});
    CHECK(unauth.result() == http::Status::unauthorized);
    CHECK(unauth[boost::beast::http::field::www_authenticate] == "Bearer");
    CHECK(error_of(unauth)["code"] == "unauthorized");
    auto bad_json = f.post("/v1/events/generic", R"({"title": )");
    CHECK(bad_json.result() == http::Status::bad_request);
    CHECK(error_of(bad_json)["code"] == "invalid_json");
    auto bad_field = f.post("/v1/events/generic", R"({"title":"x","severity":"apocalyptic"})");
    CHECK(bad_field.result() == http::Status::bad_request);
    CHECK(error_of(bad_field)["field"] == "/severity");
    auto wrong_type = f.post("/v1/events/generic", kEvent,
                             {{"Authorization", "Bearer t0k"}, {"Content-Type", "text/plain"}});
    CHECK(wrong_type.result() == http::Status::unsupported_media_type);
    auto too_big = f.post("/v1/events/small", R"({"title":")" + std::string(1100, 'x') + "\"}");
    CHECK(too_big.result() == http::Status::payload_too_large);
    CHECK(error_of(too_big)["code"] == "payload_too_large");
    auto not_utf8 = f.post("/v1/events/generic", "{\"title\":\"\xff\xfe\"}");
    CHECK(not_utf8.result() == http::Status::bad_request);
    error_of(not_utf8);  // still a valid JSON body
    CHECK(f.publisher.published_.empty());
}

TEST_CASE("signatures are checked against the clock: a replay outside the window is refused") {
    Fixture f;
    const std::string body =
        loader::read_file(SONAE_SOURCE_DIR "/tests/fixtures/siem/grafana-webhook.json").value();
    const std::string ts = std::to_string(f.clock.now() / 1000);
    const std::string sig = crypto::to_hex(crypto::hmac_sha256("s3cret", ts + ":" + body));
    const std::vector<std::pair<std::string, std::string>> headers{
        {"X-Grafana-Alerting-Signature", sig},
        {"X-Grafana-Alerting-Signature-Timestamp", ts},
        {"Content-Type", "application/json"}};
    CHECK(f.post("/v1/events/grafana", body, headers).result() == http::Status::accepted);
    f.clock.advance(6 * core::kMinute);
    auto replay = f.post("/v1/events/grafana", body, headers);
    CHECK(replay.result() == http::Status::unauthorized);
    CHECK(error_of(replay)["message"].get<std::string>().find("window") != std::string::npos);
    auto tampered = headers;
    tampered[0].second = crypto::to_hex(crypto::hmac_sha256("wrong", ts + ":" + body));
    f.clock.advance(-6 * core::kMinute);
    CHECK(f.post("/v1/events/grafana", body, tampered).result() == http::Status::unauthorized);
    CHECK(f.publisher.published_.size() == 1);
}

TEST_CASE("rate limits answer 429 with Retry-After and recover as the clock moves") {
    Fixture f;
    CHECK(f.post("/v1/events/slow", kEvent).result() == http::Status::accepted);
    CHECK(f.post("/v1/events/slow", kEvent).result() == http::Status::accepted);
    auto limited = f.post("/v1/events/slow", kEvent);
    CHECK(limited.result() == http::Status::too_many_requests);
    CHECK(limited[boost::beast::http::field::retry_after] == "1");
    CHECK(error_of(limited)["code"] == "rate_limited");
    f.clock.advance(core::kSecond);
    CHECK(f.post("/v1/events/slow", kEvent).result() == http::Status::accepted);
    // Another source is not affected.
    CHECK(f.post("/v1/events/generic", kEvent).result() == http::Status::accepted);
}

TEST_CASE("PagerDuty's /v2/enqueue selects the source by routing key, with PagerDuty's answers") {
    Fixture f;
    const std::string event = R"({"routing_key":"rk-0123456789abcdef0123456789abcd",
        "event_action":"trigger","dedup_key":"pd-1",
        "payload":{"summary":"disk full","source":"db01","severity":"critical"}})";
    auto ok = f.post("/v2/enqueue", event, {{"Content-Type", "application/json"}});
    REQUIRE(ok.result() == http::Status::accepted);
    CHECK(json::parse(ok.body())["status"] == "success");
    CHECK(json::parse(ok.body())["dedup_key"] == "pd-1");
    REQUIRE(f.publisher.published_.size() == 1);
    CHECK(f.publisher.published_[0].headers.at("tenant") == "town-b");
    auto unknown = f.post("/v2/enqueue", R"({"routing_key":"nope","event_action":"trigger"})",
                          {{"Content-Type", "application/json"}});
    CHECK(unknown.result() == http::Status::unauthorized);
    auto invalid = f.post("/v2/enqueue", "[]", {{"Content-Type", "application/json"}});
    CHECK(invalid.result() == http::Status::bad_request);
    CHECK(json::parse(invalid.body())["status"] == "invalid event");
    CHECK(json::parse(invalid.body())["error"]["code"] == "invalid_field");
}

TEST_CASE("metrics count what happened") {
    Fixture f;
    f.post("/v1/events/generic", kEvent);
    f.post("/v1/events/nosuch", kEvent);
    const std::string page = f.get("/metrics").body();
    CHECK(page.find("sonae_gateway_events_accepted_total 1\n") != std::string::npos);
    CHECK(page.find("sonae_gateway_responses_total{status=\"404\"} 1\n") != std::string::npos);
    CHECK(page.find("# TYPE sonae_gateway_requests_total counter") != std::string::npos);
}

TEST_CASE("metrics: events accepted and refused by source and reason, and confirm latency") {
    Fixture f;
    const auto& reg = f.gw->registry();
    auto page = [&] { return f.get("/metrics"); };
    const auto first = page();
    CHECK(first[boost::beast::http::field::content_type] == "text/plain; version=0.0.4");
    // Every configured source has its series before anything arrived.
    CHECK(first.body().find("sonae_events_accepted_total{source=\"grafana\"} 0\n") !=
          std::string::npos);
    CHECK(f.post("/v1/events/generic", kEvent).result() == http::Status::accepted);
    CHECK(f.post("/v1/events/generic", kEvent).result() == http::Status::accepted);
    CHECK(f.post("/v1/events/generic", kEvent).result() == http::Status::accepted);
    f.post("/v1/events/generic", kEvent, {{"Authorization", "Bearer wrong"}});
    f.post("/v1/events/generic", "{", {{"Authorization", "Bearer t0k"}});
    f.post("/v1/events/nosuch", kEvent);
    f.post("/v2/enqueue", R"({"routing_key":"nope"})", {{"Content-Type", "application/json"}});
    f.publisher.refuse_ = true;
    CHECK(f.post("/v1/events/small", kEvent).result() == http::Status::service_unavailable);
    const std::string text = page().body();
    INFO(text);
    auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
    CHECK(has(R"(sonae_events_accepted_total{source="generic"} 3)"));
    CHECK(has(R"(sonae_gateway_events_accepted_total 3)"));
    CHECK(has(R"(sonae_events_rejected_total{source="generic",reason="unauthorized"} 1)"));
    CHECK(has(R"(sonae_events_rejected_total{source="generic",reason="invalid_json"} 1)"));
    CHECK(has(R"(sonae_events_rejected_total{source="",reason="unknown_source"} 1)"));
    CHECK(has(R"(sonae_events_rejected_total{source="",reason="unauthorized"} 1)"));
    CHECK(has(R"(sonae_events_rejected_total{source="small",reason="unavailable"} 1)"));
    // Three requests confirmed: three observations of the publish-confirm latency.
    CHECK(has(R"(sonae_publish_confirm_seconds_count 3)"));
    CHECK(has(R"(sonae_publish_confirm_seconds_bucket{le="+Inf"} 3)"));
    CHECK(text.find("# TYPE sonae_publish_confirm_seconds histogram") != std::string::npos);
    CHECK(text.find("# TYPE sonae_chat_verification_failures_total counter") != std::string::npos);
    CHECK(has("sonae_amqp_published_total 3"));
    CHECK(has("sonae_broker_connected 1"));
    // The registry is what /metrics serves (the scrape itself counted as a request since).
    CHECK(reg.render().find("sonae_events_accepted_total{source=\"generic\"} 3\n") !=
          std::string::npos);
}
