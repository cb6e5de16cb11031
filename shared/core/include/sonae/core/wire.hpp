// The wire contract: every message on the broker as a typed struct with one to/from JSON each
// (docs/architecture.md, "Messages"). Every service reads and writes messages only through these.
//
//   routing key     type             body
//   events          event            Event (event.hpp: to_json / event_from_json)
//   commands        command          CommandMessage (chat, CLI, REST API → orchestrator)
//   commands        action-result    ActionResult (notifier → orchestrator)
//   notifications   notification     Notification (orchestrator → notifier)
//   notifications   reply            ChatReply: a command's answer to post back to chat
//   actions         action           HttpAction (orchestrator → notifier)
//   events          events           [Event, ...]: events coalesced by the gateway's publisher
//   notifications   notifications    [Notification, ...]: an orchestrator batch's notifications
// CommandReply is the orchestrator's answer to a command; OutboxEntry is a message a committed
// transition still has to publish (kept in Redis until the broker confirmed it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/command.hpp>
#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/time.hpp>

namespace sonae::core {

namespace wire {
// Routing keys (the kinds of work queues) and message types.
inline constexpr const char* kEvents = "events";
inline constexpr const char* kCommands = "commands";
inline constexpr const char* kNotifications = "notifications";
inline constexpr const char* kActions = "actions";
inline constexpr const char* kTypeEvent = "event";
inline constexpr const char* kTypeCommand = "command";
inline constexpr const char* kTypeActionResult = "action-result";
inline constexpr const char* kTypeNotification = "notification";
inline constexpr const char* kTypeAction = "action";
inline constexpr const char* kTypeReply = "reply";
// A combined message (amqp/coalesce.hpp): the body is a JSON array of events, notifications.
inline constexpr const char* kTypeEvents = "events";
inline constexpr const char* kTypeNotifications = "notifications";
}  // namespace wire

struct Notification {
    std::string id;  // stable: "<tenant>:<incident>:n<seq>" (webhook-id, de-duplication)
    std::string tenant;
    std::string incident_id;
    // opened, step, assigned, due_soon, overdue, decision, escalation, severity, rto, resolved
    std::string kind;
    std::string title;
    std::string text;
    std::string redacted_title;  // for channels cleared below the incident's classification
    std::string redacted_text;
    std::vector<std::string> roles;
    std::vector<std::string> channels;
    Severity severity = Severity::kMedium;
    std::optional<Classification> classification;
    bool exercise = false;
    TimePoint at = 0;
    std::string step;  // the step it is about (assigned, due soon, overdue, decision)
    std::vector<std::string> options;  // a decision's options (chat buttons)
};
nlohmann::json to_json(const Notification& n);
Result<Notification> notification_from_json(const nlohmann::json& j);

struct HttpAction {
    std::string id;  // stable: "<tenant>:<incident>:http:<step>"
    std::string tenant;
    std::string incident_id;
    std::string step;
    std::string method;
    std::string url;
    std::map<std::string, std::string> headers;
    std::string body;
    Duration timeout = 0;
    int retries = 0;
    bool exercise = false;
};
nlohmann::json to_json(const HttpAction& a);
Result<HttpAction> http_action_from_json(const nlohmann::json& j);

// Where the answer to a command goes when nobody waits for it in the request (chat platforms
// that want a quick acknowledgement and the result later).
struct ReplyTo {
    std::string platform;  // slack | mattermost | lineworks; empty: no message back
    std::string url;       // slack, mattermost: the request's response_url
    std::string channel;   // lineworks: the channel the command came from (empty: 1:1)
    std::string user;      // lineworks: the user who sent it
    bool empty() const { return platform.empty(); }
};

struct CommandMessage {
    std::string id;  // unique per command: the idempotency key
    std::string tenant = "default";
    std::string incident;
    std::string actor;  // responder id, "api:<token name>"
    Permission permission = Permission::kViewer;
    std::string text;  // the command line
    ReplyTo reply;
};
nlohmann::json to_json(const CommandMessage& c);
Result<CommandMessage> command_message_from_json(const nlohmann::json& j);

struct ActionResult {
    std::string id;  // "ar:<action id>"
    std::string tenant = "default";
    std::string incident;
    std::string step;
    bool ok = false;
    int status = 0;
    std::string detail;
};
nlohmann::json to_json(const ActionResult& r);
Result<ActionResult> action_result_from_json(const nlohmann::json& j);

struct CommandReply {
    std::string id;  // the command's
    bool ok = false;
    std::string message;
};

// A command's answer on its way back to the chat it came from (notifier → platform).
struct ChatReply {
    std::string id;  // "reply:<command id>"
    std::string tenant = "default";
    std::string incident;
    ReplyTo to;
    bool ok = false;
    std::string text;
};
nlohmann::json to_json(const ChatReply& r);
Result<ChatReply> chat_reply_from_json(const nlohmann::json& j);
nlohmann::json to_json(const CommandReply& r);
Result<CommandReply> command_reply_from_json(const nlohmann::json& j);

struct OutboxEntry {
    std::string routing_key;
    std::string message_id;
    std::string type;
    std::string body;

    static OutboxEntry of(const Notification& n);
    static OutboxEntry of(const HttpAction& a);
    static OutboxEntry of(const ActionResult& r);
    static OutboxEntry of(const CommandMessage& c);
    static OutboxEntry of(const ChatReply& r);
};
nlohmann::json to_json(const OutboxEntry& o);
Result<OutboxEntry> outbox_entry_from_json(const nlohmann::json& j);

}  // namespace sonae::core
