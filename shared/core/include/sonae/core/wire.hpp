// The wire contract: every message on the broker as a typed struct with one to/from JSON each
// (docs/architecture.md, "Messages"). Every service reads and writes messages only through these.
//
//   routing key     type             body
//   events          event            Event (event.hpp: to_json / event_from_json)
//   commands        command          CommandMessage (chat, CLI, REST API → orchestrator)
//   commands        action-result    ActionResult (notifier → orchestrator)
//   notifications   notification     Notification (orchestrator → notifier)
//   actions         action           HttpAction (orchestrator → notifier)
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
}  // namespace wire

struct Notification {
    std::string id;  // stable: "<tenant>:<incident>:n<seq>" (webhook-id, de-duplication)
    std::string tenant;
    std::string incident_id;
    std::string kind;  // opened, escalation, step, severity, rto, resolved
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

struct CommandMessage {
    std::string id;  // unique per command: the idempotency key
    std::string tenant = "default";
    std::string incident;
    std::string actor;  // responder id, "api:<token name>"
    Permission permission = Permission::kViewer;
    std::string text;  // the command line
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
};
nlohmann::json to_json(const OutboxEntry& o);
Result<OutboxEntry> outbox_entry_from_json(const nlohmann::json& j);

}  // namespace sonae::core
