// Chat-ops end to end (PRODUCT §9, §13): the real gateway, orchestrator and notifier against the
// Redis and RabbitMQ of scripts/test. Each platform's requests are signed exactly as the platform
// signs them; results reach a local receiver standing in for Slack's and Mattermost's
// response_url and for the LINE WORKS API. Incidents are driven from open to resolved by Slack
// commands alone and by Teams commands alone; a viewer's Resolve is refused and audited; an edited
// timeline entry is found by `sonae incident verify`.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <doctest/doctest.h>

#include <sonae/crypto/crypto.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using namespace std::chrono_literals;
using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {

const std::string kSlackSecret = "8f742231b10e8888abcd99yyyzzz85a5";
const std::string kMattermostToken = "mm-test-token-3d9f";
const std::string kTeamsToken = "c29uYWUtdGVhbXMtdGVzdC1rZXktMzJieXRlcyE=";
const std::string kLineWorksSecret = "lw-bot-secret-test-7c1e";

std::string enc(const std::string& v) {
    return boost::urls::encode(v, boost::urls::unreserved_chars);
}

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string iso_now() {
    const std::time_t t = now_s();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

// The whole stack with chat-ops configured, a receiver for what goes back to chat, and an
// incident opened from the e2e vendor playbook (two steps: contact-vendor, then inventory).
struct Chat {
    TestEnv env = TestEnv::require();
    Receiver back;  // response_url of Slack and Mattermost; the LINE WORKS token endpoint and API
    std::string config_dir;
    std::unique_ptr<Stack> stack;

    Chat() {
        config_dir = make_temp_dir("chat-config");
        write_file(config_dir + "/sources.yaml",
                   "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: "
                   "dev-token}}\n");
        const std::string key = config_dir + "/lineworks.pem";
        Process keygen(
            "/usr/bin/openssl", {}, config_dir + "/keygen.log",
            {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key});
        REQUIRE(wait_until([&] { return !keygen.alive(); }, 60s));
        back.set_answer(
            "/lw/token", 200,
            R"({"access_token":"lw-token-1","token_type":"Bearer","expires_in":"86400"})");
        back.set_answer("/lw/api/", 201, "{}");
        write_file(config_dir + "/responders.yaml", R"(responders:
  - {id: yamada, name: 山田 (commander), role: commander, slack: U024BE7LH}
  - {id: viewer-kato, name: 加藤 (viewer), role: viewer, slack: UVIEWER01}
  - {id: suzuki, name: 鈴木, role: commander, mattermost: q8x3y4hzbjdwjkpjgi1xmjsmxa}
  - {id: sato, name: 佐藤 花子, role: commander, teams: 6a1e4f9c-2b7d-4e0a-9c3b-8d5f7e2a1b40}
  - {id: tanaka, name: 田中, role: commander, lineworks: a1b2c3d4-0000-4e5f-8a9b-0c1d2e3f4a5b}
api_tokens:
  - {name: auditor, role: viewer, sha256: )" + crypto::to_hex(crypto::sha256("audit-token")) +
                                                        R"(}
chat:
  slack_signing_secret: )" + kSlackSecret + R"(
  mattermost_token: )" + kMattermostToken + R"(
  teams_security_token: )" + kTeamsToken + R"(
  lineworks:
    bot_id: "2000001"
    bot_secret: )" + kLineWorksSecret + R"(
    client_id: lw-client
    client_secret: lw-client-secret
    service_account: sonae-bot@example
    private_key: ${file:)" + key + R"(}
    api_url: )" + back.url("/lw/api") + R"(
    auth_url: )" + back.url("/lw/token") + "\n");
        stack = std::make_unique<Stack>(
            env, Stack::Options{config_dir, env.source_dir + "/tests/integration/playbooks", {}});
    }

    // Opens an incident and returns its id.
    std::string open_incident(const std::string& key) {
        const std::string before = open_ids();
        const auto r = http_post(
            stack->url("/v1/events/generic"),
            R"({"title":"委託先の障害","category":"vendor_incident",
                "assets":[{"system":"e-application-system"}],"severity":"high","dedup_key":")" +
                key + "\"}",
            {{"Authorization", "Bearer dev-token"}, {"Content-Type", "application/json"}});
        REQUIRE(r.status == 202);
        std::string id;
        REQUIRE(wait_until(
            [&] {
                for (const auto& e : stack->redis()
                                         .command({"SMEMBERS", stack->prefix() + ":default:open"})
                                         .elements()) {
                    if (before.find(e.str()) == std::string::npos)
                        id = e.str();
                }
                return !id.empty();
            },
            20s));
        return id;
    }

    std::string open_ids() {
        std::string out;
        for (const auto& e :
             stack->redis().command({"SMEMBERS", stack->prefix() + ":default:open"}).elements())
            out += e.str() + " ";
        return out;
    }

    json incident(const std::string& id) {
        auto r = stack->redis().command({"HGET", stack->prefix() + ":default:inc:" + id, "state"});
        return r.is_nil() ? json() : json::parse(r.str());
    }

    std::vector<json> timeline(const std::string& id) {
        std::vector<json> out;
        for (const auto& e :
             stack->redis()
                 .command({"LRANGE", stack->prefix() + ":default:tl:" + id, "0", "-1"})
                 .elements())
            out.push_back(json::parse(e.str()));
        return out;
    }

    // The timeline entry of a command by `actor` whose text contains `what`.
    bool audited(const std::string& id, const std::string& actor, const std::string& what) {
        for (const auto& e : timeline(id)) {
            if (e["actor"] == actor && e["text"].get<std::string>().find(what) != std::string::npos)
                return true;
        }
        return false;
    }

    // What reached the receiver at `path`, as JSON bodies.
    std::vector<json> posted(const std::string& path) {
        std::vector<json> out;
        for (const auto& r : back.requests()) {
            if (r.target.rfind(path, 0) == 0)
                out.push_back(json::parse(r.body, nullptr, false));
        }
        return out;
    }

    bool answered(const std::string& path, const std::string& text) {
        return wait_until(
            [&] {
                for (const auto& b : posted(path)) {
                    if (b.is_object() && b.dump().find(json(text).dump().substr(
                                             1, json(text).dump().size() - 2)) != std::string::npos)
                        return true;
                }
                return false;
            },
            20s);
    }

    ShellResult cli(const std::string& args) {
        return run_shell("SONAE_URL='" + stack->url("") + "' SONAE_TOKEN=audit-token " +
                         env.bin_dir + "/services/cli/sonae " + args);
    }

    // --- platforms, signed as they sign -------------------------------------------------------
    HttpResult slack(const std::string& path, const std::string& body, std::int64_t ts = now_s(),
                     const std::string& secret = kSlackSecret) {
        const std::string t = std::to_string(ts);
        return http_post(stack->url(path), body,
                         {{"Content-Type", "application/x-www-form-urlencoded"},
                          {"X-Slack-Request-Timestamp", t},
                          {"X-Slack-Signature", "v0=" + crypto::to_hex(crypto::hmac_sha256(
                                                            secret, "v0:" + t + ":" + body))}});
    }
    std::string slack_command(const std::string& text, const std::string& user = "U024BE7LH") {
        return "token=deprecated&team_id=T0001&team_domain=example-city&channel_id=C0CSIRT01"
               "&channel_name=csirt&user_id=" +
               user + "&user_name=x&command=%2Fsonae&text=" + enc(text) +
               "&response_url=" + enc(back.url("/slack/response")) +
               "&trigger_id=" + enc(crypto::uuid_v4()) + "&api_app_id=A0KRD7HC3";
    }
    std::string slack_button(const std::string& command, const std::string& user) {
        const json payload = {
            {"type", "block_actions"},
            {"user", {{"id", user}, {"username", "x"}}},
            {"response_url", back.url("/slack/actions")},
            {"actions", json::array({{{"action_id", "sonae.resolve"},
                                      {"value", command},
                                      {"type", "button"},
                                      {"action_ts", std::to_string(now_s()) + ".123456"}}})}};
        return "payload=" + enc(payload.dump());
    }
    HttpResult teams(const std::string& text, const std::string& token = kTeamsToken) {
        json activity = json::parse(
            read_file(env.source_dir + "/tests/fixtures/chatops/teams-outgoing-webhook.json"));
        activity["text"] = "<at>sonae</at> " + text;
        activity["timestamp"] = iso_now();
        activity["id"] = crypto::uuid_v4();
        const std::string body = activity.dump();
        return http_post(stack->url("/v1/chatops/teams"), body,
                         {{"Content-Type", "application/json"},
                          {"Authorization", "HMAC " + crypto::base64_encode(crypto::hmac_sha256(
                                                          *crypto::base64_decode(token), body))}});
    }
};

}  // namespace

TEST_CASE("Slack: an incident driven from open to resolved by signed slash commands alone") {
    Chat c;
    const std::string id = c.open_incident("slack-1");

    const auto t0 = std::chrono::steady_clock::now();
    const auto ack = c.slack("/v1/chatops/slack", c.slack_command("ack " + id));
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE(ack.status == 200);
    CHECK(ack.json()["response_type"] == "ephemeral");
    CHECK(ack.json()["text"].get<std::string>().find("accepted") != std::string::npos);
    CHECK(elapsed < 3s);  // Slack's limit for the acknowledgement
    MESSAGE("Slack acknowledgement in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
    // The result reaches response_url; the timeline names the actor.
    REQUIRE(c.answered("/slack/response", "✓ ack"));
    CHECK(c.incident(id)["status"] == "acknowledged");
    CHECK(c.audited(id, "yamada", "acknowledged by yamada"));

    // status answers with the steps, their owners and due times, and the RTO left.
    c.slack("/v1/chatops/slack", c.slack_command("status " + id));
    REQUIRE(c.answered("/slack/response", "contact-vendor"));
    CHECK(c.answered("/slack/response", "left (deadline"));

    // A bad signature, a replay and an old timestamp are refused with 401; nothing is applied.
    const std::string done = c.slack_command("done contact-vendor 連絡済み " + id);
    CHECK(c.slack("/v1/chatops/slack", done, now_s(), "wrong-secret").status == 401);
    CHECK(c.slack("/v1/chatops/slack", done, now_s() - 400).status == 401);
    const std::int64_t ts = now_s();
    REQUIRE(c.slack("/v1/chatops/slack", done, ts).status == 200);
    const auto replay = c.slack("/v1/chatops/slack", done, ts);
    CHECK(replay.status == 401);
    CHECK(replay.json()["error"]["message"] == "request replayed");
    REQUIRE(
        wait_until([&] { return c.incident(id)["steps"]["contact-vendor"]["s"] == "done"; }, 20s));
    CHECK(c.audited(id, "yamada", "done contact-vendor"));

    // A viewer's Resolve button is refused, answered, and the refusal audited.
    const auto press =
        c.slack("/v1/chatops/slack/interactive", c.slack_button("resolve 解決 " + id, "UVIEWER01"));
    REQUIRE(press.status == 200);
    REQUIRE(c.answered("/slack/actions", "✗"));
    REQUIRE(wait_until([&] { return c.audited(id, "viewer-kato", "refused `resolve"); }, 20s));
    CHECK(c.incident(id)["status"] == "acknowledged");

    // The last step resolves it.
    c.slack("/v1/chatops/slack", c.slack_command("done inventory " + id));
    REQUIRE(wait_until([&] { return c.incident(id)["status"] == "resolved"; }, 20s));

    // An unknown identity is refused and nothing is published for it.
    const auto stranger = c.slack("/v1/chatops/slack", c.slack_command("ack " + id, "UNOBODY"));
    CHECK(stranger.status == 200);
    CHECK(stranger.json()["text"].get<std::string>().find("not registered") != std::string::npos);

    // The timeline is a hash chain: intact, until someone edits an entry in Redis.
    const auto ok = c.cli("incident verify " + id);
    INFO(ok.out);
    CHECK(ok.status == 0);
    CHECK(ok.out.find("intact") != std::string::npos);
    const std::string tl = c.stack->prefix() + ":default:tl:" + id;
    json third = json::parse(c.stack->redis().command({"LINDEX", tl, "2"}).str());
    third["text"] = third["text"].get<std::string>() + " (edited)";
    c.stack->redis().command({"LSET", tl, "2", third.dump()});
    const auto broken = c.cli("incident verify " + id);
    INFO(broken.out);
    CHECK(broken.status == 1);
    CHECK(broken.out.find("BROKEN at entry 3 ") != std::string::npos);
    CHECK(c.cli("incident verify not-an-id").status == 2);
}

TEST_CASE("Teams: an incident driven to resolved by outgoing-webhook messages alone") {
    Chat c;
    const std::string id = c.open_incident("teams-1");
    for (const std::string& command :
         {"ack " + id, "done contact-vendor 基幹系セグメントを遮断済み " + id,
          "done inventory " + id}) {
        CAPTURE(command);
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = c.teams(command);
        const auto elapsed = std::chrono::steady_clock::now() - t0;
        REQUIRE(r.status == 200);
        CHECK(r.json()["type"] == "message");
        // The result itself is in the answer, within Teams' 5 s.
        CHECK(r.json()["text"].get<std::string>().rfind("✓", 0) == 0);
        CHECK(elapsed < 5s);
    }
    CHECK(c.incident(id)["status"] == "resolved");
    CHECK(c.audited(id, "sato", "acknowledged by sato"));
    // Bad HMAC and replays: 401.
    CHECK(c.teams("status " + id, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXkh").status == 401);
    const std::string body =
        R"({"type":"message","timestamp":")" + iso_now() +
        R"(","from":{"aadObjectId":"6a1e4f9c-2b7d-4e0a-9c3b-8d5f7e2a1b40"},"text":"<at>sonae</at> status )" +
        id + "\"}";
    const Headers h{{"Content-Type", "application/json"},
                    {"Authorization", "HMAC " + crypto::base64_encode(crypto::hmac_sha256(
                                                    *crypto::base64_decode(kTeamsToken), body))}};
    CHECK(http_post(c.stack->url("/v1/chatops/teams"), body, h).status == 200);
    CHECK(http_post(c.stack->url("/v1/chatops/teams"), body, h).status == 401);
}

TEST_CASE("Mattermost: token-checked slash commands, results to response_url, replays refused") {
    Chat c;
    const std::string id = c.open_incident("mm-1");
    std::string form =
        read_file(c.env.source_dir + "/tests/fixtures/chatops/mattermost-slash-command.form");
    auto set = [&](const std::string& field, const std::string& value) {
        const auto p = form.find(field + "=");
        const auto e = form.find('&', p);
        form.replace(p, (e == std::string::npos ? form.size() : e) - p, field + "=" + enc(value));
    };
    set("text", "ack " + id);
    set("response_url", c.back.url("/mm/response"));
    set("trigger_id", crypto::uuid_v4());
    const Headers h{{"Content-Type", "application/x-www-form-urlencoded"}};
    const auto r = http_post(c.stack->url("/v1/chatops/mattermost"), form, h);
    REQUIRE(r.status == 200);
    CHECK(r.json()["response_type"] == "ephemeral");
    REQUIRE(c.answered("/mm/response", "✓ ack"));
    CHECK(c.audited(id, "suzuki", "acknowledged by suzuki"));
    CHECK(http_post(c.stack->url("/v1/chatops/mattermost"), form, h).status == 401);  // replay
    std::string wrong = form;
    wrong.replace(wrong.find("mm-test-token-3d9f"), 18, "mm-test-token-xxxx");
    CHECK(http_post(c.stack->url("/v1/chatops/mattermost"), wrong, h).status == 401);
}

TEST_CASE("LINE WORKS: signed callbacks, results as bot messages with a JWT-granted token") {
    Chat c;
    const std::string id = c.open_incident("lw-1");
    json cb = json::parse(
        read_file(c.env.source_dir + "/tests/fixtures/chatops/lineworks-callback.json"));
    cb["content"]["text"] = "ack " + id;
    cb["issuedTime"] = iso_now();
    const std::string body = cb.dump();
    auto sign = [&](const std::string& secret) {
        return Headers{
            {"Content-Type", "application/json"},
            {"X-WORKS-BotId", "2000001"},
            {"X-WORKS-Signature", crypto::base64_encode(crypto::hmac_sha256(secret, body))}};
    };
    const auto r = http_post(c.stack->url("/v1/chatops/lineworks"), body, sign(kLineWorksSecret));
    REQUIRE(r.status == 200);
    // The token is asked for once, with an RS256 JWT from the service account ...
    const std::string message_path =
        "/lw/api/bots/2000001/channels/c0ffee00-1111-2222-3333-444455556666/messages";
    const bool acked = c.answered(message_path, "✓ ack");
    INFO(c.stack->logs());  // why, if the answer never came
    REQUIRE(acked);
    std::size_t token_requests = 0;
    for (const auto& req : c.back.requests()) {
        if (req.target == "/lw/token") {
            ++token_requests;
            CHECK(
                req.body.find("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") !=
                std::string::npos);
            const auto a = req.body.find("assertion=") + 10;
            const std::string jwt = req.body.substr(a, req.body.find('&', a) - a);
            CHECK(std::count(jwt.begin(), jwt.end(), '.') == 2);
            std::string header_b64 = jwt.substr(0, jwt.find('.'));
            for (char& ch : header_b64) {
                if (ch == '-')
                    ch = '+';
                if (ch == '_')
                    ch = '/';
            }
            while (header_b64.size() % 4)
                header_b64 += '=';
            CHECK(crypto::base64_decode(header_b64).value_or("").find("RS256") !=
                  std::string::npos);
        }
        if (req.target == message_path)
            CHECK(req.headers.at("authorization") == "Bearer lw-token-1");
    }
    CHECK(token_requests == 1);
    CHECK(c.audited(id, "tanaka", "acknowledged by tanaka"));
    CHECK(http_post(c.stack->url("/v1/chatops/lineworks"), body, sign(kLineWorksSecret)).status ==
          401);  // replay
    CHECK(http_post(c.stack->url("/v1/chatops/lineworks"), body, sign("wrong")).status == 401);
}
