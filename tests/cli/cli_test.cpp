#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace {

struct Run {
    int status = -1;
    std::string out;  // stdout and stderr
};

Run sonae(const std::string& args) {
    const std::string cmd =
        std::string(SONAE_CLI) + " --schemas " SONAE_SOURCE_DIR "/schemas " + args + " 2>&1";
    Run r;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
        r.out.append(buf.data(), n);
    const int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::string temp_dir() {
    static int n = 0;
    auto d = std::filesystem::temp_directory_path() /
             ("sonae-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::create_directories(d);
    return d.string();
}

}  // namespace

TEST_CASE("sonae version") {
    const Run r = sonae("version");
    CHECK(r.status == 0);
    CHECK(r.out.rfind("sonae 0.", 0) == 0);
}

TEST_CASE("playbook lint: the shipped library is clean (exit 0)") {
    const Run r = sonae("playbook lint " SONAE_SOURCE_DIR "/playbooks");
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
    const Run r = sonae("playbook lint " + dir);
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
    const Run s = sonae("playbook lint " + dir + "/schema.yaml");
    CHECK(s.status == 1);
    CHECK(s.out.find(dir + "/schema.yaml:5: ") != std::string::npos);
}

TEST_CASE("playbook lint: usage errors exit 2") {
    CHECK(sonae("playbook lint /nonexistent/path").status == 2);
    CHECK(sonae("playbook lint --no-such-flag").status == 2);
    CHECK(sonae("").status == 2);
}

TEST_CASE("exercise simulate: a JSON report, deterministic, with --out and --what-if") {
    const std::string scenario = SONAE_SOURCE_DIR "/playbooks/scenarios/ddos-website.yaml";
    const std::string out = temp_dir();
    const Run a = sonae("exercise simulate " + scenario +
                        " --playbooks " SONAE_SOURCE_DIR "/playbooks --out " + out);
    INFO(a.out);
    REQUIRE(a.status == 0);
    const auto report = nlohmann::json::parse(a.out);
    CHECK(report["scenario"] == "ddos-website");
    CHECK(report["incidents"].size() >= 1);
    CHECK(report["services"].size() >= 1);
    CHECK(std::filesystem::exists(out + "/report.json"));
    const Run b =
        sonae("exercise simulate " + scenario + " --playbooks " SONAE_SOURCE_DIR "/playbooks");
    CHECK(a.out == b.out);
    CHECK(sonae("exercise simulate " + scenario + " --what-if restore").status == 2);
    CHECK(sonae("exercise simulate /nonexistent.yaml").status == 2);
}
