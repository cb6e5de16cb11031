// Chat-ops requests (PRODUCT §9): each platform's verification, then one path for all of them.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <sonae/core/answer.hpp>
#include <sonae/core/exercise.hpp>
#include <sonae/core/incident.hpp>
#include <sonae/crypto/crypto.hpp>

#include "async.hpp"
#include "gateway.hpp"
#include "redis_worker.hpp"

namespace sonae::gateway {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

// An answer the user reads in the chat, in the shape the platform wants (chatops::Answer).
http::Response chat_answer(chatops::Answer shape, const std::string& text, unsigned version) {
    json body;
    switch (shape) {
        case chatops::Answer::kText:
            body = chatops::slack_answer(text);
            break;
        case chatops::Answer::kActivity:
            body = chatops::teams_answer(text);
            break;
        case chatops::Answer::kNothing:
            body = json::object();
            break;
        case chatops::Answer::kEphemeral:
            body = {{"ephemeral_text", text}};
            break;
    }
    return http::json_response(http::Status::ok, http::dump_json(body), version);
}

}  // namespace

core::Result<chatops::Inbound> Gateway::verify_chat(const std::string& route,
                                                    const ingest::HeaderMap& headers,
                                                    const std::string& body) const {
    const core::TimePoint now = clock_.now();
    const config::ChatSecrets& secrets = config_.chat;
    if (route == "slack")
        return chatops::slack_command(headers, body, secrets.slack_signing_secret, now);
    if (route == "slack/interactive")
        return chatops::slack_interactive(headers, body, secrets.slack_signing_secret, now);
    if (route == "mattermost")
        return chatops::mattermost_command(body, secrets.mattermost_token);
    if (route == "mattermost/action")
        return chatops::mattermost_action(body, secrets.mattermost_token);
    if (route == "teams")
        return chatops::teams_message(headers, body, secrets.teams_security_token, now);
    if (route == "lineworks")
        return chatops::lineworks_callback(headers, body, secrets.lineworks, now);
    return core::Error{core::ErrorCode::kNotFound, "no such chat endpoint", ""};
}

asio::awaitable<http::Response> Gateway::chat(http::Request& req, const std::string& route) {
    // Kept to plain statements around each co_await: GCC 12 mishandles temporaries with
    // destructors in a full expression that also suspends.
    const unsigned version = req.version();
    if (req.method() != bhttp::verb::post) {
        auto res = error_response({core::ErrorCode::kMethodNotAllowed, "use POST", ""}, version);
        res.set(bhttp::field::allow, "POST");
        co_return res;
    }
    const core::Result<chatops::Inbound> in = verify_chat(route, headers_of(req), req.body());
    if (!in) {
        if (in.error().code == core::ErrorCode::kUnauthorized) {
            chat_verification_failures_.inc();
            spdlog::warn("chat-ops {}: refused: {}", route, in.error().message);
        }
        co_return error_response(in.error(), version);
    }
    if (redis_ == nullptr) {
        co_return error_response(
            {core::ErrorCode::kUnavailable, "chat-ops needs Redis, which is not configured", ""},
            version);
    }
    // A request seen before is a replay, whatever its time says.
    const std::string seen = keys_.chat_seen(std::string(config::to_string(in->platform)),
                                             crypto::to_hex(crypto::sha256(in->replay_key)));
    std::function<bool(redis::Connection&)> mark = [seen](redis::Connection& c) {
        return !c.command({"SET", seen, "1", "NX", "EX", "900"}).is_nil();
    };
    const std::optional<bool> fresh =
        co_await redis_->async_run<bool>(std::move(mark), asio::use_awaitable);
    if (!fresh) {
        co_return error_response(
            {core::ErrorCode::kUnavailable, "Redis is unavailable; retry later", ""}, version);
    }
    if (!*fresh) {
        chat_verification_failures_.inc();
        co_return error_response({core::ErrorCode::kUnauthorized, "request replayed", ""}, version);
    }
    http::Response res = co_await chat_command(*in, version);
    co_return res;
}

asio::awaitable<http::Response> Gateway::chat_command(const chatops::Inbound& in,
                                                      unsigned version) {
    const config::Responder* who = config_.find_responder(in.platform, in.user);
    if (who == nullptr) {
        spdlog::warn("chat-ops {}: unknown identity {}", config::to_string(in.platform), in.user);
        co_return chat_answer(in.answer,
                              "✗ あなたは sonae の対応者として登録されていません / you are not "
                              "registered as a responder (" +
                                  in.user + ")",
                              version);
    }
    const core::IncidentAndCommand split = core::split_incident(in.text);
    const auto cmd = core::parse_command(split.command);
    if (!cmd)
        co_return chat_answer(in.answer, core::answer_error(cmd.error(), std::nullopt), version);
    if (cmd->verb == core::Verb::kHelp)
        co_return chat_answer(in.answer, core::help_text(), version);

    // The incident: the one the line names, else the only open one of the responder's tenant.
    const bool prefecture = who->role == "prefecture";
    std::string incident = split.incident;
    std::string tenant = who->tenant;
    if (incident.empty()) {
        const std::string open_key = keys_.open(tenant);
        std::function<std::vector<std::string>(redis::Connection&)> members =
            [open_key](redis::Connection& c) {
                std::vector<std::string> ids;
                for (const auto& e : c.command({"SMEMBERS", open_key}).elements())
                    ids.push_back(e.str());
                std::sort(ids.begin(), ids.end());
                return ids;
            };
        const auto open = co_await redis_->async_run<std::vector<std::string>>(std::move(members),
                                                                               asio::use_awaitable);
        if (!open)
            co_return chat_answer(in.answer, std::string("✗ Redis is unavailable; retry later"),
                                  version);
        if (open->size() != 1) {
            std::string list;
            for (const auto& id : *open)
                list += "\n  " + id;
            std::string text = "✗ どのインシデントですか / which incident? name one of:" + list;
            if (open->empty())
                text = "✗ 対応中のインシデントはありません / no open incident";
            co_return chat_answer(in.answer, text, version);
        }
        incident = open->front();
    } else {
        tenant = *core::tenant_of_incident(incident);
        if (core::base_tenant(tenant) != who->tenant && !prefecture) {
            co_return chat_answer(in.answer, "✗ unknown incident " + incident, version);
        }
    }

    core::CommandMessage m;
    m.id = crypto::uuid_v4();
    m.tenant = tenant;
    m.incident = incident;
    m.actor = who->id;
    m.permission = core::parse_permission(who->role).value_or(core::Permission::kViewer);
    m.text = split.command;
    // Some answer in the response; the others get the result later where they asked.
    const bool wait =
        in.answer == chatops::Answer::kActivity || in.answer == chatops::Answer::kEphemeral;
    if (!wait)
        m.reply = in.reply;
    const core::OutboxEntry o = core::OutboxEntry::of(m);
    // Built before the co_await: GCC 12 cannot keep an initializer list's array in a coroutine.
    std::vector<amqp::Message> messages;
    messages.push_back(
        options_.topology.message(o.routing_key, o.message_id, o.type, o.body, tenant));
    amqp::PublishOutcome outcome =
        co_await async_publish(publisher_, std::move(messages), asio::use_awaitable);
    if (!outcome.ok) {
        spdlog::warn("chat-ops: command not accepted: {}", outcome.error);
        co_return chat_answer(in.answer,
                              std::string("✗ いま受け付けられません。もう一度送ってください / "
                                          "not accepted (the message broker is unavailable); "
                                          "send it again"),
                              version);
    }
    spdlog::info("chat-ops {}: {} by {} on {} (command {})", config::to_string(in.platform),
                 core::format_command(*cmd), who->id, incident, m.id);
    const std::string accepted = std::string("⏳ ") + core::format_command(*cmd) + " (" + incident +
                                 "): 受け付けました / accepted";
    if (wait) {
        const auto result = co_await await_result(tenant, m.id, options_.sync_answer_wait);
        std::string text = accepted + "; the result will be in the timeline";
        if (result)
            text = result->message;
        co_return chat_answer(in.answer, text, version);
    }
    co_return chat_answer(in.answer, accepted, version);
}

asio::awaitable<std::optional<core::CommandReply>> Gateway::await_result(
    const std::string& tenant, const std::string& id, std::chrono::milliseconds wait) {
    const std::string key = keys_.command_result(tenant, id);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    constexpr std::chrono::milliseconds kStep{25};
    for (auto waited = std::chrono::milliseconds(0); waited < wait; waited += kStep) {
        std::function<std::string(redis::Connection&)> get = [key](redis::Connection& c) {
            auto r = c.command({"GET", key});
            return r.is_nil() ? std::string{} : r.str();
        };
        const auto text =
            co_await redis_->async_run<std::string>(std::move(get), asio::use_awaitable);
        if (text && !text->empty()) {
            auto reply = core::command_reply_from_json(json::parse(*text, nullptr, false));
            if (reply)
                co_return reply.value();
        }
        timer.expires_after(kStep);
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return std::nullopt;
}

}  // namespace sonae::gateway
