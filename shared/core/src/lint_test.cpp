#include <doctest/doctest.h>

#include <sonae/core/lint.hpp>

#include "test_fixture.hpp"

using namespace sonae::core;
using namespace sonae::core::testing;

namespace {

std::vector<Finding> lint(const std::string& yaml) {
    static const Catalog catalog = make_catalog();
    return lint_playbook(make_playbook(yaml, "p.yaml"), LintContext{&catalog, nullptr});
}

// The finding whose message contains `needle`; fails when there is none.
Finding find(const std::vector<Finding>& fs, const std::string& needle) {
    for (const auto& f : fs) {
        if (f.message.find(needle) != std::string::npos)
            return f;
    }
    std::string all;
    for (const auto& f : fs)
        all += format_finding(f) + "\n";
    FAIL("no finding containing '" << needle << "' in:\n" << all);
    return {};
}

}  // namespace

TEST_CASE("a clean playbook has no findings") {
    CHECK(lint(R"(id: ok
title: ok
roles: [csirt]
steps:
  - {id: a, owner: csirt, due: 1h}
  - {id: b, owner: csirt, after: [a], due: 1h, recovers: [juki]}
)")
              .empty());
}

TEST_CASE("lint: unknown step in after, with its line") {
    auto f = find(lint(R"(id: x
title: x
steps:
  - id: a
  - id: b
    after:
      - a
      - nope
)"),
                  "unknown step 'nope'");
    CHECK(f.line == 8);
    CHECK(format_finding(f).rfind("p.yaml:8: ", 0) == 0);
}

TEST_CASE("lint: a cycle, and what waits on it is unreachable") {
    const auto fs = lint(R"(id: x
title: x
steps:
  - id: a
    after: [c]
  - id: b
    after: [a]
  - id: c
    after: [b]
  - id: d
    after: [c]
)");
    const auto cycle = find(fs, "cycle:");
    CHECK(cycle.line >= 5);
    CHECK(cycle.message.find("a → c → b → a") != std::string::npos);
    CHECK(find(fs, "unreachable step d").line == 10);
}

TEST_CASE("lint: a step that tests a decision it does not come after is unreachable") {
    const auto fs = lint(R"(id: x
title: x
steps:
  - {id: q, type: decision, options: ["yes", "no"]}
  - {id: r, when: {decision: q, equals: "yes"}}
)");
    CHECK(find(fs, "unreachable step r").line == 5);
    CHECK(find(fs, "does not come after it").line == 5);
}

TEST_CASE("lint: contradictory decisions make a step unreachable") {
    const auto fs = lint(R"(id: x
title: x
steps:
  - {id: q, type: decision, options: ["yes", "no"]}
  - id: r
    after: [q]
    when:
      all:
        - {decision: q, equals: "yes"}
        - {decision: q, equals: "no"}
)");
    CHECK(find(fs, "unreachable step r").line == 5);
}

TEST_CASE("lint: unknown roles, services, fields and channels") {
    const auto fs = lint(R"(id: x
title: x
roles: [csirt, mayor]
services: [nowhere]
notify: {roles: [ghost]}
steps:
  - id: a
    owner: intern
    when: {field: severty, equals: high}
    recovers: [juki, atlantis]
)");
    CHECK(find(fs, "unknown role 'mayor' (not in the catalog)").line == 3);
    CHECK(find(fs, "unknown service 'nowhere'").line == 4);
    CHECK(find(fs, "unknown role 'ghost'").line == 5);
    CHECK(find(fs, "unknown role 'intern'").line == 8);
    CHECK(find(fs, "unknown field 'severty'").line == 9);
    CHECK(find(fs, "unknown service 'atlantis'").line == 10);
    const Catalog catalog = make_catalog();
    const std::vector<std::string> channels{"slack-csirt"};
    const auto with_channels = lint_playbook(make_playbook(R"(id: x
title: x
steps:
  - {id: a, type: notify, notify: {channels: [slack-csirt, fax]}}
)"),
                                             LintContext{&catalog, &channels});
    CHECK(find(with_channels, "unknown channel 'fax'").line == 4);
}

TEST_CASE("lint: a decision option that does not exist") {
    const auto fs = lint(R"(id: x
title: x
steps:
  - {id: q, type: decision, options: [report, skip-it]}
  - id: r
    after: [q]
    when:
      decision: q
      equals: reprot
)");
    const auto f = find(fs, "has no option 'reprot'");
    CHECK(f.line == 7);
    CHECK(f.message.find("report, skip-it") != std::string::npos);
}

TEST_CASE("lint: a critical path that cannot meet the RTO is a warning with its line") {
    const auto fs = lint(R"(id: x
title: x
steps:
  - {id: a, estimate: 2h}
  - {id: b, after: [a], estimate: 1h}
  - {id: c, after: [a], estimate: 3h}
  - id: restore
    after: [b, c]
    estimate: 30m
    recovers: [juki]
)");
    const auto f = find(fs, "RTO not feasible");
    CHECK(f.warning);
    CHECK(f.line == 7);
    CHECK(f.message.find("critical path 5h30m > RTO 4h") != std::string::npos);
    CHECK(f.message.find("a → c → restore") != std::string::npos);
    std::vector<std::string> path;
    CHECK(critical_path(make_playbook(R"(id: x
title: x
steps:
  - {id: a, due: 3h, due_from: start}
  - {id: b, after: [a], estimate: 1h, recovers: [web]}
)"),
                        "web", &path) == 4 * kHour);
    CHECK(path == std::vector<std::string>{"a", "b"});
}

TEST_CASE("lint: escalations and templates") {
    const auto fs = lint(R"(id: x
title: x
roles: [csirt]
escalation:
  - {id: e, overdue: [a, ghost], notify: {roles: [csirt]}}
  - {id: e, after: 1h, notify: {roles: [csirt]}, message: "{{#open}} unclosed"}
steps:
  - {id: a}
)");
    CHECK(find(fs, "unknown step 'ghost'").line == 5);
    CHECK(find(fs, "has no due time").line == 5);
    CHECK(find(fs, "duplicate escalation id").line == 6);
    CHECK(find(fs, "invalid template").line == 6);
}

TEST_CASE("the loader refuses schema errors with file and line") {
    auto doc = parse_yaml("id: x\ntitle: x\nsteps:\n  - id: a\n    type: teleport\n");
    REQUIRE(doc);
    auto pb = parse_playbook(*doc, "bad.yaml", schemas().playbook());
    REQUIRE_FALSE(pb);
    CHECK(pb.error().message.rfind("bad.yaml:5: ", 0) == 0);
    auto dup = parse_yaml("id: x\ntitle: x\nsteps:\n  - id: a\n  - id: a\n");
    auto pb2 = parse_playbook(*dup, "dup.yaml", schemas().playbook());
    REQUIRE_FALSE(pb2);
    CHECK(pb2.error().message.rfind("dup.yaml:5: duplicate step id", 0) == 0);
    // An HTTP action's timeout is bounded (100 ms to 60 s).
    for (const char* t : {"2m", "61s", "50ms"}) {
        CAPTURE(t);
        auto slow = parse_yaml(std::string("id: x\ntitle: x\nsteps:\n  - id: a\n    type: http\n"
                                           "    http: {url: \"http://x\", timeout: ") +
                               t + "}\n");
        REQUIRE(slow);
        auto r = parse_playbook(*slow, "slow.yaml", schemas().playbook());
        REQUIRE_FALSE(r);
        CHECK(r.error().message.rfind("slow.yaml:6: ", 0) == 0);
    }
    auto ok = parse_yaml(
        "id: x\ntitle: x\nsteps:\n  - id: a\n    type: http\n    http: {url: \"http://x\", "
        "timeout: 60s}\n");
    CHECK(parse_playbook(*ok, "ok.yaml", schemas().playbook()));
}

TEST_CASE("catalog: impacted services from hosts, CIDRs and system names") {
    const Catalog c = make_catalog();
    CHECK(c.impacted_services({Asset{"juki-db1", "", "", ""}}) == std::vector<std::string>{"juki"});
    CHECK(c.impacted_services({Asset{"", "10.20.1.99", "", ""}}) ==
          std::vector<std::string>{"juki"});
    CHECK(c.impacted_services({Asset{"", "", "", "住民記録システム"}}) ==
          std::vector<std::string>{"juki"});
    CHECK(c.impacted_services({Asset{"web-1", "10.20.1.1", "", ""}}) ==
          std::vector<std::string>{"juki", "web"});
    CHECK(c.impacted_services({Asset{"pc-1", "10.30.0.1", "", ""}}).empty());
    CHECK(ip_in_cidr("2001:db8::1", "2001:db8::/32"));
    CHECK_FALSE(ip_in_cidr("10.20.2.1", "10.20.1.0/24"));
    auto bad = parse_yaml("services:\n  - {id: a, name: A, rto: soon}\n");
    REQUIRE(bad);
    auto r = parse_catalog(*bad, "c.yaml", schemas().catalog());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.rfind("c.yaml:2: ", 0) == 0);
}
