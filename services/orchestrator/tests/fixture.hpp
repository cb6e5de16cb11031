// A playbook library, a real Redis with a fresh key prefix, a manual clock and a recording sink:
// what the orchestrator's component tests run its library on, without spawning a process.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/redis/redis.hpp>

#include "../src/processor.hpp"
#include "testkit.hpp"

namespace sonae::orchestrator::testing {

inline const char* kCatalog = R"(tenant: default
utc_offset: "+09:00"
roles: [{id: csirt, name: CSIRT}, {id: lead, name: 責任者}]
services:
  - {id: juki, name: 住民記録, rto: 4h, classification: 3A}
systems:
  - {id: juki-sys, name: 住民記録システム, hosts: ["juki-*"], services: [juki]}
)";

inline const char* kPlaybook = R"(id: comp
title: component
match: {field: category, equals: malware}
roles: [csirt, lead]
notify: {roles: [csirt]}
escalation:
  - {id: late, overdue: [triage], notify: {roles: [lead]}, message: "late {{step.title}}"}
steps:
  - {id: triage, title: 初動, owner: csirt, due: 30m}
  - {id: block, type: http, title: 遮断, after: [triage], http: {url: "http://fw.test/{{id}}"}}
  - {id: restore, title: 復旧, owner: csirt, after: [block], recovers: [juki]}
)";

struct Fixture {
    test::TestEnv env = test::TestEnv::require();
    core::Libraries libraries;
    clock::ManualClock clock{*core::parse_timestamp("2026-04-01T09:00:00+09:00")};
    store::Keys keys{test::unique_name("c")};
    amqp::Topology topology{keys.prefix};
    redis::Connection redis{redis::Settings::parse(env.redis_url).value()};
    metrics::Registry registry;
    Metrics metrics{registry};
    Processor processor{libraries, redis, keys, metrics};
    test::RecordingSink sink;

    Fixture() : Fixture(std::string()) {}
    // `playbook_dir`: a library to run instead of the small one above (e.g. the shipped one).
    explicit Fixture(std::string playbook_dir) {
        std::string dir = std::move(playbook_dir);
        if (dir.empty()) {
            dir = test::make_temp_dir("pb");
            test::write_file(dir + "/catalog.yaml", kCatalog);
            test::write_file(dir + "/comp.yaml", kPlaybook);
        }
        auto schemas = loader::Schemas::load(env.source_dir + "/schemas");
        REQUIRE(schemas);
        auto libs = loader::load_libraries(dir, "", *schemas);
        if (!libs)
            FAIL(libs.error().message);
        libraries = std::move(libs.value());
    }

    static core::Event event(const std::string& id, const std::string& key = "k1") {
        core::Event e;
        e.id = id;
        e.source = "siem";
        e.title = "malware on juki-ap01";
        e.category = core::Category::kMalware;
        e.severity = core::Severity::kHigh;
        e.dedup_key = key;
        e.assets.push_back(core::Asset{"juki-ap01", "", "", ""});
        return e;
    }

    core::CommandMessage command(const std::string& id, const std::string& incident,
                                 const std::string& text,
                                 core::Permission p = core::Permission::kCommander) const {
        return core::CommandMessage{id, "default", incident, "tester", p, text, {}};
    }

    core::Incident incident(const std::string& id) {
        auto l = processor.store().load("default", id);
        REQUIRE(l);
        return l->incident;
    }

    // Kinds of the notifications among `messages`.
    static std::vector<std::string> kinds(const std::vector<amqp::Message>& messages) {
        std::vector<std::string> out;
        for (const auto& m : messages) {
            if (m.routing_key == core::wire::kNotifications)
                out.push_back(nlohmann::json::parse(m.body).at("kind").get<std::string>());
        }
        return out;
    }
};

// Applies an event as the worker does under contention: a processor that keeps losing the race
// (its 20 attempts against other processors' commits, as under TSan) gives up, and the worker
// then requeues the event. Safe from any thread (CHECK, not REQUIRE).
inline void on_event_requeued(Processor& p, const core::Event& e, core::TimePoint now) {
    for (int requeued = 0;; ++requeued) {
        try {
            p.on_event(e, now);
            return;
        } catch (const std::runtime_error&) {
            if (requeued == 5) {
                CHECK(requeued < 5);
                return;
            }
        }
    }
}

inline bool json_body_contains(const amqp::Message& m, const std::string& text) {
    return m.body.find(text) != std::string::npos;
}

}  // namespace sonae::orchestrator::testing
