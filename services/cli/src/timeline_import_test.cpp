#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "timeline_import.hpp"

#include <doctest/doctest.h>

#include <sonae/core/yaml.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/sim/simulate.hpp>

using namespace sonae;
using namespace sonae::cli;

namespace {

const std::string kHeader = "offset,team,channel,content,expected action,score,expiry\n";

TimelineImport import(const std::string& csv, const std::string& id = "",
                      const std::string& title = "",
                      const std::string& start = kDefaultImportStart) {
    return import_timeline(csv, TimelineOptions{"t.csv", id, title, start});
}

// The imported YAML as the simulator reads it (schema-checked).
sim::Scenario scenario_of(const TimelineImport& r) {
    INFO(r.yaml);
    REQUIRE(r.errors.empty());
    static const auto schemas = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas");
    REQUIRE(schemas.ok());
    auto doc = core::parse_yaml(r.yaml, "t.yaml");
    REQUIRE(doc.ok());
    auto s = sim::parse_scenario(*doc, "t.yaml", schemas->scenario());
    INFO((s ? "" : s.error().message));
    REQUIRE(s.ok());
    return std::move(s).value();
}

nlohmann::json json_of(const TimelineImport& r) {
    auto doc = core::parse_yaml(r.yaml, "t.yaml");
    REQUIRE(doc.ok());
    return doc->value;
}

}  // namespace

TEST_CASE("decode: UTF-8, UTF-8 with BOM, Shift_JIS (CP932), else the line of the bad byte") {
    auto plain = decode_spreadsheet_text("経過時間,内容\n", "t.csv");
    REQUIRE(plain.ok());
    CHECK(plain->encoding == "UTF-8");
    CHECK(plain->text == "経過時間,内容\n");

    auto bom = decode_spreadsheet_text("\xEF\xBB\xBF経過時間\n", "t.csv");
    REQUIRE(bom.ok());
    CHECK(bom->encoding == "UTF-8 (BOM)");
    CHECK(bom->text == "経過時間\n");

    // `printf '経過時間,チャネル,内容\n5m,電話,髙橋さん①～\n' | iconv -f UTF-8 -t CP932`: 髙 and ①
    // are Windows extensions that plain Shift_JIS lacks, ～ is CP932's U+FF5E.
    const std::string cp932 =
        "\x8c\x6f\x89\xdf\x8e\x9e\x8a\xd4\x2c\x83\x60\x83\x83\x83\x6c\x83\x8b\x2c\x93\xe0\x97\x65"
        "\x0a\x35\x6d\x2c\x93\x64\x98\x62\x2c\xfb\xfc\x8b\xb4\x82\xb3\x82\xf1\x87\x40\x81\x60\x0a";
    auto sjis = decode_spreadsheet_text(cp932, "t.csv");
    REQUIRE(sjis.ok());
    CHECK(sjis->encoding == "Shift_JIS (CP932)");
    CHECK(sjis->text == "経過時間,チャネル,内容\n5m,電話,髙橋さん①～\n");

    auto bad = decode_spreadsheet_text("a\nb\n\xff\xff\n", "t.csv");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "t.csv:3: neither UTF-8 nor Shift_JIS (CP932): byte 0xFF");
    auto bad_bom = decode_spreadsheet_text(
        "\xEF\xBB\xBF"
        "a\n\xff\n",
        "t.csv");
    REQUIRE_FALSE(bad_bom.ok());
    CHECK(bad_bom.error().message.starts_with("t.csv:2: not valid UTF-8"));
    auto utf16 = decode_spreadsheet_text(std::string("\xFF\xFEo\0", 4), "t.csv");
    REQUIRE_FALSE(utf16.ok());
    CHECK(utf16.error().message.starts_with("t.csv: UTF-16"));
}

TEST_CASE("CSV: RFC 4180 quoting, CRLF, blank lines, and the physical line of each record") {
    const std::string text =
        "a,b,c\r\n"
        "\r\n"
        "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
        "2,\"two\r\nlines\",\r\n"
        "  3 ,, \"\"\n"
        "4";
    auto r = parse_csv(text, "t.csv");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 5);
    CHECK((*r)[0].line == 1);
    CHECK((*r)[1].line == 3);
    CHECK((*r)[1].cells == std::vector<std::string>{"1", "x, y", "say \"hi\""});
    CHECK((*r)[2].line == 4);
    CHECK((*r)[2].cells == std::vector<std::string>{"2", "two\r\nlines", ""});
    CHECK((*r)[3].line == 6);
    CHECK((*r)[3].cells == std::vector<std::string>{"3", "", ""});
    CHECK((*r)[4].line == 7);  // no line break at the end
    CHECK((*r)[4].cells == std::vector<std::string>{"4"});

    auto open = parse_csv("a,b\n1,\"never\nclosed\n", "t.csv");
    REQUIRE_FALSE(open.ok());
    CHECK(open.error().message == "t.csv:2: a quoted cell is not closed");
    auto stray = parse_csv("a,b\n1,2\n3,ab\"c\"\n", "t.csv");
    REQUIRE_FALSE(stray.ok());
    CHECK(stray.error().message.starts_with("t.csv:3: misplaced quote"));
}

TEST_CASE("import: narrative, event and command rows with every kind of expectation") {
    const std::string csv =
        "経過時間,チーム/担当,チャネル,内容,期待される対応,配点,期限\n"
        "2m,SOC,siem:wazuh,\"{\"\"rule\"\":{\"\"level\"\":12,\"\"id\"\":\"\"87105\"\","
        "\"\"description\"\":\"\"Ransomware\"\"},\"\"agent\"\":{\"\"id\"\":\"\"014\"\","
        "\"\"name\"\":\"\"juki-ap01\"\"},\"\"id\"\":\"\"1.2\"\"}\",done isolate,10,+58m\n"
        "0:05,csirt-tanaka（responder）,command,ack,,,\n"
        "1:30:30,\"pr、csirt_lead\",電話,\"記者から電話「本当ですか」\n"
        "二行目, yes\",notified prefecture,5点,D+0 H+8\n"
        "D+1 H+3 M+45,,press,yes,escalated critical-to-ciso,,\n"
        ",,,,rto_met juki,15,\n"
        ",,,,done isolate,1,\n"
        ",,,,resolved,2.5,80h\n";
    const auto r = import(csv, "drill", "2026", "");
    CHECK(r.errors == std::vector<std::string>{"--start '' is not an RFC 3339 time (e.g. "
                                               "2026-04-01T09:00:00+09:00)"});
    const auto ok = import(csv, "drill", "2026");
    INFO(ok.yaml);
    CHECK(ok.encoding == "UTF-8");
    CHECK(ok.injects == 3);
    CHECK(ok.players == 1);
    CHECK(ok.expectations == 6);
    const auto s = scenario_of(ok);
    CHECK(s.id == "drill");
    CHECK(s.title == "2026");  // quoted: it stays a string
    CHECK(s.duration == 80 * core::kHour);
    REQUIRE(s.injects.size() == 3);
    CHECK(s.injects[0].at == 2 * core::kMinute);
    CHECK(s.injects[0].format == ingest::Format::kWazuh);
    CHECK(s.injects[0].event["agent"]["id"] == "014");  // a string, not the number 14
    CHECK(s.injects[0].event["rule"]["level"] == 12);
    CHECK(s.injects[1].at == core::kHour + 30 * core::kMinute + 30 * core::kSecond);
    CHECK(s.injects[1].message == "記者から電話「本当ですか」\n二行目, yes");
    CHECK(s.injects[1].to == std::vector<std::string>{"pr", "csirt_lead"});
    CHECK(s.injects[2].at == core::kDay + 3 * core::kHour + 45 * core::kMinute);
    CHECK(s.injects[2].message == "yes");
    CHECK(s.injects[2].to.empty());
    REQUIRE(s.players.size() == 1);
    CHECK(s.players[0].at == 5 * core::kMinute);
    CHECK(s.players[0].as == "csirt-tanaka");
    CHECK(s.players[0].permission == core::Permission::kResponder);
    CHECK(s.players[0].command == "ack");
    const auto j = json_of(ok);
    CHECK(j["injects"][1]["at"] == "1h30m30s");
    CHECK(j["injects"][2]["at"] == "D+1 H+3 M+45");  // kept as the facilitator wrote it
    CHECK(j["expect"] == nlohmann::json::parse(R"([
        {"id": "done-isolate", "step_done": "isolate", "by": "1h", "score": 10},
        {"id": "notified-prefecture", "notified_role": "prefecture", "by": "D+0 H+8", "score": 5},
        {"id": "escalated-critical-to-ciso", "escalated": "critical-to-ciso"},
        {"id": "rto-juki", "rto_met": "juki", "score": 15},
        {"id": "done-isolate-2", "step_done": "isolate", "score": 1},
        {"id": "resolved", "resolved": true, "by": "80h", "score": 2.5}])"));
}

TEST_CASE("import: English headers in any order, extra columns, default id and title") {
    const std::string csv =
        "No.,Channel,Content,Offset,Notes\n"
        "1,mail,hello,45m,ignored\n"
        ",,,,\n";
    TimelineOptions options;
    options.file = "/tmp/My Drill 2026.csv";
    const auto r = import_timeline(csv, options);
    REQUIRE(r.errors.empty());
    const auto j = json_of(r);
    CHECK(j["id"] == "my-drill-2026");
    CHECK(j["title"] == "My Drill 2026");
    CHECK(j["start"] == kDefaultImportStart);
    CHECK_FALSE(j.contains("duration"));
    CHECK(j["injects"] == nlohmann::json::parse(R"([{"at": "45m", "message": "hello"}])"));
}

TEST_CASE("import: every bad row is reported with its line, and nothing is produced") {
    const std::string csv = kHeader +
                            "5m,,phone,\"a cell\n"
                            "on two lines\",,,\n"                     // 2-3: fine
                            "soon,,phone,x,,,\n"                      // 4
                            "10m,,fax,x,done Isolate,,\n"             // 5
                            "10m,,siem:nope,{},,,\n"                  // 6
                            "11m,,siem:wazuh,\"{\"\"a\"\":1}\",,,\n"  // 7
                            "12m,,alert,not json,,,\n"                // 8
                            "13m,,command,frobnicate,,,\n"            // 9
                            "14m,x (boss),command,ack,,,\n"           // 10
                            ",,,,rto_met juki,-1,\n"                  // 11
                            ",,,,resolved,,+1h\n"                     // 12
                            "15m,,phone,x,,,,extra\n"                 // 13
                            "16m,,,hello,,,\n"                        // 14
                            "17m,,phone,,,,\n"                        // 15
                            "1h,,phone,x,done a,,30m\n"               // 16
                            "18m,,pigeon,x,,,\n"                      // 17
                            "19m,,phone,x,,3,\n"                      // 18
                            "20m,,phone,x,sent report,,\n";           // 19
    const auto r = import(csv);
    CHECK(r.yaml.empty());
    const std::vector<std::string> expected{
        "t.csv:4: offset 'soon' is not an offset (45m, 1h30m, D+1 H+3 M+45 or 1:30)",
        "t.csv:5: expected action 'done Isolate': done wants one id (lower-case letters, "
        "digits, '-' or '_'), e.g. done isolate",
        "t.csv:6: unknown event format 'nope' (generic, cloudevents, alertmanager, pagerduty, "
        "wazuh, elastic, splunk, grafana)",
        "t.csv:7: wazuh event: /rule: required object",
        "t.csv:8: content of an event row must be a JSON object: ",
        "t.csv:9: command 'frobnicate': unknown command 'frobnicate'",
        "t.csv:10: player role 'boss' is not viewer, responder, commander or admin",
        "t.csv:11: score '-1' is not a number ≥ 0",
        "t.csv:12: expiry '+1h' is relative (+) but the row has no offset",
        "t.csv:13: 8 cells, but the header has 7",
        "t.csv:14: channel is empty (siem:<format>, alert, command, phone, mail, press, chat ...)",
        "t.csv:15: content is empty",
        "t.csv:16: expiry '30m' is before the row's offset '1h'",
        "t.csv:17: unknown channel 'pigeon'",
        "t.csv:18: score or expiry without an expected action",
        "t.csv:19: expected action 'sent report' is not one of: done <step>, rto_met <service>, "
        "notified <role>, escalated <key>, resolved",
    };
    REQUIRE(r.errors.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        CHECK(r.errors[i].starts_with(expected[i]));
}

TEST_CASE("import: header and whole-file problems") {
    CHECK(import("").errors.at(0).starts_with("t.csv: no header row"));
    CHECK(import("offset,channel,content,colour\n")
              .errors.at(0)
              .starts_with("t.csv:1: unknown column 'colour'"));
    CHECK(import("offset,channel,content,内容\n").errors.at(0) == "t.csv:1: two content columns");
    CHECK(import("\n\noffset,content\n").errors.at(0) == "t.csv:3: no channel column");
    CHECK(import(kHeader + "5m,a,command,ack,,,\n").errors.at(0).starts_with("t.csv: no inject"));
    CHECK(import(kHeader + "5m,,phone,x,,,\n", "Bad Id").errors.at(0).starts_with("--id 'Bad Id'"));
}

TEST_CASE("import: Shift_JIS and UTF-8 with BOM give the same scenario") {
    const std::string utf8 =
        "経過時間,チーム/担当,チャネル,内容\n"
        "5m,pr,電話,髙橋さんから電話①\n";
    // The same text in CP932 (see the decode test).
    const std::string cp932 =
        "\x8c\x6f\x89\xdf\x8e\x9e\x8a\xd4,\x83\x60\x81\x5b\x83\x80/\x92\x53\x93\x96,"
        "\x83\x60\x83\x83\x83\x6c\x83\x8b,\x93\xe0\x97\x65\n"
        "5m,pr,\x93\x64\x98\x62,\xfb\xfc\x8b\xb4\x82\xb3\x82\xf1\x82\xa9\x82\xe7\x93\x64\x98\x62"
        "\x87\x40\n";
    const auto a = import("\xEF\xBB\xBF" + utf8);
    const auto b = import(cp932);
    INFO((b.errors.empty() ? "" : b.errors[0]));
    CHECK(a.encoding == "UTF-8 (BOM)");
    CHECK(b.encoding == "Shift_JIS (CP932)");
    REQUIRE(a.errors.empty());
    REQUIRE(b.errors.empty());
    CHECK(a.yaml == b.yaml);
    CHECK(scenario_of(a).injects.at(0).message == "髙橋さんから電話①");
}
