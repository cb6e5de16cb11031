// The shipped playbook library (playbooks/, PRODUCT §6 and §11): it loads and lints clean, the
// SIEM fixtures select the intended playbooks, and every playbook's exercise scenario runs to
// completion with the outcomes written down here by hand (times are seconds from the scenario
// start, worked out from the playbooks' estimates and the scenarios' injects and players).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sonae/core/library.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/sim/simulate.hpp>

namespace {

using nlohmann::json;
using namespace sonae;

constexpr const char* kPlaybookDir = SONAE_SOURCE_DIR "/playbooks";
constexpr const char* kSchemaDir = SONAE_SOURCE_DIR "/schemas";
constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

const std::vector<std::string> kPlaybooks = {"ransomware-core",
                                             "targeted-email",
                                             "personal-data-leak",
                                             "ddos-website",
                                             "payment-provider-compromise",
                                             "vendor-incident",
                                             "device-loss",
                                             "insider-misuse",
                                             "generic-incident"};

const loader::Schemas& schemas() {
    static const loader::Schemas s = [] {
        auto r = loader::Schemas::load(kSchemaDir);
        if (!r)
            FAIL(r.error().message);
        return std::move(r.value());
    }();
    return s;
}

// Loaded once: the engine inside keeps references into the library.
const core::Library& library() {
    static std::unique_ptr<core::Library> lib;
    static std::string error;
    if (lib == nullptr && error.empty()) {
        auto loaded = loader::load_library(kPlaybookDir, "", schemas());
        if (loaded) {
            lib = std::move(loaded.value());
        } else {
            error = loaded.error().message;
        }
    }
    INFO(error);
    REQUIRE(lib != nullptr);
    return *lib;
}

json simulate(const std::string& scenario, const sim::Options& options = {}) {
    const std::string path = std::string(kPlaybookDir) + "/scenarios/" + scenario + ".yaml";
    auto s = loader::load_scenario(path, schemas());
    INFO(path, ": ", (s ? std::string() : s.error().message));
    REQUIRE(s.ok());
    auto report = sim::simulate(s.value(), *library().engine, options);
    INFO((report ? std::string() : report.error().message));
    REQUIRE(report.ok());
    return report.value();
}

json read_fixture(const std::string& name) {
    std::ifstream in(std::string(SONAE_SOURCE_DIR) + "/tests/fixtures/siem/" + name);
    REQUIRE(in.good());
    return json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
}

std::string selected(const core::Event& e) {
    const core::Playbook* pb = library().playbooks.select(e);
    return pb == nullptr ? "(none)" : pb->id;
}

std::string selected_from(const char* format, const std::string& fixture) {
    auto f = ingest::parse_format(format);
    REQUIRE(f.has_value());
    auto events = ingest::adapt(*f, read_fixture(fixture), ingest::HeaderMap{},
                                ingest::AdaptContext{format, "default", 0});
    INFO(fixture, ": ", (events ? std::string() : events.error().message));
    REQUIRE(events.ok());
    REQUIRE(events->size() == 1);
    return selected(events->front());
}

std::string selected_from_canonical(const json& event) {
    auto e = core::event_from_json(event);
    REQUIRE(e.ok());
    return selected(e.value());
}

struct ServiceOutcome {
    std::int64_t recovered_at;
    bool met;
    bool breach_predicted;
};

// What an exercise of one playbook must show.
struct Expected {
    std::string playbook;
    std::string severity;  // at the end
    std::int64_t acknowledged_at = 0;
    std::int64_t resolved_at = 0;
    std::map<std::string, ServiceOutcome> services;
    std::vector<std::pair<std::string, std::int64_t>> escalations;  // key, seconds (in order)
    std::set<std::string> skipped;                                  // steps skipped by their `when`
    std::map<std::string, bool> expectations;
    std::int64_t score = 0;
};

void check_report(const json& r, const Expected& want) {
    INFO("scenario ", r.value("scenario", "?"));
    CHECK(r["unmatched_events"].empty());
    CHECK(r["rejected_commands"].empty());
    REQUIRE(r["incidents"].size() == 1);
    const json& inc = r["incidents"][0];
    CHECK(inc["playbook"] == want.playbook);
    CHECK(inc["status"] == "resolved");
    CHECK(inc["severity"] == want.severity);
    CHECK(inc["acknowledged_at_seconds"] == want.acknowledged_at);
    CHECK(inc["resolved_at_seconds"] == want.resolved_at);

    // Every step is finished: done, or skipped exactly where a `when` says so.
    for (const auto& step : inc["steps"]) {
        const std::string id = step["id"].get<std::string>();
        INFO("step ", id);
        CHECK(step["status"] == (want.skipped.count(id) != 0 ? "skipped" : "done"));
    }

    REQUIRE(r["services"].size() == want.services.size());
    for (const auto& svc : r["services"]) {
        const std::string id = svc["id"].get<std::string>();
        INFO("service ", id);
        auto it = want.services.find(id);
        REQUIRE(it != want.services.end());
        CHECK(svc["recovered_at_seconds"] == it->second.recovered_at);
        CHECK(svc["met"] == it->second.met);
        CHECK(svc["breach_predicted"] == it->second.breach_predicted);
    }

    // Compared as text so that a failure shows both lists.
    std::string fired;
    for (const auto& e : inc["escalations"]) {
        fired += e["key"].get<std::string>() + "@" + e["at_seconds"].dump() + " ";
    }
    std::string expected;
    for (const auto& [key, at] : want.escalations)
        expected += key + "@" + std::to_string(at) + " ";
    CHECK(fired == expected);

    REQUIRE(r["expectations"].size() == want.expectations.size());
    for (const auto& e : r["expectations"]) {
        const std::string id = e["id"].get<std::string>();
        INFO("expectation ", id);
        auto it = want.expectations.find(id);
        REQUIRE(it != want.expectations.end());
        CHECK(e["met"] == it->second);
    }
    CHECK(r["score"] == want.score);
}

}  // namespace

TEST_CASE("the library loads, lints clean and has the nine playbooks") {
    const core::Library& lib = library();
    std::vector<std::string> findings;
    for (const auto& f : lib.findings)
        findings.push_back(core::format_finding(f));
    INFO(findings.size(), " finding(s), first: ", (findings.empty() ? "" : findings.front()));
    CHECK(findings.empty());
    CHECK(lib.tenant == "default");
    CHECK(lib.catalog.default_playbook == "generic-incident");
    CHECK(lib.catalog.utc_offset_minutes == 9 * 60);
    CHECK(lib.playbooks.all().size() == kPlaybooks.size());
    for (const auto& id : kPlaybooks) {
        INFO("playbook ", id);
        const core::Playbook* pb = lib.playbooks.find(id);
        REQUIRE(pb != nullptr);
        CHECK(pb->file == std::string(kPlaybookDir) + "/" + id + ".yaml");
        CHECK_FALSE(pb->steps.empty());
        CHECK(std::ifstream(std::string(kPlaybookDir) + "/scenarios/" + id + ".yaml").good());
    }
    // The default matches nothing by itself.
    CHECK_FALSE(lib.playbooks.find("generic-incident")->match.has_value());
    // RTO defaults (a municipality edits them).
    CHECK(lib.catalog.service("juki")->rto == 48 * core::kHour);
    CHECK(lib.catalog.service("koseki")->rto == 72 * core::kHour);
    CHECK(lib.catalog.service("tax")->rto == 7 * core::kDay);
    CHECK(lib.catalog.service("website")->rto == 6 * core::kHour);
    CHECK(lib.catalog.service("mail")->rto == 24 * core::kHour);
    CHECK(lib.catalog.role("ciso") != nullptr);
    CHECK(lib.catalog.role("ppc")->external);
    CHECK(lib.catalog.role("csirt")->escalates_to == "csirt_lead");
}

TEST_CASE("the SIEM fixtures and typical events select the intended playbook") {
    CHECK(selected_from("wazuh", "wazuh-alert.json") == "ransomware-core");
    CHECK(selected_from("generic", "generic-event.json") == "vendor-incident");
    CHECK(selected_from("grafana", "grafana-webhook.json") == "ddos-website");
    CHECK(selected_from("elastic", "elastic-security.json") == "targeted-email");
    // No specific procedure: the catalog's default.
    CHECK(selected_from("alertmanager", "alertmanager-v4.json") == "generic-incident");
    CHECK(selected_from("cloudevents", "cloudevents-structured.json") == "generic-incident");
    CHECK(selected_from("splunk", "splunk-webhook.json") == "generic-incident");
    CHECK(selected_from("pagerduty", "pagerduty-v2-trigger.json") == "generic-incident");

    CHECK(selected_from_canonical(
              {{"title", "leak"}, {"category", "data_leak"}, {"classification", "3A"}}) ==
          "personal-data-leak");
    CHECK(selected_from_canonical({{"title", "leak"}, {"category", "data_leak"}}) ==
          "personal-data-leak");
    CHECK(selected_from_canonical(
              {{"title", "leak"}, {"category", "data_leak"}, {"classification", "3C"}}) ==
          "generic-incident");
    CHECK(selected_from_canonical({{"title", "leak"},
                                   {"category", "data_leak"},
                                   {"classification", "3A"},
                                   {"labels", {{"vendor", "printing-co"}}}}) == "vendor-incident");
    CHECK(selected_from_canonical({{"title", "USB"}, {"category", "device_loss"}}) ==
          "device-loss");
    CHECK(selected_from_canonical({{"title", "lookups"},
                                   {"category", "data_leak"},
                                   {"classification", "3A"},
                                   {"labels", {{"threat", "insider"}}}}) == "insider-misuse");
    CHECK(selected_from_canonical({{"title", "pay"},
                                   {"category", "vendor_incident"},
                                   {"assets", {{{"system", "公金収納代行システム"}}}}}) ==
          "payment-provider-compromise");
    CHECK(selected_from_canonical({{"title", "phish"}, {"category", "phishing"}}) ==
          "targeted-email");
    CHECK(selected_from_canonical({{"title", "malware"},
                                   {"category", "malware"},
                                   {"severity", "critical"},
                                   {"assets", {{{"ip", "10.20.3.5"}}}}}) == "ransomware-core");
    CHECK(selected_from_canonical({{"title", "down"},
                                   {"category", "outage"},
                                   {"labels", {{"service", "public-portal"}}}}) == "ddos-website");
}

TEST_CASE("ransomware-core: koseki misses its RTO, predicted four hours before the breach") {
    const json r = simulate("ransomware-core");
    // The Wazuh alert: level 12 -> high, groups/MITRE -> ransomware, agent -> juki-ap01.
    const json& inc = r["incidents"][0];
    CHECK(inc["title"] == "Ransomware behaviour: mass file encryption detected");
    CHECK(inc["opened_at_seconds"] == 2 * kMinute);
    // One entry tells the opening: the alert, the playbook and the impacted services.
    const std::string opened = inc["timeline"][0]["text"];
    CHECK(opened.rfind("opened from wazuh with playbook ransomware-core: Ransomware behaviour: "
                       "mass file encryption detected; impacted: ",
                       0) == 0);
    Expected want;
    want.playbook = "ransomware-core";
    want.severity = "critical";  // raised by the commander at 45m
    want.acknowledged_at = 5 * kMinute;
    // ppc-final: starts when the preliminary report is done (55h32m) and takes 45 days.
    want.resolved_at = 2 * kMinute + 55 * kHour + 30 * kMinute + 45 * kDay;
    // Restores start when the CISO decides at 5h; verify steps take 4h (tax: 8h).
    want.services = {
        {"juki", {33 * kHour, true, false}},
        {"koseki", {79 * kHour, false, true}},  // restore took 70h instead of 36h
        {"welfare", {45 * kHour, true, false}},
        {"tax", {85 * kHour, true, false}},
    };
    want.escalations = {
        {"critical-to-ciso", 45 * kMinute},
        {"same-day-report", 6 * kHour},  // 16:00 local
        {"day-one", 24 * kHour + 2 * kMinute},
        {"half-rto:juki", 24 * kHour + 2 * kMinute},
        {"half-rto:koseki", 36 * kHour + 2 * kMinute},
        {"half-rto:welfare", 36 * kHour + 2 * kMinute},
        {"restore-overdue:restore-koseki", 53 * kHour},
        // Deadline 72h02m minus the 4h verify step still to do.
        {"predicted-breach:koseki", 68 * kHour + 2 * kMinute},
        {"half-rto:tax", 84 * kHour + 2 * kMinute},
    };
    want.skipped = {"gov-cloud-switch"};
    want.expectations = {
        {"isolated-within-1h", true},    {"prefecture-first-report-same-day", true},
        {"police-told-same-day", true},  {"ciso-escalated", true},
        {"bcp-activated", true},         {"juki-within-rto", true},
        {"koseki-within-rto", false},    {"welfare-within-rto", true},
        {"tax-within-rto", true},        {"ppc-preliminary-in-3-days", true},
        {"closed-within-60-days", true},
    };
    want.score = 85;
    check_report(r, want);
    // The PPC preliminary report is within 3 days of the start, the final one within 60.
    for (const auto& step : inc["steps"]) {
        if (step["id"] == "ppc-preliminary") {
            CHECK(step["done_at_seconds"] == 2 * kMinute + 55 * kHour + 30 * kMinute);
            CHECK(step["on_time"] == true);
        }
        if (step["id"] == "ppc-final")
            CHECK(step["on_time"] == true);
    }
}

TEST_CASE("targeted-email: the internet segment is back within its RTO") {
    Expected want;
    want.playbook = "targeted-email";
    want.severity = "high";
    want.acknowledged_at = 15 * kMinute;
    want.resolved_at = 88 * kHour + 25 * kMinute;
    want.services = {{"internet-office", {16 * kHour + 25 * kMinute, true, false}}};
    want.escalations = {
        {"containment-late", 4 * kHour + 10 * kMinute},
        {"overdue:sanitisation-check", 9 * kHour + 25 * kMinute},  // took 9h, due 8h
    };
    want.skipped = {"escalate-spread"};
    want.expectations = {
        {"pc-isolated-in-30m", true},
        {"ioc-blocked", true},
        {"staff-warned", true},
        {"security-cloud-told", true},
        {"internet-back-within-rto", true},
        {"closed", true},
    };
    want.score = 100;
    check_report(simulate("targeted-email"), want);
}

TEST_CASE("personal-data-leak: sensitive data, preliminary in 3 days, final in 30") {
    Expected want;
    want.playbook = "personal-data-leak";
    want.severity = "high";
    want.acknowledged_at = 10 * kMinute;
    want.resolved_at = 32 * kHour + 21 * kDay;  // ppc-final-30d
    want.services = {};                         // a leak is not an outage
    want.escalations = {
        {"sensitive-data", 0},
        {"end-of-day", 3 * kHour},  // 17:00 local
        {"ppc-reminder", 2 * kDay},
    };
    want.skipped = {"police-consult", "ppc-final-60d"};
    want.expectations = {
        {"prefecture-same-day", true},
        {"retrieved-in-1-day", true},
        {"counted-in-1-day", true},
        {"ppc-preliminary-in-3-days", true},
        {"individuals-notified-in-2-weeks", true},
        {"ppc-final-in-30-days", true},
    };
    want.score = 100;
    check_report(simulate("personal-data-leak"), want);
}

TEST_CASE("ddos-website: mitigated and restored within six hours") {
    Expected want;
    want.playbook = "ddos-website";
    want.severity = "critical";
    want.acknowledged_at = 8 * kMinute;
    want.resolved_at = 51 * kHour + 30 * kMinute;  // 24h watch, then a day for the report
    want.services = {{"website", {3 * kHour + 30 * kMinute, true, false}}};
    want.escalations = {
        {"critical", 5 * kMinute},
        {"half-rto:website", 3 * kHour + 5 * kMinute},
    };
    want.expectations = {
        {"mitigation-requested-in-30m", true},
        {"residents-informed-by-sns", true},
        {"prefecture-told", true},
        {"website-within-rto", true},
        {"closed", true},
    };
    want.score = 100;
    check_report(simulate("ddos-website"), want);
}

TEST_CASE("payment-provider-compromise: QR route stopped, payments back, no PPC report") {
    Expected want;
    want.playbook = "payment-provider-compromise";
    want.severity = "critical";  // raised by the provider's PagerDuty event at 30m
    want.acknowledged_at = 10 * kMinute;
    want.resolved_at = 200 * kHour;  // contract review, 7 days after the route resumed
    want.services = {{"payments", {32 * kHour, true, false}}};
    want.escalations = {
        {"critical", 30 * kMinute}, {"before-bank-cutoff", 4 * kHour},  // 15:00 local
    };
    want.skipped = {"ppc-preliminary", "ppc-final", "counter-only"};
    want.expectations = {
        {"route-stopped-in-2h", true},  {"residents-warned", true},    {"critical-escalated", true},
        {"reconciled-in-2-days", true}, {"payments-within-rto", true},
    };
    want.score = 100;
    check_report(simulate("payment-provider-compromise"), want);
}

TEST_CASE("vendor-incident: e-application resumed in time, final PPC report within 60 days") {
    Expected want;
    want.playbook = "vendor-incident";
    want.severity = "high";
    want.acknowledged_at = 15 * kMinute;
    want.resolved_at = 89 * kHour + 45 * kDay;  // after the late inventory (89h)
    want.services = {{"e-application", {37 * kHour, true, false}}};
    want.escalations = {
        {"sensitive", 0},
        {"half-rto:e-application", 36 * kHour},
        {"vendor-late:inventory", 77 * kHour},
    };
    want.skipped = {"gov-cloud-contact", "ppc-final-30d", "continuity"};
    want.expectations = {
        {"contract-invoked-same-day", true}, {"residents-told-of-suspension", true},
        {"ppc-preliminary-in-3-days", true}, {"inventory-in-3-days", false},
        {"e-application-within-rto", true},  {"ppc-final-in-60-days", true},
    };
    want.score = 85;
    check_report(simulate("vendor-incident"), want);
}

TEST_CASE("device-loss: police, PPC within 3 days, third-party committee") {
    Expected want;
    want.playbook = "device-loss";
    want.severity = "critical";  // raised when the inventory showed every resident
    want.acknowledged_at = 15 * kMinute;
    want.resolved_at = 49 * kHour + 21 * kDay;  // the committee's report
    want.services = {};
    want.escalations = {
        {"same-day-report", 7 * kHour},  // 17:00 local
        {"not-found-24h", 24 * kHour},
        {"mass-data", 26 * kHour},
    };
    want.skipped = {"ppc-final-60d"};
    want.expectations = {
        {"police-report-same-day", true}, {"prefecture-same-day", true},
        {"ciso-escalated", true},         {"ppc-preliminary-in-3-days", true},
        {"carry-rules-enforced", true},   {"ppc-final-in-30-days", true},
        {"closed-in-30-days", true},
    };
    want.score = 100;
    check_report(simulate("device-loss"), want);
}

TEST_CASE("insider-misuse: declared at ack, wrongful intent means a 60-day final report") {
    Expected want;
    want.playbook = "insider-misuse";
    want.severity = "high";
    want.acknowledged_at = 1 * kHour;
    want.resolved_at = 50 * kHour + 40 * kDay;  // ppc-final after confirm-lookups
    want.services = {{"juki", {4 * kHour + 30 * kMinute, true, false}}};
    want.escalations = {
        {"inform-ciso", 0},
        {"weekly-review", 7 * kDay},
    };
    want.expectations = {
        {"account-suspended-in-1h", true},   {"logs-preserved-in-4h", true},
        {"victim-safety-in-1-day", true},    {"counter-back-within-rto", true},
        {"ppc-preliminary-in-3-days", true}, {"ppc-final-in-60-days", true},
    };
    want.score = 100;
    check_report(simulate("insider-misuse"), want);
}

TEST_CASE("generic-incident: the catalog default handles an unmatched Splunk alert") {
    Expected want;
    want.playbook = "generic-incident";
    want.severity = "medium";
    want.acknowledged_at = 5 * kMinute;
    want.resolved_at = 29 * kHour;
    want.services = {{"website", {5 * kHour, true, false}}};
    want.escalations = {{"half-rto:website", 3 * kHour}};
    want.skipped = {"monitor", "tech-support"};
    want.expectations = {
        {"triaged-within-1h", true},
        {"prefecture-told-same-day", true},
        {"website-within-rto", true},
        {"closed", true},
    };
    want.score = 100;
    check_report(simulate("generic-incident"), want);
}

TEST_CASE("simulations are deterministic") {
    for (const auto& id : kPlaybooks) {
        INFO("scenario ", id);
        CHECK(simulate(id).dump() == simulate(id).dump());
    }
}

TEST_CASE("what-if: a slower juki restore breaks its RTO and is predicted before the breach") {
    const json base = simulate("ransomware-core");
    sim::Options slow;
    slow.what_if["restore-juki"] = 60 * core::kHour;  // planned 24h
    const json r = simulate("ransomware-core", slow);

    const std::int64_t deadline = 2 * kMinute + 48 * kHour;  // opened at 2m, RTO 48h
    auto service = [](const json& report, const std::string& id) {
        for (const auto& s : report["services"]) {
            if (s["id"] == id)
                return s;
        }
        FAIL("no service " << id);
        return json();
    };
    auto fired_at = [](const json& report, const std::string& key) -> std::int64_t {
        for (const auto& e : report["incidents"][0]["escalations"]) {
            if (e["key"] == key)
                return e["at_seconds"].get<std::int64_t>();
        }
        return -1;
    };
    CHECK(service(base, "juki")["met"] == true);
    CHECK(fired_at(base, "predicted-breach:juki") == -1);

    const json juki = service(r, "juki");
    CHECK(juki["met"] == false);
    CHECK(juki["breach_predicted"] == true);
    CHECK(juki["recovered_at_seconds"] == 69 * kHour);  // 5h + 60h + 4h verify
    // Projection = now + the 4h verify step once the restore runs past its 24h estimate.
    const std::int64_t predicted = fired_at(r, "predicted-breach:juki");
    CHECK(predicted == deadline - 4 * kHour);
    CHECK(predicted < deadline);
    CHECK(fired_at(r, "restore-overdue:restore-juki") == 35 * kHour);  // due 30h after 5h
    CHECK(r["incidents"][0]["status"] == "resolved");
    for (const auto& e : r["expectations"]) {
        if (e["id"] == "juki-within-rto")
            CHECK(e["met"] == false);
    }
}
