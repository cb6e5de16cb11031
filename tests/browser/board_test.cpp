// The live incident board (issue 15) through the real services: the gateway, orchestrator and
// notifier against the Redis and RabbitMQ scripts/test starts, two municipalities, API tokens of
// three roles and a playbook whose RTO is short enough to watch (40 s, first escalation at a
// quarter). tests/browser/board.mjs drives headless Chromium through it; this test then checks,
// through the API, that the viewer's refused resolve changed nothing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <filesystem>
#include <iostream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sonae/store/tokens.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

std::string catalog(const std::string& tenant, const std::string& municipality) {
    return "tenant: " + tenant + "\nmunicipality: " + municipality + R"(
utc_offset: "+09:00"
default_playbook: board
roles: [{id: csirt, name: CSIRT}]
services:
  - {id: juki, name: 住民記録, rto: 40s, classification: 3A}
  - {id: web, name: ウェブサイト, rto: 1h}
systems:
  - {id: juki-sys, name: 住民記録システム, hosts: ["juki-*"], services: [juki]}
  - {id: web-sys, name: ウェブ, hosts: ["web-*"], services: [web]}
)";
}

constexpr const char* kPlaybook = R"(id: board
title: マルウェア対応（ボード試験）
roles: [csirt]
escalation:
  - {id: quarter, at_rto_fraction: 0.25, notify: {roles: [csirt]}}
steps:
  - {id: triage, title: 初動確認, owner: csirt, due: 30m}
  - {id: isolate, title: 端末の隔離, owner: csirt, after: [triage], milestone: contained}
  - {id: restore, title: 復旧, owner: csirt, after: [isolate], recovers: [juki, web]}
)";

}  // namespace

TEST_CASE("board: sign in, an incident arrives live, ack, amber then red, a viewer is refused") {
    const TestEnv env = TestEnv::require();
    const std::string pb = make_temp_dir("board-pb");
    write_file(pb + "/catalog.yaml", catalog("default", "備え市"));
    write_file(pb + "/board.yaml", kPlaybook);
    std::filesystem::create_directories(pb + "/tenants/town-b");
    write_file(pb + "/tenants/town-b/catalog.yaml", catalog("town-b", "隣町"));
    write_file(pb + "/tenants/town-b/board.yaml", kPlaybook);

    const std::string cfg = make_temp_dir("board-cfg");
    write_file(cfg + "/sources.yaml", R"(sources:
  - {name: siem, format: generic, auth: {type: bearer, token: src-a}}
  - {name: siem-b, format: generic, tenant: town-b, auth: {type: bearer, token: src-b}}
)");
    std::string tokens = "api_tokens:\n";
    for (const auto& [name, tenant, role] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"commander", "default", "commander"},
             {"viewer", "default", "viewer"},
             {"pref", "pref", "prefecture"}})
        tokens += "  - {name: " + name + ", tenant: " + tenant + ", role: " + role +
                  ", sha256: " + store::token_hash("board-" + name) + "}\n";
    write_file(cfg + "/responders.yaml", tokens);

    Stack stack(env, Stack::Options{cfg, pb, {}});
    const std::string dir = make_temp_dir("board-run");
    const json setup = {{"url", stack.url("")},
                        {"tokens",
                         {{"commander", "board-commander"},
                          {"viewer", "board-viewer"},
                          {"prefecture", "board-pref"}}},
                        {"sources", {{"siem", "src-a"}, {"siemB", "src-b"}}},
                        {"rto_seconds", 40},
                        {"threshold", 0.25},
                        {"result", dir + "/result.json"}};
    write_file(dir + "/setup.json", setup.dump());

    const ShellResult r = run_shell(env.source_dir + "/tests/browser/run-board-test " + dir +
                                    "/setup.json " + SONAE_ARTEFACT_DIR);
    std::cout << r.out;
    CHECK_MESSAGE(r.status == 0, stack.logs());

    // Independently of the browser: the incident stayed acknowledged, its refusal audited.
    const json result = json::parse(read_file(dir + "/result.json"), nullptr, false);
    REQUIRE(result.is_object());
    REQUIRE(result["incident"].is_string());
    const std::string id = result["incident"];
    const auto detail =
        http_get(stack.url("/v1/incidents/" + id), {{"Authorization", "Bearer board-commander"}});
    REQUIRE(detail.status == 200);
    const json incident = detail.json();
    CHECK(incident["status"] == "acknowledged");
    CHECK(incident["acked_by"] == "api:commander");
    CHECK(incident["resolved_at"].is_null());
    const auto tl = http_get(stack.url("/v1/incidents/" + id + "/timeline?limit=500"),
                             {{"Authorization", "Bearer board-commander"}});
    REQUIRE(tl.status == 200);
    int refused = 0;
    const json page = tl.json();
    for (const auto& e : page["entries"]) {
        if (e["actor"] == "api:viewer")
            refused += e["data"].value("refused", false) ? 1 : 0;
        CHECK(e["kind"] != "resolved");
    }
    CHECK(refused == 1);
}
