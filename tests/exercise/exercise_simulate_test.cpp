// `sonae exercise simulate` through the CLI (PRODUCT §11): the after-action report files are
// byte-identical run after run, a what-if past an RTO shows in the report and its improvement
// plan, the RTO risk runs respond to the spread of a step's duration and repeat exactly for the
// same seed, and the prefecture-led joint drill reports three municipalities' incidents.
// Expected values are derived from the reports themselves (a base run against a changed one),
// not written down.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <filesystem>
#include <set>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "testkit.hpp"

namespace {

using nlohmann::json;

using Run = sonae::test::SplitResult;  // status, stdout, stderr
using sonae::test::make_temp_dir;
using sonae::test::read_file;

Run run_cli(const std::string& args) {
    return sonae::test::run_shell_split(std::string(SONAE_CLI) +
                                        " --schemas " SONAE_SOURCE_DIR
                                        "/schemas exercise simulate --playbooks " SONAE_SOURCE_DIR
                                        "/playbooks " +
                                        args);
}

std::string scenario(const std::string& id) {
    return std::string(SONAE_SOURCE_DIR) + "/playbooks/scenarios/" + id + ".yaml";
}

json report(const std::string& args) {
    const Run r = run_cli(args);
    INFO(args, "\n", r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
}

const json* service(const json& report, const std::string& id, const std::string& tenant) {
    for (const auto& s : report["services"]) {
        if (s["id"] == id && s["tenant"] == tenant)
            return &s;
    }
    return nullptr;
}

bool has_improvement(const json& report, const std::string& kind, const std::string& id) {
    for (const auto& i : report["improvements"]) {
        if (i["source"]["kind"] == kind && i["source"]["id"] == id)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("report.json, report.md and report.html are byte-identical from run to run") {
    for (const std::string id : {"ransomware-core", "joint-ransomware-prefecture"}) {
        for (const std::string lang : {"ja", "en"}) {
            INFO(id, " --lang ", lang);
            const std::string a = make_temp_dir("exercise-test"),
                              b = make_temp_dir("exercise-test");
            const Run ra = run_cli(scenario(id) + " --lang " + lang + " --out " + a);
            const Run rb = run_cli(scenario(id) + " --lang " + lang + " --out " + b);
            REQUIRE(ra.status == 0);
            REQUIRE(rb.status == 0);
            CHECK(ra.out == rb.out);
            for (const std::string file : {"report.json", "report.md", "report.html"}) {
                INFO(file);
                const std::string text = read_file(a + "/" + file);
                CHECK(text.size() > 1000);
                CHECK(text == read_file(b + "/" + file));
            }
            // stdout is report.json.
            CHECK(ra.out == read_file(a + "/report.json"));
            // Self-contained: no script, stylesheet, image or frame from anywhere.
            const std::string html = read_file(a + "/report.html");
            for (const std::string bad : {"<script", "<link", " src=", " href=", "url(http"})
                CHECK(html.find(bad) == std::string::npos);
            CHECK(html.find("<svg") != std::string::npos);
            CHECK(html.find("<style>") != std::string::npos);
        }
        // Labels follow --lang; the JSON's keys and values from playbooks do not.
        const std::string ja = make_temp_dir("exercise-test"), en = make_temp_dir("exercise-test");
        REQUIRE(run_cli(scenario(id) + " --out " + ja).status == 0);
        REQUIRE(run_cli(scenario(id) + " --lang en --out " + en).status == 0);
        CHECK(read_file(ja + "/report.html").find("訓練結果報告書") != std::string::npos);
        CHECK(read_file(en + "/report.html").find("After-action report") != std::string::npos);
        CHECK(read_file(en + "/report.html").find("訓練結果報告書") == std::string::npos);
        const json rj = json::parse(read_file(ja + "/report.json"));
        const json re = json::parse(read_file(en + "/report.json"));
        CHECK(rj["steps"] == re["steps"]);
        CHECK(rj["services"] == re["services"]);
    }
}

TEST_CASE("the report has PRODUCT §11's keys, services by name, steps of every incident") {
    const json r = report(scenario("joint-ransomware-prefecture"));
    CHECK(r["scenario"] == "joint-ransomware-prefecture");
    CHECK(r["score"].is_number_integer());
    CHECK(r["score"].get<int>() >= 0);
    CHECK(r["score"].get<int>() <= 100);
    REQUIRE(r["services"].size() > 0);
    for (const auto& s : r["services"]) {
        for (const char* key : {"id", "name", "rto_seconds", "recovered_at_seconds", "met"})
            CHECK(s.contains(key));
        CHECK(s["name"] != s["id"]);  // the catalog's name, not the id
        CHECK_FALSE(s["name"].get<std::string>().empty());
    }
    std::set<std::string> with_steps;
    for (const auto& s : r["steps"]) {
        for (const char* key : {"id", "due_seconds", "done_at_seconds", "on_time", "incident"})
            CHECK(s.contains(key));
        with_steps.insert(s["incident"].get<std::string>());
    }
    std::set<std::string> incidents;
    std::size_t steps = 0;
    for (const auto& i : r["incidents"]) {
        incidents.insert(i["id"].get<std::string>());
        steps += i["steps"].size();
        CHECK(i.contains("time_to_acknowledge_seconds"));
    }
    CHECK(with_steps == incidents);
    CHECK(r["steps"].size() == steps);
    for (const auto& e : r["expectations"]) {
        for (const char* key : {"id", "met", "score"})
            CHECK(e.contains(key));
    }
    for (const auto& i : r["improvements"]) {
        for (const char* key : {"finding", "owner", "due"})
            CHECK(i.contains(key));
        CHECK(i["due"].get<std::string>().size() == 10);  // YYYY-MM-DD
    }
}

TEST_CASE("a what-if past a service's RTO breaks it, lowers the score, adds an improvement") {
    const json base = report(scenario("ransomware-core"));
    const json* juki = service(base, "juki", "default");
    REQUIRE(juki != nullptr);
    REQUIRE((*juki)["met"] == true);
    const std::int64_t rto = (*juki)["rto_seconds"].get<std::int64_t>();
    CHECK_FALSE(has_improvement(base, "rto", "juki"));

    // The restore alone takes longer than the whole RTO.
    const std::string longer = std::to_string(rto / 3600 + 12) + "h";
    const json slow = report(scenario("ransomware-core") + " --what-if restore-juki=" + longer);
    const json* broken = service(slow, "juki", "default");
    REQUIRE(broken != nullptr);
    CHECK((*broken)["met"] == false);
    CHECK(slow["score"].get<int>() < base["score"].get<int>());
    CHECK(slow["improvements"].size() > base["improvements"].size());
    CHECK(has_improvement(slow, "rto", "juki"));
    bool step_row = false;
    for (const auto& i : slow["improvements"]) {
        if (i["source"]["kind"] == "step" && i["source"]["id"] == "restore-juki") {
            step_row = true;
            CHECK(i["owner"] == "vendor");  // the step's owner in the playbook
        }
    }
    CHECK(step_row);
    // Every other service keeps its outcome.
    for (const auto& s : base["services"]) {
        if (s["id"] != "juki")
            CHECK((*service(slow, s["id"], "default"))["met"] == s["met"]);
    }
}

TEST_CASE("RTO risk: the probability falls as a step's duration widens, the same seed repeats") {
    const std::string base = scenario("ransomware-core") + " --runs 150";
    auto p_met = [](const json& risk, const std::string& id) {
        for (const auto& s : risk["services"]) {
            if (s["id"] == id)
                return s["p_met"].get<double>();
        }
        FAIL("no service " << id);
        return -1.0;
    };
    const json narrow = report(base + " --vary 'restore-juki=lognormal(24h,1h)'");
    const json wide = report(base + " --vary 'restore-juki=lognormal(24h,12h)'");
    const json longer = report(base + " --vary 'restore-juki=lognormal(32h,12h)'");
    const json later = report(base + " --vary 'restore-juki=triangular(20h,30h,50h)'");
    INFO(narrow.dump(), "\n", wide.dump());
    CHECK(narrow["runs"] == 150);
    CHECK(p_met(narrow, "juki") > p_met(wide, "juki"));
    CHECK(p_met(wide, "juki") > p_met(longer, "juki"));
    CHECK(p_met(later, "juki") < p_met(narrow, "juki"));
    for (const auto& s : wide["services"]) {
        CHECK(s["runs"] == 150);
        CHECK(s["met_runs"].get<int>() <= 150);
        if (s["p50_recovery_seconds"].is_number() && s["p90_recovery_seconds"].is_number())
            CHECK(s["p50_recovery_seconds"] <= s["p90_recovery_seconds"]);
        if (s["id"] == "juki") {
            bool restore = false;
            for (const auto& c : s["critical_path"])
                restore = restore || c["step"] == "restore-juki";
            CHECK(restore);
        }
    }
    // Unchanged services are unaffected by the sampled step.
    CHECK(p_met(narrow, "welfare") == p_met(longer, "welfare"));

    // Seeded: the same seed repeats exactly (whatever the threads), another seed samples anew.
    const std::string few = scenario("ransomware-core") + " --runs 40";
    const Run a = run_cli(few + " --seed 7 --threads 1 --vary 'restore-juki=lognormal(24h,12h)'");
    const Run b = run_cli(few + " --seed 7 --threads 2 --vary 'restore-juki=lognormal(24h,12h)'");
    const Run c = run_cli(few + " --seed 8 --threads 2 --vary 'restore-juki=lognormal(24h,12h)'");
    REQUIRE(a.status == 0);
    CHECK(a.out == b.out);
    CHECK(a.out != c.out);

    const std::string out = make_temp_dir("exercise-test");
    REQUIRE(
        run_cli(few + " --seed 7 --vary 'restore-juki=lognormal(24h,12h)' --out " + out).status ==
        0);
    CHECK(read_file(out + "/risk.json") == a.out);
    CHECK(read_file(out + "/risk.md").find("restore-juki") != std::string::npos);
}

TEST_CASE("usage errors of simulate exit 2") {
    const std::string s = scenario("ransomware-core");
    CHECK(run_cli(s + " --runs 10 --vary restore-juki").status == 2);
    CHECK(run_cli(s + " --runs 10 --vary 'restore-juki=normal(1h,2h)'").status == 2);
    CHECK(run_cli(s + " --runs 10 --vary 'restore-juki=triangular(3h,2h,1h)'").status == 2);
    CHECK(run_cli(s + " --runs 10 --vary 'restore-juki=lognormal(soon,2h)'").status == 2);
    CHECK(run_cli(s + " --vary 'restore-juki=lognormal(1h,2h)'").status == 2);  // no --runs
    CHECK(run_cli(s + " --lang fr").status == 2);
    CHECK(run_cli(s + " --runs 0").status == 2);
}

TEST_CASE("the prefecture-led joint drill: three municipalities' incidents, each with its tenant") {
    const json r = report(scenario("joint-ransomware-prefecture"));
    std::set<std::string> tenants;
    for (const auto& i : r["incidents"]) {
        const std::string tenant = i["tenant"].get<std::string>();
        tenants.insert(tenant);
        // Incident ids name their tenant, as in Redis.
        CHECK(i["id"].get<std::string>().rfind(tenant + ".INC-", 0) == 0);
        CHECK(i["acknowledged_at_seconds"].is_number());
        for (const auto& s : i["services"])
            CHECK(s["tenant"] == tenant);
    }
    CHECK(tenants.size() == 3);
    CHECK(tenants.count("default") == 0);
    CHECK(r["tenants"].size() == 3);
    // Each tenant's services are counted separately.
    std::set<std::string> per_tenant;
    for (const auto& s : r["services"])
        per_tenant.insert(s["tenant"].get<std::string>() + "/" + s["id"].get<std::string>());
    CHECK(per_tenant.size() == r["services"].size());
    for (const auto& t : tenants) {
        CHECK(per_tenant.count(t + "/juki") == 1);
    }
    // Expectations scoped to a tenant are judged on that tenant's incident only: the
    // late-deciding municipality misses its RTO, the others do not.
    std::set<std::string> breached;
    for (const auto& s : r["services"]) {
        if (s["id"] == "juki" && s["met"] == false)
            breached.insert(s["tenant"].get<std::string>());
    }
    for (const auto& e : r["expectations"]) {
        if (!e.contains("tenant") || e["kind"] != "rto_met")
            continue;
        CHECK(e["met"] == (breached.count(e["tenant"].get<std::string>()) == 0));
    }
    CHECK(r["rejected_commands"].empty());
    CHECK(r["unmatched_events"].empty());
}
