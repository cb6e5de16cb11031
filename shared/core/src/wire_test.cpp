// The wire contract: every broker message survives a round trip, and a malformed one comes back
// as an error value, never an exception.
#include <doctest/doctest.h>

#include <sonae/core/timer_id.hpp>
#include <sonae/core/wire.hpp>

using namespace sonae::core;
using nlohmann::json;

TEST_CASE("every message round-trips through its JSON") {
    Notification n;
    n.id = "default:INC-1:n1";
    n.tenant = "default";
    n.incident_id = "INC-1";
    n.kind = "opened";
    n.title = "t";
    n.text = "x";
    n.redacted_title = "rt";
    n.redacted_text = "rx";
    n.roles = {"csirt"};
    n.channels = {"ops"};
    n.severity = Severity::kHigh;
    n.classification = Classification::k3A;
    n.exercise = true;
    n.at = 1775005323456;
    auto n2 = notification_from_json(to_json(n));
    REQUIRE(n2);
    CHECK(to_json(*n2) == to_json(n));

    HttpAction a{
        "default:INC-1:http:block",          "default", "INC-1", "block", "PUT", "http://x/y",
        {{"Authorization", "${env:TOKEN}"}}, "{}",      5000,    2,       false};
    auto a2 = http_action_from_json(to_json(a));
    REQUIRE(a2);
    CHECK(to_json(*a2) == to_json(a));

    CommandMessage c{"c1",
                     "town-b",
                     "town-b.INC-20260401-0002",
                     "slack:U1",
                     Permission::kCommander,
                     "ack",
                     ReplyTo{"slack", "https://hooks.slack.com/x", "C1", "U1"}};
    auto c2 = command_message_from_json(to_json(c));
    REQUIRE(c2);
    CHECK(to_json(*c2) == to_json(c));
    CHECK(to_json(c)["type"] == wire::kTypeCommand);

    ActionResult r{"ar:x", "default", "INC-1", "block", true, 204, "ok"};
    auto r2 = action_result_from_json(to_json(r));
    REQUIRE(r2);
    CHECK(to_json(*r2) == to_json(r));
    CHECK(to_json(r)["type"] == wire::kTypeActionResult);

    CHECK(c2->reply.url == "https://hooks.slack.com/x");
    CommandMessage plain = c;
    plain.reply = {};
    CHECK_FALSE(to_json(plain).contains("reply"));

    ChatReply chat{"reply:c1", "default", "INC-1", ReplyTo{"lineworks", "", "ch-1", "u-1"},
                   true,       "✓ ack"};
    auto chat2 = chat_reply_from_json(to_json(chat));
    REQUIRE(chat2);
    CHECK(to_json(*chat2) == to_json(chat));
    CHECK(OutboxEntry::of(chat).type == wire::kTypeReply);
    CHECK(OutboxEntry::of(chat).routing_key == wire::kNotifications);

    CommandReply reply{"c1", false, "unknown step"};
    auto reply2 = command_reply_from_json(to_json(reply));
    REQUIRE(reply2);
    CHECK(to_json(*reply2) == to_json(reply));

    const OutboxEntry o = OutboxEntry::of(n);
    CHECK(o.routing_key == wire::kNotifications);
    CHECK(o.message_id == n.id);
    auto o2 = outbox_entry_from_json(to_json(o));
    REQUIRE(o2);
    CHECK(o2->body == o.body);
    CHECK(OutboxEntry::of(a).routing_key == wire::kActions);
    CHECK(OutboxEntry::of(r).routing_key == wire::kCommands);
    CHECK(OutboxEntry::of(c).type == wire::kTypeCommand);
}

TEST_CASE("malformed messages are errors, not exceptions") {
    CHECK_FALSE(notification_from_json(json::array()));
    CHECK_FALSE(notification_from_json(json{{"title", "no id"}}));
    CHECK_FALSE(notification_from_json(json{{"id", 5}}));
    CHECK_FALSE(http_action_from_json(json{{"url", "x"}}));
    CHECK_FALSE(command_message_from_json(json{{"id", "c"}, {"incident", "i"}}));
    CHECK_FALSE(action_result_from_json(json{{"id", "r"}, {"incident", "i"}}));
    CHECK_FALSE(command_reply_from_json(json("text")));
    CHECK_FALSE(outbox_entry_from_json(json{{"rk", "events"}}));
    auto unknown_permission = command_message_from_json(
        json{{"id", "c"}, {"incident", "i"}, {"text", "ack"}, {"permission", "root"}});
    REQUIRE(unknown_permission);
    CHECK(unknown_permission->permission == Permission::kViewer);  // never more than asked
}

TEST_CASE("timer ids: one parse, one format") {
    for (const char* text : {"due:triage", "wait:cooldown", "esc:half", "esc:half:juki", "rto:juki",
                             "predict:web-site"}) {
        auto id = TimerId::parse(text);
        REQUIRE(id);
        CHECK(id->str() == text);
    }
    CHECK(TimerId::parse("esc:half:juki")->service == "juki");
    CHECK(TimerId::parse("esc:half:juki")->subject == "half");
    CHECK(TimerId::escalation("half", "juki").str() == "esc:half:juki");
    for (const char* bad : {"", "due", "due:", "nosuch:x", "esc::x", "esc:x:"})
        CHECK_FALSE(TimerId::parse(bad));
    // Ordered as their text, so simultaneous timers fire in a stable order.
    CHECK(TimerId::escalation("half-x") < TimerId::escalation("half", "juki"));
    CHECK(TimerId::due("z") < TimerId::rto("a"));
}
