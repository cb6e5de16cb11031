#include <sonae/core/wire.hpp>

namespace sonae::core {
namespace {

using nlohmann::json;

// Reads a message with `read`, turning a missing or mistyped field into an error value.
template <typename T, typename F>
Result<T> read_message(const json& j, const char* what, F&& read) {
    if (!j.is_object())
        return Error{ErrorCode::kInvalidJson, std::string(what) + " must be a JSON object", ""};
    try {
        return read();
    } catch (const json::exception& e) {
        return Error{ErrorCode::kInvalidField, std::string(what) + ": " + e.what(), ""};
    }
}

json reply_to_json(const ReplyTo& r) {
    return {{"platform", r.platform}, {"url", r.url}, {"channel", r.channel}, {"user", r.user}};
}

ReplyTo reply_to_from_json(const json& j) {
    return ReplyTo{j.value("platform", ""), j.value("url", ""), j.value("channel", ""),
                   j.value("user", "")};
}

}  // namespace

json to_json(const Notification& n) {
    json j = {{"id", n.id},
              {"tenant", n.tenant},
              {"incident", n.incident_id},
              {"kind", n.kind},
              {"title", n.title},
              {"text", n.text},
              {"redacted_title", n.redacted_title},
              {"redacted_text", n.redacted_text},
              {"roles", n.roles},
              {"channels", n.channels},
              {"severity", to_string(n.severity)},
              {"exercise", n.exercise},
              {"at", format_timestamp(n.at)}};
    if (n.classification)
        j["classification"] = to_string(*n.classification);
    if (!n.step.empty())
        j["step"] = n.step;
    if (!n.options.empty())
        j["options"] = n.options;
    return j;
}

Result<Notification> notification_from_json(const json& j) {
    return read_message<Notification>(j, "notification", [&] {
        Notification n;
        n.id = j.at("id").get<std::string>();
        n.tenant = j.value("tenant", "default");
        n.incident_id = j.value("incident", "");
        n.kind = j.value("kind", "");
        n.title = j.value("title", "");
        n.text = j.value("text", "");
        n.redacted_title = j.value("redacted_title", n.title);
        n.redacted_text = j.value("redacted_text", n.text);
        n.roles = j.value("roles", std::vector<std::string>{});
        n.channels = j.value("channels", std::vector<std::string>{});
        n.severity = parse_severity(j.value("severity", "medium")).value_or(Severity::kMedium);
        if (auto it = j.find("classification"); it != j.end())
            n.classification = parse_classification(it->get<std::string>());
        n.exercise = j.value("exercise", false);
        n.at = parse_timestamp(j.value("at", "")).value_or(0);
        n.step = j.value("step", "");
        n.options = j.value("options", std::vector<std::string>{});
        return n;
    });
}

json to_json(const HttpAction& a) {
    return {{"id", a.id},           {"tenant", a.tenant},    {"incident", a.incident_id},
            {"step", a.step},       {"method", a.method},    {"url", a.url},
            {"headers", a.headers}, {"body", a.body},        {"timeout_ms", a.timeout},
            {"retries", a.retries}, {"exercise", a.exercise}};
}

Result<HttpAction> http_action_from_json(const json& j) {
    return read_message<HttpAction>(j, "action", [&] {
        HttpAction a;
        a.id = j.at("id").get<std::string>();
        a.tenant = j.value("tenant", "default");
        a.incident_id = j.value("incident", "");
        a.step = j.value("step", "");
        a.method = j.value("method", "POST");
        a.url = j.value("url", "");
        a.headers = j.value("headers", std::map<std::string, std::string>{});
        a.body = j.value("body", "");
        a.timeout = j.value("timeout_ms", Duration{10000});
        a.retries = j.value("retries", 3);
        a.exercise = j.value("exercise", false);
        return a;
    });
}

json to_json(const CommandMessage& c) {
    json j = {{"id", c.id},         {"type", wire::kTypeCommand},
              {"tenant", c.tenant}, {"incident", c.incident},
              {"actor", c.actor},   {"permission", to_string(c.permission)},
              {"text", c.text}};
    if (!c.reply.empty())
        j["reply"] = reply_to_json(c.reply);
    return j;
}

Result<CommandMessage> command_message_from_json(const json& j) {
    return read_message<CommandMessage>(j, "command", [&] {
        CommandMessage c;
        c.id = j.at("id").get<std::string>();
        c.tenant = j.value("tenant", "default");
        c.incident = j.at("incident").get<std::string>();
        c.actor = j.value("actor", "unknown");
        c.permission =
            parse_permission(j.value("permission", "viewer")).value_or(Permission::kViewer);
        c.text = j.at("text").get<std::string>();
        if (auto it = j.find("reply"); it != j.end() && it->is_object())
            c.reply = reply_to_from_json(*it);
        return c;
    });
}

json to_json(const ActionResult& r) {
    return {{"id", r.id},         {"type", wire::kTypeActionResult},
            {"tenant", r.tenant}, {"incident", r.incident},
            {"step", r.step},     {"ok", r.ok},
            {"status", r.status}, {"detail", r.detail}};
}

Result<ActionResult> action_result_from_json(const json& j) {
    return read_message<ActionResult>(j, "action result", [&] {
        ActionResult r;
        r.id = j.at("id").get<std::string>();
        r.tenant = j.value("tenant", "default");
        r.incident = j.at("incident").get<std::string>();
        r.step = j.at("step").get<std::string>();
        r.ok = j.value("ok", false);
        r.status = j.value("status", 0);
        r.detail = j.value("detail", "");
        return r;
    });
}

json to_json(const CommandReply& r) {
    return {{"id", r.id}, {"ok", r.ok}, {"message", r.message}};
}

Result<CommandReply> command_reply_from_json(const json& j) {
    return read_message<CommandReply>(j, "command reply", [&] {
        return CommandReply{j.at("id").get<std::string>(), j.value("ok", false),
                            j.value("message", "")};
    });
}

json to_json(const ChatReply& r) {
    return {{"id", r.id},
            {"type", wire::kTypeReply},
            {"tenant", r.tenant},
            {"incident", r.incident},
            {"to", reply_to_json(r.to)},
            {"ok", r.ok},
            {"text", r.text}};
}

Result<ChatReply> chat_reply_from_json(const json& j) {
    return read_message<ChatReply>(j, "reply", [&] {
        ChatReply r;
        r.id = j.at("id").get<std::string>();
        r.tenant = j.value("tenant", "default");
        r.incident = j.value("incident", "");
        r.to = reply_to_from_json(j.at("to"));
        r.ok = j.value("ok", false);
        r.text = j.at("text").get<std::string>();
        return r;
    });
}

OutboxEntry OutboxEntry::of(const Notification& n) {
    return {wire::kNotifications, n.id, wire::kTypeNotification, to_json(n).dump()};
}
OutboxEntry OutboxEntry::of(const HttpAction& a) {
    return {wire::kActions, a.id, wire::kTypeAction, to_json(a).dump()};
}
OutboxEntry OutboxEntry::of(const ActionResult& r) {
    return {wire::kCommands, r.id, wire::kTypeActionResult, to_json(r).dump()};
}
OutboxEntry OutboxEntry::of(const CommandMessage& c) {
    return {wire::kCommands, c.id, wire::kTypeCommand, to_json(c).dump()};
}
OutboxEntry OutboxEntry::of(const ChatReply& r) {
    return {wire::kNotifications, r.id, wire::kTypeReply, to_json(r).dump()};
}

json to_json(const OutboxEntry& o) {
    return {{"rk", o.routing_key}, {"id", o.message_id}, {"type", o.type}, {"body", o.body}};
}

Result<OutboxEntry> outbox_entry_from_json(const json& j) {
    return read_message<OutboxEntry>(j, "outbox entry", [&] {
        return OutboxEntry{j.at("rk").get<std::string>(), j.at("id").get<std::string>(),
                           j.value("type", ""), j.at("body").get<std::string>()};
    });
}

}  // namespace sonae::core
