// Randomized sequences of events, commands, timer firings and action results, checking the
// engine's invariants after every input, and that replaying a sequence gives the same state.
#include <random>

#include <doctest/doctest.h>

#include "test_fixture.hpp"

using namespace sonae::core;
using namespace sonae::core::testing;

namespace {

const char* kPlaybook = R"(
id: random
title: random
match: {field: category, equals: ransomware}
auto_resolve: true
roles: [csirt, lead, ciso]
escalation:
  - {id: half, at_rto_fraction: 0.5, notify: {roles: [lead]}}
  - {id: after, after: 2h, notify: {roles: [ciso]}}
  - {id: evening, at_time: "18:30", notify: {roles: [lead]}}
  - {id: late, overdue: any, notify: {roles: [lead]}}
  - {id: pred, predicted_breach: true, notify: {roles: [ciso]}}
  - {id: crit, severity_at_least: critical, notify: {roles: [ciso]}}
steps:
  - {id: t1, owner: csirt, due: 30m, estimate: 20m}
  - {id: d1, type: decision, options: [a, b], owner: lead, after: [t1], due: 1h}
  - {id: ta, owner: csirt, after: [d1], when: {decision: d1, equals: a}, due: 2h, recovers: [juki]}
  - {id: tb, owner: csirt, after: [d1], when: {decision: d1, equals: b}, due: 5h, recovers: [juki]}
  - {id: n1, type: notify, after: [t1], notify: {roles: [ciso]}, message: "{{title}}"}
  - {id: h1, type: http, after: [t1], http: {url: "http://x/{{id}}"}}
  - {id: w1, type: wait, after: [h1], wait: 45m}
  - {id: t2, owner: csirt, after: [w1, ta, tb], due: 1h, recovers: [web]}
)";

struct Step {
    int kind;  // 0 event, 1 command, 2 timer, 3 action result, 4 clock
    std::string text;
    std::int64_t number;
};

const std::vector<std::string> kCommands = {
    "ack",          "done t1",     "done ta",       "done tb",      "done t2",
    "decide d1 a",  "decide d1 b", "decide d1 c",   "skip t1 x",    "skip ta x",
    "skip t2 x",    "fail t1 x",   "fail ta x",     "note hi",      "severity critical",
    "severity low", "escalate",    "escalate ciso", "resolve done", "assign t1 someone",
    "done d1",      "done w1",
};
const std::vector<Permission> kPermissions = {Permission::kViewer, Permission::kResponder,
                                              Permission::kCommander};

// Generates a sequence; timer ids are chosen when the sequence runs (from what is pending).
std::vector<Step> generate(std::uint64_t seed, int n) {
    std::mt19937_64 rng(seed);
    std::vector<Step> out;
    for (int i = 0; i < n; ++i) {
        const int kind = static_cast<int>(rng() % 5);
        Step s{kind, "", static_cast<std::int64_t>(rng() % 1000000)};
        if (kind == 1)
            s.text = kCommands[rng() % kCommands.size()];
        out.push_back(s);
    }
    return out;
}

struct Checker {
    std::map<std::string, StepState> finished;  // done/skipped steps: must never change
    std::int64_t last_notification = 0;
    bool resolved = false;

    void check(const Incident& before, const Transition& tr) {
        const Incident& after = tr.incident;
        for (const auto& [id, st] : before.steps) {
            if (st.status == StepStatus::kDone || st.status == StepStatus::kSkipped) {
                CHECK(after.steps.at(id).status == st.status);
                CHECK(after.steps.at(id).finished_at == st.finished_at);
            }
        }
        if (resolved)
            CHECK(after.status == IncidentStatus::kResolved);
        resolved = after.status == IncidentStatus::kResolved;
        if (!after.open())
            CHECK(after.timers.empty());
        // Timer effects agree with the timers the incident holds.
        for (const auto& t : tr.timers) {
            if (t.cancel) {
                CHECK(after.timers.count(t.id) == 0);
            } else if (after.timers.count(t.id) != 0) {
                CHECK(after.timers.at(t.id) >= 0);
            }
        }
        for (const auto& n : tr.notifications) {
            const auto seq = std::stoll(n.id.substr(n.id.rfind(":n") + 2));
            CHECK(seq == last_notification + 1);
            last_notification = seq;
        }
        for (const auto& [id, due] : after.timers)
            CHECK(due > 0);
        // State survives serialisation.
        CHECK(to_json(incident_from_json(to_json(after))) == to_json(after));
    }
};

std::string run(std::uint64_t seed, const std::vector<Step>& seq) {
    World w(kPlaybook);
    w.open();
    Checker checker;
    checker.last_notification = w.incident.notification_seq;  // the opening's own notifications
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
    std::set<TimerId> fired_timers;
    for (const auto& s : seq) {
        const Incident before = w.incident;
        // Stays kInternal when the step applies nothing (a clock advance, a held stale timer).
        Result<Transition> tr = Error{ErrorCode::kInternal, "nothing applied", ""};
        switch (s.kind) {
            case 0: {
                Event e = World::event("alert", static_cast<Severity>(s.number % 5),
                                       s.number % 2 ? "web-1" : "juki-1",
                                       "k" + std::to_string(s.number % 3));
                e.action = s.number % 4 == 0 ? Action::kResolve : Action::kTrigger;
                tr = w.apply(EventInput{e});
                break;
            }
            case 1: {
                auto c = parse_command(s.text);
                REQUIRE(c);
                tr = w.apply(
                    CommandInput{"p", kPermissions[static_cast<std::size_t>(s.number) % 3], *c});
                break;
            }
            case 2: {
                // Either a pending timer (at its due time) or one that already fired or was never
                // set.
                if (!w.incident.timers.empty() && s.number % 3 != 0) {
                    auto it = w.incident.timers.begin();
                    std::advance(it, static_cast<long>(rng() % w.incident.timers.size()));
                    const auto [id, due] = *it;
                    w.now = std::max(w.now, due);
                    fired_timers.insert(id);
                    tr = w.apply(TimerInput{id, due});
                } else {
                    const TimerId stale =
                        fired_timers.empty() ? TimerId::due("nothing") : *fired_timers.begin();
                    if (w.incident.timers.count(stale) == 0) {
                        tr = w.apply(TimerInput{stale, 1});
                        if (tr)
                            CHECK_FALSE(tr->changed);  // a timer not held never fires
                    }
                }
                break;
            }
            case 3:
                tr = w.apply(
                    ActionResultInput{"h1", s.number % 2 == 0, s.number % 2 ? 500 : 200, ""});
                break;
            default:
                w.now += s.number % (3 * kHour);
                break;
        }
        if (tr && tr->changed)
            checker.check(before, tr.value());
        if (tr && !tr->changed) {
            // An input that changes nothing hands back the state it was given, with no effects.
            CHECK(to_json(tr->incident) == to_json(before));
            CHECK(tr->timeline.empty());
            CHECK(tr->notifications.empty());
            CHECK(tr->timers.empty());
        }
        if (!tr && tr.error().message != "nothing applied") {
            // A refusal is one of the documented outcomes, never an internal error.
            const ErrorCode code = tr.error().code;
            CHECK((code == ErrorCode::kForbidden || code == ErrorCode::kInvalidCommand ||
                   code == ErrorCode::kNotFound || code == ErrorCode::kConflict));
        }
    }
    return to_json(w.incident).dump();
}

}  // namespace

TEST_CASE("random input sequences keep the engine's invariants and are deterministic") {
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        CAPTURE(seed);
        const auto seq = generate(seed, 120);
        const std::string first = run(seed, seq);
        CHECK(first == run(seed, seq));
    }
}
