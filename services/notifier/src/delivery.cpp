#include "delivery.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include <sonae/crypto/crypto.hpp>

namespace sonae::notifier {
namespace {

using nlohmann::json;

int attempt_of(const amqp::Delivery& d) {
    auto it = d.headers.find("x-sonae-attempt");
    if (it == d.headers.end())
        return 0;
    try {
        return std::stoi(it->second);
    } catch (const std::exception&) {
        return 0;
    }
}

std::int64_t retry_after_of(const http::ClientResponse& r) {
    auto it = r.headers.find("retry-after");
    if (it == r.headers.end())
        return 0;
    try {
        return std::max<std::int64_t>(0, std::stoll(it->second));
    } catch (const std::exception&) {
        return 0;  // an HTTP date: fall back to our own schedule
    }
}

}  // namespace

std::vector<const config::Channel*> route(const config::Config& config,
                                          const core::Notification& n) {
    std::vector<const config::Channel*> out;
    for (const auto& ch : config.channels) {
        if (ch.tenant != n.tenant)
            continue;
        if (n.exercise && !ch.exercise)
            continue;
        bool wanted =
            ch.all || std::find(n.channels.begin(), n.channels.end(), ch.name) != n.channels.end();
        for (const auto& r : n.roles) {
            wanted = wanted || std::find(ch.roles.begin(), ch.roles.end(), r) != ch.roles.end();
        }
        if (wanted)
            out.push_back(&ch);
    }
    return out;
}

bool needs_redaction(const core::Notification& n, const config::Channel& ch) {
    return n.classification && *n.classification > ch.max_classification;
}

Outgoing render(const core::Notification& n, const config::Channel& ch, std::int64_t now_s) {
    Outgoing out;
    out.redacted = needs_redaction(n, ch);
    const std::string& title = out.redacted ? n.redacted_title : n.title;
    const std::string& text = out.redacted ? n.redacted_text : n.text;
    out.headers.emplace_back("Content-Type", "application/json");
    if (ch.type == "slack" || ch.type == "mattermost") {
        out.body = json{{"text", "*" + title + "*\n" + text}}.dump();
    } else if (ch.type == "teams") {
        out.body = json{
            {"@type", "MessageCard"},
            {"@context", "https://schema.org/extensions"},
            {"summary", title},
            {"title", title},
            {"text",
             text}}.dump();
    } else {
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
                     {"redacted", out.redacted},
                     {"at", core::format_timestamp(n.at)}};
        if (n.classification)
            body["classification"] = core::to_string(*n.classification);
        out.body = body.dump();
        if (!ch.secret.empty()) {
            // Standard Webhooks: the id is the notification's, stable across retries.
            out.headers.emplace_back("webhook-id", n.id);
            out.headers.emplace_back("webhook-timestamp", std::to_string(now_s));
            out.headers.emplace_back(
                "webhook-signature",
                crypto::webhooks::sign(ch.secret, n.id, now_s, out.body).value_or(""));
        }
    }
    return out;
}

Outcome classify(const http::ClientResponse& r) {
    if (r.status >= 200 && r.status < 300)
        return Outcome::kDelivered;
    if (r.status == 0 || r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500)
        return Outcome::kRetry;
    return Outcome::kPermanent;
}

std::chrono::seconds retry_delay(int attempt, std::int64_t retry_after_s) {
    const auto& delays = amqp::Topology::kRetryDelaysS;
    std::size_t i =
        static_cast<std::size_t>(std::clamp(attempt - 1, 0, static_cast<int>(delays.size()) - 1));
    while (i + 1 < delays.size() && delays[i] < retry_after_s)
        ++i;
    return std::chrono::seconds(delays[i]);
}

Notifier::Notifier(const config::Config& config, store::IncidentStore& store,
                   amqp::Topology topology)
    : config_(config), store_(store), topology_(std::move(topology)) {}

void Notifier::retry(amqp::Connection& conn, const amqp::Delivery& d, const std::string& kind,
                     int attempt, std::int64_t retry_after_s) {
    amqp::Message m;
    m.exchange = topology_.retry_exchange();
    m.routing_key = topology_.retry_key(kind, retry_delay(attempt, retry_after_s));
    m.message_id = d.message_id;
    m.type = d.type;
    m.body = d.body;
    m.headers = d.headers;
    m.headers["x-sonae-attempt"] = std::to_string(attempt);
    conn.publish_confirmed({m}, std::chrono::seconds(10));
}

void Notifier::dead_letter(amqp::Connection& conn, const amqp::Delivery& d, const std::string& kind,
                           const std::string& why) {
    amqp::Message m;
    m.exchange = topology_.dead_letter_exchange();
    m.routing_key = kind;
    m.message_id = d.message_id;
    m.type = d.type;
    m.body = d.body;
    m.headers = d.headers;
    m.headers["x-sonae-reason"] = why;
    conn.publish_confirmed({m}, std::chrono::seconds(10));
}

amqp::Verdict Notifier::on_notification(amqp::Connection& conn, const amqp::Delivery& d,
                                        std::int64_t now_ms) {
    return on_notifications(conn, {&d}, now_ms).front();
}

std::vector<amqp::Verdict> Notifier::on_notifications(
    amqp::Connection& conn, const std::vector<const amqp::Delivery*>& batch, std::int64_t now_ms) {
    // One Redis round trip finds what was delivered before (a retry, a crash), then each channel
    // is POSTed in turn, then one round trip records every outcome (marker + timeline entry).
    // Retries and dead letters are published after the outcomes are recorded.
    struct Work {
        const amqp::Delivery* delivery = nullptr;
        core::Notification n;
        std::vector<const config::Channel*> channels;
        std::size_t first_marker = 0;
        bool retry_needed = false;
        std::int64_t retry_after = 0;
        std::vector<std::string> permanent;
    };
    std::vector<amqp::Verdict> verdicts(batch.size(), amqp::Verdict::kAck);
    std::vector<Work> work;
    std::vector<std::string> markers;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const json j = json::parse(batch[i]->body, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("id")) {
            verdicts[i] = amqp::Verdict::kDeadLetter;
            continue;
        }
        Work w;
        w.delivery = batch[i];
        w.n = core::notification_from_json(j);
        w.channels = route(config_, w.n);
        w.first_marker = markers.size();
        for (const config::Channel* ch : w.channels)
            markers.push_back(store_.keys().delivered(w.n.tenant, w.n.id, ch->name));
        work.push_back(std::move(w));
    }
    const std::vector<bool> done_before = store_.existing(markers);
    std::vector<store::IncidentStore::Record> records;
    for (Work& w : work) {
        const core::Notification& n = w.n;
        const int attempt = attempt_of(*w.delivery) + 1;
        for (std::size_t c = 0; c < w.channels.size(); ++c) {
            if (done_before[w.first_marker + c])
                continue;  // delivered before a retry or crash
            const config::Channel* ch = w.channels[c];
            const Outgoing out = render(n, *ch, now_ms / 1000);
            const http::ClientResponse r = client_.request("POST", ch->url, out.headers, out.body,
                                                           std::chrono::milliseconds(ch->timeout));
            const Outcome outcome = classify(r);
            core::TimelineEntry e{now_ms,
                                  "delivery",
                                  "sonae",
                                  "",
                                  {{"notification", n.id},
                                   {"channel", ch->name},
                                   {"status", r.status},
                                   {"attempt", attempt},
                                   {"redacted", out.redacted}}};
            const bool delivered = outcome == Outcome::kDelivered;
            if (delivered) {
                e.text =
                    "delivered " + n.kind + " to " + ch->name + (out.redacted ? " (redacted)" : "");
            } else if (outcome == Outcome::kRetry && attempt < kMaxAttempts) {
                w.retry_needed = true;
                w.retry_after = std::max(w.retry_after, retry_after_of(r));
                e.text = "delivery to " + ch->name + " failed (" +
                         (r.status ? "HTTP " + std::to_string(r.status) : r.error) +
                         "), will retry";
            } else {
                w.permanent.push_back(ch->name);
                e.text = "delivery to " + ch->name + " failed permanently (" +
                         (r.status ? "HTTP " + std::to_string(r.status) : r.error) + ")";
            }
            records.push_back({delivered ? markers[w.first_marker + c] : std::string{},
                               30 * 24 * 3600, n.tenant, n.incident_id, std::move(e)});
        }
    }
    store_.record(records);
    for (const Work& w : work) {
        if (w.retry_needed)
            retry(conn, *w.delivery, "notifications", attempt_of(*w.delivery) + 1, w.retry_after);
        if (!w.permanent.empty()) {
            std::string names;
            for (const auto& p : w.permanent)
                names += (names.empty() ? "" : ",") + p;
            spdlog::warn("notification {}: dead-lettered for {}", w.n.id, names);
            dead_letter(conn, *w.delivery, "notifications", "failed permanently for " + names);
        }
    }
    return verdicts;
}

amqp::Verdict Notifier::on_action(amqp::Connection& conn, const amqp::Delivery& d,
                                  std::int64_t now_ms) {
    const json j = json::parse(d.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id"))
        return amqp::Verdict::kDeadLetter;
    const core::HttpAction a = core::http_action_from_json(j);
    const std::string marker = store_.keys().action_done(a.tenant, a.id);
    if (store_.processed_key_exists(marker))
        return amqp::Verdict::kAck;
    const int attempt = attempt_of(d) + 1;
    bool ok = false;
    long status = 0;
    std::string detail;
    if (a.exercise) {
        ok = true;  // an exercise never touches real systems
        status = 200;
        detail = "exercise: not executed";
    } else {
        // Playbooks name credentials as ${env:NAME} / ${file:PATH}; they are resolved only here,
        // at the moment of the call, so they never sit in incident state, the broker or logs.
        std::vector<std::pair<std::string, std::string>> headers;
        for (const auto& [k, v] : a.headers) {
            auto expanded = config::expand_references(v);
            if (!expanded) {
                return publish_result(conn, a, false, 0,
                                      "header " + k + ": " + expanded.error().message);
            }
            headers.emplace_back(k, *expanded);
        }
        auto url = config::expand_references(a.url);
        if (!url)
            return publish_result(conn, a, false, 0, "url: " + url.error().message);
        const http::ClientResponse r =
            client_.request(a.method, *url, headers, a.body, std::chrono::milliseconds(a.timeout));
        status = r.status;
        ok = classify(r) == Outcome::kDelivered;
        detail = r.status ? r.body.substr(0, 200) : r.error;
        if (!ok && classify(r) == Outcome::kRetry && attempt <= a.retries) {
            store_.append_timeline(
                a.tenant, a.incident_id,
                {now_ms,
                 "action",
                 "sonae",
                 "HTTP action " + a.step + " failed, will retry",
                 {{"step", a.step}, {"status", r.status}, {"attempt", attempt}}});
            retry(conn, d, "actions", attempt, retry_after_of(r));
            return amqp::Verdict::kAck;
        }
    }
    return publish_result(conn, a, ok, status, detail);
}

amqp::Verdict Notifier::publish_result(amqp::Connection& conn, const core::HttpAction& a, bool ok,
                                       long status, const std::string& detail) {
    amqp::Message result;
    result.exchange = topology_.exchange();
    result.routing_key = "commands";
    result.message_id = "ar:" + a.id;
    result.type = "action-result";
    result.body = json{{"id", "ar:" + a.id},        {"type", "action-result"}, {"tenant", a.tenant},
                       {"incident", a.incident_id}, {"step", a.step},          {"ok", ok},
                       {"status", status},          {"detail", detail}}
                      .dump();
    result.headers = {{"tenant", a.tenant}};
    conn.publish_confirmed({result}, std::chrono::seconds(10));
    store_.mark(store_.keys().action_done(a.tenant, a.id), 7 * 24 * 3600);
    return amqp::Verdict::kAck;
}

}  // namespace sonae::notifier
