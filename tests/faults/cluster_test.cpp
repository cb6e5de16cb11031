// A three-node RabbitMQ cluster on this machine (private node names, ports, epmd and Erlang
// cookie) under the three services and a steady load of events. The node that leads every
// quorum queue (the delay queues too) and holds the gateway's connection is stopped during
// the load: the services fail over to the other two, every event answered 202 ends up in
// exactly one incident, and every notification is delivered exactly once. The node then starts
// again and rejoins the cluster.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include <sonae/amqp/topology.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kNodes = 3;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

struct QueueInfo {
    std::string type;
    std::string leader;
    std::set<std::string> members;
    std::set<std::string> online;
};

// Three nodes sonae<PORT>@localhost sharing a private epmd and cookie; scripts/lib/rabbitmq-node
// runs each (classic_config peer discovery makes a blank node join a running member).
class Cluster {
  public:
    Cluster() {
        log_dir_ = make_temp_dir("cluster-log");
        epmd_port_ = free_port();
        epmd_ = std::make_unique<Process>(
            "/usr/bin/epmd", std::map<std::string, std::string>{}, log_dir_ + "/epmd.log",
            std::vector<std::string>{"-port", std::to_string(epmd_port_)});
        const std::string names =
            "ERL_EPMD_PORT=" + std::to_string(epmd_port_) + " epmd -names >/dev/null 2>&1";
        if (!wait_until([&] { return run_shell(names).status == 0; }, std::chrono::seconds(20)))
            FAIL("the private epmd did not start");
        std::mt19937_64 rng(std::random_device{}());
        char cookie[33];
        std::snprintf(cookie, sizeof cookie, "%016llx%016llx",
                      static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng()));
        cookie_ = cookie;
        std::set<int> taken{epmd_port_};
        for (int i = 0; i < kNodes; ++i) {
            int port = free_port();
            while (taken.count(port) != 0)
                port = free_port();
            taken.insert(port);
            ports_.push_back(port);
            dirs_.push_back(make_temp_dir("rabbit"));
            names_.push_back("sonae" + std::to_string(port) + "@localhost");
        }
        processes_.resize(kNodes);
    }
    ~Cluster() {
        for (auto& p : processes_) {
            if (p)
                p->terminate();  // all at once: the last members wait for each other
        }
        for (auto& p : processes_) {
            if (p && !p->wait_exit(std::chrono::seconds(120)))
                p->stop();
            p.reset();
        }
        epmd_.reset();
    }
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    // Starts node i (again) without waiting for it.
    void start(int i) {
        std::string members;
        for (const auto& n : names_)
            members += (members.empty() ? "" : " ") + n;
        processes_[static_cast<std::size_t>(i)] =
            std::make_unique<Process>(std::string(SONAE_SOURCE_DIR) + "/scripts/lib/rabbitmq-node",
                                      std::map<std::string, std::string>{
                                          {"SONAE_RABBITMQ_EPMD_PORT", std::to_string(epmd_port_)},
                                          {"SONAE_RABBITMQ_COOKIE", cookie_},
                                          {"SONAE_RABBITMQ_CLUSTER_NODES", members}},
                                      log_dir_ + "/node" + std::to_string(i) + ".log",
                                      std::vector<std::string>{dir(i), std::to_string(port(i))});
    }
    // SIGTERM: the node shuts down gracefully (closing its clients' connections); waits until
    // rabbitmq-node has stopped it (Process::stop would kill the script after 6 s, leaving a
    // slow broker behind).
    void stop(int i) {
        auto& p = processes_[static_cast<std::size_t>(i)];
        if (!p)
            return;
        p->terminate();
        if (!p->wait_exit(std::chrono::seconds(120)))
            FAIL_CHECK("node " << i << " did not stop within 120 s");
        p.reset();
    }

    int port(int i) const { return ports_[static_cast<std::size_t>(i)]; }
    const std::string& name(int i) const { return names_[static_cast<std::size_t>(i)]; }
    const std::string& dir(int i) const { return dirs_[static_cast<std::size_t>(i)]; }
    int index_of(const std::string& node) const {
        const auto it = std::find(names_.begin(), names_.end(), node);
        return it == names_.end() ? -1 : static_cast<int>(it - names_.begin());
    }
    // Every node, as SONAE_AMQP_URL lists a cluster.
    std::string urls() const {
        std::string out;
        for (int p : ports_)
            out += (out.empty() ? "" : ",") + std::string("amqp://guest:guest@127.0.0.1:") +
                   std::to_string(p) + "/";
        return out;
    }
    // A CLI tool (rabbitmqctl, rabbitmq-queues, rabbitmq-diagnostics) against node i.
    SplitResult ctl(int i, const std::string& args) const {
        return run_shell_split(dir(i) + "/ctl " + args);
    }
    // The running members of the cluster as node i sees them (empty: no answer).
    std::set<std::string> running(int i) const {
        const auto r = ctl(i, "rabbitmqctl cluster_status --formatter json");
        const json j = json::parse(r.out, nullptr, false);
        if (r.status != 0 || !j.is_object() || !j.contains("running_nodes"))
            return {};
        return j["running_nodes"].get<std::set<std::string>>();
    }
    // The queues whose names start with `prefix`, as node i sees them.
    std::map<std::string, QueueInfo> queues(int i, const std::string& prefix) const {
        const auto r = ctl(i,
                           "rabbitmqctl list_queues name type leader members online "
                           "--formatter json");
        const json j = json::parse(r.out, nullptr, false);
        std::map<std::string, QueueInfo> out;
        if (r.status != 0 || !j.is_array())
            return out;
        auto names = [](const json& v) {
            return v.is_array() ? v.get<std::set<std::string>>() : std::set<std::string>{};
        };
        for (const auto& q : j) {
            const std::string name = q.value("name", "");
            if (name.rfind(prefix + ".", 0) != 0)
                continue;
            out[name] = QueueInfo{q.value("type", ""), q.value("leader", ""), names(q["members"]),
                                  names(q["online"])};
        }
        return out;
    }
    std::string logs() const {
        std::string out;
        for (int i = 0; i < kNodes; ++i)
            out += "--- node " + std::to_string(i) + "\n" +
                   read_file(log_dir_ + "/node" + std::to_string(i) + ".log");
        return out;
    }

  private:
    std::string log_dir_;
    int epmd_port_ = 0;
    std::string cookie_;
    std::unique_ptr<Process> epmd_;
    std::vector<int> ports_;
    std::vector<std::string> dirs_;
    std::vector<std::string> names_;
    std::vector<std::unique_ptr<Process>> processes_;
};

std::string event(int i) {
    return json{{"title", "cluster test " + std::to_string(i)},
                {"dedup_key", "cluster-" + std::to_string(i)},
                {"category", "outage"},
                {"severity", "low"}}
        .dump();
}

const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", "Bearer t"},
                                                             {"Content-Type", "application/json"}};

// Milliseconds of the day of a service log line's "ts" ("…T08:00:10.391Z"), or -1.
long long log_ms(const std::string& line) {
    const auto t = line.find("\"ts\":\"");
    if (t == std::string::npos || line.size() < t + 30)
        return -1;
    const std::string hms = line.substr(t + 17, 12);  // HH:MM:SS.mmm
    return ((std::stoll(hms.substr(0, 2)) * 60 + std::stoll(hms.substr(3, 2))) * 60 +
            std::stoll(hms.substr(6, 2))) *
               1000 +
           std::stoll(hms.substr(9, 3));
}

// From the first log line containing `lost` to the next one containing `back`, in ms (-1: none).
long long reconnect_ms(const std::string& log, const std::string& lost, const std::string& back) {
    std::istringstream in(log);
    std::string line;
    long long from = -1;
    while (std::getline(in, line)) {
        if (from < 0 && line.find(lost) != std::string::npos)
            from = log_ms(line);
        else if (from >= 0 && line.find(back) != std::string::npos)
            return log_ms(line) - from;
    }
    return -1;
}

struct Answer {
    int index = 0;
    long status = 0;
    std::string event_id;
    Clock::time_point sent, answered;
};

}  // namespace

TEST_CASE("a three-node RabbitMQ cluster loses the node of the leaders under load, nothing lost") {
    const TestEnv env = TestEnv::require();
    Cluster cluster;
    const auto t_form = Clock::now();
    cluster.start(0);
    REQUIRE_MESSAGE(
        wait_until([&] { return amqp_answers(cluster.port(0)); }, std::chrono::seconds(180)),
        cluster.logs());
    cluster.start(1);
    cluster.start(2);
    const std::set<std::string> all{cluster.name(0), cluster.name(1), cluster.name(2)};
    REQUIRE_MESSAGE(
        wait_until([&] { return cluster.running(0) == all; }, std::chrono::seconds(240)),
        cluster.logs());
    REQUIRE(cluster.running(2) == all);
    for (int i = 0; i < kNodes; ++i)
        REQUIRE(
            wait_until([&] { return amqp_answers(cluster.port(i)); }, std::chrono::seconds(60)));
    MESSAGE("3 running members after " << seconds_since(t_form) << " s");

    // The topology is declared through node 0 alone (leaders are placed on the declaring
    // client's node), and node 0 is every service's first endpoint: node 0 leads every quorum
    // queue (the delay queues too), and the gateway publishes through it. Stopping it
    // is the harshest loss of one node.
    const std::string prefix = unique_name("cl");
    const amqp::Topology topology{prefix};
    {
        amqp::Settings s = amqp::Settings::parse(cluster.urls()).value();
        s.endpoints.resize(1);
        amqp::Connection c(s);
        topology.declare(c);
    }
    const auto before = cluster.queues(1, prefix);
    for (const char* kind : amqp::Topology::kKinds) {
        for (const std::string& q : {topology.queue(kind), topology.dead_queue(kind)}) {
            INFO(q);
            REQUIRE(before.count(q) == 1);
            CHECK(before.at(q).type == "quorum");
            CHECK(before.at(q).members == all);  // replicated on all three nodes
            CHECK(before.at(q).online == all);
            CHECK(before.at(q).leader == cluster.name(0));
        }
    }

    Receiver receiver;
    const std::string config = make_temp_dir("config");
    write_file(config + "/sources.yaml",
               "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: t},\n"
               "     rate_limit: {per_second: 100000, burst: 100000}}\n");
    write_file(config + "/channels.yaml",
               "channels:\n  - name: hook\n    type: webhook\n"
               "    url: " +
                   receiver.url() +
                   "\n    secret: "
                   "whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE="
                   "\n    all: true\n    max_classification: 3A\n");
    TestEnv mine = env;
    mine.amqp_url = cluster.urls();
    Stack stack(
        mine,
        {config, env.source_dir + "/tests/integration/playbooks", {{"SONAE_PREFIX", prefix}}});
    const std::string node0 = "connected to 127.0.0.1:" + std::to_string(cluster.port(0));
    INFO(stack.logs());
    REQUIRE(stack.gateway().log().find(node0) != std::string::npos);

    // A steady load: two clients, each an event every 40 ms (50 events/s in all).
    std::mutex mu;
    std::vector<Answer> answers;
    std::atomic<bool> loading{true};
    std::atomic<int> next{0};
    std::atomic<int> accepted_count{0};
    auto client = [&] {
        auto due = Clock::now();
        while (loading.load()) {
            due = std::max(due + std::chrono::milliseconds(40), Clock::now());
            std::this_thread::sleep_until(due);  // pacing of the load, not a wait for a state
            Answer a;
            a.index = next++;
            a.sent = Clock::now();
            const auto r = http_post(stack.url("/v1/events/generic"), event(a.index), kAuth);
            a.answered = Clock::now();
            a.status = r.status;
            if (r.status == 202) {
                a.event_id = r.json()["event_ids"][0].get<std::string>();
                ++accepted_count;
            }
            std::lock_guard lock(mu);
            answers.push_back(std::move(a));
        }
    };
    const auto t_load = Clock::now();
    std::vector<std::thread> clients;
    for (int i = 0; i < 2; ++i)
        clients.emplace_back(client);
    const bool warmed =
        wait_until([&] { return accepted_count.load() >= 300; }, std::chrono::seconds(120));

    const auto t_stop = Clock::now();
    if (warmed)
        cluster.stop(0);
    const auto t_stopped = Clock::now();
    const int accepted_at_stop = accepted_count.load();
    // The gateway fails over: events are accepted again, for a while after the stop.
    const bool failed_over =
        warmed && wait_until([&] { return accepted_count.load() >= accepted_at_stop + 500; },
                             std::chrono::seconds(180));
    loading = false;
    for (auto& t : clients)
        t.join();
    const auto t_end = Clock::now();
    REQUIRE(warmed);
    REQUIRE(failed_over);

    // Accepted events, the answers that were not 202, and the longest time without a 202.
    std::sort(answers.begin(), answers.end(),
              [](const Answer& a, const Answer& b) { return a.answered < b.answered; });
    std::set<std::string> accepted_ids;
    std::set<std::string> accepted_keys;
    std::map<long, int> refused;
    Clock::time_point last_ok = t_load;
    Clock::duration longest_gap{0};
    Clock::time_point first_ok_after_stop{};
    for (const auto& a : answers) {
        if (a.status != 202) {
            ++refused[a.status];
            continue;
        }
        accepted_ids.insert(a.event_id);
        accepted_keys.insert("cluster-" + std::to_string(a.index));
        longest_gap = std::max(longest_gap, a.answered - last_ok);
        last_ok = a.answered;
        if (a.sent >= t_stopped && first_ok_after_stop == Clock::time_point{})
            first_ok_after_stop = a.answered;
    }
    int refused_total = 0;
    std::string refused_text;
    for (const auto& [status, n] : refused) {
        refused_total += n;
        refused_text += " " + std::to_string(n) + "x" + std::to_string(status);
    }
    const auto ms = [](Clock::duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    MESSAGE("load: " << answers.size() << " events in "
                     << std::chrono::duration<double>(t_end - t_load).count() << " s, "
                     << accepted_ids.size() << " answered 202, " << refused_total << " not ("
                     << refused_text << " )");
    MESSAGE("node 0 stopped (graceful) in "
            << ms(t_stopped - t_stop) << " ms; longest time without a 202: " << ms(longest_gap)
            << " ms; first 202 of an event sent after the stop: "
            << ms(first_ok_after_stop - t_stopped) << " ms after it");
    const std::string gateway_log = stack.gateway().log();
    const std::string connected = "amqp publisher: connected to 127.0.0.1:";
    const auto at = gateway_log.rfind(connected);
    REQUIRE(at != std::string::npos);
    const int gateway_port = std::stoi(gateway_log.substr(at + connected.size()));
    int gateway_node = -1;
    for (int i = 0; i < kNodes; ++i) {
        if (cluster.port(i) == gateway_port)
            gateway_node = i;
    }
    CHECK(gateway_node > 0);
    std::size_t nacked = 0;
    for (auto p = gateway_log.find("(nack): reconnecting"); p != std::string::npos;
         p = gateway_log.find("(nack): reconnecting", p + 1))
        ++nacked;
    MESSAGE("the gateway's publisher reconnected to node "
            << gateway_node << " "
            << reconnect_ms(gateway_log, "amqp publisher: connection lost", connected)
            << " ms after node 0 closed its connection (and " << nacked
            << " times more after a nack)");
    CHECK(accepted_ids.size() == static_cast<std::size_t>(accepted_count.load()));

    // Every accepted event is applied (the orchestrator's consumers failed over too).
    auto applied = [&] {
        std::size_t n = 0;
        for (const auto& id : accepted_ids) {
            if (stack.redis().command({"EXISTS", prefix + ":default:done:evt:" + id}).integer() ==
                1)
                ++n;
        }
        return n;
    };
    const auto t_apply = Clock::now();
    CHECK(wait_until([&] { return applied() == accepted_ids.size(); }, std::chrono::seconds(240)));
    const std::size_t applied_n = applied();
    CHECK(applied_n == accepted_ids.size());

    // Each accepted event is in exactly one incident: one incident per dedup key, each alert
    // applied once. (A 503 may hide an event the broker did store; it may open its incident.)
    const auto ids = stack.redis().command({"ZRANGE", prefix + ":default:incidents", "0", "-1"});
    std::map<std::string, int> incidents_per_key;
    std::set<std::string> incident_ids;
    for (const auto& id : ids.elements()) {
        incident_ids.insert(id.str());
        const auto state = json::parse(
            stack.redis().command({"HGET", prefix + ":default:inc:" + id.str(), "state"}).str());
        REQUIRE(state["alerts"].size() == 1);
        CHECK(state["alerts"].begin().value()["n"] == 1);
        ++incidents_per_key[state["alerts"].begin().key()];
    }
    std::size_t in_one_incident = 0;
    for (const auto& key : accepted_keys) {
        INFO(key);
        const auto it = incidents_per_key.find(key);
        CHECK((it != incidents_per_key.end() && it->second == 1));
        if (it != incidents_per_key.end() && it->second == 1)
            ++in_one_incident;
    }
    for (const auto& [key, n] : incidents_per_key) {
        INFO(key);
        CHECK(n == 1);
    }
    MESSAGE(in_one_incident << " of " << accepted_keys.size()
                            << " accepted events in exactly one incident (" << incident_ids.size()
                            << " incidents), all applied " << seconds_since(t_apply)
                            << " s after the load ended");

    // Every incident's notification is delivered. Notifications are delivered at least once
    // (docs/operations.md): a webhook call still running when its notifier loses the broker is
    // redelivered to another worker, which may call again before the first call's delivered
    // marker is written. So a notification may arrive twice, identified by its webhook-id, only
    // when node 0 went away during its call; every other one arrives exactly once.
    auto delivered = [&] {
        std::map<std::string, std::vector<Clock::time_point>> by_id;
        for (const auto& r : receiver.requests()) {
            const auto it = r.headers.find("webhook-id");
            if (it != r.headers.end())
                by_id[it->second].push_back(r.at);
        }
        return by_id;
    };
    const bool all_delivered = wait_until(
        [&] {
            const auto by_id = delivered();
            return std::all_of(incident_ids.begin(), incident_ids.end(), [&](const auto& id) {
                return by_id.count("default:" + id + ":n1") == 1;
            });
        },
        std::chrono::seconds(240));
    CHECK(all_delivered);
    const auto by_id = delivered();
    std::size_t twice = 0;
    for (const auto& [id, times] : by_id) {
        if (times.size() == 1)
            continue;
        ++twice;
        const auto first = *std::min_element(times.begin(), times.end());
        MESSAGE("notification " << id << " delivered " << times.size() << " times, first "
                                << ms(first - t_stop) << " ms after the stop began");
        CHECK(times.size() == 2);
        CHECK(first >= t_stop - std::chrono::seconds(1));
        CHECK(first <= t_stopped);
    }
    MESSAGE(by_id.size() << " notifications delivered, " << by_id.size() - twice
                         << " exactly once, " << twice
                         << " twice (their call in flight as node 0 went away)");

    // Node 0 starts again and rejoins; its quorum queue members catch up.
    const auto t_rejoin = Clock::now();
    cluster.start(0);
    CHECK(wait_until(
        [&] {
            if (cluster.running(1) != all)
                return false;
            const auto qs = cluster.queues(1, prefix);
            return std::all_of(amqp::Topology::kKinds.begin(), amqp::Topology::kKinds.end(),
                               [&](const char* kind) {
                                   const auto it = qs.find(topology.queue(kind));
                                   return it != qs.end() && it->second.online == all;
                               });
        },
        std::chrono::seconds(240)));
    MESSAGE("node 0 rejoined, its quorum queue members online, " << seconds_since(t_rejoin)
                                                                 << " s after its start");
    const auto after = cluster.queues(0, prefix);
    for (const char* kind : amqp::Topology::kKinds) {
        INFO(kind);
        REQUIRE(after.count(topology.queue(kind)) == 1);
        CHECK(after.at(topology.queue(kind)).members == all);
        CHECK(cluster.index_of(after.at(topology.queue(kind)).leader) >= 0);
    }
    // The whole cluster serves again: a last event is accepted and applied.
    const auto last = http_post(stack.url("/v1/events/generic"), event(next++), kAuth);
    REQUIRE(last.status == 202);
    const std::string last_id = last.json()["event_ids"][0].get<std::string>();
    CHECK(wait_until(
        [&] {
            return stack.redis()
                       .command({"EXISTS", prefix + ":default:done:evt:" + last_id})
                       .integer() == 1;
        },
        std::chrono::seconds(60)));
}
