// sonae incident list|show|timeline|cmd|verify|report, sonae services, sonae playbooks: the REST
// API for people (aligned tables) and scripts (--json, the API's own JSON).
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <sonae/core/incident.hpp>
#include <sonae/report/report.hpp>
#include <sonae/store/store.hpp>

#include "api_client.hpp"
#include "commands.hpp"
#include "table.hpp"

namespace sonae::cli {
namespace {

using nlohmann::json;

std::string text(const json& v, const std::string& none = "-") {
    if (v.is_null())
        return none;
    if (v.is_string())
        return v.get<std::string>();
    return v.dump();
}

// "3h05m", "12m", "45s"; negative as "-1h20m".
std::string duration(std::int64_t seconds) {
    const bool negative = seconds < 0;
    std::int64_t s = negative ? -seconds : seconds;
    std::string out;
    if (s >= 3600) {
        out = std::to_string(s / 3600) + "h";
        const auto m = (s % 3600) / 60;
        out += (m < 10 ? "0" : "") + std::to_string(m) + "m";
    } else if (s >= 60) {
        out = std::to_string(s / 60) + "m";
    } else {
        out = std::to_string(s) + "s";
    }
    return negative ? "-" + out : out;
}

// The RTO column: the least time left among the incident's running clocks.
std::string rto_left(const json& services) {
    std::optional<std::int64_t> least;
    bool breached = false;
    for (const auto& s : services) {
        if (s["time_left_seconds"].is_number()) {
            const auto left = s["time_left_seconds"].get<std::int64_t>();
            least = least ? std::min(*least, left) : left;
        }
        breached = breached || s.value("state", "") == "breached";
    }
    if (!least)
        return "-";
    return (breached ? "BREACHED " : "") + duration(*least);
}

// "2026-04-01T00:30:00Z" -> "2026-04-01 00:30Z" (times stay UTC, as the API gives them).
std::string when(const json& t) {
    if (!t.is_string())
        return "-";
    std::string s = t.get<std::string>();
    if (s.size() >= 16 && s[10] == 'T')
        return s.substr(0, 10) + " " + s.substr(11, 5) + "Z";
    return s;
}

bool valid_incident(const std::string& id, const std::string& what) {
    if (core::tenant_of_incident(id))
        return true;
    std::cerr << what << ": '" << id
              << "' is not an incident id (INC-YYYYMMDD-NNNN or <tenant>.INC-...)\n";
    return false;
}

}  // namespace

int run_incident_list(const ListArgs& args) {
    Session s;
    if (auto rc = open_session(&s, "sonae incident list"))
        return *rc;
    std::string query = "?limit=" + std::to_string(args.limit);
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"status", &args.status},
          {"severity", &args.severity},
          {"service", &args.service},
          {"since", &args.since},
          {"tenant", &args.tenant}}) {
        if (!value->empty())
            query += std::string("&") + name + "=" + query_escape(*value);
    }
    if (args.exercise)
        query += "&exercise=true";
    json all = json::array();
    std::string cursor;
    do {
        const auto r = s.api->get("/v1/incidents" + query +
                                  (cursor.empty() ? "" : "&cursor=" + query_escape(cursor)));
        if (r.status != 200)
            return report_failure("sonae incident list", r);
        for (const auto& i : r.body["incidents"])
            all.push_back(i);
        cursor = r.body["next_cursor"].is_string() ? r.body["next_cursor"].get<std::string>() : "";
    } while (args.all && !cursor.empty());
    if (args.json) {
        std::cout << json{{"incidents", all}}.dump(2) << "\n";
        return 0;
    }
    if (all.empty()) {
        std::cout << "no incidents\n";
        return 0;
    }
    Table t({"ID", "STATUS", "SEVERITY", "OPENED", "RTO LEFT", "TITLE"});
    t.max_width(5, 48);
    for (const auto& i : all) {
        t.add({text(i["id"]) + (i.value("exercise", false) ? " (drill)" : ""), text(i["status"]),
               text(i["severity"]), when(i["opened_at"]), rto_left(i["services"]),
               text(i["title"])});
    }
    std::cout << t.render();
    if (!cursor.empty())
        std::cout << "(more: --all, or --limit)\n";
    return 0;
}

int run_incident_show(const ShowArgs& args) {
    if (!valid_incident(args.incident, "sonae incident show"))
        return 2;
    Session s;
    if (auto rc = open_session(&s, "sonae incident show"))
        return *rc;
    const auto r = s.api->get("/v1/incidents/" + args.incident);
    if (r.status != 200)
        return report_failure("sonae incident show " + args.incident, r);
    const json& i = r.body;
    if (args.json) {
        std::cout << i.dump(2) << "\n";
        return 0;
    }
    Table head({"", ""});
    head.add({"ID", text(i["id"]) + (i.value("exercise", false) ? " (exercise)" : "")});
    head.add({"TITLE", text(i["title"])});
    head.add({"STATUS", text(i["status"]) +
                            (i["acked_by"].is_string() ? " (" + text(i["acked_by"]) + ")" : "")});
    head.add(
        {"SEVERITY",
         text(i["severity"]) + " / " + text(i["category"]) +
             (i["classification"].is_string() ? " / class " + text(i["classification"]) : "")});
    head.add({"PLAYBOOK", text(i["playbook"]) + " v" + text(i["playbook_version"]) + " " +
                              text(i["playbook_title"], "")});
    head.add({"OPENED", when(i["opened_at"])});
    if (i["resolved_at"].is_string())
        head.add({"RESOLVED", when(i["resolved_at"]) + " " + text(i["resolution"], "")});
    std::cout << head.render().substr(head.render().find('\n') + 1) << "\n";

    Table services({"SERVICE", "NAME", "RTO", "STATE", "TIME LEFT", "DEADLINE", "ESCALATIONS"});
    for (const auto& c : i["services"]) {
        std::string esc;
        for (const auto& e : c["escalations"])
            esc += (esc.empty() ? "" : ",") + e.get<std::string>();
        services.add(
            {text(c["id"]), text(c["name"]), duration(c["rto_seconds"].get<std::int64_t>()),
             text(c["state"]) + (c.value("breach_predicted", false) ? " (breach predicted)" : ""),
             c["time_left_seconds"].is_number()
                 ? duration(c["time_left_seconds"].get<std::int64_t>())
                 : "-",
             when(c["deadline"]), esc.empty() ? "-" : esc});
    }
    if (!services.empty())
        std::cout << services.render() << "\n";

    Table steps({"STEP", "TITLE", "OWNER", "STATUS", "ASSIGNEE", "DUE"});
    steps.max_width(1, 32);
    for (const auto& st : i["steps"]) {
        steps.add({text(st["id"]), text(st["title"]), text(st["owner"]),
                   text(st["status"]) + (st.value("overdue", false) ? " OVERDUE" : ""),
                   text(st["assignee"]), when(st["due_at"])});
    }
    std::cout << steps.render();
    return 0;
}

int run_incident_timeline(const ShowArgs& args) {
    if (!valid_incident(args.incident, "sonae incident timeline"))
        return 2;
    Session s;
    if (auto rc = open_session(&s, "sonae incident timeline"))
        return *rc;
    json entries = json::array();
    std::string cursor = "0";
    while (!cursor.empty()) {
        const auto r =
            s.api->get("/v1/incidents/" + args.incident + "/timeline?limit=500&cursor=" + cursor);
        if (r.status != 200)
            return report_failure("sonae incident timeline " + args.incident, r);
        for (const auto& e : r.body["entries"])
            entries.push_back(e);
        cursor = r.body["next_cursor"].is_string() ? r.body["next_cursor"].get<std::string>() : "";
    }
    if (args.json) {
        std::cout << json{{"incident", args.incident}, {"entries", entries}}.dump(2) << "\n";
        return 0;
    }
    Table t({"TIME", "KIND", "ACTOR", "TEXT"});
    t.max_width(3, 90);
    for (const auto& e : entries)
        t.add({when(e["at"]), text(e["kind"]), text(e["actor"]), text(e["text"])});
    std::cout << t.render();
    return 0;
}

int run_verify(const ShowArgs& args) {
    if (!valid_incident(args.incident, "sonae incident verify"))
        return 2;
    Session s;
    if (auto rc = open_session(&s, "sonae incident verify"))
        return *rc;
    const auto r = s.api->get("/v1/incidents/" + args.incident + "/chain");
    if (r.status != 200)
        return report_failure("sonae incident verify " + args.incident, r);
    std::vector<std::string> stored;
    for (const auto& e : r.body["entries"])
        stored.push_back(e.get<std::string>());
    const store::ChainCheck check = store::verify_chain(stored, r.body.value("head", ""));
    if (check.intact) {
        std::cout << args.incident << ": timeline intact (" << stored.size()
                  << " entries, each carrying the SHA-256 of the one before it)\n";
        return 0;
    }
    std::cout << args.incident << ": timeline BROKEN at entry " << check.bad_entry + 1 << " of "
              << stored.size() << ": " << check.why << "\n";
    if (check.bad_entry < stored.size())
        std::cout << "  " << stored[check.bad_entry] << "\n";
    return 1;
}

int run_incident_cmd(const CmdArgs& args, const clock::Clock& clock) {
    if (!valid_incident(args.incident, "sonae incident cmd"))
        return 2;
    std::string line;
    for (const auto& w : args.words)
        line += (line.empty() ? "" : " ") + w;
    Session s;
    if (auto rc = open_session(&s, "sonae incident cmd"))
        return *rc;
    const auto r =
        s.api->post("/v1/incidents/" + args.incident + "/commands", json{{"command", line}});
    if (r.status != 202)
        return report_failure("sonae incident cmd " + args.incident, r);
    const std::string id = r.body.value("command_id", "");
    json result = r.body;
    if (args.wait) {
        // The orchestrator answers within milliseconds when it runs; poll its result.
        const core::TimePoint deadline = clock.now() + args.wait_seconds * core::kSecond;
        while (clock.now() < deadline) {
            const auto c = s.api->get("/v1/commands/" + id);
            if (c.status != 200)
                return report_failure("sonae incident cmd " + args.incident, c);
            result = c.body;
            if (result.value("status", "") != "pending")
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    const std::string status = result.value("status", "pending");
    if (args.json) {
        std::cout << result.dump(2) << "\n";
    } else if (status == "pending") {
        std::cout << "accepted: command " << id << " (result pending; sonae incident timeline "
                  << args.incident << ")\n";
    } else {
        std::cout << text(result["message"], "") << "\n";
    }
    return status == "refused" ? 1 : 0;
}

int run_incident_report(const ReportArgs& args) {
    const std::string what = "sonae incident report";
    if (!valid_incident(args.incident, what))
        return 2;
    if (!report::parse_kind(args.kind)) {
        std::cerr << what << ": --kind is first, ppc-preliminary, ppc-final or review\n";
        return 2;
    }
    if (!report::parse_format(args.format)) {
        std::cerr << what << ": --format is markdown, html or json\n";
        return 2;
    }
    if (args.lang != "ja" && args.lang != "en") {
        std::cerr << what << ": --lang is ja or en\n";
        return 2;
    }
    Session s;
    if (auto rc = open_session(&s, what))
        return *rc;
    const auto r = s.api->get("/v1/incidents/" + args.incident + "/reports/" + args.kind +
                              "?format=" + args.format + "&lang=" + args.lang);
    if (r.status != 200)
        return report_failure(what + " " + args.incident, r);
    const std::string out = args.format == "json" ? r.body.dump(2) + "\n" : r.text;
    if (args.out.empty()) {
        std::cout << out;
        return 0;
    }
    std::ofstream file(args.out, std::ios::binary);
    if (!(file << out)) {
        std::cerr << what << ": cannot write " << args.out << "\n";
        return 1;
    }
    return 0;
}

int run_services(const ListingArgs& args) {
    Session s;
    if (auto rc = open_session(&s, "sonae services"))
        return *rc;
    std::string query = args.exercise ? "?exercise=true" : "";
    if (!args.tenant.empty())
        query += (query.empty() ? "?" : "&") + std::string("tenant=") + query_escape(args.tenant);
    const auto r = s.api->get("/v1/services" + query);
    if (r.status != 200)
        return report_failure("sonae services", r);
    if (args.json) {
        std::cout << r.body.dump(2) << "\n";
        return 0;
    }
    Table t({"TENANT", "SERVICE", "NAME", "RTO", "OPEN", "TIME LEFT", "STAGE"});
    for (const auto& sv : r.body["services"]) {
        std::string left = sv["time_left_seconds"].is_number()
                               ? duration(sv["time_left_seconds"].get<std::int64_t>())
                               : "-";
        if (sv.value("breached", false))
            left = "BREACHED " + left;
        else if (sv.value("breach_predicted", false))
            left += " (breach predicted)";
        t.add({text(sv["tenant"]), text(sv["id"]), text(sv["name"]),
               duration(sv["rto_seconds"].get<std::int64_t>()),
               std::to_string(sv["open_incidents"].size()), left, text(sv["escalation_stage"])});
    }
    std::cout << t.render();
    return 0;
}

int run_playbooks(const ListingArgs& args) {
    Session s;
    if (auto rc = open_session(&s, "sonae playbooks"))
        return *rc;
    const auto r =
        s.api->get("/v1/playbooks" +
                   (args.tenant.empty() ? std::string() : "?tenant=" + query_escape(args.tenant)));
    if (r.status != 200)
        return report_failure("sonae playbooks", r);
    if (args.json) {
        std::cout << r.body.dump(2) << "\n";
        return 0;
    }
    Table t({"TENANT", "PLAYBOOK", "VERSION", "STEPS", "SERVICES", "TITLE"});
    t.max_width(5, 48);
    for (const auto& p : r.body["playbooks"]) {
        std::string services;
        for (const auto& sv : p["services"])
            services += (services.empty() ? "" : ",") + sv.get<std::string>();
        t.add({text(p["tenant"]), text(p["id"]), text(p["version"]),
               std::to_string(p["steps"].size()), services.empty() ? "-" : services,
               text(p["title"])});
    }
    std::cout << t.render();
    return 0;
}

// Over the REST API: SONAE_URL (default http://127.0.0.1:8080) and SONAE_TOKEN.
void add_incident_commands(CLI::App& app, Context& ctx) {
    // Runs `run` on `args` when `cmd` was the one chosen.
    auto bind = [&ctx](CLI::App* cmd, auto args, auto run) {
        cmd->callback([&ctx, args, run] { ctx.action = [args, run] { return run(*args); }; });
    };
    auto* incident =
        app.add_subcommand("incident", "incidents over the REST API (SONAE_URL, SONAE_TOKEN)");
    incident->require_subcommand(1);
    auto list = std::make_shared<ListArgs>();
    auto* list_cmd = incident->add_subcommand("list", "incidents, newest first");
    list_cmd->add_option("--status", list->status, "triggered|acknowledged|resolved|open");
    list_cmd->add_option("--severity", list->severity, "severities, comma-separated");
    list_cmd->add_option("--service", list->service, "impacted business service id");
    list_cmd->add_option("--since", list->since, "opened at or after (RFC 3339)");
    list_cmd->add_option("--tenant", list->tenant, "one tenant (prefecture tokens)");
    list_cmd->add_flag("--exercise", list->exercise, "include exercise incidents");
    list_cmd->add_option("--limit", list->limit, "incidents per page (1-200)")
        ->check(CLI::Range(1, 200));
    list_cmd->add_flag("--all", list->all, "every page");
    list_cmd->add_flag("--json", list->json, "the API's JSON");
    bind(list_cmd, list, run_incident_list);

    auto show = std::make_shared<ShowArgs>();
    auto* show_cmd = incident->add_subcommand("show", "one incident: steps and RTO clocks");
    show_cmd->add_option("id", show->incident, "incident id")->required();
    show_cmd->add_flag("--json", show->json, "the API's JSON");
    bind(show_cmd, show, run_incident_show);
    auto timeline = std::make_shared<ShowArgs>();
    auto* timeline_cmd = incident->add_subcommand("timeline", "an incident's audit timeline");
    timeline_cmd->add_option("id", timeline->incident, "incident id")->required();
    timeline_cmd->add_flag("--json", timeline->json, "the API's JSON");
    bind(timeline_cmd, timeline, run_incident_timeline);
    auto verify = std::make_shared<ShowArgs>();
    auto* verify_cmd =
        incident->add_subcommand("verify", "check an incident's tamper-evident timeline");
    verify_cmd->add_option("id", verify->incident, "incident id")->required();
    bind(verify_cmd, verify, run_verify);

    auto cmd = std::make_shared<CmdArgs>();
    auto* cmd_cmd = incident->add_subcommand(
        "cmd",
        "send a command (ack, assign, done, skip, fail, decide, note, severity, escalate, "
        "status, timeline, resolve, fact, went, improve, reported, help) and print its result");
    cmd_cmd->add_option("id", cmd->incident, "incident id")->required();
    cmd_cmd->add_option("command", cmd->words, "the command line, e.g. done triage isolated")
        ->required();
    cmd_cmd->add_flag("!--no-wait", cmd->wait, "print the command id without waiting");
    cmd_cmd->add_option("--wait", cmd->wait_seconds, "seconds to wait for the result")
        ->check(CLI::Range(1, 300));
    cmd_cmd->add_flag("--json", cmd->json, "the API's JSON");
    const clock::Clock* clock = ctx.clock;
    bind(cmd_cmd, cmd, [clock](const CmdArgs& a) { return run_incident_cmd(a, *clock); });

    auto rep = std::make_shared<ReportArgs>();
    auto* report_cmd = incident->add_subcommand(
        "report",
        "a report filled from the incident: first (to the prefecture), ppc-preliminary, "
        "ppc-final (to the PPC) or review (post-incident)");
    report_cmd->add_option("id", rep->incident, "incident id")->required();
    report_cmd->add_option("--kind", rep->kind, "first|ppc-preliminary|ppc-final|review")
        ->required();
    report_cmd->add_option("--format", rep->format, "markdown (default), html or json");
    report_cmd->add_option("--lang", rep->lang, "ja (default) or en");
    report_cmd->add_option("-o,--out", rep->out, "write to this file instead of standard output");
    bind(report_cmd, rep, run_incident_report);

    auto services = std::make_shared<ListingArgs>();
    auto* services_cmd =
        app.add_subcommand("services", "RTO status per business service (REST API)");
    services_cmd->add_option("--tenant", services->tenant, "one tenant");
    services_cmd->add_flag("--exercise", services->exercise, "count exercise incidents");
    services_cmd->add_flag("--json", services->json, "the API's JSON");
    bind(services_cmd, services, run_services);
    auto playbooks = std::make_shared<ListingArgs>();
    auto* playbooks_cmd = app.add_subcommand("playbooks", "the playbooks loaded (REST API)");
    playbooks_cmd->add_option("--tenant", playbooks->tenant, "one tenant");
    playbooks_cmd->add_flag("--json", playbooks->json, "the API's JSON");
    bind(playbooks_cmd, playbooks, run_playbooks);
}

}  // namespace sonae::cli
