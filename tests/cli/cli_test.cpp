#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "testkit.hpp"

namespace {

using Run = sonae::test::ShellResult;  // status and stdout + stderr

// `sonae ARGS` with the schemas of this tree.
Run run_cli(const std::string& args) {
    return sonae::test::run_shell(std::string(SONAE_CLI) +
                                  " --schemas " SONAE_SOURCE_DIR "/schemas " + args);
}

std::string temp_dir() {
    return sonae::test::make_temp_dir("cli-test");
}

}  // namespace

TEST_CASE("sonae version") {
    const Run r = run_cli("version");
    CHECK(r.status == 0);
    CHECK(r.out.rfind("sonae 0.", 0) == 0);
}

TEST_CASE("playbook lint: the shipped library is clean (exit 0)") {
    const Run r = run_cli("playbook lint " SONAE_SOURCE_DIR "/playbooks");
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK(r.out.find("0 findings") != std::string::npos);
}

TEST_CASE("playbook lint: findings print file:line: message and exit 1") {
    const std::string dir = temp_dir();
    std::filesystem::copy_file(SONAE_SOURCE_DIR "/playbooks/catalog.yaml", dir + "/catalog.yaml");
    std::ofstream(dir + "/broken.yaml") << "id: broken\n"
                                           "title: broken\n"
                                           "roles: [csirt]\n"
                                           "steps:\n"
                                           "  - {id: a, owner: csirt, after: [c]}\n"
                                           "  - {id: b, owner: nobody, after: [a]}\n"
                                           "  - {id: c, owner: csirt, after: [b]}\n"
                                           "  - {id: d, after: [ghost]}\n";
    std::ofstream(dir + "/slow.yaml") << "id: slow\n"
                                         "title: slow\n"
                                         "steps:\n"
                                         "  - {id: restore, estimate: 100h, recovers: [juki]}\n";
    const Run r = run_cli("playbook lint " + dir);
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK(r.out.find(dir + "/broken.yaml:6: unknown role 'nobody' owns step b") !=
          std::string::npos);
    CHECK(r.out.find(dir + "/broken.yaml:8: step d: unknown step 'ghost' in after") !=
          std::string::npos);
    CHECK(r.out.find("cycle: ") != std::string::npos);
    CHECK(r.out.find(dir + "/slow.yaml:4: warning: RTO not feasible for 住民記録") !=
          std::string::npos);
    // Schema errors are findings too, with their line.
    std::ofstream(dir + "/schema.yaml") << "id: s\ntitle: s\nsteps:\n  - id: a\n    due: soon\n";
    const Run s = run_cli("playbook lint " + dir + "/schema.yaml");
    CHECK(s.status == 1);
    CHECK(s.out.find(dir + "/schema.yaml:5: ") != std::string::npos);
}

TEST_CASE("playbook lint: usage errors exit 2") {
    CHECK(run_cli("playbook lint /nonexistent/path").status == 2);
    CHECK(run_cli("playbook lint --no-such-flag").status == 2);
    CHECK(run_cli("").status == 2);
}

TEST_CASE("exercise simulate: a JSON report, deterministic, with --out and --what-if") {
    const std::string scenario = SONAE_SOURCE_DIR "/playbooks/scenarios/ddos-website.yaml";
    const std::string out = temp_dir();
    const Run a = run_cli("exercise simulate " + scenario +
                          " --playbooks " SONAE_SOURCE_DIR "/playbooks --out " + out);
    INFO(a.out);
    REQUIRE(a.status == 0);
    const auto report = nlohmann::json::parse(a.out);
    CHECK(report["scenario"] == "ddos-website");
    CHECK(report["incidents"].size() >= 1);
    CHECK(report["services"].size() >= 1);
    CHECK(std::filesystem::exists(out + "/report.json"));
    const Run b =
        run_cli("exercise simulate " + scenario + " --playbooks " SONAE_SOURCE_DIR "/playbooks");
    CHECK(a.out == b.out);
    CHECK(run_cli("exercise simulate " + scenario + " --what-if restore").status == 2);
    CHECK(run_cli("exercise simulate /nonexistent.yaml").status == 2);
}
