// The fault suite (PRODUCT §7, §13): three orchestrators and two notifiers side by side, under a
// steady load of events, API commands and firing timers, while in turn each service is killed
// (-9) and restarted (one replica, then every replica of a service), Redis is killed and started
// again on its append-only file, RabbitMQ is restarted, the notification receiver hangs, answers
// 500, 429 with Retry-After and 410, and the services are cut off their broker by a proxy.
// Afterwards it counts, prints and checks: every event answered 202 is in exactly one incident,
// every timer fired exactly once, every notification delivered or dead-lettered (exactly one of
// the two), every command answered 202 applied exactly once.
//
// The short form runs in scripts/test; SONAE_FAULTS_LONG=1 runs the long form (every replica
// killed in turn, longer faults, a 30 s network cut).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <random>
#include <set>
#include <sstream>

#include <doctest/doctest.h>

#include <sonae/amqp/topology.hpp>
#include <sonae/store/keys.hpp>
#include <sonae/store/store.hpp>
#include <sonae/store/tokens.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

bool long_form() {
    const char* v = std::getenv("SONAE_FAULTS_LONG");
    return v != nullptr && std::string(v) == "1";
}

const char* kCatalog = R"(tenant: default
utc_offset: "+09:00"
default_playbook: fault
roles: [{id: csirt, name: CSIRT}, {id: lead, name: 責任者}]
services: [{id: svc, name: 業務, rto: 24h}]
)";

// Per incident two timers (triage overdue, the wait) and four notifications (opening, overdue,
// escalation, the notify step).
const char* kPlaybook = R"(id: fault
title: fault suite
roles: [csirt, lead]
notify: {roles: [csirt]}
escalation:
  - {id: late, overdue: [triage], notify: {roles: [lead]}, message: "late {{step.title}}"}
steps:
  - {id: triage, title: triage, owner: csirt, due: 4s}
  - {id: hold, title: hold, type: wait, wait: 3s}
  - {id: tell, title: tell, type: notify, after: [hold], notify: {roles: [csirt]}, message: "held {{id}}"}
)";

const std::string kApiToken = "fault-suite-commander";
const std::vector<std::pair<std::string, std::string>> kSource{
    {"Authorization", "Bearer t"}, {"Content-Type", "application/json"}};

// Events (two new dedup keys for one repeat) and note commands, posted until stopped; what was
// answered 202 is remembered.
class Load {
  public:
    Load(Stack& stack, const std::string& redis_url) : stack_(stack), redis_url_(redis_url) {}
    ~Load() { stop(); }

    void start() {
        threads_.emplace_back([this] { post_events(); });
        threads_.emplace_back([this] { post_commands(); });
    }
    void stop() {
        stopping_ = true;
        for (auto& t : threads_)
            t.join();
        threads_.clear();
    }
    std::size_t accepted_events() {
        std::lock_guard lock(mu_);
        return events_.size();
    }
    std::set<std::string> events() {
        std::lock_guard lock(mu_);
        return events_;
    }
    std::set<std::string> notes() {
        std::lock_guard lock(mu_);
        return notes_;
    }
    std::map<long, int> refused() {
        std::lock_guard lock(mu_);
        return refused_;
    }

  private:
    void post_events() {
        std::mt19937 rng(7);
        std::vector<std::string> keys;
        for (int n = 0; !stopping_; ++n) {
            std::string key;
            if (n % 3 == 2 && !keys.empty()) {
                key = keys[rng() % keys.size()];
            } else {
                key = "fault-" + std::to_string(n);
                keys.push_back(key);
            }
            const json e{{"title", "fault suite " + std::to_string(n)},
                         {"dedup_key", key},
                         {"category", "outage"},
                         {"severity", "high"}};
            const auto r = http_post(stack_.url("/v1/events/generic"), e.dump(), kSource);
            std::lock_guard lock(mu_);
            if (r.status == 202)
                events_.insert(r.json()["event_ids"][0].get<std::string>());
            else
                ++refused_[r.status];
            std::this_thread::sleep_for(milliseconds(100));  // the load's pace: 10 events/s
        }
    }

    void post_commands() {
        redis::Connection redis(redis::Settings::parse(redis_url_).value());
        std::mt19937 rng(11);
        const std::vector<std::pair<std::string, std::string>> auth{
            {"Authorization", "Bearer " + kApiToken}, {"Content-Type", "application/json"}};
        for (int n = 0; !stopping_; ++n) {
            std::this_thread::sleep_for(milliseconds(250));  // the load's pace: 4 commands/s
            std::vector<std::string> ids;
            try {
                for (auto& id :
                     redis.command({"ZRANGE", stack_.prefix() + ":default:incidents", "-20", "-1"})
                         .elements())
                    ids.push_back(id.str());
            } catch (const redis::Error&) {
                continue;  // Redis is the fault of the moment
            }
            if (ids.empty())
                continue;
            const std::string text = "fault-note-" + std::to_string(n);
            const auto r =
                http_post(stack_.url("/v1/incidents/" + ids[rng() % ids.size()] + "/commands"),
                          json{{"command", "note " + text}}.dump(), auth);
            std::lock_guard lock(mu_);
            if (r.status == 202)
                notes_.insert(text);
        }
    }

    Stack& stack_;
    std::string redis_url_;
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::set<std::string> events_;
    std::set<std::string> notes_;
    std::map<long, int> refused_;
};

// What the timelines say, read back after the run.
struct Counts {
    std::size_t incidents = 0;
    std::map<std::string, int> events;  // event id -> entries naming it, over all incidents
    std::map<std::string, int> notes;   // note text -> entries
    int overdue_wrong = 0, escalation_wrong = 0, wait_wrong = 0;  // incidents not at exactly 1
    int timers_fired = 0;
    std::map<std::string, int> sent;       // notification id -> "notification" entries
    std::map<std::string, int> delivered;  // notification id -> "delivered" entries
    std::map<std::string, int> dead;       // notification id -> "failed permanently" entries
};

Counts count(Stack& stack, redis::Connection& redis) {
    store::IncidentStore st(redis, store::Keys{stack.prefix()});
    Counts c;
    const auto ids = redis.command({"ZRANGE", stack.prefix() + ":default:incidents", "0", "-1"});
    c.incidents = ids.elements().size();
    for (const auto& id : ids.elements()) {
        int overdue = 0, escalation = 0, waited = 0;
        for (const auto& e : st.timeline("default", id.str())) {
            const std::string kind = e["kind"];
            const json& d = e["data"];
            if ((kind == "opened" || kind == "event") && d.contains("event"))
                ++c.events[d["event"].get<std::string>()];
            else if (kind == "note")
                ++c.notes[e["text"].get<std::string>()];
            else if (kind == "overdue")
                ++overdue;
            else if (kind == "escalation")
                ++escalation;
            else if (kind == "step" && d.value("step", "") == "hold" &&
                     d.value("after", "") == "done")
                ++waited;
            else if (kind == "notification")
                ++c.sent[d["notification"].get<std::string>()];
            else if (kind == "delivery") {
                const std::string text = e["text"];
                const std::string n = d["notification"];
                if (text.rfind("delivered ", 0) == 0)
                    ++c.delivered[n];
                else if (text.find("failed permanently") != std::string::npos)
                    ++c.dead[n];
            }
        }
        c.overdue_wrong += overdue != 1 ? 1 : 0;
        c.escalation_wrong += escalation != 1 ? 1 : 0;
        c.wait_wrong += waited != 1 ? 1 : 0;
        c.timers_fired += overdue + waited;
    }
    return c;
}

// True once the run has settled: every accepted event and command applied, no timer pending or
// leased, every notification delivered or dead-lettered.
bool settled(Stack& stack, redis::Connection& redis, Load& load, std::string& why) {
    try {
        const std::string p = stack.prefix();
        std::vector<std::vector<std::string>> exists;
        for (const auto& id : load.events())
            exists.push_back({"EXISTS", p + ":default:done:evt:" + id});
        std::size_t applied = 0;
        for (const auto& r : redis.pipeline(exists))
            if (r.integer() == 1)
                ++applied;
        if (applied < exists.size()) {
            why = std::to_string(exists.size() - applied) + " accepted events not applied";
            return false;
        }
        const auto pending = redis.command({"ZCARD", p + ":timers"}).integer() +
                             redis.command({"ZCARD", p + ":timers:leased"}).integer();
        if (pending > 0) {
            why = std::to_string(pending) + " timers pending or leased";
            return false;
        }
        const Counts c = count(stack, redis);
        for (const auto& text : load.notes()) {
            if (c.notes.count(text) == 0) {
                why = "command 'note " + text + "' not applied";
                return false;
            }
        }
        for (const auto& [n, k] : c.sent) {
            if (c.delivered.count(n) == 0 && c.dead.count(n) == 0) {
                why = "notification " + n + " neither delivered nor dead-lettered";
                return false;
            }
        }
        return true;
    } catch (const redis::Error& e) {
        why = e.what();
        return false;
    }
}

// The notifications dead-lettered, by id, read off the dead-letter queue: by the notifier (a
// permanent refusal, with its reason) or by the broker (a message redelivered too often).
struct DeadLetters {
    std::map<std::string, std::string> by_id;  // notification id -> reason ("" from the broker)
};

DeadLetters read_dead_letters(int amqp_port, const std::string& prefix) {
    DeadLetters out;
    amqp::Settings s;
    s.endpoints = {amqp::Endpoint{"127.0.0.1", amqp_port, "guest", "guest", "/"}};
    amqp::Connection conn(s);
    conn.set_prefetch(1000);
    conn.consume(amqp::Topology{prefix}.dead_queue("notifications"));
    while (auto frame = conn.next(milliseconds(1000))) {
        if (auto* d = std::get_if<amqp::Delivery>(&*frame)) {
            const auto reason = d->headers.find("x-sonae-reason");
            out.by_id[d->message_id] = reason == d->headers.end() ? "" : reason->second;
            conn.ack(d->delivery_tag, false);
        }
    }
    return out;
}

}  // namespace

TEST_CASE(
    "under kills, restarts, a hanging receiver and a cut network nothing is lost or doubled") {
    const TestEnv env = TestEnv::require();
    const bool full = long_form();
    const auto t0 = std::chrono::steady_clock::now();
    const auto say = [&](const std::string& what) {
        const auto s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cout << "[fault suite " << std::fixed << std::setprecision(1) << s << " s] " << what
                  << std::endl;
    };

    // Our own Redis and RabbitMQ, to kill and restart; the services reach the broker through a
    // proxy, to cut.
    const std::string data = make_temp_dir("faults");
    const int redis_port = free_port();
    const int amqp_port = free_port();
    auto redis_server = start_redis_server(data, redis_port, data + "/redis.log");
    auto broker = start_rabbitmq_node(data + "/rabbitmq", amqp_port, data + "/rabbitmq.log");
    TcpProxy proxy(amqp_port);

    Receiver receiver;
    const std::string config = make_temp_dir("config");
    write_file(config + "/sources.yaml",
               "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: t},\n"
               "     rate_limit: {per_second: 100000, burst: 100000}}\n");
    write_file(config + "/channels.yaml",
               "channels:\n  - name: hook\n    type: webhook\n    url: " + receiver.url() +
                   "\n    all: true\n    timeout: 2s\n");
    write_file(config + "/responders.yaml",
               "api_tokens:\n  - {name: faults, role: commander, sha256: " +
                   store::token_hash(kApiToken) + "}\n");
    const std::string playbooks = make_temp_dir("playbooks");
    write_file(playbooks + "/catalog.yaml", kCatalog);
    write_file(playbooks + "/fault.yaml", kPlaybook);
    write_file(config + "/catalog.yaml", kCatalog);

    TestEnv mine = env;
    mine.redis_url = "redis://127.0.0.1:" + std::to_string(redis_port);
    mine.amqp_url = "amqp://guest:guest@127.0.0.1:" + std::to_string(proxy.port()) + "/";
    Stack stack(mine, Stack::Options{config, playbooks, {{"SONAE_WORKERS", "1"}}, 3, 2});
    redis::Connection redis(redis::Settings::parse(mine.redis_url).value());

    Load load(stack, mine.redis_url);
    load.start();
    // The load goes on between faults; each fault starts once events are accepted again.
    const auto flowing = [&](const std::string& after) {
        const std::size_t before = load.accepted_events();
        const bool ok =
            wait_until([&] { return load.accepted_events() >= before + 5; }, seconds(120));
        INFO(stack.logs());
        REQUIRE_MESSAGE(ok, "events are not accepted again after " << after);
        say("events flow again after " + after);
    };
    const auto kill_and_restart = [&](const std::string& service,
                                      const std::vector<std::size_t>& replicas) {
        for (auto r : replicas)
            (service == "gateway"        ? stack.gateway()
             : service == "orchestrator" ? stack.orchestrator(r)
                                         : stack.notifier(r))
                .kill_hard();
        say("killed -9 " + service + " " + std::to_string(replicas.size()) + " replica(s)");
        for (auto r : replicas)
            stack.restart(service, r);
        flowing("restarting " + service);
    };
    const auto hold = [&](seconds d) {
        // A fault lasts this long by design; the load runs meanwhile.
        std::this_thread::sleep_for(d);
    };

    flowing("the start");
    // kill -9, one replica at a time, then every replica of a service.
    if (full) {
        for (std::size_t r = 0; r < stack.replicas("orchestrator"); ++r)
            kill_and_restart("orchestrator", {r});
        for (std::size_t r = 0; r < stack.replicas("notifier"); ++r)
            kill_and_restart("notifier", {r});
    } else {
        kill_and_restart("orchestrator", {1});
        kill_and_restart("notifier", {0});
    }
    kill_and_restart("gateway", {0});
    kill_and_restart("orchestrator", {0, 1, 2});
    kill_and_restart("notifier", {0, 1});

    // The receiver hangs (past the channel's 2 s timeout), fails, throttles, refuses, recovers.
    const seconds phase(full ? 10 : 3);
    receiver.set_delay(seconds(5));
    say("receiver hangs");
    hold(phase);
    receiver.set_delay(milliseconds(0));
    receiver.set_status(500);
    say("receiver answers 500");
    hold(phase);
    receiver.set_status(429);
    receiver.set_retry_after(1);
    say("receiver answers 429 with Retry-After: 1");
    hold(phase);
    receiver.set_retry_after(0);
    // Permanent: those deliveries are dead-lettered. The phase lasts until at least one delivery
    // was answered 410 (the status is read under the lock that records the request), not a fixed
    // second in which the notifier may still be backing off from the 429s.
    const std::size_t before_410 = receiver.requests().size();
    receiver.set_status(410);
    say("receiver answers 410");
    hold(seconds(1));
    CHECK(wait_until([&] { return receiver.requests().size() > before_410; }, seconds(60)));
    receiver.set_status(200);
    say("receiver recovered");

    // Redis killed and started again on its append-only file.
    redis_server->kill_hard();
    say("killed -9 redis");
    if (full)
        hold(seconds(5));
    redis_server = start_redis_server(data, redis_port, data + "/redis.log");
    say("redis is back");
    flowing("the Redis restart");

    // RabbitMQ stopped and started again (its quorum queues keep what they confirmed).
    broker->stop();
    say("rabbitmq stopped");
    broker = start_rabbitmq_node(data + "/rabbitmq", amqp_port, data + "/rabbitmq.log");
    say("rabbitmq is back");
    flowing("the RabbitMQ restart");

    // The network to the broker cut.
    proxy.cut();
    say("network to the broker cut");
    hold(full ? seconds(30) : seconds(8));
    proxy.heal();
    say("network healed");
    flowing("the network cut");

    load.stop();
    say("load stopped; waiting for the stack to settle");
    std::string why;
    const bool done = wait_until([&] { return settled(stack, redis, load, why); }, seconds(300));
    INFO(stack.logs());
    CHECK_MESSAGE(done, "not settled: " << why);

    const Counts c = count(stack, redis);
    const auto accepted = load.events();
    const auto notes = load.notes();
    std::size_t in_one = 0, in_none = 0, in_many = 0, unaccepted = 0;
    for (const auto& id : accepted) {
        const auto it = c.events.find(id);
        const int n = it == c.events.end() ? 0 : it->second;
        (n == 1 ? in_one : n == 0 ? in_none : in_many)++;
    }
    for (const auto& [id, n] : c.events) {
        if (accepted.count(id) == 0) {
            ++unaccepted;
            CHECK_MESSAGE(n == 1,
                          "event " << id << " (answered with an error) in " << n << " incidents");
        }
    }
    std::size_t notes_once = 0;
    for (const auto& text : notes)
        if (c.notes.count(text) == 1 && c.notes.at(text) == 1)
            ++notes_once;
    std::size_t sent_twice = 0, delivered = 0, dead = 0, both = 0, neither = 0, redelivered = 0;
    for (const auto& [n, k] : c.sent) {
        if (k != 1)
            ++sent_twice;
        const bool d = c.delivered.count(n) == 1, x = c.dead.count(n) == 1;
        if (d && !x)
            ++delivered;
        if (x && !d)
            ++dead;
        if (d && x)
            ++both;
        if (!d && !x)
            ++neither;
        if (d && c.delivered.at(n) > 1)
            ++redelivered;
    }
    const DeadLetters dlq = read_dead_letters(amqp_port, stack.prefix());
    std::size_t dlq_by_broker = 0, dlq_missing = 0, dead_not_queued = 0;
    for (const auto& [id, reason] : dlq.by_id) {
        if (reason.empty())
            ++dlq_by_broker;
    }
    for (const auto& [n, k] : c.dead) {
        if (dlq.by_id.count(n) == 0)
            ++dead_not_queued;
    }
    for (const auto& [n, k] : c.sent) {
        if ((c.delivered.count(n) == 0) == (c.dead.count(n) == 0)) {
            if (++dlq_missing <= 3) {
                const std::string incident =
                    n.substr(n.find(':') + 1, n.rfind(':') - n.find(':') - 1);
                std::cout << "not exactly one outcome: " << n << " (dead-letter queue: "
                          << (dlq.by_id.count(n) ? "'" + dlq.by_id.at(n) + "'" : "no") << "):\n";
                store::IncidentStore st(redis, store::Keys{stack.prefix()});
                for (const auto& e : st.timeline("default", incident))
                    std::cout << "  " << e["at"].get<std::string>() << " "
                              << e["kind"].get<std::string>() << " " << e["text"].get<std::string>()
                              << " " << e["data"].dump() << "\n";
            }
        }
    }
    std::string refused;
    for (const auto& [status, n] : load.refused())
        refused += " " + std::to_string(status) + "×" + std::to_string(n);

    std::ostringstream out;
    out << "fault suite (" << (full ? "long" : "short") << " form) counts:\n"
        << "  events:        accepted " << accepted.size() << ", in exactly one incident " << in_one
        << ", in none " << in_none << ", in several " << in_many
        << " (refused meanwhile:" << refused << "; stored although refused " << unaccepted << ")\n"
        << "  incidents:     " << c.incidents << "\n"
        << "  timers:        scheduled " << 2 * c.incidents << ", fired " << c.timers_fired
        << " (incidents with overdue≠1: " << c.overdue_wrong
        << ", escalation≠1: " << c.escalation_wrong << ", wait≠1: " << c.wait_wrong << ")\n"
        << "  notifications: sent " << c.sent.size() << ", delivered " << delivered
        << ", dead-lettered " << dead << ", both " << both << ", neither " << neither
        << ", id sent twice " << sent_twice << "; in the dead-letter queue " << dlq.by_id.size()
        << " (" << dlq_by_broker
        << " without the notifier's reason: a refused copy redelivered, or the delivery limit);"
        << " refused but not in it " << dead_not_queued << "\n"
        << "                 delivered again after a crash " << redelivered
        << " (at least once; receivers de-duplicate on webhook-id)\n"
        << "  commands:      accepted " << notes.size() << ", applied exactly once " << notes_once
        << "\n";
    std::cout << out.str() << std::flush;

    CHECK(accepted.size() > 0);
    CHECK(in_one == accepted.size());
    CHECK(c.overdue_wrong == 0);
    CHECK(c.escalation_wrong == 0);
    CHECK(c.wait_wrong == 0);
    CHECK(c.timers_fired == static_cast<int>(2 * c.incidents));
    CHECK(both == 0);
    CHECK(neither == 0);
    CHECK(sent_twice == 0);
    CHECK(delivered + dead == c.sent.size());
    CHECK(dead > 0);  // the 410 phase dead-lettered some
    CHECK(dead_not_queued == 0);
    CHECK(notes.size() > 0);
    CHECK(notes_once == notes.size());
}
