// The orchestrator's series move as events, commands and timers flow (real Redis, manual clock),
// and the service serves them on its admin listener.
#include <doctest/doctest.h>

#include <sonae/config/config.hpp>
#include <sonae/service/common.hpp>

#include "../src/service.hpp"
#include "../src/timers.hpp"
#include "../src/worker.hpp"
#include "fixture.hpp"

using namespace sonae;
using namespace sonae::orchestrator;
using namespace sonae::orchestrator::testing;

namespace {

bool has_line(const std::string& page, const std::string& line) {
    return page.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: events open incidents, commands count by result, gauges follow the state") {
    Fixture f;
    StateSampler sampler(f.libraries, f.redis, f.keys, f.clock, f.metrics);
    sampler.sample();
    CHECK(f.metrics.incidents_open.value({"default", "high"}) == 0);
    CHECK(f.metrics.timers_pending.value() == 0);

    f.processor.on_event(Fixture::event("e1"), f.clock.now());
    f.processor.on_event(Fixture::event("e2"), f.clock.now());  // same dedup key: correlated
    f.processor.on_event(Fixture::event("e1"), f.clock.now());  // redelivered
    CHECK(f.metrics.events.value({"opened"}) == 1);
    CHECK(f.metrics.events.value({"correlated"}) == 1);
    CHECK(f.metrics.events.value({"duplicate"}) == 1);

    const std::string id = "INC-20260401-0001";
    f.clock.advance(30 * core::kMinute);
    sampler.sample();
    CHECK(f.metrics.incidents_open.value({"default", "high"}) == 1);
    CHECK(f.metrics.incidents_open.value({"default", "critical"}) == 0);
    // juki has a 4 h RTO from detection; half an hour has passed.
    CHECK(f.metrics.rto_left.value({"default", id, "juki"}) == 3.5 * 3600);
    CHECK(f.metrics.timers_pending.value() > 0);

    core::CommandReply reply;
    f.processor.on_command(f.command("c1", id, "ack", core::Permission::kResponder), f.clock.now(),
                           &reply);
    f.processor.on_command(f.command("c1", id, "ack", core::Permission::kResponder), f.clock.now(),
                           &reply);
    f.processor.on_command(f.command("c2", id, "status"), f.clock.now(), &reply);
    f.processor.on_command(f.command("c3", id, "fly to the moon"), f.clock.now(), &reply);
    f.processor.on_command(f.command("c4", "INC-20990101-0001", "ack"), f.clock.now(), &reply);
    f.processor.on_command(f.command("c5", id, "resolve done", core::Permission::kViewer),
                           f.clock.now(), &reply);
    CHECK_FALSE(reply.ok);
    const auto& c = f.metrics.commands;
    CHECK(c.value({"applied"}) == 1);
    CHECK(c.value({"duplicate"}) == 1);
    CHECK(c.value({"answered"}) == 1);
    CHECK(c.value({"invalid"}) == 1);
    CHECK(c.value({"unknown"}) == 1);
    CHECK(c.value({"refused"}) == 1);

    // Resolved: the incident and its RTO clock leave the gauges.
    f.processor.on_command(f.command("c6", id, "resolve done"), f.clock.now(), &reply);
    CHECK(reply.ok);
    sampler.sample();
    CHECK(f.metrics.incidents_open.value({"default", "high"}) == 0);
    const std::string page = f.registry.render();
    INFO(page);
    CHECK(page.find(id) == std::string::npos);
    CHECK(has_line(page, R"(sonae_commands_total{result="applied"} 2)"));
    CHECK(has_line(page, R"(sonae_incidents_open{tenant="default",severity="high"} 0)"));
}

TEST_CASE("metrics: timer lateness is observed per firing, poison messages are dead-lettered") {
    Fixture f;
    TimerRunner timers(f.processor, f.clock, f.topology);
    f.processor.on_event(Fixture::event("e1"), f.clock.now());
    // The reminder is due at 24 min; the runner looks 2 s after it.
    f.clock.advance(24 * core::kMinute + 2 * core::kSecond);
    CHECK(timers.fire_due(f.sink) == 1);
    CHECK(f.metrics.timer_lateness.count() == 1);
    CHECK(f.metrics.timer_lateness.sum() == 2.0);
    CHECK(f.metrics.timers_fired.value() == 1);
    CHECK(has_line(f.registry.render(), R"(sonae_timer_lateness_seconds_bucket{le="1"} 0)"));
    CHECK(has_line(f.registry.render(), R"(sonae_timer_lateness_seconds_bucket{le="2.5"} 1)"));

    Worker worker(f.processor, f.clock, f.topology);
    amqp::Delivery poison;
    poison.routing_key = core::wire::kEvents;
    poison.message_id = "bad";
    poison.body = "not json";
    const auto verdicts = worker.handle(f.sink, {poison});
    REQUIRE(verdicts.size() == 1);
    CHECK(verdicts[0] == amqp::Verdict::kDeadLetter);
    CHECK(f.metrics.dead_lettered.value({"events"}) == 1);
}

TEST_CASE("the orchestrator serves /metrics and /healthz on its admin port (port 0: any)") {
    Fixture f;
    Settings s;
    s.bus = service::Bus{redis::Settings::parse(f.env.redis_url).value(),
                         amqp::Settings::parse(f.env.amqp_url).value(), f.keys.prefix};
    s.workers = 1;
    s.admin_port = 0;
    s.sample_every = std::chrono::milliseconds(50);
    Service svc(std::move(f.libraries), std::move(s), f.clock);
    svc.start();
    REQUIRE(svc.admin_port() != 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(svc.admin_port());
    // The sampler thread reads Redis on its own: wait for its first sample.
    std::string page;
    CHECK(test::wait_until(
        [&] {
            page = test::http_get(base + "/metrics").body;
            return page.find("sonae_state_sampled_timestamp_seconds 0\n") == std::string::npos &&
                   has_line(page, R"(sonae_incidents_open{tenant="default",severity="high"} 0)");
        },
        std::chrono::seconds(10)));
    const auto r = test::http_get(base + "/metrics");
    CHECK(r.status == 200);
    CHECK(r.headers.at("content-type") == "text/plain; version=0.0.4");
    CHECK(page.find("# TYPE sonae_timer_lateness_seconds histogram") != std::string::npos);
    CHECK(test::http_get(base + "/healthz").status == 200);
    CHECK(test::http_get(base + "/nope").status == 404);
    svc.stop();
    // Quorum queues are heavy: leave none behind on the shared broker.
    amqp::Connection conn(amqp::Settings::parse(f.env.amqp_url).value());
    amqp::Topology{f.keys.prefix}.remove(conn);
}
