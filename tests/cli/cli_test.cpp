#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

TEST_CASE("playbook lint: tenants are libraries of their own, an id twice in one is a finding") {
    // The shipped tenant overrides shipped ids: not a duplicate, also when named twice.
    const Run both = run_cli("playbook lint " SONAE_SOURCE_DIR "/playbooks " SONAE_SOURCE_DIR
                             "/playbooks/tenants/sakura-town");
    INFO(both.out);
    CHECK(both.status == 0);
    const Run shipped = run_cli("playbook lint " SONAE_SOURCE_DIR "/playbooks");
    const Run town = run_cli("playbook lint " SONAE_SOURCE_DIR "/playbooks/tenants/sakura-town");
    // The library's walk includes the town's files.
    const auto count = [](const std::string& out) {
        return std::stoi(out.substr(out.rfind('\n', out.size() - 2) + 1));
    };
    CHECK(count(shipped.out) > count(town.out));
    const std::string dir = temp_dir();
    std::filesystem::create_directories(dir + "/tenants/town");
    std::filesystem::copy_file(SONAE_SOURCE_DIR "/playbooks/catalog.yaml", dir + "/catalog.yaml");
    std::filesystem::copy_file(SONAE_SOURCE_DIR "/playbooks/catalog.yaml",
                               dir + "/tenants/town/catalog.yaml");
    for (const char* f : {"/generic-incident.yaml", "/tenants/town/generic-incident.yaml",
                          "/tenants/town/copy.yaml"})
        std::filesystem::copy_file(SONAE_SOURCE_DIR "/playbooks/generic-incident.yaml", dir + f);
    const Run dup = run_cli("playbook lint " + dir);
    INFO(dup.out);
    CHECK(dup.status == 1);
    CHECK(dup.out.find("tenants/town/generic-incident.yaml:") != std::string::npos);
    CHECK(dup.out.find("is also used by " + dir + "/tenants/town/copy.yaml") != std::string::npos);
    // One duplicate; the rest are services these one-playbook libraries leave uncovered (only
    // the default playbook would ever take their alerts), each with its catalog line.
    std::size_t dups = 0, uncovered = 0;
    for (std::size_t at = 0; (at = dup.out.find("is also used by", at)) != std::string::npos; ++at)
        ++dups;
    for (std::size_t at = 0; (at = dup.out.find("no playbook covers it", at)) != std::string::npos;
         ++at)
        ++uncovered;
    CHECK(dups == 1);
    CHECK(dup.out.find(dir + "/catalog.yaml:78: service juki (") != std::string::npos);
    CHECK(dup.out.find("service payments: playbook 'payment-provider-compromise' is not among the "
                       "linted playbooks") != std::string::npos);
    CHECK(dup.out.find(std::to_string(1 + uncovered + 2) + " findings\n") != std::string::npos);
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

namespace {

// `sonae exercise import FIXTURE --out DIR/NAME.yaml`, then `sonae exercise simulate` of it.
nlohmann::json import_and_simulate(const std::string& fixture, const std::string& name) {
    const std::string dir = temp_dir();
    const std::string yaml = dir + "/" + name + ".yaml";
    const Run imported = run_cli("exercise import " SONAE_SOURCE_DIR "/tests/fixtures/exercise/" +
                                 fixture + " --out " + yaml + " --id " + name);
    INFO(imported.out);
    REQUIRE(imported.status == 0);
    REQUIRE(std::filesystem::exists(yaml));
    const Run simulated =
        run_cli("exercise simulate " + yaml + " --playbooks " SONAE_SOURCE_DIR "/playbooks");
    INFO(simulated.out);
    REQUIRE(simulated.status == 0);
    return nlohmann::json::parse(simulated.out);
}

std::vector<std::string> expectation_ids(const nlohmann::json& report) {
    std::vector<std::string> ids;
    for (const auto& e : report["expectations"])
        ids.push_back(e["id"].get<std::string>());
    return ids;
}

}  // namespace

TEST_CASE("exercise import: a Shift_JIS spreadsheet becomes a scenario that simulates") {
    const auto report = import_and_simulate("timeline-sjis.csv", "ransomware-drill");
    CHECK(report["scenario"] == "ransomware-drill");
    CHECK(report["title"] == "timeline-sjis");
    CHECK(report["incidents"].size() == 1);  // both Wazuh alerts correlate into one incident
    REQUIRE(report["messages"].size() == 3);
    CHECK(report["messages"][0]["at_seconds"] == 5400);
    CHECK(report["messages"][0]["to"] == nlohmann::json::array({"pr"}));
    CHECK(report["messages"][0]["text"] ==
          "【訓練】地元紙の記者から広報へ電話「市民課で住民票が出せないと聞いた。サイバー攻撃か」"
          "。");
    CHECK(report["messages"][1]["text"].get<std::string>().find("（続報）を、\n本日17時") !=
          std::string::npos);
    CHECK(report["messages"][2]["to"] == nlohmann::json::array({"csirt", "privacy_officer"}));
    CHECK(expectation_ids(report) ==
          std::vector<std::string>{"done-isolate", "escalated-critical-to-ciso",
                                   "notified-prefecture", "done-bcp", "rto-juki", "resolved"});
    CHECK(report["rejected_commands"].empty());
}

TEST_CASE("exercise import: a UTF-8 spreadsheet with BOM and English headers") {
    const auto report = import_and_simulate("timeline-utf8-bom.csv", "email-drill");
    CHECK(report["scenario"] == "email-drill");
    CHECK(report["incidents"].size() == 1);
    REQUIRE(report["messages"].size() == 2);
    CHECK(report["messages"][0]["at_seconds"] == 300);
    CHECK(report["messages"][0]["text"].get<std::string>().find("\"I opened the invoice") !=
          std::string::npos);
    CHECK(expectation_ids(report) == std::vector<std::string>{"done-isolate-pc", "done-block-ioc",
                                                              "notified-section_head", "resolved"});
    CHECK(report["rejected_commands"].empty());
}

TEST_CASE("exercise import: stdout by default, bad rows are file:line and exit 2 with no file") {
    const Run out = run_cli("exercise import " SONAE_SOURCE_DIR
                            "/tests/fixtures/exercise/timeline-utf8-bom.csv --title Drill "
                            "--start 2026-05-01T09:00:00+09:00");
    INFO(out.out);
    CHECK(out.status == 0);
    CHECK(
        out.out.find("id: timeline-utf8-bom\ntitle: Drill\nstart: \"2026-05-01T09:00:00+09:00\"") !=
        std::string::npos);

    const std::string dir = temp_dir();
    std::ofstream(dir + "/bad.csv") << "offset,channel,content,expected action\n"
                                       "5m,phone,\"two\nlines\",\n"
                                       "soon,phone,x,\n"
                                       "6m,phone,x,done\n";
    const Run bad = run_cli("exercise import " + dir + "/bad.csv --out " + dir + "/bad.yaml");
    INFO(bad.out);
    CHECK(bad.status == 2);
    CHECK(bad.out.find(dir + "/bad.csv:4: offset 'soon' is not an offset") != std::string::npos);
    CHECK(bad.out.find(dir + "/bad.csv:5: expected action 'done'") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/bad.yaml"));
    CHECK_FALSE(std::filesystem::exists(dir + "/bad.yaml.tmp"));
    CHECK(run_cli("exercise import " + dir + "/missing.csv").status == 2);
    CHECK(run_cli("exercise import " + dir + "/bad.csv --start yesterday").status == 2);
}
