#include "dispatcher.hpp"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include <sonae/core/playbook.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/log/log.hpp>

namespace sonae::notifier {
namespace {

using nlohmann::json;

// The value of a delivered marker when the channel refused the notification for good.
const std::string kRefused = "refused";

// Retries so far, from the header the retry path sets (0 on a first delivery).
int retries_of(const amqp::Delivery& d) {
    auto it = d.headers.find("x-sonae-attempt");
    int n = 0;
    if (it != d.headers.end())
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    return std::max(n, 0);
}

std::string failure(const http::ClientResponse& r) {
    return r.status != 0 ? "HTTP " + std::to_string(r.status) : r.error;
}

}  // namespace

struct Dispatcher::Group {
    std::size_t remaining = 0;  // jobs not finished
    amqp::Verdict verdict = amqp::Verdict::kAck;
};

struct Dispatcher::Job {
    enum class Kind { kNotification, kAction, kReply };
    amqp::Delivery delivery;
    bool current = true;  // belongs to the live connection (else its tag means nothing)
    Kind kind = Kind::kNotification;
    core::Notification n;
    core::HttpAction a;
    core::ChatReply reply;
    std::vector<const config::Channel*> channels;  // a notification's, from route()
    int attempt = 1;
    std::size_t pending = 0;  // calls not finished
    bool retry = false;
    std::int64_t retry_after_s = 0;
    std::vector<std::string> permanent;  // channels that failed for good
    http::ClientResponse response;       // an action's
    std::shared_ptr<Group> group;        // set when it is an element of a combined delivery
    std::string unreadable;              // such an element that is no notification: why

    const std::string& incident() const {
        return kind == Kind::kNotification ? n.incident_id
               : kind == Kind::kAction     ? a.incident_id
                                           : reply.incident;
    }
};

struct Dispatcher::Waiter {
    std::shared_ptr<Job> job;
    const config::Channel* channel = nullptr;  // none for an action or a reply
    bool redacted = false;
    std::string marker;   // set when delivered
    bool records = true;  // the first waiter of a call writes its outcome
};

Dispatcher::Dispatcher(const config::Config& config, store::IncidentStore& store,
                       const amqp::Topology& topology, const clock::Clock& clock,
                       std::uint64_t seed, Metrics& metrics)
    : config_(config),
      store_(store),
      topology_(topology),
      clock_(clock),
      metrics_(metrics),
      rng_(seed),
      lineworks_(config.chat.lineworks, client_, clock) {
    for (const auto& ch : config_.channels) {
        if (ch.rate_per_s > 0)
            limits_.emplace(std::piecewise_construct, std::forward_as_tuple(ch.name),
                            std::forward_as_tuple(ch.rate_per_s, 1));
    }
}

Dispatcher::~Dispatcher() = default;

std::vector<amqp::Verdict> Dispatcher::on_batch(amqp::Connection& conn,
                                                const std::vector<amqp::Delivery>& batch) {
    std::vector<amqp::Verdict> verdicts(batch.size(), amqp::Verdict::kAck);
    // Unreadable messages are dead-lettered by the consumer loop on these verdicts.
    auto counted = [&] {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (verdicts[i] == amqp::Verdict::kDeadLetter)
                metrics_.dead_lettered.inc({batch[i].routing_key});
        }
    };
    // Notifications: one Redis round trip finds every channel delivered before (a retry, a
    // crash), then each remaining channel's call starts.
    std::vector<std::string> markers;
    std::vector<std::shared_ptr<Job>> fresh;
    std::vector<std::size_t> where;
    std::vector<std::pair<std::size_t, std::shared_ptr<Group>>> groups;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].routing_key == core::wire::kActions) {
            verdicts[i] = start_action(conn, batch[i]);
        } else if (batch[i].type == core::wire::kTypeReply) {
            verdicts[i] = start_reply(batch[i]);
        } else {
            const json body = json::parse(batch[i].body, nullptr, false);
            if (body.is_array() && !body.empty()) {
                auto group = std::make_shared<Group>();
                start_notifications(batch[i], body, group, markers, fresh);
                where.resize(fresh.size(), i);
                groups.emplace_back(i, std::move(group));
                continue;
            }
            verdicts[i] = start_notification(batch[i], body, markers, fresh);
            if (verdicts[i] == amqp::Verdict::kDeferred)
                where.push_back(i);
        }
    }
    const std::vector<std::optional<std::string>> before = store_.marker_values(markers);
    std::size_t m = 0;
    const RenderContext ctx{clock_.now(), config_.chat.public_url, config_.chat.mattermost_token};
    for (std::size_t k = 0; k < fresh.size(); ++k) {
        const std::shared_ptr<Job>& job = fresh[k];
        for (const config::Channel* ch : job->channels) {
            const std::string& marker = markers[m];
            const std::optional<std::string>& outcome = before[m++];
            if (outcome) {
                // Settled before a crash or a lost publish: delivered, or refused for good
                // (then it is dead-lettered again, never delivered after its refusal).
                if (*outcome == kRefused)
                    job->permanent.push_back(ch->name);
                continue;
            }
            const Outgoing out = render(job->n, *ch, ctx);
            send(marker, starter(*ch, out), Waiter{job, ch, out.redacted, marker, true}, ch);
        }
        const std::size_t i = where[k];
        if (job->group) {
            // An element: done at once when nothing is left to deliver, unless a refusal has to
            // be dead-lettered (published by finish(), as for an element that is unreadable).
            if (job->pending == 0 && job->permanent.empty()) {
                --job->group->remaining;
                continue;
            }
            jobs_.emplace(batch[i].delivery_tag, job);
            if (job->pending == 0)
                finished_.push_back(job);
            continue;
        }
        if (job->pending == 0) {
            // Nothing left to deliver; what was refused before goes to the dead-letter queue.
            verdicts[i] = job->permanent.empty() ? amqp::Verdict::kAck : amqp::Verdict::kDeadLetter;
        } else {
            jobs_.emplace(batch[i].delivery_tag, job);
        }
    }
    for (const auto& [i, group] : groups)
        verdicts[i] = group->remaining == 0 ? amqp::Verdict::kAck : amqp::Verdict::kDeferred;
    counted();
    return verdicts;
}

void Dispatcher::start_notifications(const amqp::Delivery& d, const json& body,
                                     const std::shared_ptr<Group>& group,
                                     std::vector<std::string>& markers,
                                     std::vector<std::shared_ptr<Job>>& fresh) {
    for (std::size_t i = 0; i < body.size(); ++i) {
        // Each element as the single delivery it would have been: its retry and its dead
        // letter are published with its own body.
        amqp::Delivery e;
        e.delivery_tag = d.delivery_tag;
        e.redelivered = d.redelivered;
        e.exchange = d.exchange;
        e.routing_key = d.routing_key;
        e.type = core::wire::kTypeNotification;
        e.headers = d.headers;
        e.body = body[i].dump();
        e.message_id = body[i].is_object() && body[i].contains("id") && body[i]["id"].is_string()
                           ? body[i]["id"].get<std::string>()
                           : d.message_id + "#" + std::to_string(i + 1);
        ++group->remaining;
        if (start_notification(e, body[i], markers, fresh) == amqp::Verdict::kDeferred) {
            fresh.back()->group = group;
            continue;
        }
        // Not a notification: dead-lettered on its own, its neighbours go on.
        auto job = std::make_shared<Job>();
        job->delivery = std::move(e);
        job->group = group;
        job->unreadable = "unreadable element of " + d.message_id;
        jobs_.emplace(d.delivery_tag, job);
        finished_.push_back(std::move(job));
    }
}

amqp::Verdict Dispatcher::start_notification(const amqp::Delivery& d, const json& body,
                                             std::vector<std::string>& markers,
                                             std::vector<std::shared_ptr<Job>>& fresh) {
    auto n = core::notification_from_json(body);
    if (!n) {
        spdlog::error("dead-lettering notification {}: {}", d.message_id, n.error().message);
        return amqp::Verdict::kDeadLetter;
    }
    auto job = std::make_shared<Job>();
    job->delivery = d;
    job->n = std::move(n.value());
    job->attempt = retries_of(d) + 1;
    job->channels = route(config_, job->n);
    for (const config::Channel* ch : job->channels)
        markers.push_back(store_.keys().delivered(job->n.tenant, job->n.id, ch->name));
    fresh.push_back(std::move(job));
    return amqp::Verdict::kDeferred;
}

amqp::Verdict Dispatcher::start_action(amqp::Connection& conn, const amqp::Delivery& d) {
    auto a = core::http_action_from_json(json::parse(d.body, nullptr, false));
    if (!a) {
        spdlog::error("dead-lettering action {}: {}", d.message_id, a.error().message);
        return amqp::Verdict::kDeadLetter;
    }
    const std::string marker = store_.keys().action_done(a->tenant, a->id);
    if (store_.processed_key_exists(marker))
        return amqp::Verdict::kAck;
    if (a->exercise) {  // an exercise never touches real systems
        metrics_.actions.inc({"skipped"});
        publish_result(conn, *a, true, 200, "exercise: not executed");
        return amqp::Verdict::kAck;
    }
    // Playbooks name credentials as ${env:NAME} / ${file:PATH}; they are resolved only here, at
    // the moment of the call, so they never sit in incident state, the broker or logs.
    // Bounded here too: an action's timeout comes off the broker, not from a checked playbook.
    const core::Duration timeout =
        std::clamp(a->timeout, core::kMinRequestTimeout, core::kMaxRequestTimeout);
    http::ClientRequest request{a->method, "", {}, a->body, std::chrono::milliseconds(timeout)};
    for (const auto& [k, v] : a->headers) {
        auto expanded = config::expand_references(v);
        if (!expanded) {
            publish_result(conn, *a, false, 0, "header " + k + ": " + expanded.error().message);
            return amqp::Verdict::kAck;
        }
        request.headers.emplace_back(k, *expanded);
    }
    auto url = config::expand_references(a->url);
    if (!url) {
        publish_result(conn, *a, false, 0, "url: " + url.error().message);
        return amqp::Verdict::kAck;
    }
    request.url = *url;
    auto job = std::make_shared<Job>();
    job->delivery = d;
    job->kind = Job::Kind::kAction;
    job->a = std::move(a.value());
    job->attempt = retries_of(d) + 1;
    jobs_.emplace(d.delivery_tag, job);
    send(marker, http_starter(std::move(request)), Waiter{job, nullptr, false, {}, true});
    return amqp::Verdict::kDeferred;
}

amqp::Verdict Dispatcher::start_reply(const amqp::Delivery& d) {
    auto r = core::chat_reply_from_json(json::parse(d.body, nullptr, false));
    if (!r) {
        spdlog::error("dead-lettering reply {}: {}", d.message_id, r.error().message);
        return amqp::Verdict::kDeadLetter;
    }
    const std::string marker = store_.keys().delivered(r->tenant, r->id, "reply");
    if (store_.processed_key_exists(marker))
        return amqp::Verdict::kAck;
    Starter start;
    const std::string& platform = r->to.platform;
    if ((platform == "slack" || platform == "mattermost") && !r->to.url.empty()) {
        // Both take Slack's shape at their response_url; only the asker sees it.
        start = http_starter(
            http::ClientRequest{"POST",
                                r->to.url,
                                {{"Content-Type", "application/json"}},
                                json{{"response_type", "ephemeral"}, {"text", r->text}}.dump(),
                                std::chrono::seconds(10)});
    } else if (platform == "lineworks") {
        const std::string target = r->to.channel.empty() ? "user:" + r->to.user : r->to.channel;
        start = [this, target,
                 body = json{{"content", {{"type", "text"}, {"text", r->text}}}}.dump()](
                    http::AsyncClient::Done done) {
            lineworks_.send(target, body, std::chrono::seconds(10), std::move(done));
        };
    } else {
        return amqp::Verdict::kAck;  // nowhere to post it (the asker got it in the response)
    }
    auto job = std::make_shared<Job>();
    job->delivery = d;
    job->kind = Job::Kind::kReply;
    job->reply = std::move(r.value());
    job->attempt = retries_of(d) + 1;
    jobs_.emplace(d.delivery_tag, job);
    send(marker, std::move(start), Waiter{job, nullptr, false, marker, true});
    return amqp::Verdict::kDeferred;
}

Dispatcher::Starter Dispatcher::http_starter(http::ClientRequest request) {
    return [this, request = std::move(request)](http::AsyncClient::Done done) mutable {
        client_.start(std::move(request), std::move(done));
    };
}

Dispatcher::Starter Dispatcher::starter(const config::Channel& ch, const Outgoing& out) {
    const std::chrono::milliseconds timeout(ch.timeout);
    if (ch.type == "lineworks") {
        return
            [this, target = ch.to.front(), body = out.body, timeout](http::AsyncClient::Done done) {
                lineworks_.send(target, body, timeout, std::move(done));
            };
    }
    http::ClientRequest request{"POST", ch.url, out.headers, out.body, timeout};
    if (ch.type == "email") {
        request.mail_from = ch.from;
        request.mail_to = ch.to;
        request.username = ch.username;
        request.password = ch.password;
        request.starttls = ch.starttls;
    }
    return http_starter(std::move(request));
}

void Dispatcher::send(const std::string& key, Starter start, Waiter waiter,
                      const config::Channel* channel) {
    ++waiter.job->pending;
    auto it = inflight_.find(key);
    if (it != inflight_.end()) {
        // The same delivery redelivered while its call still runs: wait for that call.
        waiter.records = false;
        it->second.push_back(std::move(waiter));
        return;
    }
    inflight_[key].push_back(std::move(waiter));
    std::function<void()> call = [this, key, start = std::move(start)] {
        start([this, key](http::ClientResponse r) { on_response(key, r); });
    };
    // A channel with a rate limit (Slack: about a message a second per webhook) waits its turn.
    if (channel != nullptr) {
        if (auto l = limits_.find(channel->name); l != limits_.end()) {
            std::deque<std::function<void()>>& queue = throttled_[channel->name];
            std::int64_t ignored = 0;
            if (!queue.empty() || !l->second.try_acquire(clock_.now(), &ignored)) {
                queue.push_back(std::move(call));
                return;
            }
        }
    }
    call();
}

void Dispatcher::release_throttled() {
    for (auto& [name, queue] : throttled_) {
        auto l = limits_.find(name);
        std::int64_t ignored = 0;
        while (!queue.empty() && l->second.try_acquire(clock_.now(), &ignored)) {
            auto call = std::move(queue.front());
            queue.pop_front();
            call();
        }
    }
}

bool Dispatcher::any_throttled() const {
    for (const auto& [name, queue] : throttled_) {
        if (!queue.empty())
            return true;
    }
    return false;
}

void Dispatcher::on_response(const std::string& key, const http::ClientResponse& r) {
    auto node = inflight_.extract(key);
    if (node.empty())
        return;
    const Outcome outcome = classify(r);
    for (Waiter& w : node.mapped()) {
        Job& job = *w.job;
        if (job.kind == Job::Kind::kAction) {
            job.response = r;
        } else if (job.kind == Job::Kind::kReply) {
            const char* counted = "failed";
            if (outcome == Outcome::kDelivered) {
                counted = "delivered";
                if (w.records)
                    records_.push_back({w.marker, 7 * 24 * 3600, "", "", {}});
            } else if (outcome == Outcome::kRetry && job.attempt < kMaxAttempts) {
                counted = "retried";
                job.retry = true;
                job.retry_after_s = std::max(job.retry_after_s, retry_after_of(r));
            } else {
                job.permanent.push_back("reply");
            }
            if (w.records)  // one call, however many copies of the delivery wait for it
                metrics_.notifications.inc({"reply", counted});
        } else {
            const core::Notification& n = job.n;
            const std::string& ch = w.channel->name;
            core::TimelineEntry e{clock_.now(),
                                  "delivery",
                                  "sonae",
                                  "",
                                  {{"notification", n.id},
                                   {"channel", ch},
                                   {"status", r.status},
                                   {"attempt", job.attempt}}};
            if (w.redacted)  // only then: the entry is kept for every delivery of every incident
                e.data["redacted"] = true;
            const bool delivered = outcome == Outcome::kDelivered;
            bool refused = false;
            const char* counted = "failed";
            if (delivered) {
                counted = "delivered";
                e.text = "delivered " + n.kind + " to " + ch + (w.redacted ? " (redacted)" : "");
            } else if (outcome == Outcome::kRetry && job.attempt < kMaxAttempts) {
                counted = "retried";
                job.retry = true;
                job.retry_after_s = std::max(job.retry_after_s, retry_after_of(r));
                e.text = "delivery to " + ch + " failed (" + failure(r) + "), will retry";
            } else {
                refused = true;
                job.permanent.push_back(ch);
                e.text = "delivery to " + ch + " failed permanently (" + failure(r) + ")";
            }
            if (w.records) {
                metrics_.notifications.inc({ch, counted});
                // A refusal is marked like a delivery: a redelivered copy (its dead-lettering
                // was not confirmed) is dead-lettered again, not tried again.
                records_.push_back({delivered || refused ? w.marker : std::string{}, 30 * 24 * 3600,
                                    n.tenant, n.incident_id, std::move(e),
                                    delivered ? "1" : kRefused});
            }
        }
        if (--job.pending == 0)
            finished_.push_back(w.job);
    }
}

void Dispatcher::poll(amqp::Connection& conn, int broker_fd, std::chrono::milliseconds budget,
                      const amqp::Settle& settle) {
    release_throttled();
    client_.wait(broker_fd,
                 any_throttled() ? std::min(budget, std::chrono::milliseconds(50)) : budget);
    if (finished_.empty())
        return;
    try {
        store_.record(records_);
        records_.clear();
    } catch (const redis::Error& e) {
        // Outcomes are written before anything is acknowledged: try again on the next poll.
        spdlog::warn("notifier: recording outcomes failed: {} (will retry)", e.what());
        return;
    }
    while (!finished_.empty()) {
        std::shared_ptr<Job> job = std::move(finished_.front());
        finished_.pop_front();
        if (!job->current)
            continue;  // redelivered on the new connection; that copy publishes and acks
        const log::Scope scope{{"incident", job->incident()},
                               {"notification", job->delivery.message_id}};
        amqp::Verdict verdict = amqp::Verdict::kAck;
        try {
            finish(conn, *job);
        } catch (const amqp::PublishError& e) {
            // Back to the queue: channels delivered meanwhile are skipped by their markers.
            spdlog::warn("notification {}: {} (requeued)", job->delivery.message_id, e.what());
            verdict = amqp::Verdict::kRetry;
        } catch (const redis::Error& e) {
            spdlog::warn("delivery {}: {} (requeued)", job->delivery.message_id, e.what());
            verdict = amqp::Verdict::kRetry;
        }
        forget(job);
        if (job->group) {
            // A combined delivery is settled with its last job: requeued if any job could not
            // publish or record (the others are then skipped by their markers).
            if (verdict == amqp::Verdict::kRetry)
                job->group->verdict = verdict;
            if (--job->group->remaining > 0)
                continue;
            verdict = job->group->verdict;
        }
        settle(job->delivery.delivery_tag, verdict);
    }
}

void Dispatcher::forget(const std::shared_ptr<Job>& job) {
    auto [begin, end] = jobs_.equal_range(job->delivery.delivery_tag);
    for (auto it = begin; it != end; ++it) {
        if (it->second == job) {
            jobs_.erase(it);
            return;
        }
    }
}

void Dispatcher::finish(amqp::Connection& conn, Job& job) {
    if (job.kind == Job::Kind::kAction) {
        const core::HttpAction& a = job.a;
        const http::ClientResponse& r = job.response;
        const Outcome outcome = classify(r);
        if (outcome == Outcome::kRetry && job.attempt <= a.retries) {
            metrics_.actions.inc({"retried"});
            store_.append_timeline(
                a.tenant, a.incident_id,
                {clock_.now(),
                 "action",
                 "sonae",
                 "HTTP action " + a.step + " failed (" + failure(r) + "), will retry",
                 {{"step", a.step}, {"status", r.status}, {"attempt", job.attempt}}});
            publish_retry(conn, job, retry_after_of(r));
            return;
        }
        metrics_.actions.inc({outcome == Outcome::kDelivered ? "succeeded" : "failed"});
        publish_result(conn, a, outcome == Outcome::kDelivered, r.status,
                       r.status != 0 ? r.body.substr(0, 200) : r.error);
        return;
    }
    if (!job.unreadable.empty()) {
        spdlog::error("dead-lettering notification {}: {}", job.delivery.message_id,
                      job.unreadable);
        dead_letter(conn, job, job.unreadable);
        return;
    }
    if (job.retry)
        publish_retry(conn, job, job.retry_after_s);
    if (!job.permanent.empty()) {
        std::string names;
        for (const auto& p : job.permanent)
            names += (names.empty() ? "" : ",") + p;
        spdlog::warn("{}: dead-lettered for {}", job.delivery.message_id, names);
        dead_letter(conn, job, "failed permanently for " + names);
    }
}

void Dispatcher::publish_retry(amqp::Connection& conn, const Job& job, std::int64_t retry_after_s) {
    const amqp::Delivery& d = job.delivery;
    amqp::Message m;
    m.exchange = topology_.retry_exchange();
    m.routing_key =
        topology_.retry_key(d.routing_key, retry_delay(job.attempt, retry_after_s, rng_()));
    m.message_id = d.message_id;
    m.type = d.type;
    m.body = d.body;
    m.headers = d.headers;
    m.headers["x-sonae-attempt"] = std::to_string(job.attempt);
    conn.publish_confirmed({m}, std::chrono::seconds(10));
}

void Dispatcher::dead_letter(amqp::Connection& conn, const Job& job, const std::string& why) {
    const amqp::Delivery& d = job.delivery;
    amqp::Message m;
    m.exchange = topology_.dead_letter_exchange();
    m.routing_key = d.routing_key;
    m.message_id = d.message_id;
    m.type = d.type;
    m.body = d.body;
    m.headers = d.headers;
    m.headers["x-sonae-reason"] = why;
    conn.publish_confirmed({m}, std::chrono::seconds(10));
    metrics_.dead_lettered.inc({d.routing_key});
}

void Dispatcher::publish_result(amqp::Connection& conn, const core::HttpAction& a, bool ok,
                                long status, const std::string& detail) {
    const core::ActionResult result{
        "ar:" + a.id, a.tenant, a.incident_id, a.step, ok, static_cast<int>(status), detail};
    const core::OutboxEntry o = core::OutboxEntry::of(result);
    conn.publish_confirmed(
        {topology_.message(o.routing_key, o.message_id, o.type, o.body, a.tenant)},
        std::chrono::seconds(10));
    store_.mark(store_.keys().action_done(a.tenant, a.id), 7 * 24 * 3600);
}

void Dispatcher::on_disconnect() {
    // Their deliveries come again on the next connection; calls still running are joined by
    // the redelivered copies (inflight_), and outcomes are still recorded when they finish.
    for (auto& [tag, job] : jobs_)
        job->current = false;
    jobs_.clear();
}

}  // namespace sonae::notifier
