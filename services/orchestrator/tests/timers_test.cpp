// Timer firing, leases and the sweep on a manual clock against a real Redis: a timer fires once,
// when due and not before; a crashed firing is put back and applied once; an outbox a crash left
// behind is published by the sweep; a deadline earlier than all others wakes sleeping threads.
#include "../src/timers.hpp"

#include <thread>

#include <doctest/doctest.h>

#include "fixture.hpp"

using namespace sonae;
using namespace sonae::orchestrator;
using namespace sonae::orchestrator::testing;

TEST_CASE("a due timer fires once, when due and not before") {
    Fixture f;
    TimerRunner timers(f.processor, f.clock, f.topology);
    f.processor.on_event(Fixture::event("e1"), f.clock.now());
    f.sink.take();
    // triage is due in 30 minutes, with a reminder 6 minutes before: nothing fires early.
    f.clock.advance(24 * core::kMinute - 1);
    CHECK(timers.fire_due(f.sink) == 0);
    CHECK(f.sink.take().empty());
    f.clock.advance(1);
    CHECK(timers.fire_due(f.sink) == 1);
    CHECK(Fixture::kinds(f.sink.take()) == std::vector<std::string>{"due_soon"});
    f.clock.advance(6 * core::kMinute - 1);
    CHECK(timers.fire_due(f.sink) == 0);
    f.clock.advance(1);
    CHECK(timers.fire_due(f.sink) == 1);
    const auto published = f.sink.take();
    CHECK(Fixture::kinds(published) == std::vector<std::string>{"overdue", "escalation"});
    CHECK(json_body_contains(published.at(1), "late 初動"));
    // Fired and finished: it never fires again, and no lease is left.
    f.clock.advance(core::kHour);
    CHECK(timers.fire_due(f.sink) == 0);
    CHECK(f.redis.command({"ZCARD", f.keys.timer_leases()}).integer() == 0);
    CHECK(f.incident("INC-20260401-0001").fired.count("late:triage") == 1);
}

TEST_CASE("a firing whose replica died is put back after its lease and applied once") {
    Fixture f;
    TimerRunner timers(f.processor, f.clock, f.topology);
    f.processor.published({f.processor.on_event(Fixture::event("e1"), f.clock.now()).processed});
    f.clock.advance(24 * core::kMinute);
    CHECK(timers.fire_due(f.sink) == 1);  // the reminder
    f.sink.take();
    f.clock.advance(6 * core::kMinute);
    // A replica leases the firing, applies it, then dies before publishing and finishing.
    auto leased = f.processor.store().lease_due_timers(f.clock.now(), f.clock.now() + 30000, 50);
    REQUIRE(leased.size() == 1);
    f.processor.on_timer(leased[0], f.clock.now());
    CHECK(timers.fire_due(f.sink) == 0);  // leased: nobody else takes it meanwhile
    // Before the lease expires the sweep leaves it; after, it is due again.
    f.clock.advance(29 * core::kSecond);
    timers.sweep(f.sink);
    CHECK(timers.fire_due(f.sink) == 0);
    f.clock.advance(2 * core::kSecond);
    timers.sweep(f.sink);  // also publishes the dead replica's outbox (older than 10 s)
    const auto from_sweep = f.sink.take();
    CHECK(Fixture::kinds(from_sweep) == std::vector<std::string>{"overdue", "escalation"});
    CHECK(timers.fire_due(f.sink) == 1);
    // The same firing (same lease id) was applied already: nothing new is published.
    CHECK(f.sink.take().empty());
    CHECK(f.redis.command({"ZCARD", f.keys.timer_leases()}).integer() == 0);
    int escalations = 0;
    for (const auto& e : f.processor.store().timeline("default", "INC-20260401-0001"))
        escalations += e["kind"] == "escalation" ? 1 : 0;
    CHECK(escalations == 1);
}

TEST_CASE("the sweep publishes an outbox a crash left between commit and publish") {
    Fixture f;
    TimerRunner timers(f.processor, f.clock, f.topology);
    // Committed, never published (the process died before its broker confirm).
    const Applied applied = f.processor.on_event(Fixture::event("e1"), f.clock.now());
    REQUIRE(applied.outbox.size() == 1);
    f.clock.advance(5 * core::kSecond);
    timers.sweep(f.sink);
    CHECK(f.sink.take().empty());  // young outboxes belong to a live worker
    f.clock.advance(6 * core::kSecond);
    timers.sweep(f.sink);
    const auto published = f.sink.take();
    REQUIRE(published.size() == 1);
    CHECK(published[0].message_id == applied.outbox[0].message_id);
    timers.sweep(f.sink);
    CHECK(f.sink.take().empty());
}

TEST_CASE("a deadline earlier than every pending one wakes the sleeping timer threads") {
    Fixture f;
    // What the orchestrator's listener thread does, and a subscriber of our own that shows
    // exactly which commits announce a deadline.
    TimerWake wake;
    service::Stop stop;
    const redis::Settings settings = redis::Settings::parse(f.env.redis_url).value();
    std::thread listener([&] { listen_for_timers(settings, f.keys.timer_wake(), wake, stop); });
    redis::Connection sub(settings);
    sub.command({"SUBSCRIBE", f.keys.timer_wake()});
    // Subscribed, the listener says so once: deadlines may have been announced before.
    REQUIRE(test::wait_until([&] { return wake.generation() >= 1; }, std::chrono::seconds(10)));
    const auto announced = [&](std::chrono::milliseconds within) -> std::optional<std::string> {
        if (auto m = sub.poll_reply(within))
            return m->elements().at(2).str();
        return std::nullopt;
    };

    // The first deadline of all: announced, with its due time (the reminder, 24 minutes on).
    std::uint64_t seen = wake.generation();
    f.processor.on_event(Fixture::event("e1", "k1"), f.clock.now());
    CHECK(announced(std::chrono::seconds(5)) == std::to_string(f.clock.now() + 24 * core::kMinute));
    CHECK(test::wait_until([&] { return wake.generation() > seen; }, std::chrono::seconds(5)));
    // A later deadline is not: threads sleeping until the earlier one will find it.
    f.clock.advance(core::kMinute);
    f.processor.on_event(Fixture::event("e2", "k2"), f.clock.now());
    CHECK_FALSE(announced(std::chrono::milliseconds(300)).has_value());
    // An earlier one is, and a waiting thread ends its sleep for it.
    f.clock.advance(-2 * core::kMinute);
    seen = wake.generation();
    std::thread sleeper([&] { wake.wait(seen, std::chrono::minutes(5)); });
    f.processor.on_event(Fixture::event("e3", "k3"), f.clock.now());
    CHECK(announced(std::chrono::seconds(5)).has_value());
    sleeper.join();  // woken, not after five minutes
    CHECK(wake.generation() > seen);
    // Leasing says how long to sleep: until that earliest deadline.
    std::optional<core::TimePoint> next;
    CHECK(f.processor.store()
              .lease_due_timers(f.clock.now(), f.clock.now() + 30 * core::kSecond, 50, &next)
              .empty());
    CHECK(next == f.clock.now() + 24 * core::kMinute);

    // A stopping service interrupts every sleep, the later ones too.
    wake.interrupt();
    wake.wait(wake.generation(), std::chrono::minutes(5));
    stop.request();
    listener.join();
}
