#include "chatops.hpp"

#include <charconv>
#include <regex>

#include <boost/url/parse_query.hpp>

#include <sonae/crypto/crypto.hpp>

namespace sonae::gateway::chatops {
namespace {

using nlohmann::json;

core::Error unauthorized(const std::string& why) {
    return core::Error{core::ErrorCode::kUnauthorized, why, ""};
}

std::string header(const ingest::HeaderMap& h, std::string_view name) {
    auto v = h.get(name);
    return v ? std::string(*v) : std::string{};
}

// Seconds (or milliseconds) since the epoch, or an RFC 3339 time.
std::optional<core::TimePoint> time_of(const std::string& text) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc{} && end == text.data() + text.size())
        return v < 100'000'000'000 ? v * 1000 : v;
    return core::parse_timestamp(text);
}

core::Result<core::Ok> within(const std::optional<core::TimePoint>& t, core::TimePoint now,
                              core::Duration window) {
    if (!t)
        return unauthorized("missing or malformed request time");
    if ((*t > now ? *t - now : now - *t) > window)
        return unauthorized("request time outside the accepted window (a replay?)");
    return core::Ok{};
}

core::Result<core::Ok> slack_signature(const ingest::HeaderMap& headers, const std::string& body,
                                       const std::string& secret, core::TimePoint now,
                                       core::Duration window) {
    if (secret.empty())
        return unauthorized("Slack is not configured (chat.slack_signing_secret)");
    const std::string ts = header(headers, "x-slack-request-timestamp");
    if (auto ok = within(time_of(ts), now, window); !ok)
        return ok.error();
    const std::string given = header(headers, "x-slack-signature");
    const std::string expected =
        "v0=" + crypto::to_hex(crypto::hmac_sha256(secret, "v0:" + ts + ":" + body));
    if (!crypto::constant_time_equal(given, expected))
        return unauthorized("bad X-Slack-Signature");
    return core::Ok{};
}

}  // namespace

std::map<std::string, std::string> form_fields(std::string_view body) {
    std::map<std::string, std::string> out;
    auto parsed = boost::urls::parse_query(body);
    if (!parsed)
        return out;
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    for (const auto& p : *parsed)
        out[p.key.decode(opts)] = p.has_value ? p.value.decode(opts) : std::string{};
    return out;
}

core::Result<Inbound> slack_command(const ingest::HeaderMap& headers, const std::string& body,
                                    const std::string& signing_secret, core::TimePoint now,
                                    core::Duration window) {
    if (auto ok = slack_signature(headers, body, signing_secret, now, window); !ok)
        return ok.error();
    auto f = form_fields(body);
    Inbound in;
    in.platform = config::ChatPlatform::kSlack;
    in.user = f["user_id"];
    in.text = f["text"];
    in.reply = core::ReplyTo{"slack", f["response_url"], f["channel_id"], in.user};
    in.replay_key = header(headers, "x-slack-signature");
    if (in.user.empty())
        return core::Error::invalid_field("user_id", "the slash command has no user_id");
    return in;
}

core::Result<Inbound> slack_interactive(const ingest::HeaderMap& headers, const std::string& body,
                                        const std::string& signing_secret, core::TimePoint now,
                                        core::Duration window) {
    if (auto ok = slack_signature(headers, body, signing_secret, now, window); !ok)
        return ok.error();
    const json p = json::parse(form_fields(body)["payload"], nullptr, false);
    if (!p.is_object())
        return core::Error{core::ErrorCode::kInvalidJson, "payload is not JSON", "payload"};
    Inbound in;
    in.platform = config::ChatPlatform::kSlack;
    if (auto u = p.find("user"); u != p.end() && u->is_object())
        in.user = u->value("id", "");
    if (auto a = p.find("actions");
        a != p.end() && a->is_array() && !a->empty() && (*a)[0].is_object()) {
        in.text = (*a)[0].value("value", "");
    }
    in.reply = core::ReplyTo{"slack", p.value("response_url", ""), "", in.user};
    in.replay_key = header(headers, "x-slack-signature");
    if (in.user.empty() || in.text.empty())
        return core::Error::invalid_field("payload", "the button press names no user or command");
    return in;
}

core::Result<Inbound> mattermost_command(const std::string& body, const std::string& token) {
    auto f = form_fields(body);
    if (token.empty())
        return unauthorized("Mattermost is not configured (chat.mattermost_token)");
    if (!crypto::constant_time_equal(f["token"], token))
        return unauthorized("bad Mattermost token");
    Inbound in;
    in.platform = config::ChatPlatform::kMattermost;
    in.user = f["user_id"];
    in.text = f["text"];
    in.reply = core::ReplyTo{"mattermost", f["response_url"], f["channel_id"], in.user};
    in.replay_key = f["trigger_id"];
    if (in.user.empty())
        return core::Error::invalid_field("user_id", "the slash command has no user_id");
    if (in.replay_key.empty())
        return unauthorized("the slash command has no trigger_id");
    return in;
}

core::Result<Inbound> mattermost_action(const std::string& body, const std::string& token) {
    if (token.empty())
        return unauthorized("Mattermost is not configured (chat.mattermost_token)");
    const json a = json::parse(body, nullptr, false);
    if (!a.is_object() || !a.contains("context") || !a["context"].is_object())
        return core::Error{core::ErrorCode::kInvalidJson, "the action has no context", ""};
    const json& ctx = a["context"];
    const std::string command = ctx.value("command", "");
    const std::string expected =
        crypto::base64url_encode(crypto::hmac_sha256(token, "sonae-button:" + command));
    if (command.empty() || !crypto::constant_time_equal(ctx.value("sig", ""), expected))
        return unauthorized("bad button signature");
    Inbound in;
    in.platform = config::ChatPlatform::kMattermost;
    in.answer = Answer::kEphemeral;
    in.user = a.value("user_id", "");
    in.text = command;
    // A press repeated on purpose is a new request; a replayed body within the window is not.
    in.replay_key = body;
    if (in.user.empty())
        return core::Error::invalid_field("/user_id", "the action names no user");
    return in;
}

core::Result<Inbound> teams_message(const ingest::HeaderMap& headers, const std::string& body,
                                    const std::string& security_token, core::TimePoint now,
                                    core::Duration window) {
    const auto key = crypto::base64_decode(security_token);
    if (security_token.empty() || !key)
        return unauthorized("Teams is not configured (chat.teams_security_token)");
    const std::string auth = header(headers, "authorization");
    const std::string expected = "HMAC " + crypto::base64_encode(crypto::hmac_sha256(*key, body));
    if (!crypto::constant_time_equal(auth, expected))
        return unauthorized("bad Authorization HMAC");
    const json a = json::parse(body, nullptr, false);
    if (!a.is_object())
        return core::Error{core::ErrorCode::kInvalidJson, "the activity is not JSON", ""};
    if (auto ok = within(time_of(a.value("timestamp", "")), now, window); !ok)
        return ok.error();
    Inbound in;
    in.platform = config::ChatPlatform::kTeams;
    in.answer = Answer::kActivity;
    if (auto from = a.find("from"); from != a.end() && from->is_object())
        in.user = from->value("aadObjectId", "");
    // "<at>sonae</at> done isolate": the mention of the bot is not part of the command.
    static const std::regex kMention("<at>[^<]*</at>");
    std::string text = std::regex_replace(a.value("text", ""), kMention, " ");
    for (const char* nbsp : {"&nbsp;", "\xc2\xa0"}) {
        for (auto p = text.find(nbsp); p != std::string::npos; p = text.find(nbsp))
            text.replace(p, std::string_view(nbsp).size(), " ");
    }
    in.text = text;
    in.replay_key = auth;
    if (in.user.empty())
        return core::Error::invalid_field("/from/aadObjectId", "the activity names no user");
    return in;
}

core::Result<Inbound> lineworks_callback(const ingest::HeaderMap& headers, const std::string& body,
                                         const config::LineWorksBot& bot, core::TimePoint now,
                                         core::Duration window) {
    if (bot.bot_secret.empty())
        return unauthorized("LINE WORKS is not configured (chat.lineworks.bot_secret)");
    const std::string signature = header(headers, "x-works-signature");
    const std::string expected = crypto::base64_encode(crypto::hmac_sha256(bot.bot_secret, body));
    if (!crypto::constant_time_equal(signature, expected))
        return unauthorized("bad X-WORKS-Signature");
    if (!bot.bot_id.empty() && header(headers, "x-works-botid") != bot.bot_id)
        return unauthorized("X-WORKS-BotId names another bot");
    const json c = json::parse(body, nullptr, false);
    if (!c.is_object())
        return core::Error{core::ErrorCode::kInvalidJson, "the callback is not JSON", ""};
    if (auto ok = within(time_of(c.value("issuedTime", "")), now, window); !ok)
        return ok.error();
    Inbound in;
    in.platform = config::ChatPlatform::kLineWorks;
    in.answer = Answer::kNothing;
    std::string channel;
    if (auto s = c.find("source"); s != c.end() && s->is_object()) {
        in.user = s->value("userId", "");
        channel = s->value("channelId", "");
    }
    if (auto content = c.find("content"); content != c.end() && content->is_object())
        in.text = content->value("text", "");
    in.reply = core::ReplyTo{"lineworks", "", channel, in.user};
    in.replay_key = signature;
    if (in.user.empty())
        return core::Error::invalid_field("/source/userId", "the callback names no user");
    return in;
}

json slack_answer(const std::string& text) {
    return {{"response_type", "ephemeral"}, {"text", text}};
}

json teams_answer(const std::string& text) {
    return {{"type", "message"}, {"text", text}};
}

}  // namespace sonae::gateway::chatops
