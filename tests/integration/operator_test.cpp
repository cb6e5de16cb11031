// The README's first steps on real servers, exactly as a newcomer takes them: the development
// configuration and the shipped playbooks; an alert posted with the dev source token; the
// incident seen with `sonae incident list` and acknowledged with `sonae incident cmd` using the
// dev admin token; then the rest of the operator CLI and its exit codes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <array>
#include <cstdio>

#include <doctest/doctest.h>
#include <sys/wait.h>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

struct Operator {
    TestEnv env = TestEnv::require();
    std::unique_ptr<Stack> stack;

    Operator() {
        stack = std::make_unique<Stack>(
            env, Stack::Options{env.source_dir + "/config/dev", env.source_dir + "/playbooks", {}});
    }

    ShellResult cli(const std::string& args, const std::string& token = "dev-admin") {
        return run_shell("SONAE_URL='" + stack->url("") + "' SONAE_TOKEN='" + token +
                         "' SONAE_REDIS_URL='" + env.redis_url + "' SONAE_PREFIX='" +
                         stack->prefix() + "' " + env.bin_dir + "/services/cli/sonae " + args);
    }
};

}  // namespace

TEST_CASE("README: the first incident is listed and acknowledged from the CLI") {
    Operator o;
    const std::string alert =
        read_file(o.env.source_dir + "/tests/fixtures/siem/generic-event.json");
    const HttpResult res =
        http_post(o.stack->url("/v1/events/generic"), alert,
                  {{"Authorization", "Bearer dev-token"}, {"Content-Type", "application/json"}});
    INFO(o.stack->logs());
    REQUIRE(res.status == 202);

    // The orchestrator opens it: the positive signal is the list showing it.
    std::string id;
    REQUIRE(wait_until(
        [&] {
            const ShellResult list = o.cli("incident list --json");
            const json j = json::parse(list.out, nullptr, false);
            if (list.status != 0 || !j.is_object() || j["incidents"].empty())
                return false;
            id = j["incidents"][0]["id"];
            return true;
        },
        std::chrono::seconds(20)));
    const ShellResult table = o.cli("incident list");
    MESSAGE("sonae incident list:\n" << table.out);
    CHECK(table.status == 0);
    CHECK(table.out.rfind("ID ", 0) == 0);
    CHECK(table.out.find(id) != std::string::npos);
    CHECK(table.out.find("triggered") != std::string::npos);

    const ShellResult ack = o.cli("incident cmd " + id + " ack");
    INFO(ack.out);
    CHECK(ack.status == 0);
    const ShellResult shown = o.cli("incident show " + id + " --json");
    REQUIRE(shown.status == 0);
    const json incident = json::parse(shown.out);
    CHECK(incident["status"] == "acknowledged");
    CHECK(incident["acked_by"] == "api:dev-admin");

    const ShellResult human = o.cli("incident show " + id);
    MESSAGE("sonae incident show:\n" << human.out);
    CHECK(human.status == 0);
    CHECK(human.out.find("acknowledged (api:dev-admin)") != std::string::npos);
    const ShellResult tl = o.cli("incident timeline " + id);
    INFO(tl.out);
    CHECK(tl.status == 0);
    CHECK(tl.out.find("api:dev-admin") != std::string::npos);
    CHECK(o.cli("incident verify " + id).status == 0);
    // Facts entered from the CLI fill the reports, read back through the CLI.
    CHECK(o.cli("incident cmd " + id + " fact affected 17").status == 0);
    CHECK(o.cli("incident cmd " + id + " fact reporter 情報政策課 佐藤").status == 0);
    const ShellResult first = o.cli("incident report " + id + " --kind first");
    INFO(first.out);
    CHECK(first.status == 0);
    CHECK(first.out.rfind("# 第一報（" + id + "）", 0) == 0);
    CHECK(first.out.find("情報政策課 佐藤") != std::string::npos);
    CHECK(first.out.find("17 人") != std::string::npos);
    const ShellResult review = o.cli("incident report " + id + " --kind review --format json");
    REQUIRE(review.status == 0);
    CHECK(json::parse(review.out)["review"]["time_to_acknowledge_seconds"].is_number());
    CHECK(o.cli("incident report " + id + " --kind weekly").status == 2);
    CHECK(o.cli("incident report " + id + " --kind first --format pdf").status == 2);
    const ShellResult services = o.cli("services");
    INFO(services.out);
    CHECK(services.status == 0);
    CHECK(services.out.find("RTO") != std::string::npos);
    const ShellResult playbooks = o.cli("playbooks --json");
    CHECK(playbooks.status == 0);
    CHECK(!json::parse(playbooks.out)["playbooks"].empty());

    // Exit codes: 1 refused or not found, 2 usage.
    CHECK(o.cli("incident show INC-20990101-0001").status == 1);
    CHECK(o.cli("incident show not-an-id").status == 2);
    CHECK(o.cli("incident cmd " + id + " fly away").status == 2);
    CHECK(o.cli("incident list", "").status == 2);
    CHECK(o.cli("incident list", "wrong-token").status == 1);
    CHECK(o.cli("incident list --limit 0").status == 2);

    // A viewer token made with `sonae token create` reads, and is refused a state change.
    const ShellResult created =
        o.cli("token create --tenant default --role viewer --name auditor --json");
    INFO(created.out);
    REQUIRE(created.status == 0);
    const std::string viewer = json::parse(created.out)["token"];
    CHECK(o.cli("incident list", viewer).status == 0);
    const ShellResult refused = o.cli("incident cmd " + id + " resolve restored", viewer);
    INFO(refused.out);
    CHECK(refused.status == 1);
    CHECK(o.cli("token list").out.find("auditor") != std::string::npos);
    CHECK(o.cli("token revoke auditor").status == 0);
    CHECK(o.cli("incident list", viewer).status == 1);
}
