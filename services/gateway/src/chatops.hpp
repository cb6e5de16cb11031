// Chat-ops requests (PRODUCT §9), each verified exactly as its platform signs it and read into
// one shape: who asked, what they typed, and where the answer goes. Pure: no I/O, the time is
// an argument. The Gateway does the rest (replays, identities, the command path).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include <sonae/config/config.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/time.hpp>
#include <sonae/core/wire.hpp>
#include <sonae/ingest/ingest.hpp>

namespace sonae::gateway::chatops {

// How the platform wants its immediate answer.
enum class Answer {
    kText,       // Slack and Mattermost: {"response_type":"ephemeral","text":...}; result later
    kActivity,   // Teams: a message activity with the result (waited for)
    kNothing,    // LINE WORKS: 200; the result comes as a bot message
    kEphemeral,  // a Mattermost button: {"ephemeral_text": ...} with the result (waited for)
};

struct Inbound {
    config::ChatPlatform platform = config::ChatPlatform::kSlack;
    Answer answer = Answer::kText;
    std::string user;        // the platform's identity of the sender
    std::string text;        // the command line as typed (a bot mention removed)
    core::ReplyTo reply;     // where the result goes later (empty: answered in the response)
    std::string replay_key;  // unique per request: the seen-set refuses it a second time
};

// application/x-www-form-urlencoded, '+' as space.
std::map<std::string, std::string> form_fields(std::string_view body);

// Slack signs "v0:<X-Slack-Request-Timestamp>:<raw body>" with the signing secret (hex HMAC-SHA256
// in X-Slack-Signature as "v0=..."); a timestamp more than `window` from `now` is refused.
core::Result<Inbound> slack_command(const ingest::HeaderMap& headers, const std::string& body,
                                    const std::string& signing_secret, core::TimePoint now,
                                    core::Duration window = 5 * core::kMinute);
// A Block Kit button press: the `payload` field's JSON; the button's value is the command.
core::Result<Inbound> slack_interactive(const ingest::HeaderMap& headers, const std::string& body,
                                        const std::string& signing_secret, core::TimePoint now,
                                        core::Duration window = 5 * core::kMinute);
// Mattermost sends its slash-command token in the form; trigger_id is unique per invocation.
core::Result<Inbound> mattermost_command(const std::string& body, const std::string& token);
// A Mattermost message button (notifications carry them): JSON with user_id and the context the
// notifier put in, whose signature (notifier::mattermost_button_signature) covers the command.
core::Result<Inbound> mattermost_action(const std::string& body, const std::string& token);
// Teams outgoing webhook: "Authorization: HMAC <base64 HMAC-SHA256(base64-decoded token, body)>";
// the activity's timestamp must be within `window`. Answered in the response.
core::Result<Inbound> teams_message(const ingest::HeaderMap& headers, const std::string& body,
                                    const std::string& security_token, core::TimePoint now,
                                    core::Duration window = 5 * core::kMinute);
// LINE WORKS bot callback (API 2.0): X-WORKS-Signature is base64 HMAC-SHA256(bot secret, body),
// X-WORKS-BotId names the bot; issuedTime must be within `window`.
core::Result<Inbound> lineworks_callback(const ingest::HeaderMap& headers, const std::string& body,
                                         const config::LineWorksBot& bot, core::TimePoint now,
                                         core::Duration window = 5 * core::kMinute);

// The platforms' immediate answers.
nlohmann::json slack_answer(const std::string& text);  // also Mattermost's shape
nlohmann::json teams_answer(const std::string& text);

}  // namespace sonae::gateway::chatops
