// Redis Sentinel failover under load (PRODUCT §7): a primary (AOF, everysec), one replica and a
// Debian redis-sentinel of the test's own; the services find the primary through
// SONAE_REDIS_SENTINELS. While events are posted to the gateway, first an operator's
// SENTINEL FAILOVER promotes the replica, then the new primary is killed with SIGKILL and Sentinel
// promotes the old one on its own. After each phase the test counts events accepted (202) and
// events applied to exactly one incident on the primary of the moment, and prints them.
// With asynchronous replication (the default) a failover may lose the commits the old primary
// had not passed on: they are measured and printed, and only events accepted after the old
// primary was demoted or killed must all be there. With SONAE_REDIS_WAIT_REPLICAS=1 nothing
// accepted may be lost. SONAE_TEST_LOAD_SECONDS (default 2) sets how long the load runs before
// each fault.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <atomic>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <doctest/doctest.h>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kMaster = "sonae";  // the default of SONAE_REDIS_SENTINEL_MASTER

std::chrono::seconds load_seconds() {
    const char* v = std::getenv("SONAE_TEST_LOAD_SECONDS");
    return std::chrono::seconds(v != nullptr ? std::max(1, std::atoi(v)) : 2);
}

const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", "Bearer t"},
                                                             {"Content-Type", "application/json"}};

redis::Settings at(int port) {
    redis::Settings s;
    s.host = "127.0.0.1";
    s.port = port;
    s.connect_timeout = std::chrono::milliseconds(500);
    s.command_timeout = std::chrono::milliseconds(2000);
    return s;
}

// One command on a fresh connection; nothing when the server does not answer.
std::optional<redis::Reply> ask(int port, const std::vector<std::string>& command) {
    try {
        redis::Connection c(at(port));
        return c.command(command);
    } catch (const redis::Error&) {
        return std::nullopt;
    }
}

std::string info_field(int port, const std::string& field) {
    const auto info = ask(port, {"INFO", "replication"});
    if (!info)
        return "";
    const std::string& text = info->str();
    const auto pos = text.find(field + ":");
    if (pos == std::string::npos)
        return "";
    const auto start = pos + field.size() + 1;
    return text.substr(start, text.find('\r', start) - start);
}

// A redis-server with the AOF on (appendfsync everysec, as docs/operations.md asks), optionally
// a replica of `primary`.
std::unique_ptr<Process> start_redis(const std::string& dir, int port, int primary) {
    std::vector<std::string> args{
        "--port", std::to_string(port), "--bind",   "127.0.0.1", "--dir", dir, "--appendonly",
        "yes",    "--appendfsync",      "everysec", "--save",    ""};
    if (primary != 0) {
        args.insert(args.end(), {"--replicaof", "127.0.0.1", std::to_string(primary)});
    }
    auto p = std::make_unique<Process>(
        "/usr/bin/redis-server", std::map<std::string, std::string>{}, dir + "/redis.log", args);
    if (!wait_until([&] { return ask(port, {"PING"}).has_value(); }, std::chrono::seconds(30)))
        FAIL("redis-server on " << port << " did not start:\n" << p->log());
    return p;
}

// Debian's redis-sentinel watching `primary` as kMaster: quorum 1, down after 1 s.
std::unique_ptr<Process> start_sentinel(const std::string& dir, int port, int primary) {
    write_file(dir + "/sentinel.conf",  // Sentinel rewrites its file: a copy of our own
               "port " + std::to_string(port) + "\nbind 127.0.0.1\ndaemonize no\ndir " + dir +
                   "\nsentinel monitor " + kMaster + " 127.0.0.1 " + std::to_string(primary) +
                   " 1\nsentinel down-after-milliseconds " + kMaster +
                   " 1000\nsentinel failover-timeout " + kMaster +
                   " 3000\nsentinel parallel-syncs " + kMaster + " 1\n");
    auto p = std::make_unique<Process>("/usr/bin/redis-sentinel",
                                       std::map<std::string, std::string>{}, dir + "/sentinel.log",
                                       std::vector<std::string>{dir + "/sentinel.conf"});
    if (!wait_until([&] { return ask(port, {"PING"}).has_value(); }, std::chrono::seconds(30)))
        FAIL("redis-sentinel on " << port << " did not start:\n" << p->log());
    return p;
}

// The port of the master Sentinel names, 0 when it does not answer.
int named_master(int sentinel) {
    const auto r = ask(sentinel, {"SENTINEL", "get-master-addr-by-name", kMaster});
    if (!r || r->type() != redis::Reply::Type::kArray || r->elements().size() != 2)
        return 0;
    return std::atoi(r->elements()[1].str().c_str());
}

// `replica` is in sync with `primary` as both see it, and Sentinel counts it as a good replica
// (a failover can pick it).
bool replica_ready(int sentinel, int primary, int replica) {
    if (info_field(replica, "master_link_status") != "up" ||
        info_field(replica, "master_port") != std::to_string(primary) ||
        info_field(primary, "role") != "master")
        return false;
    const auto r = ask(sentinel, {"SENTINEL", "replicas", kMaster});
    if (!r || r->type() != redis::Reply::Type::kArray)
        return false;
    for (const auto& entry : r->elements()) {
        std::map<std::string, std::string> fields;
        const auto& kv = entry.elements();
        for (std::size_t i = 0; i + 1 < kv.size(); i += 2)
            fields[kv[i].str()] = kv[i + 1].str();
        if (fields["port"] == std::to_string(replica) && fields["flags"] == "slave" &&
            fields["master-link-status"] == "ok" &&
            fields["master-port"] == std::to_string(primary))
            return true;
    }
    return false;
}

std::string event(std::uint64_t i) {
    return json{{"title", "sentinel test " + std::to_string(i)},
                {"dedup_key", "sentinel-" + std::to_string(i)},
                {"category", "outage"},
                {"severity", "low"}}
        .dump();
}

// Clients posting events at a steady pace (about 25 a second each); what was answered 202 is
// recorded with the time it was accepted.
class Load {
  public:
    Load(std::string url, int clients) : url_(std::move(url)) {
        for (int c = 0; c < clients; ++c)
            threads_.emplace_back([this] { run(); });
    }
    ~Load() { stop(); }
    void stop() {
        running_ = false;
        for (auto& t : threads_)
            t.join();
        threads_.clear();
    }
    void pause(bool paused) {
        paused_ = paused;
        in_flight_.wait_idle();
    }
    std::size_t accepted() {
        std::lock_guard lock(mu_);
        return accepted_.size();
    }
    struct Accepted {
        std::string key;
        Clock::time_point at;
    };
    std::map<std::string, Accepted> accepted_events() {
        std::lock_guard lock(mu_);
        return accepted_;
    }
    std::uint64_t refused() const { return refused_.load(); }
    bool wait_for_more(std::size_t n, std::chrono::seconds limit) {
        const std::size_t target = accepted() + n;
        return wait_until([&] { return accepted() >= target; }, limit);
    }

  private:
    // Counts posts under way, so that pause() returns once none is.
    struct InFlight {
        std::atomic<int> n{0};
        void wait_idle() {
            wait_until([&] { return n.load() == 0; }, std::chrono::seconds(30));
        }
    };

    void run() {
        auto next = Clock::now();
        while (running_.load()) {
            next += std::chrono::milliseconds(40);
            std::this_thread::sleep_until(next);  // pacing, not waiting for a condition
            ++in_flight_.n;  // before the check: pause() waits for a post that missed it
            if (paused_.load()) {
                --in_flight_.n;
                next = Clock::now();
                continue;
            }
            const std::uint64_t i = next_++;
            const HttpResult r = http_post(url_ + "/v1/events/generic", event(i), kAuth);
            if (r.status == 202) {
                std::lock_guard lock(mu_);
                accepted_[r.json()["event_ids"][0].get<std::string>()] = {
                    "sentinel-" + std::to_string(i), Clock::now()};
            } else {
                ++refused_;
            }
            --in_flight_.n;
        }
    }

    const std::string url_;
    std::atomic<bool> running_{true};
    std::atomic<bool> paused_{false};
    InFlight in_flight_;
    std::atomic<std::uint64_t> next_{0};
    std::atomic<std::uint64_t> refused_{0};
    std::mutex mu_;
    std::map<std::string, Accepted> accepted_;
    std::vector<std::thread> threads_;
};

// Events the orchestrator has finished with, whatever the outcome (its metric counts each once,
// after the commit).
double events_done(Stack& stack) {
    const HttpResult r = http_get(stack.orchestrator_admin_url("/metrics"));
    double sum = 0;
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("sonae_orchestrator_events_total{", 0) == 0)
            sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
}

struct Counts {
    std::size_t accepted = 0;
    std::size_t applied = 0;        // done marker on the current primary
    std::size_t in_one = 0;         // in exactly one incident, once
    std::size_t duplicated = 0;     // dedup keys in more than one incident, or counted twice
    std::vector<std::string> lost;  // accepted, not applied (dedup keys, a few)
    std::set<std::string> missing;  // event ids accepted, not applied
    std::map<std::string, Load::Accepted> events;  // what was accepted
};

class Sentinels {
  public:
    explicit Sentinels(int sentinel) {
        redis::Settings s;
        s.sentinels = {{"127.0.0.1", sentinel}};
        s.connect_timeout = std::chrono::milliseconds(500);
        s.command_timeout = std::chrono::milliseconds(2000);
        conn_ = std::make_unique<redis::Connection>(s);
    }
    // The primary of the moment, found as the services find it.
    redis::Connection& primary() { return *conn_; }

  private:
    std::unique_ptr<redis::Connection> conn_;
};

Counts count(Stack& stack, redis::Connection& primary,
             const std::map<std::string, Load::Accepted>& accepted) {
    Counts c;
    c.accepted = accepted.size();
    c.events = accepted;
    const std::string p = stack.prefix() + ":default:";
    std::set<std::string> applied_keys;
    for (const auto& [id, a] : accepted) {
        if (primary.command({"EXISTS", p + "done:evt:" + id}).integer() == 1) {
            ++c.applied;
            applied_keys.insert(a.key);
        } else {
            c.missing.insert(id);
            if (c.lost.size() < 5)
                c.lost.push_back(a.key);
        }
    }
    std::map<std::string, std::vector<int>> incidents_of;  // dedup key -> count per incident
    for (const auto& id : primary.command({"ZRANGE", p + "incidents", "0", "-1"}).elements()) {
        const auto state =
            json::parse(primary.command({"HGET", p + "inc:" + id.str(), "state"}).str());
        for (const auto& [key, alert] : state["alerts"].items())
            incidents_of[key].push_back(alert["n"].get<int>());
    }
    for (const auto& [key, counts] : incidents_of) {
        if (counts != std::vector<int>{1})
            ++c.duplicated;
    }
    for (const auto& key : applied_keys) {
        const auto it = incidents_of.find(key);
        if (it != incidents_of.end() && it->second == std::vector<int>{1})
            ++c.in_one;
    }
    return c;
}

// Waits until the orchestrator is through with every accepted event, then counts.
Counts settle(Stack& stack, Sentinels& sentinels, Load& load) {
    load.pause(true);
    const auto accepted = load.accepted_events();
    INFO(stack.logs());
    REQUIRE(wait_until([&] { return events_done(stack) >= static_cast<double>(accepted.size()); },
                       std::chrono::seconds(120)));
    // Done means committed: the markers are there now (a few more seconds for an event that a
    // 202-less answer let in besides and that was counted in its place).
    auto all_applied = [&] {
        try {
            return count(stack, sentinels.primary(), accepted).applied == accepted.size();
        } catch (const redis::Error&) {
            return false;
        }
    };
    wait_until(all_applied, std::chrono::seconds(5));
    const Counts c = count(stack, sentinels.primary(), accepted);
    load.pause(false);
    return c;
}

// Counts since the start; `earlier` were lost before this phase.
void print(const char* phase, const Counts& c, std::uint64_t refused, std::size_t earlier) {
    std::string lost;
    for (const auto& k : c.lost)
        lost += " " + k;
    MESSAGE(std::string(phase) << ": " << c.accepted << " events accepted (202) since the start, "
                               << c.applied << " applied, " << c.in_one
                               << " in exactly one incident, " << c.missing.size() - earlier
                               << " lost in this phase, " << c.missing.size() << " in all"
                               << (lost.empty() ? "" : " (e.g." + lost + ")") << ", "
                               << c.duplicated << " dedup keys in more than one incident, "
                               << refused << " posts not answered 202");
}

// Of the events counted, those accepted after `since` and not applied.
std::size_t lost_since(const Counts& c, Clock::time_point since) {
    std::size_t lost = 0;
    for (const auto& id : c.missing) {
        if (c.events.at(id).at > since)
            ++lost;
    }
    return lost;
}

// The scenario of both cases; `wait_replicas` is SONAE_REDIS_WAIT_REPLICAS.
void failover_under_load(int wait_replicas) {
    const TestEnv env = TestEnv::require();
    const std::string dir = make_temp_dir("sentinel");
    const int port_a = free_port(), port_b = free_port(), port_s = free_port();
    write_file(dir + "/a/.keep", "");
    write_file(dir + "/b/.keep", "");
    write_file(dir + "/s/.keep", "");
    auto redis_a = start_redis(dir + "/a", port_a, 0);
    auto redis_b = start_redis(dir + "/b", port_b, port_a);
    auto sentinel = start_sentinel(dir + "/s", port_s, port_a);
    auto servers_log = [&] {
        return "--- a ---\n" + redis_a->log() + "\n--- b ---\n" + redis_b->log() +
               "\n--- sentinel ---\n" + sentinel->log();
    };
    REQUIRE_MESSAGE(
        wait_until([&] { return replica_ready(port_s, port_a, port_b); }, std::chrono::seconds(60)),
        servers_log());

    const std::string config = make_temp_dir("config");
    write_file(config + "/sources.yaml",
               "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: t},\n"
               "     rate_limit: {per_second: 100000, burst: 100000}}\n");
    TestEnv mine = env;
    mine.redis_url = "redis://127.0.0.1:" + std::to_string(port_a);  // the Stack's own reads
    // With Sentinels the URL gives password, database and TLS only: an unreachable address here
    // shows that the services never use it.
    Stack stack(mine, {config,
                       env.source_dir + "/tests/integration/playbooks",
                       {{"SONAE_REDIS_SENTINELS", "127.0.0.1:" + std::to_string(port_s)},
                        {"SONAE_REDIS_URL", "redis://192.0.2.1:1"},
                        {"SONAE_REDIS_WAIT_REPLICAS", std::to_string(wait_replicas)}}});
    Sentinels sentinels(port_s);
    CHECK(sentinels.primary().command({"PING"}).str() == "PONG");
    CHECK(sentinels.primary().address() == "127.0.0.1:" + std::to_string(port_a));

    Load load(stack.url(""), 2);
    const auto phase = load_seconds();
    REQUIRE_MESSAGE(load.wait_for_more(20, std::chrono::seconds(30)), stack.logs());
    std::this_thread::sleep_for(phase);  // the load runs this long before the fault

    // Phase 1: an operator's SENTINEL FAILOVER promotes the replica while the old primary lives.
    const std::size_t before_failover = load.accepted();
    const auto failover_at = Clock::now();
    const auto failover = ask(port_s, {"SENTINEL", "FAILOVER", kMaster});
    REQUIRE(failover);
    REQUIRE(failover->str() == "OK");
    REQUIRE_MESSAGE(
        wait_until([&] { return named_master(port_s) == port_b; }, std::chrono::seconds(60)),
        servers_log());
    const auto switched_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - failover_at).count();
    // Sentinel tells the old primary to follow the new one only some seconds later; until then
    // it still takes writes from connections made before the switch.
    REQUIRE_MESSAGE(
        wait_until([&] { return info_field(port_a, "role") == "slave"; }, std::chrono::seconds(60)),
        servers_log());
    const auto demoted_at = Clock::now();
    MESSAGE(
        "SENTINEL FAILOVER: Sentinel names the replica after "
        << switched_ms << " ms, the old primary follows it after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(demoted_at - failover_at).count()
        << " ms; " << load.accepted() - before_failover << " events accepted meanwhile");
    // Events posted from now on become incidents on the new primary.
    CHECK(load.wait_for_more(40, std::chrono::seconds(60)));
    const Counts first = settle(stack, sentinels, load);
    CHECK(sentinels.primary().address() == "127.0.0.1:" + std::to_string(port_b));
    print("after SENTINEL FAILOVER", first, load.refused(), 0);
    CHECK(first.duplicated == 0);
    CHECK(first.in_one == first.applied);
    CHECK(lost_since(first, demoted_at) == 0);
    if (wait_replicas > 0)
        CHECK(first.applied == first.accepted);

    // Phase 2: the new primary dies (SIGKILL) once the old one follows it; Sentinel fails over on
    // its own after down-after-milliseconds.
    REQUIRE_MESSAGE(
        wait_until([&] { return replica_ready(port_s, port_b, port_a); }, std::chrono::seconds(60)),
        servers_log());
    std::this_thread::sleep_for(phase);
    const std::size_t before_kill = load.accepted();
    const auto kill_at = Clock::now();
    redis_b->kill_hard();
    REQUIRE_MESSAGE(
        wait_until([&] { return named_master(port_s) == port_a; }, std::chrono::seconds(90)),
        servers_log());
    MESSAGE("kill -9 of the primary: Sentinel names the replica after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - kill_at).count()
            << " ms, " << load.accepted() - before_kill << " events accepted meanwhile");
    CHECK(load.wait_for_more(40, std::chrono::seconds(60)));
    load.stop();
    const Counts second = settle(stack, sentinels, load);
    CHECK(sentinels.primary().address() == "127.0.0.1:" + std::to_string(port_a));
    print("after kill -9 of the primary", second, load.refused(), first.missing.size());
    // The services carried on: events accepted after the kill reached the broker when the old
    // primary was gone already, so all of them are in incidents; none twice. What asynchronous
    // replication lost before the kill is in the counts above.
    CHECK(second.duplicated == 0);
    CHECK(second.in_one == second.applied);
    CHECK(lost_since(second, kill_at) == 0);
    if (wait_replicas > 0)
        CHECK(second.applied == second.accepted);
    CHECK(http_get(stack.url("/readyz")).status == 200);
}

}  // namespace

TEST_CASE("Sentinel failover under load, asynchronous replication: the services follow") {
    failover_under_load(0);
}

TEST_CASE("Sentinel failover under load, SONAE_REDIS_WAIT_REPLICAS=1: nothing accepted is lost") {
    failover_under_load(1);
}
