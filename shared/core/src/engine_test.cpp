#include <doctest/doctest.h>

#include "test_fixture.hpp"

using namespace sonae::core;
using namespace sonae::core::testing;

namespace {

const char* kGraph = R"yaml(
id: graph
title: グラフ
match: {field: category, equals: ransomware}
roles: [csirt, lead, ciso]
notify: {roles: [lead]}
escalation:
  - {id: half, at_rto_fraction: 0.5, notify: {roles: [lead]}, message: "{{service.name}} half ({{id}})"}
  - {id: four-hours, after: 4h, notify: {roles: [ciso]}}
  - {id: evening, at_time: "17:00", notify: {roles: [lead]}}
  - {id: late, overdue: [triage], notify: {roles: [lead]}, message: "late {{step.title}}"}
  - {id: predicted, predicted_breach: true, notify: {roles: [ciso]}, message: "{{service.name}} {{projected}}"}
  - {id: crit, severity_at_least: critical, notify: {roles: [ciso]}}
steps:
  - {id: triage, title: 初動, owner: csirt, due: 30m, estimate: 20m}
  - id: decide
    type: decision
    title: 方針
    options: [restore, rebuild]
    owner: lead
    after: [triage]
    due: 1h
  - {id: restore, title: 復元, owner: csirt, after: [decide], when: {decision: decide, equals: restore}, estimate: 1h, recovers: [juki]}
  - {id: rebuild, title: 再構築, owner: csirt, after: [decide], when: {decision: decide, equals: rebuild}, estimate: 2h, recovers: [juki]}
  - {id: tell, type: notify, title: 連絡, after: [triage], notify: {roles: [ciso]}, message: "{{title}} on {{hosts}}"}
  - {id: block, type: http, title: 遮断, after: [triage], http: {url: "https://fw.example/block/{{id}}", body: "{\"incident\":\"{{id}}\"}", retries: 2}}
  - {id: cooldown, type: wait, title: 様子見, after: [triage], wait: 2h}
)yaml";

}  // namespace

TEST_CASE(
    "opening: roots start, due timers, RTO clocks, escalation timers, an opened notification") {
    World w(kGraph);
    const Transition& tr = w.open();
    CHECK(w.incident.status == IncidentStatus::kTriggered);
    CHECK(w.step("triage") == StepStatus::kActive);
    CHECK(w.step("decide") == StepStatus::kPending);
    CHECK(w.incident.steps.at("triage").due_at == w.now + 30 * kMinute);
    // The reminder comes first (a fifth of 30 minutes before); it schedules the due time.
    CHECK(w.incident.timers.at(T("soon:triage")) == w.now + 24 * kMinute);
    REQUIRE(w.incident.services.size() == 1);  // juki-ap01 -> juki-sys -> juki
    CHECK(w.incident.services[0].id == "juki");
    CHECK(w.incident.services[0].started_at == w.now);
    CHECK(w.incident.classification == Classification::k3A);  // from the service
    CHECK(w.incident.timers.at(T("rto:juki")) == w.now + 4 * kHour);
    CHECK(w.incident.timers.at(T("esc:half:juki")) == w.now + 2 * kHour);
    CHECK(w.incident.timers.at(T("esc:four-hours")) == w.now + 4 * kHour);
    // 09:00 JST -> 17:00 JST the same day.
    CHECK(w.incident.timers.at(T("esc:evening")) == w.now + 8 * kHour);
    REQUIRE(tr.notifications.size() == 1);
    CHECK(tr.notifications[0].kind == "opened");
    CHECK(tr.notifications[0].roles == std::vector<std::string>{"lead"});
    CHECK(tr.notifications[0].id == "default:INC-20260401-0001:n1");
    // Rendered twice: 3A content is redacted for channels cleared lower.
    CHECK(tr.notifications[0].text.find("juki-ap01") != std::string::npos);
    CHECK(tr.notifications[0].redacted_text.find("juki-ap01") == std::string::npos);
    // One entry tells the opening: alert, playbook and impacted services (no separate ones).
    const TimelineEntry& opened = tr.timeline.front();
    CHECK(opened.kind == "opened");
    CHECK(opened.data["dedup_key"] == World::event().dedup_key);
    CHECK(opened.data["services"] ==
          nlohmann::json::array({{{"service", "juki"}, {"rto_seconds", 14400}}}));
    CHECK(opened.text.find("; impacted: ") != std::string::npos);
    for (const auto& e : tr.timeline)
        CHECK((e.kind != "event" && e.kind != "service"));
}

TEST_CASE("task, decision, notify, http and wait steps") {
    World w(kGraph);
    w.open();
    // A step that has not started cannot be completed.
    auto early = w.try_command("done restore");
    REQUIRE_FALSE(early);
    CHECK(early.error().code == ErrorCode::kConflict);

    w.now += 10 * kMinute;
    Transition& t1 = w.command("done triage 初動完了", Permission::kResponder);
    CHECK(w.step("triage") == StepStatus::kDone);
    CHECK(w.incident.timers.count(T("soon:triage")) == 0);  // cancelled with its step
    bool cancelled = false;
    for (const auto& c : t1.timers)
        cancelled = cancelled || (c.cancel && c.id == T("soon:triage"));
    CHECK(cancelled);
    // notify: sent and done at once, with its template rendered.
    CHECK(w.step("tell") == StepStatus::kDone);
    bool told = false;
    for (const auto& n : t1.notifications) {
        if (n.kind == "step") {
            told = true;
            CHECK(n.roles == std::vector<std::string>{"ciso"});
            CHECK(n.text == "alert on juki-ap01");
        }
    }
    CHECK(told);
    // http: an action with rendered URL and body; the step waits for the result.
    REQUIRE(t1.actions.size() == 1);
    CHECK(t1.actions[0].url == "https://fw.example/block/INC-20260401-0001");
    CHECK(t1.actions[0].body == R"({"incident":"INC-20260401-0001"})");
    CHECK(t1.actions[0].retries == 2);
    CHECK(w.step("block") == StepStatus::kActive);
    w.must(ActionResultInput{"block", true, 204, ""});
    CHECK(w.step("block") == StepStatus::kDone);
    CHECK_FALSE(
        w.must(ActionResultInput{"block", false, 500, ""}).changed);  // duplicate result ignored
    // wait: completes when its timer fires.
    CHECK(w.step("cooldown") == StepStatus::kActive);
    w.advance(2 * kHour);
    CHECK(w.step("cooldown") == StepStatus::kDone);
    // decision: `done` is refused, an unknown option too; the chosen branch runs, the other skips.
    CHECK(w.try_command("done decide").error().code == ErrorCode::kInvalidCommand);
    CHECK(w.try_command("decide decide burn").error().message.find("restore, rebuild") !=
          std::string::npos);
    w.command("decide decide restore", Permission::kResponder);
    CHECK(w.incident.steps.at("decide").decision == "restore");
    CHECK(w.step("restore") == StepStatus::kActive);
    CHECK(w.step("rebuild") == StepStatus::kSkipped);
    // The last recovery step recovers the service and finishes the incident.
    w.command("done restore");
    CHECK(w.incident.services[0].recovered_at == w.now);
    CHECK(w.incident.status == IncidentStatus::kResolved);
    CHECK(w.incident.timers.empty());
}

TEST_CASE("an HTTP action that fails fails its step, which blocks what follows until skipped") {
    World w(R"(
id: h
title: h
match: {field: category, equals: ransomware}
roles: [csirt]
steps:
  - {id: call, type: http, http: {url: "http://x/y"}}
  - {id: after, after: [call], owner: csirt}
)");
    w.open();
    w.must(ActionResultInput{"call", false, 500, "boom"});
    CHECK(w.step("call") == StepStatus::kFailed);
    CHECK(w.step("after") == StepStatus::kPending);
    w.command("skip call endpoint down");
    CHECK(w.step("call") == StepStatus::kSkipped);
    CHECK(w.step("after") == StepStatus::kActive);
}

TEST_CASE("escalation kinds: RTO fraction, after, at_time, overdue, severity, re-escalation") {
    World w(kGraph);
    w.open(World::event("alert", Severity::kHigh));
    CHECK_FALSE(w.fired("crit"));
    // overdue: triage due at 30m.
    w.advance(31 * kMinute);
    CHECK(w.fired("late:triage"));
    auto ns = w.notifications();
    CHECK(ns.back().text == "late 初動");
    // RTO fraction at 2h, after at 4h, at_time at 17:00 (8h).
    w.advance(90 * kMinute);
    CHECK(w.fired("half:juki"));
    CHECK_FALSE(w.fired("four-hours"));
    w.advance(2 * kHour);
    CHECK(w.fired("four-hours"));
    CHECK(w.incident.services[0].breached);  // nothing was recovered within 4h
    w.advance(4 * kHour);
    CHECK(w.fired("evening"));
    // Severity rising to critical fires severity_at_least and re-escalates to those already told.
    const std::size_t before = w.notifications().size();
    Event e = World::event("worse", Severity::kCritical);
    w.must(EventInput{e});
    CHECK(w.incident.severity == Severity::kCritical);
    CHECK(w.fired("crit"));
    const auto after = w.notifications();
    bool re_escalated = false;
    for (std::size_t i = before; i < after.size(); ++i) {
        if (after[i].kind == "severity") {
            re_escalated = true;
            // lead (notify + half), ciso (four-hours, predicted) were told before.
            CHECK(std::find(after[i].roles.begin(), after[i].roles.end(), "ciso") !=
                  after[i].roles.end());
            CHECK(std::find(after[i].roles.begin(), after[i].roles.end(), "lead") !=
                  after[i].roles.end());
        }
    }
    CHECK(re_escalated);
    CHECK(w.incident.alerts.at("k1").count == 2);
}

TEST_CASE("a predicted breach escalates before the RTO has passed") {
    // juki has a 4h RTO. The longest planned chain is triage (20m) -> decide (its 1h due) ->
    // rebuild (2h): 3h20m fits. While triage stays open, the rest (3h) must still fit, so once
    // the clock passes 1h with triage open the projection passes 4h: escalate then, not at 4h.
    World w(kGraph);
    w.open();
    const TimePoint start = w.now;
    CHECK_FALSE(w.incident.services[0].breach_predicted);
    REQUIRE(w.incident.timers.count(T("predict:juki")) == 1);
    const TimePoint cross = w.incident.timers.at(T("predict:juki"));
    CHECK(cross == start + kHour + 1);
    w.advance(cross - start);
    CHECK(w.incident.services[0].breach_predicted);
    CHECK(w.fired("predicted:juki"));
    CHECK_FALSE(w.incident.services[0].breached);
    CHECK(w.now < w.incident.services[0].deadline());
    const auto ns = w.notifications();
    CHECK(ns.back().kind == "escalation");
    CHECK(ns.back().roles == std::vector<std::string>{"ciso"});
    CHECK(ns.back().text.find("住民記録") != std::string::npos);
}

TEST_CASE("a predicted breach does not fire when the work keeps pace") {
    World w(kGraph);
    w.open();
    w.now += 5 * kMinute;
    w.command("done triage");
    w.command("decide decide restore");  // 1h restore: well within 4h
    w.advance(50 * kMinute);
    CHECK_FALSE(w.incident.services[0].breach_predicted);
    w.command("done restore");
    CHECK(w.incident.services[0].recovered_at != 0);
    CHECK_FALSE(w.fired("predicted:juki"));
}

TEST_CASE("RTO start at declaration waits for the first ack") {
    World w(R"(
id: d
title: d
match: {field: category, equals: ransomware}
rto_start: declaration
roles: [csirt]
steps:
  - {id: fix, owner: csirt, recovers: [juki]}
)");
    w.open();
    CHECK(w.incident.services[0].started_at == 0);
    CHECK(w.incident.timers.count(T("rto:juki")) == 0);
    w.now += kHour;
    w.command("ack", Permission::kResponder);
    CHECK(w.incident.status == IncidentStatus::kAcknowledged);
    CHECK(w.incident.services[0].started_at == w.now);
    CHECK(w.incident.timers.at(T("rto:juki")) == w.now + 4 * kHour);
    CHECK(w.try_command("ack").error().code == ErrorCode::kConflict);
}

TEST_CASE("commands are checked against the actor's permission") {
    World w(kGraph);
    w.open();
    CHECK(w.try_command("done triage", Permission::kViewer).error().code == ErrorCode::kForbidden);
    CHECK(w.try_command("resolve done", Permission::kResponder).error().code ==
          ErrorCode::kForbidden);
    CHECK(w.try_command("skip triage x", Permission::kResponder).error().code ==
          ErrorCode::kForbidden);
    CHECK(w.try_command("status", Permission::kViewer));
    CHECK(w.try_command("done nosuch").error().code == ErrorCode::kNotFound);
    CHECK(w.try_command("escalate nobody").error().code == ErrorCode::kNotFound);
    CHECK(w.try_command("fact affected 3", Permission::kViewer).error().code ==
          ErrorCode::kForbidden);
    CHECK(w.try_command("reported first", Permission::kResponder).error().code ==
          ErrorCode::kForbidden);
}

TEST_CASE("the reports' commands are audited, and taken after the incident is resolved") {
    World w(kGraph);
    w.open();
    const auto& fact = w.command("fact affected 12", Permission::kResponder).timeline.back();
    CHECK(fact.kind == "fact");
    CHECK(fact.actor == "tester");
    CHECK(fact.data["key"] == "affected");
    CHECK(fact.data["value"] == "12");
    CHECK(fact.data["command"] == "fact affected 12");
    w.command("resolve contained");
    CHECK_FALSE(w.incident.open());
    const auto& went = w.command("went well quick triage", Permission::kResponder).timeline.back();
    CHECK(went.kind == "review");
    CHECK(went.data["went"] == "well");
    const auto& plan = w.command("improve lead 2026-06-30 drill twice a year").timeline.back();
    CHECK(plan.kind == "improvement");
    CHECK(plan.data["owner"] == "lead");
    CHECK(plan.data["due"] == "2026-06-30");
    CHECK(plan.data["finding"] == "drill twice a year");
    const auto& sent = w.command("reported first by phone").timeline.back();
    CHECK(sent.kind == "reported");
    CHECK(sent.data["report"] == "first");
    CHECK(sent.data["note"] == "by phone");
    CHECK(w.try_command("ack").error().code == ErrorCode::kConflict);  // still resolved
}

TEST_CASE("note, assign, severity, escalate and resolve leave an audit trail") {
    World w(kGraph);
    w.open();
    auto& t = w.command("assign triage tanaka", Permission::kResponder);
    CHECK(w.incident.steps.at("triage").assignee == "tanaka");
    // The command's entry, then the notification that tells the step's owner.
    REQUIRE(t.timeline.size() == 2);
    CHECK(t.timeline.front().data["before"] == "");
    CHECK(t.timeline.front().data["after"] == "tanaka");
    CHECK(t.timeline.front().actor == "tester");
    REQUIRE(t.notifications.size() == 1);
    CHECK(t.notifications[0].kind == "assigned");
    CHECK(t.notifications[0].step == "triage");
    CHECK(t.notifications[0].roles == std::vector<std::string>{"csirt"});
    CHECK(t.notifications[0].text.find("tanaka") != std::string::npos);
    w.command("note 記者から電話");
    CHECK(w.history.back().timeline.back().text == "記者から電話");
    w.command("severity medium");
    CHECK(w.incident.severity == Severity::kMedium);
    CHECK(w.history.back().timeline.front().data["before"] == "high");
    CHECK(w.try_command("severity medium").error().code == ErrorCode::kConflict);
    auto& esc = w.command("escalate ciso");
    REQUIRE(esc.notifications.size() == 1);
    CHECK(esc.notifications[0].roles == std::vector<std::string>{"ciso"});
    auto& res = w.command("resolve 復旧済み");
    CHECK(w.incident.status == IncidentStatus::kResolved);
    CHECK(w.incident.resolution == "復旧済み");
    CHECK(w.incident.timers.empty());
    CHECK(res.notifications.back().kind == "resolved");
    CHECK(w.try_command("done triage").error().code == ErrorCode::kConflict);
    CHECK(w.try_command("note after the fact"));  // notes stay possible
}

TEST_CASE("auto_resolve closes the incident when every alert is resolved by its source") {
    World w(R"(
id: a
title: a
match: {field: category, equals: ransomware}
auto_resolve: true
roles: [csirt]
steps:
  - {id: look, owner: csirt}
)");
    w.open(World::event("a", Severity::kHigh, "web-1", "k1"));
    w.must(EventInput{World::event("b", Severity::kHigh, "web-2", "k2")});
    CHECK(w.incident.alerts.size() == 2);
    Event r1 = World::event("a", Severity::kHigh, "", "k1");
    r1.action = Action::kResolve;
    w.must(EventInput{r1});
    CHECK(w.incident.open());
    Event r2 = World::event("b", Severity::kHigh, "", "k2");
    r2.action = Action::kResolve;
    w.must(EventInput{r2});
    CHECK(w.incident.status == IncidentStatus::kResolved);
    CHECK(w.incident.services.size() == 1);  // web found from web-1/web-2
}

TEST_CASE("invariants: a done step never reopens, cancelled or moved timers never fire") {
    World w(kGraph);
    w.open();
    w.command("done triage");
    const TimePoint done_at = w.incident.steps.at("triage").finished_at;
    CHECK(w.try_command("done triage").error().code == ErrorCode::kConflict);
    CHECK(w.try_command("skip triage x").error().code == ErrorCode::kConflict);
    CHECK(w.try_command("fail triage x").error().code == ErrorCode::kConflict);
    CHECK(w.step("triage") == StepStatus::kDone);
    CHECK(w.incident.steps.at("triage").finished_at == done_at);
    // due:triage was cancelled: firing it anyway changes nothing.
    CHECK_FALSE(w.must(TimerInput{T("due:triage")}).changed);
    CHECK_FALSE(w.fired("late:triage"));
    // A timer fired with another due time than the one held is a stale firing.
    const TimePoint rto = w.incident.timers.at(T("rto:juki"));
    CHECK_FALSE(w.must(TimerInput{T("rto:juki"), rto - 1}).changed);
    CHECK(w.incident.timers.count(T("rto:juki")) == 1);
    // Firing it for real removes it: a second firing is ignored.
    w.now = rto;
    CHECK(w.must(TimerInput{T("rto:juki"), rto}).changed);
    CHECK(w.incident.services[0].breached);
    CHECK_FALSE(w.must(TimerInput{T("rto:juki"), rto}).changed);
}

TEST_CASE("the same inputs give the same state, and state survives JSON") {
    auto run = [] {
        World w(kGraph);
        w.open();
        w.advance(25 * kMinute);
        w.command("done triage");
        w.must(ActionResultInput{"block", true, 200, ""});
        w.advance(3 * kHour);
        w.command("decide decide rebuild");
        w.advance(kDay);
        return to_json(w.incident).dump();
    };
    const std::string a = run();
    CHECK(a == run());
    const auto j = nlohmann::json::parse(a);
    CHECK(to_json(incident_from_json(j)) == j);
}

TEST_CASE("playbook selection by priority, then id, then the catalog default") {
    std::vector<Playbook> pbs;
    pbs.push_back(make_playbook(R"(
id: low
title: low
match: {field: category, equals: ransomware}
steps: [{id: s}]
)"));
    pbs.push_back(make_playbook(R"(
id: high
title: high
priority: 10
match: {all: [{field: category, equals: ransomware}, {field: assets.host, glob: "juki-*"}]}
steps: [{id: s}]
)"));
    pbs.push_back(make_playbook(R"(
id: fallback
title: fallback
steps: [{id: s}]
)"));
    PlaybookSet set(std::move(pbs), "fallback");
    CHECK(set.select(World::event("x", Severity::kLow, "juki-1"))->id == "high");
    CHECK(set.select(World::event("x", Severity::kLow, "pc-1"))->id == "low");
    Event other = World::event();
    other.category = Category::kPhishing;
    CHECK(set.select(other)->id == "fallback");
    CHECK(PlaybookSet(std::vector<Playbook>{}).select(other) == nullptr);
}

TEST_CASE("exercise incidents are marked in every notification") {
    World w(kGraph);
    Event e = World::event();
    e.exercise = true;
    const auto& tr = w.open(e);
    CHECK(tr.notifications[0].exercise);
    CHECK(tr.notifications[0].title.rfind("【訓練】[EXERCISE] ", 0) == 0);
}

TEST_CASE("owners hear before a step is due, when it is overdue, and when a decision waits") {
    World w(kGraph);
    w.open();
    // triage is due in 30 minutes: a reminder when a fifth is left (6 minutes before).
    CHECK(w.incident.timers.at(T("soon:triage")) == w.now + 24 * kMinute);
    CHECK(w.incident.timers.count(T("due:triage")) == 0);  // scheduled by the reminder
    const std::size_t before = w.notifications().size();
    w.advance(24 * kMinute);
    auto kinds = [&](std::size_t from) {
        std::vector<std::string> out;
        const auto all = w.notifications();
        for (std::size_t i = from; i < all.size(); ++i)
            out.push_back(all[i].kind);
        return out;
    };
    CHECK(kinds(before) == std::vector<std::string>{"due_soon"});
    CHECK(w.incident.timers.at(T("due:triage")) == w.now + 6 * kMinute);
    CHECK(w.notifications().back().roles == std::vector<std::string>{"csirt"});
    CHECK(w.notifications().back().step == "triage");
    const std::size_t at_due = w.notifications().size();
    w.advance(6 * kMinute);
    // Overdue: the owner is told, and the overdue escalation rule fires.
    CHECK(kinds(at_due) == std::vector<std::string>{"overdue", "escalation"});
    // Finishing a step cancels its reminder; the decision that starts asks its owner.
    const std::size_t at_done = w.notifications().size();
    w.command("done triage", Permission::kResponder);
    CHECK(w.incident.timers.count(T("soon:triage")) == 0);
    const auto after = kinds(at_done);
    CHECK(std::find(after.begin(), after.end(), "decision") != after.end());
    for (const auto& n : w.notifications()) {
        if (n.kind == "decision") {
            CHECK(n.step == "decide");
            CHECK(n.options == std::vector<std::string>{"restore", "rebuild"});
            CHECK(n.roles == std::vector<std::string>{"lead"});
        }
    }
}
