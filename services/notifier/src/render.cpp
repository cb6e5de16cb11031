// Per-platform payloads of a notification (PRODUCT §8).
#include <ctime>

#include <sonae/crypto/crypto.hpp>

#include "delivery.hpp"

namespace sonae::notifier {
namespace {

using nlohmann::json;

// Slack's mrkdwn reads &, < and > as markup.
std::string slack_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else
            out += c;
    }
    return out;
}

json slack_payload(const std::string& title, const std::string& text, const std::vector<Button>& bs,
                   const core::Notification& n) {
    json blocks =
        json::array({{{"type", "section"},
                      {"text",
                       {{"type", "mrkdwn"},
                        {"text", "*" + slack_escape(title) + "*\n" + slack_escape(text)}}}}});
    if (!bs.empty()) {
        json elements = json::array();
        for (const auto& b : bs) {
            elements.push_back({{"type", "button"},
                                {"text", {{"type", "plain_text"}, {"text", b.label}}},
                                {"action_id", "sonae." + b.command.substr(0, b.command.find(' '))},
                                {"value", b.command}});
        }
        blocks.push_back(
            {{"type", "actions"}, {"block_id", n.incident_id}, {"elements", elements}});
    }
    return {{"text", title}, {"blocks", blocks}};
}

json mattermost_payload(const std::string& title, const std::string& text,
                        const std::vector<Button>& bs, const RenderContext& ctx) {
    json attachment = {{"fallback", title}, {"title", title}, {"text", text}};
    if (!bs.empty() && !ctx.public_url.empty()) {
        json actions = json::array();
        for (std::size_t i = 0; i < bs.size(); ++i) {
            actions.push_back({{"id", "sonae" + std::to_string(i)},
                               {"name", bs[i].label},
                               {"integration",
                                {{"url", ctx.public_url + "/v1/chatops/mattermost/action"},
                                 {"context",
                                  {{"command", bs[i].command},
                                   {"sig", mattermost_button_signature(ctx.mattermost_token,
                                                                       bs[i].command)}}}}}});
        }
        attachment["actions"] = actions;
    }
    return {{"attachments", json::array({attachment})}};
}

// Teams workflow webhooks take an Adaptive Card in a message activity.
json teams_payload(const std::string& title, const std::string& text) {
    return {
        {"type", "message"},
        {"attachments",
         json::array(
             {{{"contentType", "application/vnd.microsoft.card.adaptive"},
               {"contentUrl", nullptr},
               {"content",
                {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                 {"type", "AdaptiveCard"},
                 {"version", "1.4"},
                 {"body",
                  json::array({{{"type", "TextBlock"},
                                {"text", title},
                                {"weight", "Bolder"},
                                {"size", "Medium"},
                                {"wrap", true}},
                               {{"type", "TextBlock"}, {"text", text}, {"wrap", true}}})}}}}})}};
}

json webhook_payload(const core::Notification& n, const std::string& title, const std::string& text,
                     bool redacted) {
    json body = {{"type", "sonae.notification." + n.kind},
                 {"id", n.id},
                 {"tenant", n.tenant},
                 {"incident", n.incident_id},
                 {"kind", n.kind},
                 {"title", title},
                 {"text", text},
                 {"severity", core::to_string(n.severity)},
                 {"roles", n.roles},
                 {"exercise", n.exercise},
                 {"redacted", redacted},
                 {"at", core::format_timestamp(n.at)}};
    if (n.classification)
        body["classification"] = core::to_string(*n.classification);
    if (!n.step.empty())
        body["step"] = n.step;
    return body;
}

// "<x@sonae>": ids carry ':' and '|', which message ids do not like.
std::string message_id(const std::string& id) {
    std::string out = "<";
    for (char c : id)
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '.';
    return out + "@sonae>";
}

std::string rfc5322_date(core::TimePoint now) {
    const std::time_t t = static_cast<std::time_t>(now / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

std::string wrap76(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); i += 76)
        out += s.substr(i, 76) + "\r\n";
    return out;
}

}  // namespace

std::vector<Button> buttons(const core::Notification& n) {
    const std::string& id = n.incident_id;
    if (n.kind == "resolved")
        return {};
    if (n.kind == "decision" && !n.step.empty()) {
        std::vector<Button> out;
        for (const auto& o : n.options)
            out.push_back({o, "decide " + n.step + " " + o + " " + id});
        return out;
    }
    if (!n.step.empty() && n.kind != "step")
        return {{"Done", "done " + n.step + " " + id}, {"Status", "status " + id}};
    return {{"Ack", "ack " + id}, {"Status", "status " + id}};
}

std::string mattermost_button_signature(const std::string& token, const std::string& command) {
    return crypto::base64url_encode(crypto::hmac_sha256(token, "sonae-button:" + command));
}

std::string email_message(const core::Notification& n, const config::Channel& ch,
                          const std::string& subject, const std::string& text,
                          core::TimePoint now) {
    std::string to;
    for (const auto& r : ch.to)
        to += (to.empty() ? "" : ", ") + r;
    const std::string thread = message_id(n.tenant + "." + n.incident_id);
    std::string m;
    m += "From: " + ch.from + "\r\n";
    m += "To: " + to + "\r\n";
    m += "Subject: =?UTF-8?B?" + crypto::base64_encode(subject) + "?=\r\n";
    m += "Date: " + rfc5322_date(now) + "\r\n";
    m += "Message-ID: " + message_id(n.id) + "\r\n";
    m += "In-Reply-To: " + thread + "\r\n";
    m += "References: " + thread + "\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: text/plain; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    m += "X-Sonae-Incident: " + n.incident_id + "\r\n";
    m += "\r\n";
    m += wrap76(crypto::base64_encode(text + "\r\n"));
    return m;
}

Outgoing render(const core::Notification& n, const config::Channel& ch, const RenderContext& ctx) {
    Outgoing out;
    out.redacted = needs_redaction(n, ch);
    const std::string& title = out.redacted ? n.redacted_title : n.title;
    const std::string& text = out.redacted ? n.redacted_text : n.text;
    if (ch.type == "email") {
        out.body = email_message(n, ch, title, text, ctx.now);
        return out;
    }
    out.headers.emplace_back("Content-Type", "application/json");
    if (ch.type == "slack") {
        out.body = slack_payload(title, text, buttons(n), n).dump();
    } else if (ch.type == "mattermost") {
        out.body = mattermost_payload(title, text, buttons(n), ctx).dump();
    } else if (ch.type == "teams") {
        out.body = teams_payload(title, text).dump();
    } else if (ch.type == "lineworks") {
        out.body = json{{"content", {{"type", "text"}, {"text", title + "\n" + text}}}}.dump();
    } else {
        out.body = webhook_payload(n, title, text, out.redacted).dump();
        if (!ch.secret.empty()) {
            // Standard Webhooks: the id is the notification's, stable across retries.
            const std::int64_t now_s = ctx.now / 1000;
            out.headers.emplace_back("webhook-id", n.id);
            out.headers.emplace_back("webhook-timestamp", std::to_string(now_s));
            out.headers.emplace_back(
                "webhook-signature",
                crypto::webhooks::sign(ch.secret, n.id, now_s, out.body).value_or(""));
        }
    }
    return out;
}

}  // namespace sonae::notifier
