// Shared by the core tests: a small catalog and helpers to build playbooks from YAML text.
#pragma once

#include <memory>
#include <string>

#include <doctest/doctest.h>

#include <sonae/core/catalog.hpp>
#include <sonae/core/engine.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/core/yaml.hpp>
#include <sonae/loader/loader.hpp>

namespace sonae::core::testing {

// The JSON Schemas of schemas/, read once by the loader.
inline const loader::Schemas& schemas() {
    static const loader::Schemas s = [] {
        auto r = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas");
        REQUIRE(r);
        return std::move(r.value());
    }();
    return s;
}

inline const char* kCatalog = R"(
tenant: default
utc_offset: "+09:00"
roles:
  - {id: csirt, name: CSIRT, escalates_to: lead}
  - {id: lead, name: CSIRT責任者, escalates_to: ciso}
  - {id: ciso, name: CISO}
services:
  - {id: juki, name: 住民記録, rto: 4h, classification: 3A, zone: individual-number}
  - {id: web, name: 公式サイト, rto: 24h, classification: "1", zone: internet}
systems:
  - {id: juki-sys, name: 住民記録システム, hosts: ["juki-*"], cidrs: ["10.20.1.0/24"], services: [juki]}
  - {id: web-sys, name: Web, hosts: ["web-*"], services: [web]}
)";

inline Catalog make_catalog(const std::string& yaml = kCatalog) {
    auto doc = parse_yaml(yaml);
    REQUIRE(doc);
    auto c = parse_catalog(*doc, "catalog.yaml", schemas().catalog());
    if (!c)
        FAIL(c.error().message);
    return std::move(c.value());
}

inline Playbook make_playbook(const std::string& yaml, const std::string& file = "pb.yaml") {
    auto doc = parse_yaml(yaml);
    if (!doc)
        FAIL(doc.error().message);
    auto p = parse_playbook(*doc, file, schemas().playbook());
    if (!p)
        FAIL(p.error().message);
    return std::move(p.value());
}

inline TimerId T(const char* text) {
    auto id = TimerId::parse(text);
    REQUIRE(id);
    return *id;
}

// A catalog, a playbook set and an engine, with a clock the test advances.
struct World {
    Catalog catalog;
    PlaybookSet set;
    std::unique_ptr<Engine> engine;
    TimePoint now = *parse_timestamp("2026-04-01T09:00:00+09:00");
    Incident incident;
    std::vector<Transition> history;

    explicit World(const std::string& playbook_yaml, const std::string& catalog_yaml = kCatalog)
        : catalog(make_catalog(catalog_yaml)) {
        std::vector<Playbook> pbs;
        pbs.push_back(make_playbook(playbook_yaml));
        set = PlaybookSet(std::move(pbs));
        engine = std::make_unique<Engine>(set, catalog);
    }

    static Event event(const std::string& title = "alert", Severity sev = Severity::kHigh,
                       const std::string& host = "juki-ap01", const std::string& key = "k1") {
        Event e;
        e.id = "e-" + key + title;
        e.source = "test";
        e.title = title;
        e.severity = sev;
        e.category = Category::kRansomware;
        e.dedup_key = key;
        if (!host.empty())
            e.assets.push_back(Asset{host, "", "", ""});
        return e;
    }

    Transition& open(const Event& e = event()) {
        const Playbook* pb = set.select(e);
        REQUIRE(pb != nullptr);
        auto tr = engine->open(e, *pb, "INC-20260401-0001", now);
        REQUIRE(tr);
        incident = tr->incident;
        history.push_back(std::move(tr.value()));
        return history.back();
    }

    Result<Transition> apply(const Input& in) {
        auto tr = engine->apply(incident, in, now);
        if (tr) {
            incident = tr->incident;
            history.push_back(tr.value());
        }
        return tr;
    }

    Transition& must(const Input& in) {
        auto tr = apply(in);
        if (!tr)
            FAIL(tr.error().message);
        return history.back();
    }

    Transition& command(const std::string& text, Permission p = Permission::kCommander) {
        auto c = parse_command(text);
        REQUIRE(c);
        return must(CommandInput{"tester", p, *c});
    }

    Result<Transition> try_command(const std::string& text, Permission p = Permission::kCommander) {
        auto c = parse_command(text);
        REQUIRE(c);
        return apply(CommandInput{"tester", p, *c});
    }

    // Fires every pending timer due at or before `until`, in order, advancing the clock.
    void advance(Duration d) {
        const TimePoint until = now + d;
        while (true) {
            std::optional<TimerId> next;
            TimePoint due = until + 1;
            for (const auto& [id, t] : incident.timers) {
                if (t < due) {
                    due = t;
                    next = id;
                }
            }
            if (!next)
                break;
            now = std::max(now, due);
            must(TimerInput{*next, due});
        }
        now = until;
    }

    StepStatus step(const std::string& id) const { return incident.steps.at(id).status; }

    std::vector<Notification> notifications() const {
        std::vector<Notification> out;
        for (const auto& t : history)
            out.insert(out.end(), t.notifications.begin(), t.notifications.end());
        return out;
    }

    bool fired(const std::string& key) const { return incident.fired.count(key) != 0; }
};

}  // namespace sonae::core::testing
