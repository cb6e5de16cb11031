// Alert grouping and playbook selection by impact (PRODUCT §5, issue 14), in the pure engine:
// the group key an event gets, the joined alerts in the timeline, the count per asset, the
// escalation on many assets, the choice of playbook and its reason, and lint of uncovered
// services.
#include <doctest/doctest.h>

#include <sonae/core/lint.hpp>

#include "test_fixture.hpp"

using namespace sonae::core;
using namespace sonae::core::testing;

namespace {

const char* kWorm = R"yaml(
id: worm
title: ワーム
match: {field: category, equals: ransomware}
correlate: {by: [service, category], window: 30m}
roles: [csirt, ciso]
notify: {roles: [csirt]}
escalation:
  - {id: spreading, assets_at_least: 5, notify: {roles: [ciso]}, message: "{{assets}} assets ({{id}})"}
steps:
  - {id: isolate, title: 隔離, owner: csirt}
)yaml";

const char* kPay = R"yaml(
id: pay
title: 収納
match: {all: [{field: category, equals: vendor_incident}, {field: assets.host, glob: "pay-gw*"}]}
roles: [csirt]
services: [payments]
steps:
  - {id: stop, title: 停止, owner: csirt, recovers: [payments]}
)yaml";

const char* kGeneric = R"yaml(
id: generic
title: 汎用
roles: [csirt]
steps:
  - {id: triage, title: 初動, owner: csirt}
)yaml";

const char* kPayCatalog = R"(
tenant: default
utc_offset: "+09:00"
default_playbook: generic
roles:
  - {id: csirt, name: CSIRT}
services:
  - {id: juki, name: 住民記録, rto: 4h, priority: 1}
  - {id: payments, name: 公金収納, rto: 72h, priority: 2, playbook: pay}
  - {id: mail, name: メール, rto: 24h, priority: 2}
systems:
  - {id: juki-sys, name: 住民記録システム, hosts: ["juki-*"], services: [juki]}
  - {id: pay-sys, name: 公金収納代行システム, hosts: ["pay-gw*", "pay.*"], services: [payments]}
  - {id: mail-sys, name: メール, hosts: ["mail-*"], services: [mail]}
)";

Event pc_alert(int n, const std::string& title = "ransomware on a PC") {
    Event e =
        World::event(title, Severity::kHigh, "pc-" + std::to_string(n), "pc-" + std::to_string(n));
    e.id = "e-" + std::to_string(n);
    return e;
}

struct TestLibrary {
    Catalog catalog;
    PlaybookSet set;
    std::unique_ptr<Engine> engine;
    explicit TestLibrary(std::vector<std::string> yamls, const std::string& catalog_yaml)
        : catalog(make_catalog(catalog_yaml)) {
        std::vector<Playbook> pbs;
        for (const auto& y : yamls)
            pbs.push_back(make_playbook(y));
        set = PlaybookSet(std::move(pbs), catalog.default_playbook);
        engine = std::make_unique<Engine>(set, catalog);
    }
};

}  // namespace

TEST_CASE("the group key: the rule's fields in order, empty values kept, none without a rule") {
    World w(kWorm);
    const Playbook& pb = w.set.all().front();
    auto g = w.engine->grouping(pc_alert(1), pb);
    REQUIRE(g);
    CHECK(g->key == "pb=worm;service=;category=ransomware");
    CHECK(g->window == 30 * kMinute);
    // Two PCs (no business service) share the group; a juki server is another group.
    CHECK(w.engine->grouping(pc_alert(2), pb)->key == g->key);
    const Event server = World::event("ransomware", Severity::kHigh, "juki-ap01", "juki");
    CHECK(w.engine->grouping(server, pb)->key == "pb=worm;service=juki;category=ransomware");

    // Without a rule in the playbook the catalog's applies, across playbooks; with none, none.
    World plain(R"yaml(
id: plain
title: plain
match: {field: category, equals: ransomware}
steps: [{id: s}]
)yaml");
    CHECK_FALSE(plain.engine->grouping(pc_alert(1), plain.set.all().front()));
    World with_catalog(
        plain.set.all().front().source.value.dump(),
        std::string(kCatalog) + "correlate: {by: [asset, labels.site], window: 1h}\n");
    Event e = pc_alert(7);
    e.labels["site"] = "本庁舎";
    auto cg = with_catalog.engine->grouping(e, with_catalog.set.all().front());
    REQUIRE(cg);
    CHECK(cg->key == "catalog;asset=pc-7;labels.site=本庁舎");
    CHECK(cg->window == kHour);
}

TEST_CASE(
    "joined alerts: one timeline entry each with the group, a count per asset, and an "
    "escalation when the assets pass the threshold") {
    World w(kWorm);
    const Playbook& pb = w.set.all().front();
    const std::string group = w.engine->grouping(pc_alert(1), pb)->key;
    auto opened = w.engine->open(pc_alert(1), pb, "INC-20260401-0001", w.now,
                                 OpenContext{w.engine->choose(pc_alert(1)), group});
    REQUIRE(opened);
    w.incident = opened->incident;
    CHECK(w.incident.group == group);
    CHECK(opened->timeline.front().data["group"] == group);
    CHECK(opened->timeline.front().data["selected_by"] == "match");
    for (int n = 2; n <= 6; ++n) {
        w.now += kMinute;
        const Transition& tr = w.must(EventInput{pc_alert(n), group});
        const TimelineEntry& entry = tr.timeline.front();
        CHECK(entry.kind == "event");
        CHECK(entry.data["group"] == group);
        CHECK(entry.data["assets"] == nlohmann::json::array({"pc-" + std::to_string(n)}));
        CHECK(entry.text.find("joined by correlation") != std::string::npos);
        // The fifth asset fires the escalation, once.
        CHECK(w.fired("spreading") == (n >= 5));
    }
    // A repeat from the first PC counts against it, without a "joined" entry.
    w.must(EventInput{pc_alert(1), group});
    CHECK(w.history.back().timeline.front().text.find("joined") == std::string::npos);
    CHECK(w.incident.asset_counts.size() == 6);
    CHECK(w.incident.asset_counts.at("pc-1") == 2);
    CHECK(w.incident.asset_counts.at("pc-6") == 1);
    CHECK(w.incident.event_count == 7);
    int escalations = 0;
    for (const auto& n : w.notifications()) {
        if (n.kind == "escalation") {
            ++escalations;
            CHECK(n.roles == std::vector<std::string>{"ciso"});
            CHECK(n.text == "5 assets (INC-20260401-0001)");
        }
    }
    CHECK(escalations == 1);
    // The state keeps the group and the counts.
    const Incident back = incident_from_json(to_json(w.incident));
    CHECK(back.group == group);
    CHECK(back.asset_counts == w.incident.asset_counts);
}

TEST_CASE(
    "playbook selection by impact: match first, then the impacted service's playbook, then "
    "the default, each with its reason") {
    TestLibrary lib({kPay, kGeneric}, kPayCatalog);
    // The payment page's host with a category no playbook picks: the service decides.
    Event card = World::event("card testing on the payment page", Severity::kMedium,
                              "pay.city.example.lg.jp", "card");
    card.category = Category::kOther;
    Selection s = lib.engine->choose(card);
    REQUIRE(s.playbook != nullptr);
    CHECK(s.playbook->id == "pay");
    CHECK(s.by == "service");
    CHECK(s.service == "payments");
    CHECK(s.reason.find("payments") != std::string::npos);
    // Its own match wins when it holds.
    Event vendor = World::event("vendor breach", Severity::kHigh, "pay-gw01", "v");
    vendor.category = Category::kVendorIncident;
    CHECK(lib.engine->choose(vendor).by == "match");
    // A service without a playbook of its own, and no assets at all: the default.
    Event mail = World::event("spam", Severity::kLow, "mail-01", "m");
    mail.category = Category::kOther;
    CHECK(lib.engine->choose(mail).playbook->id == "generic");
    CHECK(lib.engine->choose(mail).by == "default");
    // Several services: the most important one (priority, then the shorter RTO) decides.
    Event both = card;
    both.assets.push_back(Asset{"juki-ap01", "", "", ""});
    CHECK(lib.engine->choose(both).service == "payments");  // juki names no playbook

    // The opening entry says what was chosen and why.
    auto tr = lib.engine->open(card, *s.playbook, "INC-20260401-0001", 0, OpenContext{s, ""});
    REQUIRE(tr);
    const TimelineEntry& opened = tr->timeline.front();
    CHECK(opened.data["playbook"] == "pay");
    CHECK(opened.data["selected_by"] == "service");
    CHECK(opened.data["service"] == "payments");
    CHECK(opened.data["reason"] == s.reason);
    CHECK(opened.text.find(s.reason) != std::string::npos);
    CHECK_FALSE(opened.data.contains("group"));

    // The default's reason is the same words every time: the text names the default instead.
    const Selection d = lib.engine->choose(mail);
    auto dtr = lib.engine->open(mail, *d.playbook, "INC-20260401-0002", 0, OpenContext{d, ""});
    REQUIRE(dtr);
    const TimelineEntry& dopened = dtr->timeline.front();
    CHECK(dopened.data["selected_by"] == "default");
    CHECK_FALSE(dopened.data.contains("reason"));
    CHECK(dopened.text.find("with the default playbook generic: spam") != std::string::npos);
    CHECK(dopened.text.find(d.reason) == std::string::npos);
}

TEST_CASE(
    "lint of a library: services no playbook covers, and a catalog naming an unknown "
    "playbook") {
    TestLibrary lib({kPay, kGeneric}, kPayCatalog);
    auto findings = lint_library(lib.catalog, lib.set.all());
    // juki and mail are covered by nothing but the default; payments by its `playbook:`.
    REQUIRE(findings.size() == 2);
    CHECK(findings[0].message.find("service juki") == 0);
    CHECK(findings[1].message.find("service mail") == 0);
    CHECK(findings[0].line > 1);
    CHECK(findings[0].file == "catalog.yaml");

    // A playbook listing the service, or naming the default on purpose, covers it.
    Catalog c = lib.catalog;
    c.services[2].playbook = "generic";
    std::vector<Playbook> pbs = lib.set.all();
    for (auto& p : pbs) {
        if (p.id == "pay")
            p.services.push_back("juki");
    }
    CHECK(lint_library(c, pbs).empty());

    c.services[1].playbook = "nope";
    findings = lint_library(c, pbs);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].message.find("'nope' is not among the linted playbooks") !=
          std::string::npos);
}

TEST_CASE("correlate and assets_at_least are checked by the schema") {
    auto bad = [](const std::string& yaml) {
        auto doc = parse_yaml(yaml);
        REQUIRE(doc);
        return !parse_playbook(*doc, "pb.yaml", schemas().playbook());
    };
    const std::string head = "id: x\ntitle: x\nsteps: [{id: s}]\n";
    CHECK_FALSE(bad(head + "correlate: {by: [service, labels.site], window: 10m}\n"));
    CHECK(bad(head + "correlate: {by: [colour], window: 10m}\n"));
    CHECK(bad(head + "correlate: {by: [service]}\n"));
    CHECK(bad(head + "correlate: {by: [], window: 10m}\n"));
    CHECK_FALSE(bad(head + "escalation: [{id: e, assets_at_least: 3, notify: {roles: [x]}}]\n"));
    CHECK(bad(head + "escalation: [{id: e, assets_at_least: 1, notify: {roles: [x]}}]\n"));
}
