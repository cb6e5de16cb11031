// sonae exercise start|status|list|pause|resume|stop|report: live drills over the REST API
// (PRODUCT §11). The gateway checks the scenario and keeps the drill; the orchestrator fires it.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <sonae/core/exercise.hpp>
#include <sonae/sim/report.hpp>

#include "api_client.hpp"
#include "commands.hpp"
#include "table.hpp"

namespace sonae::cli {
namespace {

using nlohmann::json;

std::string text(const json& v) {
    if (v.is_null())
        return "-";
    return v.is_string() ? v.get<std::string>() : v.dump();
}

bool valid_exercise(const std::string& id, const std::string& what) {
    if (core::parse_public_exercise_id(id))
        return true;
    std::cerr << what << ": '" << id
              << "' is not a drill id (ex-YYYYMMDD-NNNN or <tenant>.ex-...)\n";
    return false;
}

void print_drill(const json& x) {
    Table head({"", ""});
    head.add({"DRILL", text(x["id"])});
    head.add({"SCENARIO", text(x["scenario"]) + ": " + text(x["title"])});
    head.add({"STATE", text(x["state"])});
    head.add({"SPEED", text(x["speed"]) + "x"});
    head.add({"STARTED", text(x["started_at"])});
    head.add({"DRILL TIME", text(x["drill_time"]) + " (+" +
                                std::to_string(x.value("elapsed_drill_seconds", 0) / 60) +
                                " min)"});
    if (x.contains("plan_items_due"))
        head.add({"INJECTS", text(x["plan_items_due"]) + " of " + text(x["plan_items"]) + " due"});
    std::cout << head.render();
    if (x.contains("incidents") && !x["incidents"].empty()) {
        Table t({"INCIDENT", "STATUS", "SEVERITY", "TITLE"});
        for (const auto& i : x["incidents"])
            t.add({text(i["id"]), text(i["status"]), text(i["severity"]), text(i["title"])});
        std::cout << "\n" << t.render();
    }
}

struct DrillArgs {
    std::string scenario, tenant, id, out, lang = "ja";
    double speed = 1;
    std::vector<std::string> fill_in;
    bool json = false;
};

int run_start(const DrillArgs& a) {
    const std::string what = "sonae exercise start";
    std::ifstream in(a.scenario, std::ios::binary);
    if (!in) {
        std::cerr << what << ": cannot read " << a.scenario << "\n";
        return 2;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    json body = {{"scenario", buf.str()},
                 {"file", std::filesystem::path(a.scenario).filename().string()},
                 {"speed", a.speed},
                 {"fill_in", a.fill_in}};
    if (!a.tenant.empty())
        body["tenant"] = a.tenant;
    Session s;
    if (auto rc = open_session(&s, what))
        return *rc;
    const auto r = s.api->post("/v1/exercises", body);
    if (r.status != 201)
        return report_failure(what, r);
    if (a.json) {
        std::cout << r.body.dump(2) << "\n";
        return 0;
    }
    std::cout << "drill " << text(r.body["id"]) << " started: " << text(r.body["plan_items"])
              << " injects and player actions at " << a.speed << "x\n";
    const auto& channels = r.body["self_test"]["channels"];
    if (channels.empty())
        std::cout << "no channel accepts drill traffic (channels.yaml: exercise: true)\n";
    else
        std::cout << "self-test sent to " << channels.size() << " channel(s): " << channels.dump()
                  << "; see sonae exercise status " << text(r.body["id"]) << "\n";
    return 0;
}

int run_status(const DrillArgs& a) {
    const std::string what = "sonae exercise status";
    if (!valid_exercise(a.id, what))
        return 2;
    Session s;
    if (auto rc = open_session(&s, what))
        return *rc;
    const auto r = s.api->get("/v1/exercises/" + a.id);
    if (r.status != 200)
        return report_failure(what + " " + a.id, r);
    if (a.json)
        std::cout << r.body.dump(2) << "\n";
    else
        print_drill(r.body);
    return 0;
}

int run_list(const DrillArgs& a) {
    const std::string what = "sonae exercise list";
    Session s;
    if (auto rc = open_session(&s, what))
        return *rc;
    const auto r = s.api->get(a.tenant.empty() ? "/v1/exercises"
                                               : "/v1/exercises?tenant=" + query_escape(a.tenant));
    if (r.status != 200)
        return report_failure(what, r);
    if (a.json) {
        std::cout << r.body.dump(2) << "\n";
        return 0;
    }
    Table t({"DRILL", "STATE", "SPEED", "STARTED", "SCENARIO"});
    for (const auto& x : r.body["exercises"])
        t.add({text(x["id"]), text(x["state"]), text(x["speed"]), text(x["started_at"]),
               text(x["scenario"])});
    std::cout << t.render();
    return 0;
}

int run_change(const DrillArgs& a, const std::string& change) {
    const std::string what = "sonae exercise " + change;
    if (!valid_exercise(a.id, what))
        return 2;
    Session s;
    if (auto rc = open_session(&s, what))
        return *rc;
    const auto r = s.api->post("/v1/exercises/" + a.id + "/" + change, json::object());
    if (r.status != 200)
        return report_failure(what + " " + a.id, r);
    if (a.json)
        std::cout << r.body.dump(2) << "\n";
    else
        std::cout << "drill " << a.id << ": " << text(r.body["state"]) << " at drill time "
                  << text(r.body["drill_time"]) << "\n";
    return 0;
}

int run_report(const DrillArgs& a) {
    const std::string what = "sonae exercise report";
    if (!valid_exercise(a.id, what))
        return 2;
    if (a.lang != "ja" && a.lang != "en") {
        std::cerr << what << ": --lang is ja or en\n";
        return 2;
    }
    Session s;
    if (auto rc = open_session(&s, what))
        return *rc;
    const auto r = s.api->get("/v1/exercises/" + a.id + "/report?lang=" + a.lang);
    if (r.status != 200)
        return report_failure(what + " " + a.id, r);
    const std::string json_text = r.body.dump(2) + "\n";
    if (!a.out.empty()) {
        const sim::Lang lang = *sim::parse_lang(a.lang);
        std::filesystem::create_directories(a.out);
        std::ofstream(a.out + "/report.json") << json_text;
        std::ofstream(a.out + "/report.md") << sim::render_markdown(r.body, lang);
        std::ofstream(a.out + "/report.html") << sim::render_html(r.body, lang);
    }
    std::cout << json_text;
    return 0;
}

}  // namespace

void add_drill_commands(CLI::App& exercise, Context& ctx) {
    auto a = std::make_shared<DrillArgs>();
    auto bind = [&ctx, a](CLI::App* cmd, std::function<int(const DrillArgs&)> run) {
        cmd->add_flag("--json", a->json, "the API's JSON");
        cmd->callback([&ctx, a, run] { ctx.action = [a, run] { return run(*a); }; });
    };
    auto* start = exercise.add_subcommand(
        "start", "start a live drill through the running services (SONAE_URL, SONAE_TOKEN)");
    start->add_option("scenario", a->scenario, "scenario YAML")->required();
    start->add_option("--speed", a->speed, "drill time runs N times faster (default 1)")
        ->check(CLI::Range(1.0, 100000.0));
    start->add_option("--tenant", a->tenant, "tenant (prefecture tokens; default the token's)");
    start
        ->add_option("--fill-in", a->fill_in,
                     "scripted players who stand in for absent ones (names from the "
                     "scenario's players, or all)")
        ->delimiter(',');
    bind(start, run_start);
    auto* status = exercise.add_subcommand("status", "a live drill: state, clock, incidents");
    status->add_option("id", a->id, "drill id")->required();
    bind(status, run_status);
    auto* list = exercise.add_subcommand("list", "live drills, newest first");
    list->add_option("--tenant", a->tenant, "one tenant");
    bind(list, run_list);
    for (const char* change : {"pause", "resume", "stop"}) {
        auto* cmd = exercise.add_subcommand(change, std::string(change) + " a live drill");
        cmd->add_option("id", a->id, "drill id")->required();
        const std::string c = change;
        bind(cmd, [c](const DrillArgs& args) { return run_change(args, c); });
    }
    auto* report = exercise.add_subcommand("report", "a live drill's after-action report");
    report->add_option("id", a->id, "drill id")->required();
    report->add_option("--out", a->out, "write report.json, report.md and report.html here");
    report->add_option("--lang", a->lang, "ja (default) or en");
    bind(report, run_report);
}

}  // namespace sonae::cli
