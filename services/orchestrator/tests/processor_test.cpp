// The orchestrator's library in-process against a real Redis: events, commands, action results
// and the worker's batches, each applied exactly once however often it arrives.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <thread>

#include <doctest/doctest.h>

#include "../src/outgoing.hpp"
#include "../src/worker.hpp"
#include "fixture.hpp"

using namespace sonae;
using namespace sonae::orchestrator;
using namespace sonae::orchestrator::testing;
using nlohmann::json;

TEST_CASE("an event opens an incident once, its redelivery publishes nothing new") {
    Fixture f;
    const Applied first = f.processor.on_event(Fixture::event("e1"), f.clock.now());
    CHECK(first.processed.processed_id == "evt:e1");
    REQUIRE(first.outbox.size() == 1);
    CHECK(first.outbox[0].routing_key == core::wire::kNotifications);
    const std::string id = json::parse(first.outbox[0].body).at("incident");
    CHECK(id == "INC-20260401-0001");
    const core::Incident inc = f.incident(id);
    CHECK(inc.steps.at("triage").status == core::StepStatus::kActive);
    CHECK(inc.services.at(0).id == "juki");

    // Redelivered before its outbox was published: the same outbox again, nothing re-applied.
    const Applied again = f.processor.on_event(Fixture::event("e1"), f.clock.now());
    REQUIRE(again.outbox.size() == 1);
    CHECK(again.outbox[0].message_id == first.outbox[0].message_id);
    CHECK(f.incident(id).event_count == 1);
    // Once published, a redelivery has nothing left to publish.
    f.processor.published({first.processed});
    CHECK(f.processor.on_event(Fixture::event("e1"), f.clock.now()).outbox.empty());
    // Another alert with the same dedup key joins the incident.
    f.processor.on_event(Fixture::event("e2"), f.clock.now());
    CHECK(f.incident(id).event_count == 2);
    CHECK(f.incident(id).alerts.at("k1").count == 2);
}

TEST_CASE("commands: applied once, answered, refused by role, and recorded with the actor") {
    Fixture f;
    const std::string id = "INC-20260401-0001";
    f.processor.on_event(Fixture::event("e1"), f.clock.now());
    f.clock.advance(5 * core::kMinute);

    core::CommandReply reply;
    f.processor.on_command(f.command("c1", id, "ack", core::Permission::kResponder), f.clock.now(),
                           &reply);
    CHECK(reply.ok);
    CHECK(reply.id == "c1");
    CHECK(f.incident(id).status == core::IncidentStatus::kAcknowledged);
    CHECK(f.incident(id).acked_at == f.clock.now());
    auto stored = f.processor.store().command_result("default", "c1");
    REQUIRE(stored);
    CHECK(stored->ok);

    // The same command again (a redelivery): answered as the first time, not applied twice.
    const std::string first_answer = reply.message;
    CHECK(first_answer.rfind("✓ ack", 0) == 0);
    const auto timeline = f.processor.store().timeline("default", id).size();
    f.processor.on_command(f.command("c1", id, "ack", core::Permission::kResponder), f.clock.now(),
                           &reply);
    CHECK(reply.ok);
    CHECK(reply.message == first_answer);
    CHECK(f.processor.store().timeline("default", id).size() == timeline);

    // A viewer may not resolve; the answer says why (with the usage), nothing changes, and the
    // refusal is audited.
    f.processor.on_command(f.command("c2", id, "resolve done", core::Permission::kViewer),
                           f.clock.now(), &reply);
    CHECK_FALSE(reply.ok);
    CHECK(reply.message.find("commander") != std::string::npos);
    CHECK(reply.message.find("usage: resolve <summary>") != std::string::npos);
    CHECK(f.incident(id).open());
    const auto entries = f.processor.store().timeline("default", id);
    CHECK(entries.back()["actor"] == "tester");
    CHECK(entries.back()["data"]["refused"] == true);
    CHECK(entries.back()["data"]["command"] == "resolve done");
    // A command that does not parse is answered with the usage.
    f.processor.on_command(f.command("c3", id, "frobnicate"), f.clock.now(), &reply);
    CHECK_FALSE(reply.ok);
    CHECK_FALSE(reply.message.empty());
    // An unknown incident.
    f.processor.on_command(f.command("c4", "INC-19990101-0001", "ack"), f.clock.now(), &reply);
    CHECK_FALSE(reply.ok);
    CHECK(reply.message.find("unknown incident") != std::string::npos);

    // `done` records the actor in the timeline.
    f.processor.on_command(f.command("c5", id, "done triage checked"), f.clock.now(), &reply);
    CHECK(reply.ok);
    bool found = false;
    for (const auto& e : f.processor.store().timeline("default", id))
        found = found || (e["actor"] == "tester" && e["data"].value("step", "") == "triage");
    CHECK(found);
}

TEST_CASE("an HTTP step finishes with its action result, once") {
    Fixture f;
    const std::string id = "INC-20260401-0001";
    f.processor.on_event(Fixture::event("e1"), f.clock.now());
    const Applied done =
        f.processor.on_command(f.command("c1", id, "done triage"), f.clock.now(), nullptr);
    // The http step started: its action is in the outbox.
    bool action = false;
    for (const auto& o : done.outbox)
        action = action || o.routing_key == core::wire::kActions;
    CHECK(action);
    CHECK(f.incident(id).steps.at("block").status == core::StepStatus::kActive);
    const core::ActionResult result{
        "ar:default:" + id + ":http:block", "default", id, "block", true, 204, ""};
    f.processor.on_action_result(result, f.clock.now());
    CHECK(f.incident(id).steps.at("block").status == core::StepStatus::kDone);
    CHECK(f.incident(id).steps.at("restore").status == core::StepStatus::kActive);
    const auto timeline = f.processor.store().timeline("default", id).size();
    f.processor.on_action_result(result, f.clock.now());  // redelivered
    CHECK(f.processor.store().timeline("default", id).size() == timeline);
}

TEST_CASE("the worker dead-letters poison, applies the rest, publishes once per batch") {
    Fixture f;
    Worker worker(f.processor, f.clock, f.topology);
    auto delivery = [](const std::string& rk, const std::string& body) {
        amqp::Delivery d;
        d.routing_key = rk;
        d.body = body;
        d.message_id = "m";
        return d;
    };
    const std::vector<amqp::Delivery> batch{
        delivery(core::wire::kEvents, core::to_json(Fixture::event("e1")).dump()),
        delivery(core::wire::kEvents, "{not json"),
        delivery(core::wire::kCommands, R"({"id":"c1"})"),
        delivery(core::wire::kCommands,
                 core::to_json(f.command("c2", "INC-20260401-0001", "ack")).dump())};
    const auto verdicts = worker.handle(f.sink, batch);
    CHECK(verdicts == std::vector<amqp::Verdict>{amqp::Verdict::kAck, amqp::Verdict::kDeadLetter,
                                                 amqp::Verdict::kDeadLetter, amqp::Verdict::kAck});
    const auto published = f.sink.take();
    CHECK(Fixture::kinds(published) == std::vector<std::string>{"opened"});
    CHECK(published.at(0).headers.at("tenant") == "default");
    CHECK(published.at(0).exchange == f.topology.exchange());
    CHECK(f.incident("INC-20260401-0001").status == core::IncidentStatus::kAcknowledged);
    // Published, so their outboxes are gone.
    CHECK(f.processor.store().outbox("default", "evt:e1").empty());

    // The broker refuses the batch: the outbox stays for a redelivery (or the sweeper).
    f.sink.fail_next(1);
    const std::vector<amqp::Delivery> second{
        delivery(core::wire::kEvents, core::to_json(Fixture::event("e3", "k3")).dump())};
    CHECK_THROWS_AS(worker.handle(f.sink, second), amqp::PublishError);
    CHECK(f.processor.store().outbox("default", "evt:e3").size() == 1);
    CHECK(worker.handle(f.sink, second) == std::vector<amqp::Verdict>{amqp::Verdict::kAck});
    CHECK(Fixture::kinds(f.sink.take()) == std::vector<std::string>{"opened"});
    CHECK(f.processor.store().outbox("default", "evt:e3").empty());
}

TEST_CASE(
    "the worker applies an array of events once each, and a failing one retries the message") {
    Fixture f;
    Worker worker(f.processor, f.clock, f.topology);
    auto delivery = [](const std::vector<std::string>& bodies) {
        amqp::Delivery d;
        d.routing_key = core::wire::kEvents;
        d.type = core::wire::kTypeEvents;
        d.message_id = "batch";
        d.body = "[";
        for (std::size_t i = 0; i < bodies.size(); ++i)
            d.body += (i > 0 ? "," : "") + bodies[i];
        d.body += "]";
        return d;
    };
    auto body = [](const core::Event& e) { return core::to_json(e).dump(); };
    // Two alerts of one incident, another incident, and an element that is no event (skipped).
    const amqp::Delivery first =
        delivery({body(Fixture::event("a1", "k1")), R"({"id":7})", body(Fixture::event("a2", "k1")),
                  body(Fixture::event("a3", "k3"))});
    CHECK(worker.handle(f.sink, {first}) == std::vector<amqp::Verdict>{amqp::Verdict::kAck});
    CHECK(Fixture::kinds(f.sink.take()) == std::vector<std::string>{"opened", "opened"});
    const std::string k1 = f.redis.command({"GET", f.keys.dedup("default", "k1")}).str();
    const std::string k3 = f.redis.command({"GET", f.keys.dedup("default", "k3")}).str();
    CHECK(f.incident(k1).event_count == 2);
    CHECK(f.incident(k3).event_count == 1);
    CHECK(f.metrics.events.value({"unreadable"}) == 1);
    CHECK(f.metrics.events.value({"opened"}) == 2);

    // Redelivered: nothing applied twice, nothing published again.
    CHECK(worker.handle(f.sink, {first}) == std::vector<amqp::Verdict>{amqp::Verdict::kAck});
    CHECK(f.sink.take().empty());
    CHECK(f.incident(k1).event_count == 2);
    CHECK(f.incident(k3).event_count == 1);
    CHECK(f.metrics.events.value({"duplicate"}) == 3);

    // The second element fails (a resolve before its trigger): the message is retried; what was
    // applied before it is published now and not again on the redelivery.
    core::Event early = Fixture::event("r5", "k5");
    early.action = core::Action::kResolve;
    early.received_at = f.clock.now();
    const amqp::Delivery second =
        delivery({body(Fixture::event("b4", "k4")), body(early), body(Fixture::event("b6", "k6"))});
    CHECK(worker.handle(f.sink, {second}) == std::vector<amqp::Verdict>{amqp::Verdict::kRetry});
    CHECK(Fixture::kinds(f.sink.take()) == std::vector<std::string>{"opened"});
    CHECK(f.redis.command({"GET", f.keys.dedup("default", "k6")}).is_nil());
    // Its trigger arrives; the redelivered array applies the resolve and the rest, b4 not again.
    CHECK(worker.handle(f.sink, {delivery({body(Fixture::event("t5", "k5"))})}) ==
          std::vector<amqp::Verdict>{amqp::Verdict::kAck});
    CHECK(Fixture::kinds(f.sink.take()) == std::vector<std::string>{"opened"});
    CHECK(worker.handle(f.sink, {second}) == std::vector<amqp::Verdict>{amqp::Verdict::kAck});
    const auto after = Fixture::kinds(f.sink.take());
    CHECK(std::count(after.begin(), after.end(), "opened") == 1);  // b6's, not b4's again
    const std::string k4 = f.redis.command({"GET", f.keys.dedup("default", "k4")}).str();
    const std::string k5 = f.redis.command({"GET", f.keys.dedup("default", "k5")}).str();
    CHECK(f.incident(k4).event_count == 1);
    CHECK(f.incident(k5).alerts.at("k5").resolved);
    CHECK_FALSE(f.redis.command({"GET", f.keys.dedup("default", "k6")}).is_nil());

    // A body that is no array of events at all is dead-lettered, as a single unreadable event.
    amqp::Delivery junk = delivery({});
    CHECK(worker.handle(f.sink, {junk}) == std::vector<amqp::Verdict>{amqp::Verdict::kDeadLetter});
    junk.body = "[{";
    CHECK(worker.handle(f.sink, {junk}) == std::vector<amqp::Verdict>{amqp::Verdict::kDeadLetter});
}

TEST_CASE("two processors racing on one alert open one incident") {
    Fixture f;
    redis::Connection other_redis(redis::Settings::parse(f.env.redis_url).value());
    Processor other(f.libraries, other_redis, f.keys, f.metrics);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            Processor& p = t == 0 ? f.processor : other;
            for (int i = 0; i < 20; ++i) {
                const auto e = Fixture::event("e" + std::to_string(t) + "-" + std::to_string(i));
                on_event_requeued(p, e, f.clock.now());
            }
        });
    }
    for (auto& th : threads)
        th.join();
    const auto open = f.redis.command({"SMEMBERS", f.keys.open("default")}).elements();
    REQUIRE(open.size() == 1);
    CHECK(f.incident(open[0].str()).event_count == 40);
}

TEST_CASE("a resolve racing the trigger that is still opening the incident is not lost") {
    Fixture f;
    // Another worker reserved the alert's incident and has not committed it yet.
    const auto reserved =
        f.processor.store().prepare_event("default", "evt:trigger", "k1", "20260401", true);
    REQUIRE(reserved.status == store::IncidentStore::Prepared::Status::kReady);
    REQUIRE_FALSE(reserved.loaded);
    core::Event resolve = Fixture::event("resolve");
    resolve.action = core::Action::kResolve;
    // The resolve waits, then goes back to the queue (the worker retries it) instead of vanishing.
    CHECK_THROWS(f.processor.on_event(resolve, f.clock.now()));
    // The trigger commits; the redelivered resolve then applies to its incident.
    f.processor.on_event(Fixture::event("trigger"), f.clock.now());
    f.processor.on_event(resolve, f.clock.now());
    const core::Incident i = f.incident(reserved.incident_id);
    CHECK(i.alerts.at("k1").resolved);
}

TEST_CASE("a resolve that overtook its trigger is retried for a while, then dropped") {
    Fixture f;
    core::Event resolve = Fixture::event("early-resolve", "k9");
    resolve.action = core::Action::kResolve;
    resolve.received_at = f.clock.now();
    // Young: back to the retry queue, the trigger may still be on its way.
    CHECK_THROWS(f.processor.on_event(resolve, f.clock.now()));
    // The trigger arrives; the retried resolve then applies.
    core::Event trigger = Fixture::event("late-trigger", "k9");
    f.processor.on_event(trigger, f.clock.now());
    f.processor.on_event(resolve, f.clock.now() + core::kSecond);
    const auto id = f.redis.command({"GET", f.keys.dedup("default", "k9")});
    REQUIRE_FALSE(id.is_nil());
    CHECK(f.incident(id.str()).alerts.at("k9").resolved);
    // A resolve for a key nobody triggered is dropped once the grace has passed.
    core::Event stray = Fixture::event("stray", "never-triggered");
    stray.action = core::Action::kResolve;
    stray.received_at = f.clock.now();
    CHECK(f.processor.on_event(stray, f.clock.now() + 31 * core::kSecond).outbox.empty());
}
