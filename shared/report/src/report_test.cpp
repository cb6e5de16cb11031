// The incident reports over the shipped library: an incident driven through the personal-data
// leak playbook by the pure engine, each report kind checked field by field against what its
// timeline says, rendered in both languages (escaped), and with a tenant's own template. The HTML
// is also written for the browser test (tests/browser/run-incident-report-test) when
// SONAE_REPORT_OUT names a directory.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include <sonae/core/command.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/report/report.hpp>
#include <sonae/sim/drill.hpp>

namespace sonae::report {
namespace {

using core::kDay;
using core::kHour;
using core::kMinute;
using core::TimePoint;
using nlohmann::json;

const loader::Schemas& schemas() {
    static const loader::Schemas s = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas").value();
    return s;
}

const core::Library& shipped() {
    static const core::Libraries libs = [] {
        auto l = loader::load_libraries(SONAE_SOURCE_DIR "/playbooks", "", schemas());
        REQUIRE_MESSAGE(l, (l ? "" : l.error().message));
        return std::move(l.value());
    }();
    return *libs.at("default");
}

// One incident run by the engine, its timeline kept as the store keeps it.
struct Drive {
    const core::Library& lib = shipped();
    TimePoint start = *core::parse_timestamp("2026-04-01T10:00:00+09:00");
    TimePoint now = start;
    core::Incident incident;
    std::vector<json> timeline;

    void keep(const core::Transition& tr) {
        incident = tr.incident;
        for (const auto& e : tr.timeline)
            timeline.push_back({{"at", core::format_timestamp(e.at)},
                                {"kind", e.kind},
                                {"actor", e.actor},
                                {"text", e.text},
                                {"data", e.data}});
    }
    void open(const core::Event& e) {
        const core::Playbook* pb = lib.engine->select(e);
        REQUIRE(pb != nullptr);
        auto tr = lib.engine->open(e, *pb, "INC-20260401-0001", now);
        REQUIRE(tr);
        keep(*tr);
    }
    void command(const std::string& actor, const std::string& text,
                 core::Permission p = core::Permission::kCommander) {
        auto c = core::parse_command(text);
        REQUIRE_MESSAGE(c, text);
        auto tr = lib.engine->apply(incident, core::CommandInput{actor, p, *c}, now);
        REQUIRE_MESSAGE(tr, text << ": " << (tr ? "" : tr.error().message));
        keep(*tr);
    }
    // Fires the timers due until now + d, in order.
    void advance(core::Duration d) {
        const TimePoint until = now + d;
        while (true) {
            std::optional<core::TimerId> next;
            TimePoint due = until + 1;
            for (const auto& [id, t] : incident.timers) {
                if (t < due) {
                    due = t;
                    next = id;
                }
            }
            if (!next)
                break;
            now = std::max(now, due);
            auto tr = lib.engine->apply(incident, core::TimerInput{*next, due}, now);
            REQUIRE(tr);
            keep(*tr);
        }
        now = until;
    }
    json report(Kind kind, sim::Lang lang = sim::Lang::kJa) const {
        Input in;
        in.record = sim::record_from_timeline(incident, timeline);
        in.engine = lib.engine.get();
        in.now = now;
        return build(kind, in, lang);
    }
    std::string at(core::Duration from_start) const {
        return core::format_timestamp_offset(start + from_start, 9 * 60);
    }
};

core::Event leak() {
    core::Event e;
    e.id = "e-leak";
    e.source = "dlp";
    e.title = "住民票データの誤送信 <script>alert(1)</script>";
    e.category = core::Category::kDataLeak;
    e.severity = core::Severity::kHigh;
    e.classification = core::Classification::k3A;
    e.dedup_key = "dlp-1";
    e.occurred_at = *core::parse_timestamp("2026-04-01T08:30:00+09:00");
    e.assets.push_back(core::Asset{"juki-ap01", "", "", ""});
    return e;
}

json find(const json& list, const std::string& key, const std::string& value) {
    for (const auto& row : list) {
        if (row.value(key, "") == value)
            return row;
    }
    FAIL("no " << key << "=" << value << " in " << list.dump());
    return nullptr;
}

// The leak of the shipped playbook, from detection to the final report and the review.
struct Leak : Drive {
    Leak() {
        open(leak());
        now += 10 * kMinute;
        command("sato", "ack", core::Permission::kResponder);
        now += 50 * kMinute;
        command("sato", "done triage 誤送信先1件、添付に120人分", core::Permission::kResponder);
        now += 2 * kHour;
        command("suzuki", "done retrieve 送信先から削除証明を受領", core::Permission::kResponder);
        command("sato", "fact affected 120", core::Permission::kResponder);
        command("sato", "fact data-items 氏名、住所、生年月日", core::Permission::kResponder);
        command("sato", "fact reporter 架空市 総務部 情報政策課 佐藤");
        command("sato", "fact contact 0120-000-000 / csirt@city.example.lg.jp");
        command("sato", "fact summary 住民票データを含むファイルを誤って外部へ送信した");
        command("tanaka", "decide wrongful-intent none", core::Permission::kResponder);
        command("tanaka", "done count 120人と確定", core::Permission::kResponder);
        command("tanaka", "decide ppc-decision report", core::Permission::kResponder);
    }
};

TEST_CASE("first report: times, facts, response and the same-day deadline from the timeline") {
    Leak d;
    const json r = d.report(Kind::kFirst);
    CHECK(r["kind"] == "first");
    CHECK(r["name"] == "第一報");
    CHECK(r["municipality"] == "架空市（Sonae City）");
    CHECK(r["incident"]["id"] == "INC-20260401-0001");
    CHECK(r["incident"]["playbook"] == "personal-data-leak");
    CHECK(r["incident"]["classification"] == "3A");
    CHECK(r["times"]["occurred_at"] == "2026-04-01T08:30:00+09:00");
    CHECK(r["times"]["detected_at"] == d.at(0));
    CHECK(r["times"]["declared_at"] == d.at(10 * kMinute));
    CHECK(r["times"]["contained_at"] == d.at(3 * kHour));  // retrieve: milestone contained
    CHECK(r["times"]["resolved_at"].is_null());
    CHECK(r["summary"] == "住民票データを含むファイルを誤って外部へ送信した");
    CHECK(r["reporter"] == "架空市 総務部 情報政策課 佐藤");
    CHECK(r["missing_facts"].empty());
    CHECK(r["personal_data"]["involved"] == "yes");  // 3A
    CHECK(r["personal_data"]["affected"] == 120);
    CHECK(r["personal_data"]["data_items"] == "氏名、住所、生年月日");
    CHECK(find(r["assets"], "name", "juki-ap01")["alerts"] == 1);
    CHECK(find(r["systems"], "id", "juki-system")["name"] == "住民記録システム");
    // Containment and recovery so far, in the order they finished, with the responders' notes.
    REQUIRE(r["response"].size() >= 4);
    CHECK(r["response"][0]["step"] == "triage");
    CHECK(r["response"][0]["note"] == "誤送信先1件、添付に120人分");
    CHECK(find(r["response"], "step", "first-report")["finished_at"] == d.at(kHour));
    CHECK(find(r["response"], "step", "retrieve")["finished_at"] == d.at(3 * kHour));
    CHECK(find(r["response"], "step", "ppc-decision")["decision"] == "report");
    // Next: the PPC's preliminary report, due 3 days from the start as the playbook says.
    const json next = find(r["next_steps"], "step", "ppc-preliminary");
    CHECK(next["due"] == d.at(3 * kDay));
    CHECK(next["owner"] == "privacy_officer");
    CHECK(next["overdue"] == false);
    // The first report went out when triage finished (the notify step marked first-report),
    // within the day it was detected.
    const json first = find(r["deadlines"], "report", "first");
    CHECK(first["due"] == "2026-04-01T23:59:59+09:00");
    CHECK(first["submitted_at"] == d.at(kHour));
    CHECK(first["state"] == "met");
    CHECK(first["met"] == true);
    CHECK(find(r["deadlines"], "report", "ppc-preliminary")["state"] == "pending");
    CHECK(r.contains("review") == false);
}

TEST_CASE("PPC reports: deadlines from the playbook's steps, met, overdue and reported by hand") {
    Leak d;
    SUBCASE("the preliminary report overdue, then late") {
        d.advance(4 * kDay);
        json r = d.report(Kind::kPpcPreliminary);
        json pre = find(r["deadlines"], "report", "ppc-preliminary");
        CHECK(pre["due"] == d.at(3 * kDay));
        CHECK(pre["state"] == "overdue");
        CHECK(pre["met"] == false);
        CHECK(find(r["next_steps"], "step", "ppc-preliminary")["overdue"] == true);
        d.command("tanaka", "done ppc-preliminary 電子申請で提出", core::Permission::kResponder);
        r = d.report(Kind::kPpcPreliminary);
        pre = find(r["deadlines"], "report", "ppc-preliminary");
        CHECK(pre["state"] == "late");
        CHECK(pre["submitted_at"] == d.at(4 * kDay + 3 * kHour));
    }
    SUBCASE("the final report: 30 days without wrongful intent, reported by command") {
        d.now += kDay;
        d.command("tanaka", "done ppc-preliminary", core::Permission::kResponder);
        json r = d.report(Kind::kPpcFinal);
        CHECK(r["kind"] == "ppc-final");
        CHECK(find(r["deadlines"], "report", "ppc-preliminary")["state"] == "met");
        json fin = find(r["deadlines"], "report", "ppc-final");
        CHECK(fin["due"] == d.at(30 * kDay));  // ppc-final-30d, activated
        CHECK(fin["state"] == "pending");
        // The final report asks for every item; the missing ones are named.
        std::vector<std::string> missing = r["missing_facts"];
        CHECK(missing == std::vector<std::string>{"cause", "harm", "individuals", "announcement",
                                                  "prevention"});
        d.command("sato", "fact cause 宛先の選択誤り（オートコンプリート）",
                  core::Permission::kResponder);
        d.command("sato", "fact harm 現時点で二次被害の報告なし", core::Permission::kResponder);
        d.command("sato", "fact individuals 対象者120人に文書でおわびと経緯を通知",
                  core::Permission::kResponder);
        d.command("sato", "fact announcement 4月3日に報道発表", core::Permission::kResponder);
        d.command("sato", "fact prevention 外部送信時の複数人確認を必須化",
                  core::Permission::kResponder);
        d.command("sato", "fact police 相談なし（不正の目的なし）", core::Permission::kResponder);
        d.now += 19 * kDay;
        d.command("suzuki", "reported ppc-final 電子申請（受付番号 123）");
        r = d.report(Kind::kPpcFinal);
        CHECK(r["missing_facts"].empty());
        CHECK(r["facts"]["cause"] == "宛先の選択誤り（オートコンプリート）");
        CHECK(r["facts"]["police"] == "相談なし（不正の目的なし）");
        fin = find(r["deadlines"], "report", "ppc-final");
        CHECK(fin["submitted_at"] == d.at(20 * kDay + 3 * kHour));
        CHECK(fin["state"] == "met");
        // A later value of a fact replaces the earlier one; the timeline keeps both.
        d.command("sato", "fact affected 121", core::Permission::kResponder);
        CHECK(d.report(Kind::kPpcFinal)["personal_data"]["affected"] == 121);
        int entries = 0;
        for (const auto& e : d.timeline)
            entries += e["kind"] == "fact" && e["data"]["key"] == "affected";
        CHECK(entries == 2);
    }
}

TEST_CASE("review: the exercise report's shape, with what went well or badly and the plan") {
    Leak d;
    d.advance(kDay);  // the timers fire in order: end-of-day at 17:00, ...
    d.command("tanaka", "done ppc-preliminary", core::Permission::kResponder);
    d.advance(21 * kHour);
    d.command("sato", "went well 削除証明を3時間で受領できた", core::Permission::kResponder);
    d.command("sato", "went badly 送信前の確認が一人だけだった", core::Permission::kResponder);
    d.command("sato", "improve csirt_lead 2026-06-30 外部送信時の複数人確認を必須にする",
              core::Permission::kResponder);
    CHECK(d.report(Kind::kReview)["review"]["score"].is_null());  // scored once resolved
    d.command("kato", "resolve 回収と報告を完了");
    // Facts and lessons are still taken after the incident is resolved.
    d.command("sato", "went well 県への第一報が1時間以内", core::Permission::kResponder);
    const json r = d.report(Kind::kReview, sim::Lang::kEn);
    CHECK(r["name"] == "Post-incident review");
    CHECK(r["incident"]["status"] == "resolved");
    CHECK(r["times"]["resolved_at"] == d.at(2 * kDay));
    const json& rv = r["review"];
    CHECK(rv["time_to_acknowledge_seconds"] == 600);
    CHECK(rv["time_to_contain_seconds"] == 3 * 3600);
    CHECK(rv["time_to_resolve_seconds"] == 2 * 86400);
    REQUIRE(rv["went_well"].size() == 2);
    CHECK(rv["went_well"][0]["text"] == "削除証明を3時間で受領できた");
    CHECK(rv["went_well"][1]["by"] == "sato");
    CHECK(rv["went_badly"][0]["text"] == "送信前の確認が一人だけだった");
    const json plan = find(rv["improvements"], "finding", "外部送信時の複数人確認を必須にする");
    CHECK(plan["owner"] == "csirt_lead");
    CHECK(plan["due"] == "2026-06-30");
    CHECK(plan["owner_name"] != "csirt_lead");  // the catalog's name of the role
    // The same shape as the exercise report: steps planned vs actual, services against RTOs,
    // escalations in seconds from detection, the whole timeline.
    const json triage = find(rv["steps"], "id", "triage");
    CHECK(triage["done_at_seconds"] == 3600);
    CHECK(triage["on_time"] == true);
    bool end_of_day = false;  // 17:00 on the day of detection, 7 hours in
    for (const auto& e : rv["escalations"])
        end_of_day = end_of_day || (e["key"].get<std::string>().starts_with("end-of-day") &&
                                    e["at_seconds"] == 7 * 3600);
    CHECK(end_of_day);
    CHECK(rv["timeline"].size() == d.timeline.size());
    CHECK(rv["score"].is_number());
    REQUIRE(!rv["services"].empty());  // juki, by the asset juki-ap01
    for (const auto& s : rv["services"]) {
        CHECK(s.contains("rto_seconds"));
        CHECK(s.contains("met"));
        CHECK(s["state_text"] == find(r["services"], "id", s["id"])["state_text"]);
    }
}

TEST_CASE("rendering: every kind in both languages, values escaped, a tenant's own template") {
    Leak d;
    d.command("sato", "went well 早期に検知できた", core::Permission::kResponder);
    const Templates shipped_only;
    const char* out_dir = std::getenv("SONAE_REPORT_OUT");
    for (Kind kind : all_kinds()) {
        for (sim::Lang lang : {sim::Lang::kJa, sim::Lang::kEn}) {
            const json r = d.report(kind, lang);
            CAPTURE(to_string(kind));
            CAPTURE(sim::to_string(lang));
            const std::string md = render_markdown(r, shipped_only);
            CHECK(md.find("INC-20260401-0001") != std::string::npos);
            CHECK(md.find("[template error") == std::string::npos);
            // The alert's title cannot inject markup: escaped in Markdown, text in HTML.
            CHECK(md.find("<script>") == std::string::npos);
            const std::string html = render_html(r, shipped_only);
            CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
            CHECK(html.find("<script") == std::string::npos);
            CHECK(html.find("<table>") != std::string::npos);
            if (kind != Kind::kReview) {
                CHECK(md.find("120") != std::string::npos);
                CHECK(md.find("2026-04-01 08:30") != std::string::npos);  // occurred, local
            }
            if (kind == Kind::kPpcPreliminary)
                CHECK(md.find(lang == sim::Lang::kJa ? "速報" : "preliminary") !=
                      std::string::npos);
            if (kind == Kind::kReview)
                CHECK(md.find("早期に検知できた") != std::string::npos);
            if (out_dir != nullptr && *out_dir != '\0') {
                std::filesystem::create_directories(out_dir);
                const std::string base = std::string(out_dir) + "/" + std::string(to_string(kind)) +
                                         "." + std::string(sim::to_string(lang));
                std::ofstream(base + ".html") << html;
                std::ofstream(base + ".json") << r.dump(2);
            }
        }
    }
    // A municipality's own template replaces the shipped one, and only that one.
    const std::map<std::string, std::string> own{
        {"first.ja.md", "# 第一報 {{incident.id}} 影響 {{personal_data.affected}} 人\n"}};
    const Templates tenant(&own);
    CHECK(render_markdown(d.report(Kind::kFirst), tenant) ==
          "# 第一報 INC-20260401-0001 影響 120 人\n");
    CHECK(render_markdown(d.report(Kind::kFirst, sim::Lang::kEn), tenant).find("First report") !=
          std::string::npos);
    CHECK(check_template("first.ja.md", "{{#open}}") != "");
    CHECK(check_template("weekly.ja.md", "x").find("not a report template") != std::string::npos);
    CHECK(check_template("review.en.md", "{{summary}}").empty());
}

TEST_CASE("templates: a library's reports/ overrides are loaded and checked") {
    const std::string dir = std::filesystem::temp_directory_path() / "sonae-report-templates";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/reports");
    std::ofstream(dir + "/reports/first.ja.md") << "# {{incident.id}}\n";
    auto t = loader::load_report_templates(dir);
    REQUIRE(t);
    CHECK(t->at("first.ja.md") == "# {{incident.id}}\n");
    std::ofstream(dir + "/reports/first.en.md") << "{{#unclosed}}\n";
    t = loader::load_report_templates(dir);
    REQUIRE(!t);
    CHECK(t.error().message.find("first.en.md: invalid template") != std::string::npos);
    std::filesystem::remove_all(dir);
    CHECK(loader::load_report_templates(dir)->empty());
}

TEST_CASE("kinds and formats parse, unknown ones are refused") {
    for (Kind k : all_kinds())
        CHECK(parse_kind(to_string(k)) == k);
    CHECK(!parse_kind("weekly"));
    CHECK(parse_format("md") == Format::kMarkdown);
    CHECK(parse_format("html") == Format::kHtml);
    CHECK(!parse_format("pdf"));
}

}  // namespace
}  // namespace sonae::report
