#include <doctest/doctest.h>

#include <sonae/core/command.hpp>

using namespace sonae::core;

TEST_CASE("the command language parses every verb") {
    auto c = parse_command("/sonae done isolate 隔離完了 (VLAN 20)");
    REQUIRE(c);
    CHECK(c->verb == Verb::kDone);
    CHECK(c->step == "isolate");
    CHECK(c->arg == "隔離完了 (VLAN 20)");
    CHECK(parse_command("ack")->verb == Verb::kAck);
    CHECK(parse_command("assign isolate tanaka")->arg == "tanaka");
    CHECK(parse_command("skip report not needed")->arg == "not needed");
    CHECK(parse_command("fail restore backup corrupt")->verb == Verb::kFail);
    CHECK(parse_command("decide ppc report")->arg == "report");
    CHECK(parse_command("note 記者から電話")->arg == "記者から電話");
    CHECK(parse_command("severity critical")->arg == "critical");
    CHECK(parse_command("escalate")->arg.empty());
    CHECK(parse_command("escalate ciso")->arg == "ciso");
    CHECK(parse_command("status")->verb == Verb::kStatus);
    CHECK(parse_command("timeline")->verb == Verb::kTimeline);
    CHECK(parse_command("resolve restored from backup")->arg == "restored from backup");
    CHECK(parse_command("help")->verb == Verb::kHelp);
    CHECK(format_command(*parse_command("  done   isolate   ok ")) == "done isolate ok");
}

TEST_CASE("bad commands answer with the usage line") {
    auto r = parse_command("done");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidCommand);
    CHECK(r.error().message.find("usage: done <step> [note]") != std::string::npos);
    CHECK(parse_command("skip isolate").error().message.find("skip <step> <reason>") !=
          std::string::npos);
    CHECK(parse_command("severity apocalyptic").error().message.find("usage") != std::string::npos);
    CHECK(parse_command("explode now").error().message.find("commands:") != std::string::npos);
    CHECK_FALSE(parse_command(""));
    CHECK_FALSE(parse_command("ack please"));
    CHECK_FALSE(parse_command("decide ppc two words"));
    CHECK_FALSE(parse_command(std::string(5000, 'a')));
}

TEST_CASE("permissions are ordered") {
    CHECK(required_permission(Verb::kStatus) == Permission::kViewer);
    CHECK(required_permission(Verb::kDone) == Permission::kResponder);
    CHECK(required_permission(Verb::kResolve) == Permission::kCommander);
    CHECK(parse_permission("prefecture") == Permission::kCommander);
    CHECK_FALSE(parse_permission("root").has_value());
}

TEST_CASE("a chat line names its incident first or last, never inside a note") {
    auto s = split_incident("/sonae done isolate  INC-20260401-0001");
    CHECK(s.incident == "INC-20260401-0001");
    CHECK(s.command == "/sonae done isolate");
    s = split_incident("city-a.INC-20260401-0002 ack");
    CHECK(s.incident == "city-a.INC-20260401-0002");
    CHECK(s.command == "ack");
    s = split_incident("sonae INC-20260401-0003 status");
    CHECK(s.incident == "INC-20260401-0003");
    CHECK(s.command == "sonae status");
    s = split_incident("note INC-20260401-0004 と同じ手口");
    CHECK(s.incident.empty());
    CHECK(s.command == "note INC-20260401-0004 と同じ手口");
    s = split_incident("INC-20260401-0005");  // only an id: no command left to run
    CHECK(s.incident == "INC-20260401-0005");
    CHECK(s.command.empty());
    CHECK(split_incident("ack INC-2026").incident.empty());
    CHECK(split_incident("").command.empty());
}

TEST_CASE("the reports' commands: facts by key, lessons, improvements, reports submitted") {
    auto f = parse_command("fact data-items 氏名、住所 (120件)");
    REQUIRE(f);
    CHECK(f->verb == Verb::kFact);
    CHECK(f->key == "data-items");
    CHECK(f->arg == "氏名、住所 (120件)");
    CHECK(format_command(*f) == "fact data-items 氏名、住所 (120件)");
    CHECK(parse_command("fact affected 120")->arg == "120");
    CHECK(parse_command("fact personal-data no")->arg == "no");
    auto w = parse_command("went badly 連絡網が古かった");
    REQUIRE(w);
    CHECK(w->key == "badly");
    auto i = parse_command("improve csirt_lead 2026-06-30 連絡網を四半期ごとに更新");
    REQUIRE(i);
    CHECK(i->key == "csirt_lead");
    CHECK(i->extra == "2026-06-30");
    CHECK(i->arg == "連絡網を四半期ごとに更新");
    CHECK(format_command(*i) == "improve csirt_lead 2026-06-30 連絡網を四半期ごとに更新");
    auto r = parse_command("reported first");
    REQUIRE(r);
    CHECK(r->key == "first");
    CHECK(r->arg.empty());
    CHECK(parse_command("reported ppc-final 受付番号 123")->arg == "受付番号 123");
    // Errors name what is wrong and how it is written.
    CHECK(parse_command("fact mood great").error().message.find("keys: summary, occurred") !=
          std::string::npos);
    CHECK(parse_command("fact affected many").error().message.find("number of people") !=
          std::string::npos);
    CHECK(parse_command("fact affected -3").error().message.find("number of people") !=
          std::string::npos);
    CHECK(parse_command("fact personal-data maybe").error().message.find("yes or no") !=
          std::string::npos);
    CHECK(parse_command("fact cause").error().message.find("usage: fact <key> <value>") !=
          std::string::npos);
    CHECK(parse_command("went sideways x").error().message.find("went <well|badly>") !=
          std::string::npos);
    CHECK(parse_command("improve lead 30/06/2026 x").error().message.find("YYYY-MM-DD") !=
          std::string::npos);
    CHECK(parse_command("improve lead 2026-13-01 x").error().message.find("YYYY-MM-DD") !=
          std::string::npos);
    CHECK_FALSE(parse_command("improve lead 2026-06-30"));
    CHECK(parse_command("reported police").error().message.find("unknown report") !=
          std::string::npos);
    CHECK(help_text().find("fact keys: summary") != std::string::npos);
    // Every verb once, each with its usage in help (the board's buttons are built from it).
    CHECK(all_verbs().size() == 17);
    CHECK(all_verbs().front() == Verb::kAck);
    for (const Verb v : all_verbs())
        CHECK(help_text().find(std::string(usage(v))) != std::string::npos);
    // Who may: facts, lessons and plans are a responder's; a report submitted, a commander's.
    CHECK(required_permission(Verb::kFact) == Permission::kResponder);
    CHECK(required_permission(Verb::kWent) == Permission::kResponder);
    CHECK(required_permission(Verb::kImprove) == Permission::kResponder);
    CHECK(required_permission(Verb::kReported) == Permission::kCommander);
    CHECK(parse_command("fact cause x")->allowed_after_resolve());
    CHECK_FALSE(parse_command("ack")->allowed_after_resolve());
}
